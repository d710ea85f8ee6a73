"""Grading a class: folders and archives in; a gradebook, feedback, a class summary out; resumable."""
from __future__ import annotations

import csv
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from grader import procfs
from grader.build import ROOT
from grader.gradings import SOLUTIONS, copy_labs, tar_of, zip_of

LABS = ("01-process-groups", "02-sessions")
STARTERS = os.path.join(ROOT, "labs")
HOSTILE = os.path.join(ROOT, "grader", "selftest", "hostile")


def batch(submissions: Path, out: Path, *options: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "grader.batch", str(submissions), str(out), "--lab", "01",
                           "--lab", "02", *options], cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def gradebook(out: Path) -> dict[str, dict[str, str]]:
    return {row["submission"]: row for row in csv.DictReader(io.StringIO((out / "gradebook.csv").read_text()))}


def test_class_of_folders_and_archives(tmp_path: Path) -> None:
    given = tmp_path / "class"
    given.mkdir()
    copy_labs(SOLUTIONS, given / "alice", LABS)
    copy_labs(STARTERS, given / "bob", LABS)
    tar_of(SOLUTIONS, given / "carol.tar.gz", LABS, top="labs")  # an archive of a folder holding the labs
    zip_of(STARTERS, given / "dave.zip", LABS)
    (given / "erin.tgz").write_bytes(b"this is not an archive")
    with tarfile.open(given / "mallory.tar.gz", "w:gz") as archive:  # a member that climbs out
        archive.add(os.path.join(SOLUTIONS, LABS[0], "pgid_demo.c"), arcname="../01-process-groups/pgid_demo.c")
    trudy = copy_labs(SOLUTIONS, given / "trudy", LABS)  # a link to someone else's work is not taken
    (trudy / LABS[0] / "pgid_demo.c").unlink()
    os.symlink(os.path.join(SOLUTIONS, LABS[0], "pgid_demo.c"), trudy / LABS[0] / "pgid_demo.c")
    grace = copy_labs(SOLUTIONS, given / "grace", LABS)  # lab 02 does not compile
    (grace / LABS[1] / "ctty_demo.c").write_text("int main(void) { return }\n")
    (given / "frank").mkdir()  # handed in an empty folder
    (given / "README.txt").write_text("not a submission")
    out = tmp_path / "out"

    finished = batch(given, out)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert "ignoring README.txt" in finished.stderr
    assert "[9/9]" in finished.stdout and "left" in finished.stdout  # the progress lines
    rows = gradebook(out)
    assert set(rows) == {"alice", "bob", "carol", "dave", "erin", "mallory", "trudy", "grace", "frank"}
    for name in ("alice", "carol"):
        assert (rows[name][LABS[0]], rows[name][LABS[1]], rows[name]["total"]) == ("13", "15", "28"), rows[name]
    assert rows["bob"]["total"] == rows["dave"]["total"] and 0 < int(rows["bob"]["total"]) < 28
    assert rows["trudy"][LABS[0]] == "0" and rows["trudy"][LABS[1]] == "15"
    assert "missing from the submission" in (out / "feedback" / "trudy.txt").read_text()
    assert rows["trudy"]["problem"] == f"{LABS[0]}: files missing"
    assert rows["grace"]["problem"] == f"{LABS[1]}: does not compile" and rows["grace"][LABS[0]] == "13"
    assert rows["alice"]["problem"] == rows["bob"]["problem"] == ""
    assert "cannot be unpacked" in rows["erin"]["problem"] and rows["erin"]["total"] == "0"
    assert "outside its own folder" in rows["mallory"]["problem"]
    assert "no lab folders" in rows["frank"]["problem"]
    assert all(row["possible"] == "28" for row in rows.values())
    assert json.loads((out / "feedback" / "alice.json").read_text())["score"] == 28
    bob = (out / "feedback" / "bob.txt").read_text()
    assert "FAIL" in bob and bob.rstrip().splitlines()[-1] == f"Score: {rows['bob']['total']}/28"
    # The class summary, over the six submissions that were graded.
    summary = (out / "summary.txt").read_text()
    assert summary.startswith("9 submissions, 6 graded, 3 could not be graded")
    assert "Missed most" in summary and "erin: not graded" in summary
    rates = list(csv.DictReader(io.StringIO((out / "check-rates.csv").read_text())))
    assert rates and all(rate["graded"] == "6" for rate in rates)
    passed = {rate["check"]: rate["passed"] for rate in rates}
    assert passed["pgid_demo.c compiles"] == "5"  # all but trudy, whose pgid_demo.c was a link
    assert passed["session_demo.c and ctty_demo.c compile"] == "5"  # all but grace
    # grace's session_demo.c compiles, so only ctty_demo.c's checks fail: she keeps those points.
    assert passed["After fork and setsid(), the child has PID == PGID == SID"] == "4"  # not the starters
    assert 0 < int(rows["grace"][LABS[1]]) < 15

    # Run again: nothing has changed, so nothing is graded again.
    records = {p.name: p.stat().st_mtime_ns for p in (out / "records").iterdir()}
    again = batch(given, out)
    assert again.returncode == 0 and "9 already graded, 0 to grade" in again.stdout, again.stdout
    assert {p.name: p.stat().st_mtime_ns for p in (out / "records").iterdir()} == records
    assert gradebook(out) == rows


def test_interrupted_batch_resumes(tmp_path: Path) -> None:
    given = tmp_path / "class"
    given.mkdir()
    copy_labs(SOLUTIONS, given / "a-quick", LABS)
    slow = copy_labs(SOLUTIONS, given / "b-slow", LABS)
    shutil.copy(os.path.join(HOSTILE, "busy_loop.c"), slow / LABS[0] / "pgid_demo.c")  # takes its 20 s limit
    copy_labs(STARTERS, given / "c-quick", LABS)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "grader.batch", str(given), str(out), "--lab", "01", "--lab", "02",
               "--jobs", "1"]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               stdin=subprocess.DEVNULL)
    first = out / "records" / "a-quick.json"
    deadline = time.monotonic() + 120
    while not first.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert first.exists(), "the first submission was never recorded"
    while not [s for s in procfs.descendants(process.pid) if s.comm == "pgid_demo"] and time.monotonic() < deadline:
        time.sleep(0.05)  # until b-slow's busy loop runs: its grading is well under way
    process.send_signal(signal.SIGTERM)  # c-quick waits
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stdout + stderr
    assert "Run the same command again" in stderr
    assert sorted(p.name for p in (out / "records").iterdir()) == ["a-quick.json"]
    left = [f"{s.pid} {s.comm}" for s in procfs.descendants(os.getpid())]
    assert not left, f"the interrupted batch left {left} running"
    litter = [name for name in os.listdir(tempfile.gettempdir())
              if name.startswith(("procgroup-build-", "procgroup-submission-", "procgroup-01-"))]
    assert not litter, f"the interrupted batch left {litter} in {tempfile.gettempdir()}"

    # The student fixes b-slow meanwhile: it is graded again, a-quick is not.
    shutil.copy(os.path.join(SOLUTIONS, LABS[0], "pgid_demo.c"), slow / LABS[0] / "pgid_demo.c")
    recorded = first.stat().st_mtime_ns
    resumed = batch(given, out, "--jobs", "1")
    assert resumed.returncode == 0 and "1 already graded, 2 to grade" in resumed.stdout, resumed.stdout
    assert first.stat().st_mtime_ns == recorded
    rows = gradebook(out)
    assert (rows["a-quick"]["total"], rows["b-slow"]["total"]) == ("28", "28")
    assert int(rows["c-quick"]["total"]) < 28
