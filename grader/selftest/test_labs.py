"""Every lab, graded for real: the solutions get full marks, the starters do not, and every
known-wrong program ("mutant", grader/mutants/LAB/NAME/) fails the checks it was written to fail."""
from __future__ import annotations

import glob
import importlib
import os
import tomllib
from dataclasses import dataclass

import pytest

from grader import cli
from grader.selftest.conftest import ROOT, Grade, grade

LABS = sorted(cli.lab_modules())
SOLUTIONS = os.path.join(ROOT, "solutions")


@dataclass(frozen=True)
class Mutant:
    lab: str
    name: str
    folder: str
    why: str
    fails: tuple[str, ...]
    message: str

    def __str__(self) -> str:
        return f"{self.lab}/{self.name}"


def load_mutants() -> list[Mutant]:
    mutants = []
    for spec in sorted(glob.glob(os.path.join(ROOT, "grader", "mutants", "*", "*", "MUTANT.toml"))):
        folder = os.path.dirname(spec)
        with open(spec, "rb") as handle:
            data = tomllib.load(handle)
        mutants.append(Mutant(os.path.basename(os.path.dirname(folder)), os.path.basename(folder), folder,
                              data["why"], tuple(data["fails"]), data.get("message", "")))
    return mutants


MUTANTS = load_mutants()


def checks_of(lab: str) -> set[str]:
    """The graded checks of a lab: the test functions of its module that carry a check marker."""
    module = importlib.import_module(f"grader.checks.{os.path.basename(cli.lab_modules()[lab])[:-3]}")
    return {name for name, item in vars(module).items()
            if name.startswith("test_") and any(m.name == "check" for m in getattr(item, "pytestmark", []))}


@pytest.fixture(scope="session")
def solutions_grade() -> Grade:
    return grade(SOLUTIONS, [])


@pytest.fixture(scope="session")
def starters_grade() -> Grade:
    return grade(os.path.join(ROOT, "labs"), [])


def test_solutions_get_full_marks(solutions_grade: Grade) -> None:
    failed = [t["name"] for t in solutions_grade.tests if t["status"] != "passed"]
    assert not failed and solutions_grade.exit_status == 0, solutions_grade.stdout
    assert solutions_grade.stdout.rstrip().splitlines()[-1].startswith("Score: ")


@pytest.mark.parametrize("lab", LABS)
def test_starter_scores_below_full(starters_grade: Grade, lab: str) -> None:
    earned, possible = starters_grade.lab_score(lab)
    assert possible > 0 and earned < possible, starters_grade.stdout
    assert starters_grade.exit_status == 1


@pytest.mark.parametrize("mutant", MUTANTS, ids=str)
def test_mutant_is_caught(mutant: Mutant, tmp_path) -> None:
    os.symlink(mutant.folder, tmp_path / mutant.lab)
    result = grade(str(tmp_path), [mutant.lab], fallback=SOLUTIONS)
    assert result.exit_status == 1, f"{mutant} ({mutant.why}) got full marks:\n{result.stdout}"
    for test in mutant.fails:
        entry = result.check(mutant.lab, test)
        assert entry["status"] == "failed", f"{mutant} ({mutant.why}) passed {test}:\n{result.stdout}"
        assert mutant.message in entry["output"], (
            f"{mutant}: {test} failed, but its message lacks '{mutant.message}':\n{entry['output']}")


@pytest.mark.parametrize("lab", LABS)
def test_every_check_has_a_mutant(lab: str) -> None:
    covered = {test for m in MUTANTS if m.lab == lab for test in m.fails}
    checks = checks_of(lab)
    assert checks, f"{lab} has no checks"
    assert not checks - covered, f"{lab}: no known-wrong program fails {sorted(checks - covered)}"
    assert not covered - checks, f"{lab}: mutants name checks that do not exist: {sorted(covered - checks)}"
