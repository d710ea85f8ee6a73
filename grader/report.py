"""Turning check outcomes into what people read: the grade table, failure feedback, results.json."""
from __future__ import annotations

import json
import os
import textwrap
from dataclasses import dataclass
from typing import Iterable, Optional


@dataclass
class Outcome:
    """One check's verdict, as the report shows it."""

    lab: str
    test: str  # the pytest function name, e.g. test_parent_ids
    name: str  # what a student reads, the docstring's first line
    points: int
    passed: bool
    feedback: str = ""

    @property
    def score(self) -> int:
        return self.points if self.passed else 0


def indent(text: str, prefix: str = "    ") -> str:
    return textwrap.indent(text, prefix, lambda line: True)


def feedback(
    expected: Optional[str],
    observed: str,
    advice: str,
    transcript: str,
    tree: str,
    moment: str,
    hint: str,
) -> str:
    """The text a student reads under a failed check."""
    parts = []
    if expected:
        parts.append(f"Expected: {expected}")
    parts.append(f"Observed: {observed}")
    if advice:
        parts.append(advice)
    if transcript:
        parts.append("Terminal:\n" + indent(transcript, "    | "))
    if tree:
        parts.append(f"Processes {moment} (session -> groups -> processes):\n" + indent(tree))
    if hint:
        parts.append(f"Hint: {hint}")
    return "\n".join(parts)


def lab_table(lab: str, outcomes: list[Outcome]) -> str:
    earned = sum(o.score for o in outcomes)
    possible = sum(o.points for o in outcomes)
    lines = [f"{lab}  ({earned}/{possible})"]
    for o in outcomes:
        lines.append(f"  {'PASS' if o.passed else 'FAIL'}  {o.score:>2}/{o.points:<2} {o.name}")
    return "\n".join(lines)


def render(outcomes: list[Outcome], problems: Iterable[str] = ()) -> str:
    """The whole report: per lab a table, then the failures in detail; `Score: X/Y` last."""
    sections = list(problems)
    for lab in dict.fromkeys(o.lab for o in outcomes):
        mine = [o for o in outcomes if o.lab == lab]
        section = [lab_table(lab, mine)]
        for failed in (o for o in mine if not o.passed):
            section.append(f"\n--- FAIL: {failed.name}  ({lab}, {failed.test})\n{failed.feedback}")
        sections.append("\n".join(section))
    total = sum(o.score for o in outcomes)
    possible = sum(o.points for o in outcomes)
    sections.append(f"Score: {total}/{possible}")
    return "\n\n".join(sections)


VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")  # Gradescope's settings


def gradescope(outcomes: list[Outcome], problems: Iterable[str] = (),
               visibility: Optional[str] = None) -> dict[str, object]:
    """The result in Gradescope's results.json schema (score; tests[] with name, score, max_score,
    status, output). The tags carry the lab and the check's id, for tools that post-process.
    `visibility` (one of VISIBILITIES), when given, says when students see the result and each check."""
    extra = {"visibility": visibility} if visibility else {}
    tests = [
        {
            "name": f"{o.lab}: {o.name}",
            "score": o.score,
            "max_score": o.points,
            "status": "passed" if o.passed else "failed",
            "output": o.feedback,
            "tags": [o.lab, o.test],
            **extra,
        }
        for o in outcomes
    ]
    result: dict[str, object] = {"score": sum(o.score for o in outcomes), **extra, "tests": tests}
    notes = "\n".join(problems)
    if notes:
        result["output"] = notes
    return result


def write_atomically(path: str, text: str) -> None:
    """Writes a whole file or nothing, and replaces whatever was at `path` (a symbolic link
    included) instead of writing through it."""
    temporary = f"{path}.{os.getpid()}.tmp"
    with open(temporary, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(temporary, path)


def write_json(path: str, data: object) -> None:
    write_atomically(path, json.dumps(data, indent=2) + "\n")


def write_gradescope(path: str, outcomes: list[Outcome], problems: Iterable[str] = (),
                     visibility: Optional[str] = None) -> None:
    write_json(path, gradescope(outcomes, problems, visibility))
