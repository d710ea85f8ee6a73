"""The grading session: options, the build, the per-check context, time limits, and feedback.

Each lab's checks live in test_NN_topic.py with module globals LAB (the folder name), PROGRAMS (the
files the lab names, taken from the submission) and, optionally, PROVIDED (files the lab gives students
complete, always taken from the project's labs/). See docs/contributing.md.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from typing import Iterator, Optional

import pytest

from grader import build, containment, report
from grader.check import CheckFailed, CheckTimedOut, Grading, deadline

ROOT = build.ROOT


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("procgroup grading")
    group.addoption("--submission", default=os.path.join(ROOT, "labs"),
                    help="tree laid out like labs/ whose programs are graded (default: labs/)")
    group.addoption("--fallback", default=None,
                    help="take programs missing from the submission from this tree (self-tests only)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "check(points, hint, timeout): a graded check")
    containment.become_subreaper()
    run_as = config.stash[RUN_AS] = containment.RunAs.choose()
    if not run_as.is_grader:
        containment.shut_out_others(ROOT)
    out_dir = config.stash[BUILD_DIR] = tempfile.mkdtemp(prefix="procgroup-build-")
    config.stash[HELPER] = build.HelperObject(out_dir)  # compiles while the checks are collected


def pytest_collection_finish(session: pytest.Session) -> None:
    """Compiles every program of every lab about to be graded, all at once."""
    labs: dict[str, list[str]] = {}
    provided: dict[str, list[str]] = {}
    for item in session.items:
        module = item.module  # type: ignore[attr-defined]
        labs.setdefault(module.LAB, list(module.PROGRAMS))
        provided.setdefault(module.LAB, list(getattr(module, "PROVIDED", [])))
    submission = os.path.abspath(session.config.getoption("submission"))
    fallback = session.config.getoption("fallback")
    session.config.stash[BUILDS] = build.build_labs(
        labs, submission, os.path.abspath(fallback) if fallback else None, session.config.stash[BUILD_DIR],
        provided, session.config.stash[HELPER]
    )


def pytest_unconfigure(config: pytest.Config) -> None:
    containment.kill_descendants()
    out_dir = config.stash.get(BUILD_DIR, None)
    if out_dir:
        shutil.rmtree(out_dir, ignore_errors=True)
    run_as = config.stash.get(RUN_AS, None)
    if run_as is not None:
        containment.remove_files_of(run_as)


BUILD_DIR = pytest.StashKey[str]()
HELPER = pytest.StashKey[build.HelperObject]()
BUILDS = pytest.StashKey[dict]()
RUN_AS = pytest.StashKey[containment.RunAs]()


@pytest.fixture(scope="session")
def run_as(request: pytest.FixtureRequest) -> containment.RunAs:
    """Who the lab programs run as: chosen once per grading (see grader/containment.py)."""
    return request.config.stash[RUN_AS]


@pytest.fixture(scope="module")
def lab(request: pytest.FixtureRequest) -> build.LabBuild:
    """The compiled programs of the lab this check belongs to."""
    return request.config.stash[BUILDS][request.module.LAB]


@pytest.fixture
def grading(lab: build.LabBuild, run_as: containment.RunAs) -> Iterator[Grading]:
    """A context for one check: what it starts is killed when the check ends."""
    context = Grading(lab, run_as, containment.Limits())
    yield context
    context.teardown()


@pytest.fixture(scope="module")
def lab_grading(lab: build.LabBuild, run_as: containment.RunAs) -> Iterator[Grading]:
    """A context shared by a lab's checks that judge one run of a scenario (see lab 01)."""
    context = Grading(lab, run_as, containment.Limits())
    yield context
    context.teardown()


@pytest.fixture(autouse=True)
def time_limit(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every check has a deadline, whatever it waits for."""
    marker = request.node.get_closest_marker("check")
    with deadline(marker.kwargs.get("timeout", 30.0) if marker else 60.0):
        yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    result: pytest.TestReport = outcome.get_result()  # type: ignore[attr-defined]
    marker = item.get_closest_marker("check")
    if marker is None:
        return
    doc = (item.function.__doc__ or item.name).strip().splitlines()[0]  # type: ignore[attr-defined]
    result.user_properties.append(("check", {
        "lab": item.module.LAB, "test": item.name, "name": doc,  # type: ignore[attr-defined]
        "points": marker.kwargs["points"],
    }))
    if result.failed and call.excinfo is not None:
        lab = item.module.LAB  # type: ignore[attr-defined]
        hint = f"labs/{lab}/README.md, {marker.kwargs['hint']}"
        funcargs = item.funcargs  # type: ignore[attr-defined]
        grading: Optional[Grading] = funcargs.get("grading") or funcargs.get("lab_grading")
        result.user_properties.append(("feedback", explain(call.excinfo, grading, hint)))


def explain(excinfo: pytest.ExceptionInfo[BaseException], grading: Optional[Grading], hint: str) -> str:
    """The failure as a student reads it; taken at the moment of failure, before teardown."""
    error = excinfo.value
    expected, advice, moment = None, "", ""
    tree = grading.session_tree() if grading else ""
    if isinstance(error, CheckFailed):
        expected, observed, advice = error.expected, error.observed, error.advice
        if error.at is not None and error.at.tree:
            tree, moment = error.at.tree, f"at checkpoint '{error.at.name}'"
    elif isinstance(error, build.NotBuilt):
        return f"Observed: {error}\nHint: {hint}"
    elif type(error).__module__.startswith("grader") or isinstance(error, CheckTimedOut):
        observed = str(error)  # a checkpoint never reached, a timeout, a flood, a process gone
    else:
        observed = ("the grader itself failed (please report this):\n"
                    + str(excinfo.getrepr(style="short", chain=False))[-2000:])
    transcript = grading.transcript() if grading else ""
    return report.feedback(expected, observed, advice, transcript, tree, moment or "at that moment", hint)
