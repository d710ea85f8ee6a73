"""What a class batch writes from its per-submission records: the gradebook and the class summary.

A record (OUT/records/NAME.json) holds one submission's outcome: its fingerprint, the labs asked for,
the reason it could not be graded (if so), and its checks as in Gradescope's results.json.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Optional


@dataclass
class Record:
    submission: str
    fingerprint: str
    labs: list[str]  # as asked for on the command line (empty: all)
    problem: str = ""  # why it was not graded, or not completely
    tests: list[dict] = field(default_factory=list)
    seconds: float = 0.0

    def lab_scores(self) -> dict[str, tuple[int, int]]:
        scores: dict[str, tuple[int, int]] = {}
        for test in self.tests:
            earned, possible = scores.get(test["tags"][0], (0, 0))
            scores[test["tags"][0]] = (earned + test["score"], possible + test["max_score"])
        return scores


def lab_points(records: list[Record]) -> dict[str, int]:
    """Each lab's possible points, as the gradings that reached it found them, in lab order."""
    points: dict[str, int] = {}
    for record in records:
        for lab, (_, possible) in record.lab_scores().items():
            points[lab] = max(points.get(lab, 0), possible)
    return dict(sorted(points.items()))


def gradebook(records: list[Record]) -> str:
    """CSV: a row per submission, its score per lab, the total, what was possible, and any problem."""
    points = lab_points(records)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["submission", *points, "total", "possible", "problem"])
    for record in sorted(records, key=lambda r: r.submission):
        scores = record.lab_scores()
        writer.writerow([record.submission, *(scores.get(lab, (0, 0))[0] for lab in points),
                         sum(earned for earned, _ in scores.values()), sum(points.values()), record.problem])
    return out.getvalue()


@dataclass
class CheckRate:
    lab: str
    name: str
    passed: int = 0
    graded: int = 0

    @property
    def rate(self) -> float:
        return self.passed / self.graded if self.graded else 0.0


def check_rates(records: list[Record]) -> list[CheckRate]:
    """How many of the graded submissions passed each check, in the order the labs list them."""
    rates: dict[tuple[str, str], CheckRate] = {}
    for record in records:
        for test in record.tests:
            rate = rates.setdefault((test["tags"][0], test["tags"][1]),
                                    CheckRate(test["tags"][0], test["name"].split(": ", 1)[-1]))
            rate.graded += 1
            rate.passed += test["status"] == "passed"
    return sorted(rates.values(), key=lambda r: r.lab)  # stable: within a lab, the grader's order


def summary(records: list[Record], most_missed: int = 8) -> str:
    """The class at a glance: per lab the mean and how many got full marks, the checks the class
    missed most (the concepts to go over again), every check's pass rate, and what was not graded."""
    points = lab_points(records)
    graded = [r for r in records if r.tests]
    lines = [f"{len(records)} submissions, {len(graded)} graded"
             + (f", {len(records) - len(graded)} could not be graded" if len(graded) < len(records) else "")]
    lines.append("")
    lines.append("Per lab (mean score, submissions with full marks):")
    for lab, possible in points.items():
        scores = [r.lab_scores()[lab][0] for r in graded if lab in r.lab_scores()]
        mean = sum(scores) / len(scores) if scores else 0.0
        full = sum(score == possible for score in scores)
        lines.append(f"  {lab:<22} {mean:6.1f}/{possible:<3} full marks: {full}/{len(scores)}")
    rates = check_rates(graded)
    missed = sorted((r for r in rates if r.passed < r.graded), key=lambda r: (r.rate, r.lab))[:most_missed]
    if missed:
        lines.append("")
        lines.append("Missed most (pass rate, lab, check):")
        lines.extend(f"  {r.rate:4.0%}  {r.lab}  {r.name}" for r in missed)
    lines.append("")
    lines.append("Every check (passed/graded):")
    for lab in points:
        lines.append(f"  {lab}")
        lines.extend(f"    {r.passed:>4}/{r.graded:<4} {r.rate:4.0%}  {r.name}" for r in rates if r.lab == lab)
    problems = [r for r in records if r.problem]
    if problems:
        lines.append("")
        lines.append("Not graded, or not completely:")
        lines.extend(f"  {r.submission}: {r.problem}" for r in sorted(problems, key=lambda r: r.submission))
    return "\n".join(lines) + "\n"


def rates_csv(records: list[Record]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["lab", "check", "passed", "graded", "pass_rate"])
    for rate in check_rates([r for r in records if r.tests]):
        writer.writerow([rate.lab, rate.name, rate.passed, rate.graded, f"{rate.rate:.3f}"])
    return out.getvalue()


def parse(data: dict) -> Optional[Record]:
    try:
        return Record(data["submission"], data["fingerprint"], list(data["labs"]), data.get("problem", ""),
                      list(data.get("tests", [])), float(data.get("seconds", 0.0)))
    except (KeyError, TypeError, ValueError):
        return None
