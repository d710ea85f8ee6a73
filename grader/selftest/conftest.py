"""The project's own tests (make test). Gradings run as subprocesses, exactly as `make grade` runs."""
from __future__ import annotations

import atexit
import os
import shutil
import tempfile

import pytest

from grader import containment

def pytest_configure(config: pytest.Config) -> None:
    # Anything a grading leaves behind is re-parented to us, where the leftover test can see it.
    containment.become_subreaper()
    # The gradings we start build and work in here (TMPDIR is inherited), so the leftover test can
    # tell their programs from those of any other grading running on the machine at the same time.
    private = tempfile.mkdtemp(prefix="procgroup-selftest-")
    os.chmod(private, 0o1777)  # lab programs may run as another user, like in /tmp
    os.environ["TMPDIR"] = private
    tempfile.tempdir = None  # forget the cached default, so tempfile uses TMPDIR from now on
    # Registered before pytest registers its own temp-dir cleanup, so (LIFO) it runs after it.
    atexit.register(shutil.rmtree, private, ignore_errors=True)
    config.addinivalue_line("markers", "check(points, hint, timeout): a graded check")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The leftover check goes last, after every grading has run."""
    items.sort(key=lambda item: item.fspath.basename == "test_teardown_leaves_nothing.py")
