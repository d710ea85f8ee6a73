"""Grading-platform outputs. Each platform is run locally against its own folder layout in a temporary
root: Gradescope's autograder zip (/autograder/source, submission, results), PrairieLearn's external grader
(/grade/serverFilesCourse, student, results), Autolab's autograde-Makefile (autograde.tar, handin.tar, the
score line last), and JUnit XML. Gradings are restricted to labs 01 and 02, with lab 01 solved and lab 02
the starter."""
from __future__ import annotations

import importlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path
from typing import Optional

import pytest

from grader import build, cli, platforms
from grader.build import ROOT
from grader.report import Outcome

LABS = "01 02"
SOURCES = {  # lab 01 solved, lab 02 the starter: one lab at full marks, one below
    "01-process-groups": [os.path.join(ROOT, "solutions", "01-process-groups", "pgid_demo.c")],
    "02-sessions": [os.path.join(ROOT, "labs", "02-sessions", name) for name in ("session_demo.c", "ctty_demo.c")],
}

OUTCOMES = [
    Outcome("01-process-groups", "test_compiles", "pgid_demo.c compiles", 1, True),
    Outcome("01-process-groups", "test_race", "The race", 3, False, "Expected: x\x1b[0m\nObserved: y\x00"),
    Outcome("02-sessions", "test_compiles", "session_demo.c compiles", 1, True),
]


def run(command: list[str], env: Optional[dict[str, str]] = None, cwd: str = ROOT) -> subprocess.CompletedProcess:
    """Runs a command as a platform would: no terminal, stdout and stderr in one stream, and not as a
    sub-make of `make test` (a sub-make would print "Leaving directory" after Autolab's score line)."""
    clean = {name: value for name, value in os.environ.items() if name not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    return subprocess.run(command, cwd=cwd, env={**clean, **(env or {})}, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=300, stdin=subprocess.DEVNULL)


def submission(tree: Path, flat: bool) -> Path:
    """The lab files laid out like labs/ (NN-topic/prog.c), or flat at the top of `tree`."""
    for lab, paths in SOURCES.items():
        folder = tree if flat else tree / lab
        folder.mkdir(parents=True, exist_ok=True)
        for path in paths:
            shutil.copy(path, folder)
    return tree


def unpack(archive_path: Path, dest: Path) -> None:
    """Unzips with each file's mode, as Gradescope unpacks the autograder into /autograder/source."""
    with zipfile.ZipFile(archive_path) as archive:
        for info in archive.infolist():
            os.chmod(archive.extract(info, dest), (info.external_attr >> 16) & 0o777)


def lab_scores(tests: list[dict]) -> dict[str, list[int]]:
    """lab -> [earned, possible], from Gradescope's tests[]."""
    scores: dict[str, list[int]] = {}
    for test in tests:
        earned_possible = scores.setdefault(test["tags"][0], [0, 0])
        earned_possible[0] += test["score"]
        earned_possible[1] += test["max_score"]
    return scores


def check_mixed_grade(tests: list[dict]) -> None:
    """Lab 01 (solved) at full marks, lab 02 (the starter) below, and nothing else graded."""
    scores = lab_scores(tests)
    assert list(scores) == ["01-process-groups", "02-sessions"]
    assert scores["01-process-groups"][0] == scores["01-process-groups"][1] > 0
    assert scores["02-sessions"][0] < scores["02-sessions"][1]


# The submission layouts

def test_lab_file_names_are_unique_across_labs() -> None:
    """A flat upload is unambiguous only while no two labs name the same file."""
    owners: dict[str, list[str]] = {}
    for lab, path in cli.lab_modules().items():
        module = importlib.import_module(f"grader.checks.{os.path.basename(path)[:-3]}")
        for name in [*module.PROGRAMS, *getattr(module, "PROVIDED", [])]:
            owners.setdefault(name, []).append(lab)
    assert {name: labs for name, labs in owners.items() if len(labs) > 1} == {}


def test_a_lab_file_is_taken_from_its_folder_else_from_the_top(tmp_path: Path) -> None:
    lab = "01-process-groups"
    assert build.find_source(lab, "pgid_demo.c", str(tmp_path), None) is None
    (tmp_path / "pgid_demo.c").write_text("flat")
    assert build.find_source(lab, "pgid_demo.c", str(tmp_path), None) == str(tmp_path / "pgid_demo.c")
    (tmp_path / lab).mkdir()
    (tmp_path / lab / "pgid_demo.c").write_text("nested")
    assert build.find_source(lab, "pgid_demo.c", str(tmp_path), None) == str(tmp_path / lab / "pgid_demo.c")


# The formats, from outcomes

def test_prairielearn_results() -> None:
    data = platforms.prairielearn(OUTCOMES)
    assert data["gradable"] is True and data["score"] == pytest.approx(2 / 5)
    assert data["message"] == "Score: 2/5" and str(data["output"]).endswith("Score: 2/5")
    race = data["tests"][1]  # type: ignore[index]
    assert race["name"] == "01-process-groups: The race" and (race["points"], race["max_points"]) == (0, 3)
    assert race["message"] == "Expected: x\x1b[0m" and race["output"] == OUTCOMES[1].feedback
    broken = platforms.prairielearn(OUTCOMES, ["The grader could not load test_02_sessions.py"])
    assert broken["gradable"] is False and "score" not in broken
    assert broken["format_errors"] == ["The grader could not load test_02_sessions.py"]


def test_autolab_line() -> None:
    line = platforms.autolab(OUTCOMES)
    assert "\n" not in line
    assert json.loads(line) == {"scores": {"01-process-groups": 1, "02-sessions": 1}, "scoreboard": [2, 1, 1]}


def test_junit_xml_holds_any_feedback(tmp_path: Path) -> None:
    path = tmp_path / "junit.xml"
    platforms.junit(OUTCOMES, ["The grader stopped early (pytest exit status 3)."]).write(
        path, encoding="utf-8", xml_declaration=True)
    root = ET.parse(path).getroot()  # a terminal's ESC and a NUL in the feedback must not break the XML
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("4", "1", "1")
    assert [suite.get("name") for suite in root] == ["01-process-groups", "02-sessions", "grader"]
    failure = root.find("testsuite/testcase[@name='The race']/failure")
    assert failure is not None and failure.text == "Expected: x\\x1b[0m\nObserved: y\\x00"
    assert failure.get("message") == "0/3 points: Expected: x\\x1b[0m"
    error = root.find("testsuite[@name='grader']/testcase/error")
    assert error is not None and error.get("message") == "The grader stopped early (pytest exit status 3)."


def test_output_options_are_checked_before_grading(tmp_path: Path) -> None:
    for options, message in ((["--junit", str(tmp_path / "no" / "junit.xml")], "does not exist"),
                             (["--prairielearn", str(tmp_path)], "is a folder"),
                             (["--visibility", "hidden"], "--visibility goes with --results")):
        finished = run([sys.executable, "-m", "grader", "--lab", "01", *options])
        assert finished.returncode == 2 and message in finished.stdout, finished.stdout
        assert "Traceback" not in finished.stdout and "Score:" not in finished.stdout


# make grade with every format at once: one grading, four views of it that must agree

@pytest.fixture(scope="module")
def every_format(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess, Path]:
    folder = tmp_path_factory.mktemp("formats")
    tree = submission(folder / "submission", flat=False)
    finished = run(["make", "-s", "grade", f"SUBMISSION={tree}", f"LAB={LABS}", "AUTOLAB=1",
                    f"RESULTS={folder / 'gradescope.json'}", f"PRAIRIELEARN={folder / 'prairielearn.json'}",
                    f"JUNIT={folder / 'junit.xml'}"])
    return finished, folder


def test_make_grade_ends_with_autolab_line(every_format: tuple[subprocess.CompletedProcess, Path]) -> None:
    finished, folder = every_format
    tests = json.loads((folder / "gradescope.json").read_text())["tests"]
    check_mixed_grade(tests)
    # Autolab reads the last line of everything printed; below full marks, make must print no error after it.
    assert finished.returncode == 0, finished.stdout
    lines = finished.stdout.rstrip("\n").split("\n")
    assert lines[-2].startswith("Score: ")
    autoresult = json.loads(lines[-1])
    scores = lab_scores(tests)
    assert autoresult["scores"] == {lab: earned for lab, (earned, _) in scores.items()}
    assert autoresult["scoreboard"] == [sum(autoresult["scores"].values()), *autoresult["scores"].values()]


def test_make_grade_writes_prairielearn(every_format: tuple[subprocess.CompletedProcess, Path]) -> None:
    _, folder = every_format
    tests = json.loads((folder / "gradescope.json").read_text())["tests"]
    data = json.loads((folder / "prairielearn.json").read_text())
    earned, possible = sum(t["score"] for t in tests), sum(t["max_score"] for t in tests)
    assert data["gradable"] is True and data["score"] == pytest.approx(earned / possible)
    assert [(t["name"], t["points"], t["max_points"], t["output"]) for t in data["tests"]] == \
        [(t["name"], t["score"], t["max_score"], t["output"]) for t in tests]
    assert all(t["message"] for t in data["tests"] if t["points"] < t["max_points"])


def test_make_grade_writes_junit(every_format: tuple[subprocess.CompletedProcess, Path]) -> None:
    _, folder = every_format
    tests = json.loads((folder / "gradescope.json").read_text())["tests"]
    root = ET.parse(folder / "junit.xml").getroot()
    cases = root.findall("testsuite/testcase")
    assert [f"{case.get('classname')}: {case.get('name')}" for case in cases] == [t["name"] for t in tests]
    failed = [t for t in tests if t["status"] == "failed"]
    assert failed and int(root.get("failures", "-1")) == len(failed) and root.get("errors") == "0"
    failures = root.findall("testsuite/testcase/failure")
    assert [f.text for f in failures] == [t["output"] for t in failed]
    assert all(f.get("message") for f in failures)


# Gradescope: the autograder zip, unpacked and run as Gradescope runs it

@pytest.fixture(scope="module")
def autograder_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("zip") / "autograder.zip"
    finished = run(["make", "-s", "autograder", f"ZIP={path}", f"LAB={LABS}", "VISIBILITY=after_due_date"])
    assert finished.returncode == 0, finished.stdout
    return path


def test_autograder_zip_contents(autograder_zip: Path) -> None:
    with zipfile.ZipFile(autograder_zip) as archive:
        names = set(archive.namelist())
        modes = {info.filename: (info.external_attr >> 16) & 0o777 for info in archive.infolist()}
        config = archive.read("autograder.conf").decode()
        setup = archive.read("setup.sh").decode()
    assert {"setup.sh", "run_autograder", "autograder.conf", "Makefile", "grader/cli.py", "grader/find-python",
            "labs/common/checkpoint.c", "labs/01-process-groups/pgid_demo.c"} <= names
    assert not [name for name in names if name.startswith(("solutions/", "grader/mutants/", "grader/selftest/",
                                                            "grader/stress", "docs/"))]
    assert modes["run_autograder"] & 0o111 and modes["setup.sh"] & 0o111
    assert 'LABS="01-process-groups 02-sessions"' in config.splitlines()
    assert "VISIBILITY=after_due_date" in config.splitlines()
    for package in ("build-essential", "make", "python3-pytest", "python3-pexpect"):
        assert package in setup.split()


def test_autograder_zip_refuses_unknown_labs(tmp_path: Path) -> None:
    finished = run(["make", "-s", "autograder", f"ZIP={tmp_path / 'a.zip'}", "LAB=42"])
    assert finished.returncode != 0 and "no lab '42'" in finished.stdout and "Traceback" not in finished.stdout
    assert not (tmp_path / "a.zip").exists()


def test_gradescope_runs_the_autograder(autograder_zip: Path, tmp_path: Path) -> None:
    root = tmp_path / "autograder"
    unpack(autograder_zip, root / "source")
    setup = run(["sh", "-n", str(root / "source" / "setup.sh")])  # a valid script; its apt-get is not run here
    assert setup.returncode == 0, setup.stdout
    shutil.copy2(root / "source" / "run_autograder", root / "run_autograder")  # as Gradescope installs it
    submission(root / "submission", flat=False)
    finished = run([str(root / "run_autograder")], env={"AUTOGRADER_ROOT": str(root)}, cwd=str(root))
    assert finished.returncode == 0, finished.stdout
    data = json.loads((root / "results" / "results.json").read_text())
    check_mixed_grade(data["tests"])
    assert data["visibility"] == "after_due_date"
    assert data["score"] == sum(t["score"] for t in data["tests"])
    for test in data["tests"]:
        assert {"name", "score", "max_score", "status", "output"} <= set(test)
        assert test["visibility"] == "after_due_date"
        assert test["status"] == ("passed" if test["score"] == test["max_score"] else "failed")


# PrairieLearn: the external grader's /grade layout, the project in serverFilesCourse

def test_prairielearn_runs_the_external_grader(autograder_zip: Path, tmp_path: Path) -> None:
    grade = tmp_path / "grade"
    project = grade / "serverFilesCourse" / "procgroup"
    unpack(autograder_zip, project)
    (grade / "data").mkdir()
    (grade / "data" / "data.json").write_text(json.dumps({"params": {}, "submitted_answers": {}}))
    submission(grade / "student", flat=True)  # a file-upload element submits the files flat
    finished = run([str(project / "grader" / "prairielearn" / "run"), "01", "02"],
                   env={"PRAIRIELEARN_ROOT": str(grade)}, cwd=str(grade))
    assert finished.returncode == 0, finished.stdout
    data = json.loads((grade / "results" / "results.json").read_text())
    assert data["gradable"] is True and 0 < data["score"] < 1
    assert data["message"] == finished.stdout.rstrip().split("\n")[-1]  # "Score: X/Y"
    tests = [{"tags": [t["name"].split(":")[0]], "score": t["points"], "max_score": t["max_points"]}
             for t in data["tests"]]
    check_mixed_grade(tests)
    assert data["score"] == pytest.approx(sum(t["score"] for t in tests) / sum(t["max_score"] for t in tests))


# Autolab: autograde-Makefile (as Makefile), autograde.tar and the student's handin.tar in one folder

def test_autolab_runs_the_autograde_makefile(autograder_zip: Path, tmp_path: Path) -> None:
    folder = tmp_path / "autolab"
    folder.mkdir()
    unpack(autograder_zip, tmp_path / "procgroup")
    with tarfile.open(folder / "autograde.tar", "w") as archive:
        archive.add(tmp_path / "procgroup", arcname="procgroup")
    handin = submission(tmp_path / "handin", flat=True)
    with tarfile.open(folder / "handin.tar", "w") as archive:
        for path in sorted(handin.iterdir()):
            archive.add(path, arcname=path.name)
    shutil.copy(os.path.join(ROOT, "grader", "autolab", "autograde-Makefile"), folder / "Makefile")
    finished = run(["make", f"LAB={LABS}"], cwd=str(folder))
    assert finished.returncode == 0, finished.stdout
    tables = {lab: [int(earned), int(possible)]
              for lab, earned, possible in re.findall(r"^(\S+)  \((\d+)/(\d+)\)$", finished.stdout, re.MULTILINE)}
    check_mixed_grade([{"tags": [lab], "score": e, "max_score": p} for lab, (e, p) in tables.items()])
    autoresult = json.loads(finished.stdout.rstrip("\n").split("\n")[-1])
    assert autoresult["scores"] == {lab: earned for lab, (earned, _) in tables.items()}
