"""Running whole gradings as `make grade` runs them (python -m grader in a subprocess), the
known-wrong programs in grader/mutants/, and handing labs in as a student would (a folder, a .tar.gz,
a .zip). Used by the self-tests, grader/stress and grader/class-trial."""
from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tarfile
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional, TypeVar

from grader.build import ROOT

SOLUTIONS = os.path.join(ROOT, "solutions")
AnyPath = TypeVar("AnyPath", str, Path)


def copy_labs(source: str, target: AnyPath, labs: Iterable[str]) -> AnyPath:
    """Hands in `labs` from `source` (solutions/, labs/) as the folder `target`, laid out like labs/."""
    for lab in labs:
        shutil.copytree(os.path.join(source, lab), os.path.join(target, lab))
    return target


def tar_of(source: str, target: AnyPath, labs: Iterable[str], top: str = "") -> None:
    """Hands them in as a .tar.gz, the lab folders at its top or inside a folder `top`."""
    with tarfile.open(target, "w:gz") as archive:
        for lab in labs:
            archive.add(os.path.join(source, lab), arcname=os.path.join(top, lab))


def zip_of(source: str, target: AnyPath, labs: Iterable[str]) -> None:
    """Hands them in as a .zip, the lab folders at its top."""
    with zipfile.ZipFile(target, "w") as archive:
        for lab in labs:
            for name in sorted(os.listdir(os.path.join(source, lab))):
                archive.write(os.path.join(source, lab, name), f"{lab}/{name}")


@dataclass
class Grade:
    exit_status: int
    stdout: str
    tests: list[dict]
    seconds: float

    def check(self, lab: str, test: str) -> dict:
        for entry in self.tests:
            if entry["tags"] == [lab, test]:
                return entry
        raise AssertionError(f"no check {lab}::{test} in the results:\n{self.stdout}")

    def lab_score(self, lab: str) -> tuple[int, int]:
        mine = [t for t in self.tests if t["tags"][0] == lab]
        return sum(t["score"] for t in mine), sum(t["max_score"] for t in mine)


class GradingFailed(Exception):
    """The grader ran past its time limit, or ended without writing results."""


def grade(submission: str, labs: list[str], fallback: Optional[str] = None,
          results_copy: Optional[str] = None, timeout: float = 300.0) -> Grade:
    """Grades `submission` (all labs if `labs` is empty) and reads back its results.json (a copy of
    which goes to `results_copy`, if given)."""
    with tempfile.TemporaryDirectory() as scratch:
        results = os.path.join(scratch, "results.json")
        command = [sys.executable, "-m", "grader", "--submission", submission, "--results", results]
        for lab in labs:
            command += ["--lab", lab]
        if fallback:
            command += ["--fallback", fallback]
        started = time.monotonic()
        output = run_grader(command, timeout)
        seconds = time.monotonic() - started
        if not os.path.exists(results):
            raise GradingFailed(f"the grader wrote no results:\n{output}")
        with open(results, encoding="utf-8") as handle:
            tests = json.load(handle)["tests"]
        if results_copy:
            shutil.copyfile(results, results_copy)
    return Grade(output.returncode, output.text, tests, seconds)


@dataclass
class GraderOutput:
    returncode: int
    text: str  # stdout, then stderr


def run_grader(command: list[str], timeout: float) -> GraderOutput:
    """Runs `python -m grader`; past `timeout` s it gets SIGTERM, on which it kills every lab program
    before it exits (SIGKILL would leave them to us), and SIGKILL only if that does not end it."""
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               stdin=subprocess.DEVNULL)
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.terminate()
        try:
            process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
        raise GradingFailed(f"the grading took longer than {timeout:g} s and was stopped") from None
    except BaseException:  # interrupted: take the grading down with us
        process.terminate()
        process.wait()
        raise
    return GraderOutput(process.returncode, stdout + stderr)


class MutantDoesNotApply(Exception):
    """An edit of a mutant no longer matches its solution (the solution changed under it)."""


@dataclass(frozen=True)
class Edit:
    old: str  # text that occurs exactly once in the solution program
    new: str


@dataclass(frozen=True)
class Mutant:
    """A known-wrong version of a lab: the solution with one realistic mistake.

    Usually the mistake is given as edits of one solution file (`program` and `[[edit]]` in its
    MUTANT.toml), so the mutant follows the solution as it changes; a mutant that is not a small
    edit holds whole files in its folder instead. Programs it does not change come from solutions/.
    """

    lab: str
    name: str
    folder: str
    why: str
    fails: tuple[str, ...]
    message: str
    program: Optional[str] = None
    edits: tuple[Edit, ...] = ()

    def __str__(self) -> str:
        return f"{self.lab}/{self.name}"

    def materialize(self, tree: str) -> None:
        """Writes this mutant's changed programs into `tree`/LAB/."""
        lab_dir = os.path.join(tree, self.lab)
        os.makedirs(lab_dir, exist_ok=True)
        for path in glob.glob(os.path.join(self.folder, "*")):
            if os.path.basename(path) != "MUTANT.toml":
                shutil.copy(path, lab_dir)  # whole files: a program, or another file the lab names
        if self.program is not None:
            with open(os.path.join(SOLUTIONS, self.lab, self.program), encoding="utf-8") as handle:
                text = handle.read()
            for edit in self.edits:
                if text.count(edit.old) != 1:
                    raise MutantDoesNotApply(
                        f"{self}: this text occurs {text.count(edit.old)} times in solutions/{self.lab}/"
                        f"{self.program}, not once:\n{edit.old}")
                text = text.replace(edit.old, edit.new)
            with open(os.path.join(lab_dir, self.program), "w", encoding="utf-8") as handle:
                handle.write(text)

    def grade(self) -> Grade:
        """Grades this mutant's lab, taking the lab's other programs from solutions/."""
        with tempfile.TemporaryDirectory() as tree:
            self.materialize(tree)
            return grade(tree, [self.lab], fallback=SOLUTIONS)

    def missed(self, result: Grade) -> list[str]:
        """The ways `result` fails to catch this mutant (empty: caught as intended)."""
        problems = []
        if result.exit_status != 1:
            problems.append(f"the grading exited with {result.exit_status}, not 1")
        for test in self.fails:
            entry = result.check(self.lab, test)
            if entry["status"] != "failed":
                problems.append(f"{test} passed")
            elif self.message not in entry["output"]:
                problems.append(f"{test} failed without '{self.message}' in:\n{entry['output']}")
        return problems


def load_mutants() -> list[Mutant]:
    mutants = []
    for spec in sorted(glob.glob(os.path.join(ROOT, "grader", "mutants", "*", "*", "MUTANT.toml"))):
        folder = os.path.dirname(spec)
        with open(spec, "rb") as handle:
            data = tomllib.load(handle)
        edits = tuple(Edit(edit["old"], edit["new"]) for edit in data.get("edit", []))
        mutants.append(Mutant(os.path.basename(os.path.dirname(folder)), os.path.basename(folder), folder,
                              data["why"], tuple(data["fails"]), data.get("message", ""),
                              data.get("program"), edits))
    return mutants
