"""python -m grader: grade a submission (default labs/) and print the table, failures and Score: X/Y.

Exit status: 0 only at full marks; 1 otherwise; 2 for a usage error. With --autolab (whose score
line must come last), 0 whenever the grading ran.
With --repeat N it grades N times and reports the checks whose verdict changed (see grader/repeat.py).
"""
from __future__ import annotations

import argparse
import glob
import io
import os
import signal
import sys
from contextlib import redirect_stdout
from typing import Optional

import pytest

from grader import containment, platforms, repeat
from grader import report as reporting
from grader.build import ROOT

CHECKS = os.path.join(ROOT, "grader", "checks")


def lab_modules() -> dict[str, str]:
    """lab folder name -> its check module; test_01_process_groups.py grades 01-process-groups."""
    modules = {}
    for path in sorted(glob.glob(os.path.join(CHECKS, "test_*.py"))):
        stem = os.path.basename(path)[len("test_"):-len(".py")]
        modules[stem.replace("_", "-")] = path
    return modules


def select_labs(wanted: list[str]) -> dict[str, str]:
    modules = lab_modules()
    if not wanted:
        return modules
    chosen = {}
    for item in wanted:
        key = item.strip().rstrip("/").split("/")[-1]
        matches = {lab: path for lab, path in modules.items()
                   if lab == key or lab.split("-")[0] == key.zfill(2)}
        if not matches:
            raise ValueError(f"no lab '{item}'; the labs are: {', '.join(modules)}")
        chosen.update(matches)
    return chosen


class Collector:
    """A pytest plugin that gathers each check's outcome (setup, call and teardown together)."""

    def __init__(self) -> None:
        self.outcomes: dict[str, reporting.Outcome] = {}
        self.skipped: set[str] = set()
        self.problems: list[str] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        properties = dict(report.user_properties)
        info = properties.get("check")
        if info is None:
            return
        if report.skipped or report.nodeid in self.skipped:
            # A check that does not apply to this run (say, a jsh-only check while lab 05's checks
            # are pointed at bash) is left out of the score altogether.
            self.skipped.add(report.nodeid)
            self.outcomes.pop(report.nodeid, None)
            return
        outcome = self.outcomes.setdefault(report.nodeid, reporting.Outcome(
            info["lab"], info["test"], info["name"], info["points"], passed=True))
        if report.failed:
            outcome.passed = False
            outcome.feedback = outcome.feedback or properties.get("feedback", report.longreprtext)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.problems.append(f"The grader could not load {report.nodeid}:\n{report.longreprtext}")


class Stop:
    """SIGTERM (a batch's time limit, say) ends the grading as Ctrl-C does: every lab program is
    killed, pytest unwinds through each check's teardown (its folders are removed), and no results
    are written."""

    def __init__(self) -> None:
        self.requested = False
        signal.signal(signal.SIGTERM, self.handle)

    def handle(self, signum: int, frame: object) -> None:
        self.requested = True
        containment.kill_descendants()
        raise KeyboardInterrupt


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="grader", description="Grade procgroup labs.")
    parser.add_argument("--lab", action="append", default=[],
                        help="a lab number (01) or folder name (01-process-groups); repeatable")
    parser.add_argument("--submission", default=os.path.join(ROOT, "labs"),
                        help="a tree laid out like labs/, or with the files flat at its top (default: labs/)")
    parser.add_argument("--fallback", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--results", help="also write Gradescope's results.json here")
    platforms.add_arguments(parser)
    parser.add_argument("--repeat", type=repeat.run_count, metavar="N",
                        help="grade N times, each a separate grading, and report every check whose verdict "
                             "changed (exit status 0 when none did)")
    args = parser.parse_args(argv)

    if not os.path.isdir(args.submission):
        print(f"grader: submission folder '{args.submission}' does not exist", file=sys.stderr)
        return 2
    problem = platforms.usage_problem(args)
    if problem:
        print(f"grader: {problem}", file=sys.stderr)
        return 2
    try:
        labs = select_labs([item for entry in args.lab for item in entry.replace(",", " ").split()])
    except ValueError as error:
        print(f"grader: {error}", file=sys.stderr)
        return 2
    if args.repeat:
        if args.results or args.prairielearn or args.junit or args.autolab:
            print("grader: --repeat compares runs and writes no results; leave out --results, --prairielearn, "
                  "--junit and --autolab", file=sys.stderr)
            return 2
        return repeat.main(os.path.abspath(args.submission), list(labs),
                           args.fallback and os.path.abspath(args.fallback), args.repeat)
    collector = Collector()
    pytest_args = [*labs.values(), "-p", "no:cacheprovider", "-p", "no:terminal", "-p", "no:warnings",
                   "--rootdir", ROOT, "-c", os.devnull,
                   "--submission", os.path.abspath(args.submission)]
    if args.fallback:
        pytest_args += ["--fallback", os.path.abspath(args.fallback)]
    stop = Stop()
    with redirect_stdout(io.StringIO()):
        code = pytest.main(pytest_args, plugins=[collector])
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    containment.kill_descendants()  # the results are written only once no lab program is left
    if stop.requested or code == pytest.ExitCode.INTERRUPTED:
        print("grader: stopped before the grading was complete; no results written", file=sys.stderr)
        return 128 + signal.SIGTERM if stop.requested else 130
    outcomes = list(collector.outcomes.values())
    problems = list(collector.problems)
    if code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED) and not problems:
        problems.append(f"The grader stopped early (pytest exit status {int(code)}).")
    print(reporting.render(outcomes, problems))
    if args.results:
        reporting.write_gradescope(args.results, outcomes, problems, args.visibility)
    platforms.write_outputs(args, outcomes, problems)
    full = outcomes and not problems and all(o.passed for o in outcomes)
    return 0 if full or args.autolab else 1
