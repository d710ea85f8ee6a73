"""A check of the lab 06 checks: a daemon made with glibc's daemon(3), which forks only once, does
everything else of the recipe right. It must fail exactly the session-leader check, no other."""
from __future__ import annotations

from grader.gradings import load_mutants

LAB = "06-daemon"
ONLY_FAILURE = "test_06_not_session_leader"


def test_glibc_daemon_fails_only_the_session_leader_check() -> None:
    mutant = next(m for m in load_mutants() if m.lab == LAB and m.name == "glibc-daemon")
    assert mutant.fails == (ONLY_FAILURE,)
    result = mutant.grade()
    failed = sorted(t["tags"][1] for t in result.tests if t["status"] != "passed")
    assert failed == [ONLY_FAILURE], result.stdout
