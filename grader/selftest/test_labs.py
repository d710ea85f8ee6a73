"""Every lab, graded for real: the solutions get full marks, the starters do not, and every
known-wrong program ("mutant", grader/mutants/LAB/NAME/) fails the checks it was written to fail."""
from __future__ import annotations

import importlib
import os

import pytest

from grader import cli
from grader.build import ROOT
from grader.gradings import SOLUTIONS, Grade, Mutant, grade, load_mutants

LABS = sorted(cli.lab_modules())


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
def test_mutant_is_caught(mutant: Mutant) -> None:
    result = mutant.grade()
    problems = mutant.missed(result)
    assert not problems, f"{mutant} ({mutant.why}) was not caught as intended:\n" + "\n".join(problems)


@pytest.mark.parametrize("lab", LABS)
def test_every_check_has_a_mutant(lab: str) -> None:
    covered = {test for m in MUTANTS if m.lab == lab for test in m.fails}
    checks = checks_of(lab)
    assert checks, f"{lab} has no checks"
    assert not checks - covered, f"{lab}: no known-wrong program fails {sorted(checks - covered)}"
    assert not covered - checks, f"{lab}: mutants name checks that do not exist: {sorted(covered - checks)}"
