"""The grade in the formats of grading platforms and CI systems, from the same outcomes as the report:
PrairieLearn's external-grader results.json, Autolab's score line and JUnit XML (Gradescope's
results.json is report.gradescope), and the `python -m grader` options that ask for them.

PrairieLearn: a score from 0 to 1 and tests[] with points and max_points; a grading the grader could not
finish is "not gradable", so it does not cost the student an attempt. Autolab reads the last line of the
output: {"scores": {LAB: points, ...}, "scoreboard": [total, LAB points, ...]}. JUnit: a testsuite per
lab and a testcase per check, a failed check with its feedback as the failure's text.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import xml.etree.ElementTree as ET
from typing import Iterable, Optional

from grader.report import VISIBILITIES, Outcome, render, write_atomically, write_json

# What XML 1.0 cannot hold (most control characters, say a terminal's ESC): written as \xNN instead.
NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def by_lab(outcomes: list[Outcome]) -> dict[str, list[Outcome]]:
    """The outcomes of each lab, the labs in the order they were graded."""
    labs: dict[str, list[Outcome]] = {}
    for outcome in outcomes:
        labs.setdefault(outcome.lab, []).append(outcome)
    return labs


def summary(feedback: str) -> str:
    """The first line of a failed check's feedback (its 'Expected: ...'), for a one-line message."""
    return feedback.strip().split("\n", 1)[0] if feedback.strip() else "failed"


def prairielearn(outcomes: list[Outcome], problems: Iterable[str] = ()) -> dict[str, object]:
    """PrairieLearn's external-grader results.json."""
    problems = list(problems)
    earned = sum(o.score for o in outcomes)
    possible = sum(o.points for o in outcomes)
    tests = [
        {
            "name": f"{o.lab}: {o.name}",
            "description": f"{o.lab}, check {o.test}",
            "points": o.score,
            "max_points": o.points,
            "message": "" if o.passed else summary(o.feedback),
            "output": o.feedback,
        }
        for o in outcomes
    ]
    result: dict[str, object] = {"gradable": not problems}
    if problems:
        result["format_errors"] = problems
        result["message"] = "The grader could not finish this grading; it does not count as an attempt."
    else:
        result["score"] = earned / possible if possible else 0.0
        result["message"] = f"Score: {earned}/{possible}"
    result["output"] = render(outcomes, problems)
    result["tests"] = tests
    return result


def autolab(outcomes: list[Outcome]) -> str:
    """Autolab's autoresult: one line of JSON, a score per lab (the assessment's problem names are the
    lab folders), and a scoreboard row: the total, then each lab."""
    scores = {lab: sum(o.score for o in mine) for lab, mine in by_lab(outcomes).items()}
    return json.dumps({"scores": scores, "scoreboard": [sum(scores.values()), *scores.values()]})


def xml_text(text: str) -> str:
    return NOT_XML.sub(lambda match: f"\\x{ord(match.group()):02x}", text)


def junit(outcomes: list[Outcome], problems: Iterable[str] = ()) -> ET.ElementTree:
    """JUnit XML: a testsuite per lab, a testcase per check; what kept the grader from grading is an
    error in a testsuite of its own, 'grader'."""
    problems = list(problems)
    failed = sum(not o.passed for o in outcomes)
    root = ET.Element("testsuites", name="procgroup labs", tests=str(len(outcomes) + len(problems)),
                      failures=str(failed), errors=str(len(problems)))
    for lab, mine in by_lab(outcomes).items():
        suite = ET.SubElement(root, "testsuite", name=lab, tests=str(len(mine)),
                              failures=str(sum(not o.passed for o in mine)), errors="0", skipped="0")
        for outcome in mine:
            case = ET.SubElement(suite, "testcase", classname=lab, name=xml_text(outcome.name))
            if not outcome.passed:
                message = f"0/{outcome.points} points: {summary(outcome.feedback)}"
                failure = ET.SubElement(case, "failure", type="CheckFailed", message=xml_text(message))
                failure.text = xml_text(outcome.feedback)
    if problems:
        suite = ET.SubElement(root, "testsuite", name="grader", tests=str(len(problems)), failures="0",
                              errors=str(len(problems)), skipped="0")
        for number, problem in enumerate(problems, 1):
            case = ET.SubElement(suite, "testcase", classname="grader", name=f"grading problem {number}")
            error = ET.SubElement(case, "error", message=xml_text(summary(problem)))
            error.text = xml_text(problem)
    tree = ET.ElementTree(root)
    ET.indent(tree)
    return tree


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `python -m grader` that write a platform's format (besides --results)."""
    parser.add_argument("--visibility", choices=VISIBILITIES,
                        help="with --results: when Gradescope shows students the result and each check")
    parser.add_argument("--prairielearn", metavar="FILE",
                        help="also write PrairieLearn's external-grader results.json here")
    parser.add_argument("--junit", metavar="FILE", help="also write JUnit XML here (a testcase per check)")
    parser.add_argument("--autolab", action="store_true",
                        help="end with Autolab's score line (JSON, a score per lab); the exit status is "
                             "then 0 whenever the grading ran, so nothing is printed after that line")


def usage_problem(args: argparse.Namespace) -> Optional[str]:
    """What is wrong with the output options, checked before grading starts; None if nothing."""
    if args.visibility and not args.results:
        return "--visibility goes with --results (it is a setting of Gradescope's results.json)"
    for option, path in (("--results", args.results), ("--prairielearn", args.prairielearn),
                         ("--junit", args.junit)):
        if not path:
            continue
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):
            return f"{option}: the folder '{folder}' does not exist"
        if os.path.isdir(path):
            return f"{option}: '{path}' is a folder; name a file"
    return None


def write_outputs(args: argparse.Namespace, outcomes: list[Outcome], problems: Iterable[str]) -> None:
    """Writes the files the options ask for, each whole or not at all, like results.json (call it once no
    lab program is left); Autolab's line goes to stdout, so call this last."""
    problems = list(problems)
    if args.prairielearn:
        write_json(args.prairielearn, prairielearn(outcomes, problems))
    if args.junit:
        write_atomically(args.junit, ET.tostring(junit(outcomes, problems).getroot(), encoding="unicode",
                                                 xml_declaration=True) + "\n")
    if args.autolab:
        print(autolab(outcomes), flush=True)
