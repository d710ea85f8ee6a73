"""`python -m grader --repeat N` (`make grade REPEAT=N`): hunting flaky verdicts.

Grades the same tree N times, each run a separate grading in its own process exactly as `make grade`
runs it, and reports every check whose verdict changed between runs: its lab, its verdict in each run
and what it said in a run where it failed. A check that fails in every run is steady, not flaky.

Exit status: 0 when every check got the same verdict in every run; 1 when a verdict changed or a
grading failed (it ran out of time, or wrote no results).
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import Optional, Sequence

from grader import containment
from grader.gradings import GradingFailed, grade
from grader.report import indent

PASSED, FAILED, MISSING = "passed", "failed", "missing"


def run_count(text: str) -> int:
    """argparse type of --repeat: two runs at least, or there is nothing to compare."""
    if not text.isdigit() or int(text) < 2:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of runs of 2 or more")
    return int(text)


@dataclass
class Run:
    """One grading: its checks as results.json lists them, or why it has none."""

    tests: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    trouble: str = ""  # why the grading gave no results (its own output, if it wrote any)

    def summary(self) -> str:
        if self.trouble:
            first, _, rest = self.trouble.strip().partition("\n")
            return first + ("\n" + indent(rest, "    | ") if rest else "")
        earned = sum(t["score"] for t in self.tests)
        possible = sum(t["max_score"] for t in self.tests)
        return f"{earned}/{possible} points in {self.seconds:.1f} s"


@dataclass(frozen=True)
class History:
    """One check's verdicts over the runs, in run order."""

    lab: str
    test: str
    name: str  # what a student reads, as in results.json ("01-process-groups: ...")
    verdicts: tuple[str, ...]  # per run: passed, failed, or missing (that run did not grade it)
    outputs: tuple[str, ...]  # per run: what the check said

    @property
    def changed(self) -> bool:
        return len(set(self.verdicts)) > 1

    @property
    def steady(self) -> Optional[str]:
        """The verdict it got in every run, or None if that changed."""
        return None if self.changed else self.verdicts[0]

    def describe(self) -> str:
        lines = [f"CHANGED  {self.name}  ({self.test})",
                 "  verdicts by run: " + ", ".join(f"{n} {v}" for n, v in enumerate(self.verdicts, 1))]
        if FAILED in self.verdicts:
            number = self.verdicts.index(FAILED)
            lines.append(f"  run {number + 1} said:")
            lines.append(indent(self.outputs[number].rstrip() or "(nothing)", "    | "))
        return "\n".join(lines)


def histories(runs: Sequence[Sequence[dict]]) -> list[History]:
    """Each check's verdicts over `runs` (each the `tests` list of one run's results.json), in the
    order the checks first appear. A check a run did not grade is `missing` in that run."""
    names: dict[tuple[str, str], str] = {}
    by_run: list[dict[tuple[str, str], dict]] = []
    for tests in runs:
        entries = {(entry["tags"][0], entry["tags"][1]): entry for entry in tests}
        for key, entry in entries.items():
            names.setdefault(key, entry["name"])
        by_run.append(entries)
    result = []
    for (lab, test), name in names.items():
        entries = [run.get((lab, test)) for run in by_run]
        result.append(History(lab, test, name,
                              tuple(entry["status"] if entry else MISSING for entry in entries),
                              tuple(entry["output"] if entry else "" for entry in entries)))
    return result


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def report(checks: list[History], runs: int) -> str:
    """The changed checks in detail, the steady failures by name, and a summary line last."""
    changed = [h for h in checks if h.changed]
    failing = [h for h in checks if h.steady == FAILED]
    passing = [h for h in checks if h.steady == PASSED]
    sections = [h.describe() for h in changed]
    if failing:
        sections.append("failed in every run:\n" + "\n".join(f"  {h.name}  ({h.test})" for h in failing))
    steady = (f"of {plural(len(checks), 'check')}, {len(passing)} passed and {len(failing)} failed "
              "in every run")
    over = plural(runs, "run")
    if not checks:
        sections.append(f"no check was graded in {over}: see the runs above")
    elif changed:
        sections.append(f"{plural(len(changed), 'check')} changed verdict in {over} ({steady})")
    else:
        sections.append(f"no verdict changed in {over} ({steady})")
    return "\n\n".join(sections)


def one_run(submission: str, labs: list[str], fallback: Optional[str]) -> Run:
    try:
        result = grade(submission, labs, fallback)
    except GradingFailed as error:
        return Run(trouble=str(error))
    return Run(result.tests, result.seconds)


def main(submission: str, labs: list[str], fallback: Optional[str], count: int) -> int:
    """Grades `submission` `count` times and prints what changed; see the module's docstring."""
    containment.become_subreaper()  # what a crashed run leaves behind comes to us, to be killed
    runs: list[Run] = []
    interrupted = False
    for number in range(1, count + 1):
        try:
            run = one_run(submission, labs, fallback)
        except KeyboardInterrupt:
            print(f"interrupted: comparing the {plural(len(runs), 'run')} that ended")
            interrupted = True
            break
        finally:
            containment.kill_descendants()
        runs.append(run)
        print(f"run {number}/{count}: {run.summary()}", flush=True)
    checks = histories([run.tests for run in runs])
    print()
    print(report(checks, len(runs)))
    if interrupted:
        return 130
    return 1 if any(run.trouble for run in runs) or any(h.changed for h in checks) else 0
