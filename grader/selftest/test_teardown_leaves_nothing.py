"""After everything above, nothing from a lab binary may be running (make test runs this last)."""
from __future__ import annotations

import os
import tempfile

from grader import procfs


def test_no_process_left_behind() -> None:
    below_us = procfs.descendants(os.getpid())
    assert not below_us, f"processes left behind by the gradings: {below_us}"
    ours = tempfile.gettempdir() + os.sep  # the self-tests' private TMPDIR (see conftest.py)
    strays = [(pid, procfs.exe(pid)) for pid in procfs.all_pids()
              if (procfs.exe(pid) or "").startswith(ours)]
    assert not strays, f"lab programs still running somewhere: {strays}"
