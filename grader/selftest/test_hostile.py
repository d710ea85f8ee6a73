"""Hostile submissions: programs that attack the grader instead of doing the lab.

Each one (grader/selftest/hostile/NAME.c) is handed in as lab 01's pgid_demo.c, next to a correct
lab 02. For each, the grading must finish, fail lab 01 with a reason a student can act on, give lab 02
full marks, write true results, and leave nothing running. The eight gradings run at the same time,
as a class batch would run them: one hostile program must not change another grading's verdicts.
"""
from __future__ import annotations

import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Iterator, Sequence

import pytest

from grader import procfs
from grader.build import ROOT
from grader.gradings import SOLUTIONS, Grade, copy_labs, grade

HOSTILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "hostile")
AS_ROOT = os.geteuid() == 0
# What escape_writer reaches for: a solution, the checks of lab 02, and the shared temporary folder.
TARGETS = {
    "SOLUTION": os.path.join(SOLUTIONS, "02-sessions", "session_demo.c"),
    "CHECKS": os.path.join(ROOT, "grader", "checks", "test_02_sessions.py"),
    "LITTER": f"/tmp/procgroup-hostile-litter-{os.getpid()}",
}


@dataclass(frozen=True)
class Hostile:
    name: str
    reasons: tuple[str, ...]  # lab 01's failures must give one of these
    needs_root: bool = False  # without root there is no second user to keep it from the grader


HOSTILES = [
    Hostile("fork_bomb", ("did not finish within",)),
    Hostile("busy_loop", ("running on the CPU",)),
    Hostile("output_flood", ("printed more than",)),
    Hostile("immortal_daemon", ("never reached",)),
    Hostile("results_forger", ("never reached",)),
    # It pushes "exit" into the shell's input, which works where dev.tty.legacy_tiocsti allows it.
    Hostile("terminal_wrecker", ("did not finish within", "the shell itself had ended")),
    Hostile("kill_everything", ("killed by SIGKILL",), needs_root=True),
    Hostile("escape_writer", ("never reached",), needs_root=True),
]
RUNNABLE = [h for h in HOSTILES if AS_ROOT or not h.needs_root]


def submission(hostile: Hostile, folder: str, labs: Sequence[str] = ("01-process-groups", "02-sessions")) -> str:
    """A copy of the solutions of `labs` (01 among them) with `hostile` as lab 01's program, told
    what to reach for."""
    copy_labs(SOLUTIONS, folder, labs)
    with open(os.path.join(HOSTILE, f"{hostile.name}.c"), encoding="utf-8") as handle:
        source = handle.read()
    defines = "".join(f'#define {name} "{path}"\n' for name, path in TARGETS.items())
    with open(os.path.join(folder, "01-process-groups", "pgid_demo.c"), "w", encoding="utf-8") as handle:
        handle.write(defines + source)
    return folder


def contents(path: str) -> bytes:
    with open(path, "rb") as handle:
        return handle.read()


@pytest.fixture(scope="module")
def graded() -> Iterator[dict[str, Grade]]:
    protected = {path: contents(path) for path in (TARGETS["SOLUTION"], TARGETS["CHECKS"])}
    with tempfile.TemporaryDirectory() as scratch:
        folders = {h.name: submission(h, os.path.join(scratch, h.name)) for h in RUNNABLE}
        with ThreadPoolExecutor(max_workers=len(folders)) as pool:
            futures = {name: pool.submit(grade, folder, ["01", "02"]) for name, folder in folders.items()}
            results = {name: future.result() for name, future in futures.items()}
    try:
        yield results
    finally:
        for path, original in protected.items():  # should the isolation ever fail, undo the damage
            if contents(path) != original:
                with open(path, "wb") as handle:
                    handle.write(original)


@pytest.mark.parametrize("hostile", RUNNABLE, ids=lambda h: h.name)
def test_hostile_program_fails_only_its_lab(graded: dict[str, Grade], hostile: Hostile) -> None:
    result = graded[hostile.name]
    assert result.exit_status == 1, result.stdout
    assert result.lab_score("02-sessions") == (15, 15), f"lab 02 was harmed:\n{result.stdout}"
    earned, possible = result.lab_score("01-process-groups")
    assert possible == 13 and earned <= 1, result.stdout  # at most 'compiles'
    failed = [t for t in result.tests if t["tags"][0] == "01-process-groups" and t["status"] == "failed"]
    assert failed and any(reason in t["output"] for t in failed for reason in hostile.reasons), \
        f"lab 01 should fail with one of {hostile.reasons}:\n{result.stdout}"
    assert all("Observed: " in t["output"] for t in failed), result.stdout  # each failure says why
    assert "the grader itself failed" not in result.stdout, result.stdout


def test_nothing_is_left_running(graded: dict[str, Grade]) -> None:
    # This process is a child subreaper (see conftest.py): whatever the gradings left is below it.
    left = [f"{s.pid} {s.comm} [{s.state}]" for s in procfs.descendants(os.getpid())]
    assert not left, f"left running after the hostile gradings: {left}"


def test_forged_results_do_not_count(graded: dict[str, Grade]) -> None:
    # grade() read the results back from the file results_forger kept overwriting.
    result = graded["results_forger"]
    assert sum(t["score"] for t in result.tests) == 15 + result.lab_score("01-process-groups")[0]
    assert "forging" in result.stdout  # it did find the file and try


@pytest.mark.skipif(not AS_ROOT, reason="without root, lab programs run as the grader's own user")
def test_lab_programs_cannot_reach_outside(graded: dict[str, Grade]) -> None:
    report = graded["escape_writer"].stdout
    assert f"read {TARGETS['SOLUTION']}: Permission denied" in report, report
    assert f"write {TARGETS['CHECKS']}: Permission denied" in report, report
    assert "File size limit exceeded" in report, report  # its 100 MB file stopped at the limit
    assert not os.path.exists(TARGETS["LITTER"]), "the file it left in /tmp was not removed"
