"""Grading a class: one folder per student in, a gradebook and per-student feedback out."""
from __future__ import annotations

import csv
import json
import os
import subprocess
import sys

from grader.build import ROOT


def test_gradebook_and_feedback(tmp_path) -> None:
    submissions = tmp_path / "class"
    submissions.mkdir()
    os.symlink(os.path.join(ROOT, "solutions"), submissions / "alice")
    os.symlink(os.path.join(ROOT, "labs"), submissions / "bob")
    (submissions / "carol").mkdir()  # handed in nothing
    out = tmp_path / "out"
    finished = subprocess.run([sys.executable, "-m", "grader.batch", str(submissions), str(out), "--lab", "01"],
                              cwd=ROOT, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    with open(out / "gradebook.csv", newline="") as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    assert set(rows) == {"alice", "bob", "carol"}
    assert rows["alice"]["01-process-groups"] == rows["alice"]["total"] == rows["alice"]["possible"] == "13"
    assert 0 < int(rows["bob"]["total"]) < 13
    assert rows["carol"]["total"] == "0" and rows["carol"]["possible"] == "13"
    bob = (out / "feedback" / "bob.txt").read_text()
    assert "FAIL" in bob and bob.rstrip().splitlines()[-1] == f"Score: {rows['bob']['total']}/13"
    assert "missing from the submission" in (out / "feedback" / "carol.txt").read_text()
    assert json.loads((out / "feedback" / "alice.json").read_text())["score"] == 13
