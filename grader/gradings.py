"""Running whole gradings as `make grade` runs them (python -m grader in a subprocess), and the
known-wrong programs in grader/mutants/. Used by the self-tests and by grader/stress."""
from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass
from typing import Optional

from grader.build import ROOT

SOLUTIONS = os.path.join(ROOT, "solutions")


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
          results_copy: Optional[str] = None) -> Grade:
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
        try:
            finished = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300,
                                      stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise GradingFailed("the grading took longer than 300 s and was stopped") from None
        seconds = time.monotonic() - started
        if not os.path.exists(results):
            raise GradingFailed(f"the grader wrote no results:\n{finished.stdout}\n{finished.stderr}")
        with open(results, encoding="utf-8") as handle:
            tests = json.load(handle)["tests"]
        if results_copy:
            shutil.copyfile(results, results_copy)
    return Grade(finished.returncode, finished.stdout + finished.stderr, tests, seconds)


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
