"""Untrusted code: a lab program that misbehaves fails its lab, and the rest of the grading goes on."""
from __future__ import annotations

import os
import shutil

import pytest

from grader.gradings import SOLUTIONS, grade

KILL_EVERYTHING = r"""
#include "checkpoint.h"
#include <signal.h>
int main(void)
{
    kill(-1, SIGKILL); /* every process this user may signal */
    return 0;
}
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="only as root do lab programs run as another user; "
                    "as yourself, kill(-1) would end your own session, the grader included")
def test_kill_minus_one_cannot_reach_the_grader(tmp_path) -> None:
    (tmp_path / "01-process-groups").mkdir()
    (tmp_path / "01-process-groups" / "pgid_demo.c").write_text(KILL_EVERYTHING)
    shutil.copytree(os.path.join(SOLUTIONS, "02-sessions"), tmp_path / "02-sessions")
    result = grade(str(tmp_path), ["01", "02"])
    earned, possible = result.lab_score("01-process-groups")
    assert 0 < earned < possible, result.stdout  # it compiles, and fails the rest
    assert result.lab_score("02-sessions") == (15, 15), result.stdout
