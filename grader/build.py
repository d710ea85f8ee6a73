"""Compiling a submission's lab programs, in parallel, through the Makefile's `program` rule.

Only the files a lab names are taken from the submission, from the lab's folder (NN-topic/prog.c) or
else from the top (prog.c), and copied into a private staging folder, so a header or helper shipped
next to them is never used: its .c files are compiled, and any other named file
(a systemd unit, say) is staged for the checks to read. The checkpoint helper always comes from labs/common;
it is compiled once per grading (`make helper-object`) and linked into every program.
A program that does not compile fails its lab's checks with the compiler's message; other labs go on.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field
from typing import Optional

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class NotBuilt(Exception):
    """A check needed a program that is missing from the submission or did not compile."""


@dataclass
class Program:
    name: str  # "pgid_demo"
    source: Optional[str]  # where it was taken from, None if missing
    binary: str
    compiler_output: str = ""
    built: bool = False


@dataclass
class LabBuild:
    lab: str
    bin_dir: str
    programs: dict[str, Program] = field(default_factory=dict)
    files: dict[str, Optional[str]] = field(default_factory=dict)  # other named files: staged copy or None

    @property
    def ok(self) -> bool:
        return all(p.built for p in self.programs.values()) and all(self.files.values())

    def file(self, name: str) -> str:
        """The staged copy of a named file that is not a program (fails the check if it is missing)."""
        path = self.files[name]
        if path is None:
            raise NotBuilt(f"{name} is missing from the submission; see the check 'compiles'")
        return path

    def binary(self, name: str) -> str:
        program = self.programs[name.removesuffix(".c")]
        if not program.built:
            raise NotBuilt(f"{name.removesuffix('.c')}.c {self.problem(program)}; see the check 'compiles'")
        return program.binary

    def problem(self, program: Program) -> str:
        return "is missing from the submission" if program.source is None else "did not compile"

    def report(self) -> str:
        """What went wrong, for the 'compiles' check: the compiler's own words."""
        parts = [f"{name} is missing from the submission." for name, path in self.files.items() if path is None]
        for program in self.programs.values():
            if not program.built:
                parts.append(f"{program.name}.c {self.problem(program)}.\n{program.compiler_output}".rstrip())
        return "\n\n".join(parts)


def places(lab: str, filename: str, tree: str) -> list[str]:
    """Where a tree may hold a lab's file: in the lab's folder, as in labs/, or flat at the top (a
    platform's upload of loose files). File names are unique across labs, so flat is unambiguous."""
    return [os.path.join(tree, lab, filename), os.path.join(tree, filename)]


def find_source(lab: str, filename: str, submission: str, fallback: Optional[str]) -> Optional[str]:
    for tree in (submission, fallback):
        if tree is not None:
            for candidate in places(lab, filename, tree):
                if os.path.isfile(candidate):
                    return candidate
    return None


def stage(lab: str, filename: str, submission: str, fallback: Optional[str], out_dir: str) -> Optional[str]:
    source = find_source(lab, filename, submission, fallback)
    if source is None:
        return None
    staged = os.path.join(out_dir, "files", lab, filename)
    os.makedirs(os.path.dirname(staged), exist_ok=True)
    shutil.copyfile(source, staged)
    os.chmod(staged, 0o644)
    return staged


class HelperObject:
    """The checkpoint helper, compiled once per grading for every program to link. It is started
    early (while pytest collects the checks) and waited for before the programs are linked."""

    def __init__(self, out_dir: str) -> None:
        self.path = os.path.join(out_dir, "checkpoint.o")
        self.process = subprocess.Popen(
            ["make", "--no-print-directory", "-s", "-C", ROOT, "helper-object", f"OUT={self.path}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)

    def wait(self) -> Optional[str]:
        """Its path; None if it failed (each program then compiles the helper itself, and the
        compiler says what is wrong with it)."""
        ok = self.process.wait() == 0 and os.path.isfile(self.path)
        return self.path if ok else None


def build_labs(
    labs: dict[str, list[str]], submission: str, fallback: Optional[str], out_dir: str,
    provided: Optional[dict[str, list[str]]] = None, helper: Optional[HelperObject] = None,
) -> dict[str, LabBuild]:
    """Compiles every named program of every lab at once; returns when all are done.

    `provided` names, per lab, the files the lab gives students complete (say, the test services a
    supervisor is tried on): the grader's instruments, so they always come from the project's labs/.
    """
    builds: dict[str, LabBuild] = {}
    running: list[tuple[Program, str, subprocess.Popen[bytes]]] = []
    helper_path = (helper or HelperObject(out_dir)).wait()
    for lab, filenames in labs.items():
        bin_dir = os.path.join(out_dir, "bin", lab)
        os.makedirs(bin_dir, exist_ok=True)
        build = builds[lab] = LabBuild(lab, bin_dir)
        sources = [(filename, submission, fallback) for filename in filenames]
        sources += [(filename, os.path.join(ROOT, "labs"), None) for filename in (provided or {}).get(lab, [])]
        for filename, tree, spare in sources:
            if not filename.endswith(".c"):
                build.files[filename] = stage(lab, filename, tree, spare, out_dir)
                continue
            name = filename.removesuffix(".c")
            program = build.programs[name] = Program(name, find_source(lab, filename, tree, spare),
                                                     os.path.join(bin_dir, name))
            if program.source is None:
                program.compiler_output = f"(looked for {' and '.join(places(lab, filename, tree))})"
                continue
            staged = os.path.join(out_dir, "src", lab, filename)
            os.makedirs(os.path.dirname(staged), exist_ok=True)
            shutil.copyfile(program.source, staged)
            command = ["make", "--no-print-directory", "-s", "-C", ROOT, "program", f"SRC={staged}",
                       f"OUT={program.binary}"] + ([f"HELPER_OBJ={helper_path}"] if helper_path else [])
            process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL)
            running.append((program, staged, process))
    for program, staged, process in running:
        output, _ = process.communicate()
        text = output.decode("utf-8", "replace").replace(staged, program.source or staged)
        program.compiler_output = text.strip()
        program.built = process.returncode == 0 and os.path.isfile(program.binary)
    # Lab programs may run as another, unprivileged user: it may run the binaries, but not list these
    # folders nor read the staged sources (in a class batch, another student's grading runs alongside).
    os.chmod(out_dir, 0o711)
    for directory, _, _ in os.walk(os.path.join(out_dir, "bin")):
        os.chmod(directory, 0o711)
    for private in ("src", "files"):
        if os.path.isdir(os.path.join(out_dir, private)):
            os.chmod(os.path.join(out_dir, private), 0o700)
    return builds
