"""The project's own tests (make test). Gradings run as subprocesses, exactly as `make grade` runs."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from typing import Optional

import pytest

from grader import containment

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def pytest_configure(config: pytest.Config) -> None:
    # Anything a grading leaves behind is re-parented to us, where the leftover test can see it.
    containment.become_subreaper()
    config.addinivalue_line("markers", "check(points, hint, timeout): a graded check")


@dataclass
class Grade:
    exit_status: int
    stdout: str
    tests: list[dict]

    def check(self, lab: str, test: str) -> dict:
        for entry in self.tests:
            if entry["tags"] == [lab, test]:
                return entry
        raise AssertionError(f"no check {lab}::{test} in the results:\n{self.stdout}")

    def lab_score(self, lab: str) -> tuple[int, int]:
        mine = [t for t in self.tests if t["tags"][0] == lab]
        return sum(t["score"] for t in mine), sum(t["max_score"] for t in mine)


def grade(submission: str, labs: list[str], fallback: Optional[str] = None) -> Grade:
    """Runs `python -m grader` on a submission and reads back its results.json."""
    with tempfile.TemporaryDirectory() as scratch:
        results = os.path.join(scratch, "results.json")
        command = [sys.executable, "-m", "grader", "--submission", submission, "--results", results]
        for lab in labs:
            command += ["--lab", lab]
        if fallback:
            command += ["--fallback", fallback]
        finished = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300,
                                  stdin=subprocess.DEVNULL)
        assert os.path.exists(results), f"the grader wrote no results:\n{finished.stdout}\n{finished.stderr}"
        with open(results, encoding="utf-8") as handle:
            tests = json.load(handle)["tests"]
    return Grade(finished.returncode, finished.stdout + finished.stderr, tests)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The leftover check goes last, after every grading has run."""
    items.sort(key=lambda item: item.fspath.basename == "test_teardown_leaves_nothing.py")
