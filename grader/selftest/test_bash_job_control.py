"""Lab 05's checks about kernel state, pointed at bash: a correct, widely used job-control shell must
pass every one of them. The grading runs exactly as `make grade` runs it, with PROCGROUP_JOB_SHELL=bash
in its environment: the lab 05 module then starts `bash --norc --noprofile --noediting -i` (the
grader's Shell) where it would start jsh, types that bash into another bash where it would type jsh
(the shell's own start: `... &` then `fg`, and `sh -c '...'`), and skips the checks that rely on jsh's
own output lines or checkpoints, which leaves them out of the score."""
from __future__ import annotations

import pytest

from grader.gradings import SOLUTIONS, grade
from grader.jobcontrol import SHELL_VARIABLE

LAB = "05-job-control"


def test_bash_passes_the_kernel_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SHELL_VARIABLE, "bash")
    result = grade(SOLUTIONS, [LAB])
    graded = [t for t in result.tests if t["tags"][0] == LAB]
    failed = [t["tags"][1] for t in graded if t["status"] != "passed"]
    assert not failed and result.exit_status == 0, f"bash failed {failed}:\n{result.stdout}"
    names = {t["tags"][1] for t in graded}
    # The kernel checks are graded, the jsh-only ones are not.
    assert {"test_foreground_job_owns_terminal", "test_ctrl_c_ends_whole_job", "test_ctrl_z_stops_whole_job",
            "test_shell_takes_terminal_back_after_stop", "test_fg_continues_job",
            "test_background_read_stopped_by_sigttin", "test_children_signals_default",
            "test_shell_started_in_background_waits", "test_shell_takes_own_group_and_terminal"} <= names, result.stdout
    assert not names & {"test_compiles", "test_jobs_lists_jobs", "test_job_group_set_by_both_sides"}, result.stdout
