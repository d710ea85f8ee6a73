"""`python -m grader --repeat N` (make grade REPEAT=N): it reports verdicts that change between runs,
and the solutions and known-wrong programs keep theirs from one grading to the next."""
from __future__ import annotations

import subprocess
import sys
import tempfile

import pytest

from grader import repeat
from grader.build import ROOT
from grader.gradings import SOLUTIONS, Mutant, load_mutants

RUNS = 3
LAB = "01-process-groups"


def entry(test: str, status: str, output: str = "") -> dict:
    """One check as a results.json lists it."""
    return {"name": f"{LAB}: the check {test}", "score": 0, "max_score": 1, "status": status,
            "output": output, "tags": [LAB, test]}


def test_a_changed_verdict_is_reported_with_its_failure() -> None:
    runs = [
        [entry("test_steady", "passed"), entry("test_flaky", "passed"),
         entry("test_wrong", "failed", "always"), entry("test_vanishes", "passed")],
        [entry("test_steady", "passed"), entry("test_flaky", "failed", "Observed: a lost race"),
         entry("test_wrong", "failed", "always"), entry("test_vanishes", "passed")],
        [entry("test_steady", "passed"), entry("test_flaky", "passed"),
         entry("test_wrong", "failed", "always")],
    ]
    checks = repeat.histories(runs)
    assert [h.test for h in checks if h.changed] == ["test_flaky", "test_vanishes"]
    text = repeat.report(checks, len(runs))
    assert f"CHANGED  {LAB}: the check test_flaky  (test_flaky)" in text
    assert "verdicts by run: 1 passed, 2 failed, 3 passed" in text
    assert "run 2 said:\n    | Observed: a lost race" in text
    assert "verdicts by run: 1 passed, 2 passed, 3 missing" in text
    assert f"failed in every run:\n  {LAB}: the check test_wrong  (test_wrong)" in text
    assert text.splitlines()[-1] == \
        "2 checks changed verdict in 3 runs (of 4 checks, 1 passed and 1 failed in every run)"


def test_steady_verdicts_are_no_change() -> None:
    run = [entry("test_steady", "passed"), entry("test_wrong", "failed", "always")]
    checks = repeat.histories([run, list(run)])
    assert not any(h.changed for h in checks)
    text = repeat.report(checks, 2)
    assert "CHANGED" not in text
    assert text.splitlines()[-1] == \
        "no verdict changed in 2 runs (of 2 checks, 1 passed and 1 failed in every run)"


def test_a_run_without_results_says_why(tmp_path) -> None:
    run = repeat.one_run(str(tmp_path / "nowhere"), [LAB], None)
    assert not run.tests
    assert run.summary().startswith("the grader wrote no results:\n    | ")
    assert "nowhere' does not exist" in run.summary()


def grade_repeatedly(submission: str, labs: list[str], *extra: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "grader", "--repeat", str(RUNS), "--submission", submission, *extra]
    for lab in labs:
        command += ["--lab", lab]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600,
                          stdin=subprocess.DEVNULL)


def test_solutions_keep_full_marks() -> None:
    finished = grade_repeatedly(SOLUTIONS, ["01", "02"])
    lines = finished.stdout.rstrip().splitlines()
    assert finished.returncode == 0 and lines[-1].startswith(f"no verdict changed in {RUNS} runs"), \
        finished.stdout + finished.stderr
    assert lines[-1].endswith(" and 0 failed in every run)"), finished.stdout
    assert sum(line.startswith("run ") for line in lines) == RUNS


# One mistake about groups and one about sessions; both fail checks whose verdicts come from a single run.
MUTANTS = {str(m): m for m in load_mutants()}
STEADY = [MUTANTS["01-process-groups/child-moves-before-checkpoint"], MUTANTS["02-sessions/no-second-fork"]]


@pytest.mark.parametrize("mutant", STEADY, ids=str)
def test_mutant_fails_the_same_way_every_time(mutant: Mutant) -> None:
    with tempfile.TemporaryDirectory() as tree:
        mutant.materialize(tree)
        finished = grade_repeatedly(tree, [mutant.lab], "--fallback", SOLUTIONS)
    output = finished.stdout + finished.stderr
    assert finished.returncode == 0 and f"no verdict changed in {RUNS} runs" in output, output
    steady_failures = output.split("failed in every run:\n", 1)[-1]
    for test in mutant.fails:
        assert f"({test})" in steady_failures, f"{mutant}: {test} did not fail in every run:\n{output}"


@pytest.mark.parametrize("arguments, complaint", [
    (["--repeat", "1"], "'1' is not a number of runs of 2 or more"),
    (["--repeat", "2", "--results", "results.json"], "leave out --results"),
])
def test_usage_errors(arguments: list[str], complaint: str) -> None:
    finished = subprocess.run([sys.executable, "-m", "grader", *arguments], cwd=ROOT, capture_output=True,
                              text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert finished.returncode == 2 and complaint in finished.stderr, finished.stdout + finished.stderr
    assert "Traceback" not in finished.stderr
