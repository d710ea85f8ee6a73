"""Every lab, graded for real: the solutions get full marks, the starters do not, and every
known-wrong program ("mutant", grader/mutants/LAB/NAME/) fails the checks it was written to fail."""
from __future__ import annotations

import importlib
import os
import shutil
import tempfile

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


# A lab with several programs: one that does not compile fails its own checks (and 'compiles'), not
# the checks of the programs that built. For each lab, the program broken and the checks that must pass.
ONE_BROKEN = {
    "02-sessions": ("ctty_demo.c", {"test_leader_cannot_setsid", "test_child_new_session", "test_child_no_terminal",
                                    "test_original_stays"}),
    "03-terminal": ("tty_io.c", {"test_fg_group_foreground", "test_fg_group_background", "test_proc_info_plain",
                                 "test_proc_info_pipeline_last", "test_proc_info_pipeline_first",
                                 "test_proc_info_no_terminal"}),
    "04-group-signals": ("sigcatch.c", {"test_group_ready_before_signal", "test_signal_kills_every_member",
                                        "test_parent_survives", "test_children_reaped",
                                        "test_reaped_lines_match_kernel", "test_kill_zero_signals_own_group",
                                        "test_child_joins_group_itself", "test_kill_group_exits_cleanly"}),
    "08-hangup": ("orphan_group.c", {"test_hangup_pair_ready", "test_ignoring_process_survives_hangup",
                                     "test_default_process_dies", "test_handler_logs_before_dying",
                                     "test_hangup_pair_exits_cleanly"}),
}


def test_one_program_not_compiling_fails_only_its_checks() -> None:
    with tempfile.TemporaryDirectory() as tree:
        for lab, (broken, _) in ONE_BROKEN.items():
            shutil.copytree(os.path.join(SOLUTIONS, lab), os.path.join(tree, lab))
            with open(os.path.join(tree, lab, broken), "w", encoding="utf-8") as handle:
                handle.write("int main(void) { return }\n")
        result = grade(tree, list(ONE_BROKEN))
    for lab, (broken, unharmed) in ONE_BROKEN.items():
        assert result.check(lab, "test_compiles")["status"] == "failed", result.stdout
        assert checks_of(lab) >= unharmed, f"{lab}: no such checks {sorted(unharmed - checks_of(lab))}"
        harmed = [check for check in sorted(unharmed) if result.check(lab, check)["status"] != "passed"]
        assert not harmed, f"{lab}: {broken} does not compile, which failed {harmed}:\n{result.stdout}"
        others = [t for t in result.tests if t["tags"][0] == lab and t["tags"][1] not in unharmed | {"test_compiles"}]
        assert others and all(broken in t["output"] for t in others if t["status"] == "failed"), result.stdout
