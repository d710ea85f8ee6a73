"""The project's own tests (make test). Gradings run as subprocesses, exactly as `make grade` runs."""
from __future__ import annotations

import pytest

from grader import containment


def pytest_configure(config: pytest.Config) -> None:
    # Anything a grading leaves behind is re-parented to us, where the leftover test can see it.
    containment.become_subreaper()
    config.addinivalue_line("markers", "check(points, hint, timeout): a graded check")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The leftover check goes last, after every grading has run."""
    items.sort(key=lambda item: item.fspath.basename == "test_teardown_leaves_nothing.py")
