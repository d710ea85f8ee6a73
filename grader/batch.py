"""python -m grader.batch SUBMISSIONS OUT [--lab NN ...]: grade a whole class.

SUBMISSIONS holds one folder per student, each laid out like labs/. For each student this writes
OUT/feedback/NAME.txt (exactly what `make grade` would print) and OUT/feedback/NAME.json (Gradescope's
results.json), then OUT/gradebook.csv: one row per student, a column per lab, and the total.
Students are graded one after another; each grading is independent, so one student's runaway program
cannot affect another's grade.
"""
from __future__ import annotations

import argparse
import csv
import os
import sys
from typing import Optional

from grader.gradings import grade


def students(submissions: str) -> list[str]:
    return sorted(name for name in os.listdir(submissions)
                  if os.path.isdir(os.path.join(submissions, name)) and not name.startswith("."))


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="grader.batch", description="Grade a folder of submissions.")
    parser.add_argument("submissions", help="a folder with one sub-folder per student")
    parser.add_argument("out", help="where gradebook.csv and feedback/ go")
    parser.add_argument("--lab", action="append", default=[], help="grade only these labs (repeatable)")
    args = parser.parse_args(argv)
    if not os.path.isdir(args.submissions):
        print(f"grader.batch: '{args.submissions}' is not a folder", file=sys.stderr)
        return 2
    names = students(args.submissions)
    if not names:
        print(f"grader.batch: no student folders in '{args.submissions}'", file=sys.stderr)
        return 2
    feedback = os.path.join(args.out, "feedback")
    os.makedirs(feedback, exist_ok=True)
    rows, labs = [], []
    for number, name in enumerate(names, 1):
        result = grade(os.path.join(args.submissions, name), args.lab, results_copy=os.path.join(feedback,
                                                                                                   f"{name}.json"))
        with open(os.path.join(feedback, f"{name}.txt"), "w", encoding="utf-8") as handle:
            handle.write(result.stdout)
        scores = {}
        for test in result.tests:
            lab = test["tags"][0]
            earned, possible = scores.get(lab, (0, 0))
            scores[lab] = (earned + test["score"], possible + test["max_score"])
        labs.extend(lab for lab in scores if lab not in labs)
        rows.append((name, scores))
        total = sum(e for e, _ in scores.values()), sum(p for _, p in scores.values())
        print(f"[{number}/{len(names)}] {name}: {total[0]}/{total[1]}", flush=True)
    with open(os.path.join(args.out, "gradebook.csv"), "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", *labs, "total", "possible"])
        for name, scores in rows:
            possible = sum(scores.get(lab, (0, 0))[1] for lab in labs)
            writer.writerow([name, *(scores.get(lab, ("", 0))[0] for lab in labs),
                             sum(e for e, _ in scores.values()), possible])
    print(f"wrote {os.path.join(args.out, 'gradebook.csv')} and {feedback}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
