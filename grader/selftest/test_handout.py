"""make handout: the students' copy holds what a student needs and nothing that is the course staff's,
what its README says is true there, and its own make grade and make test work as a student expects.

`make handout` packs the last commit. So that these tests judge the tracked files as they are now
(uncommitted edits included; a new file counts once it is `git add`ed), they run it in a clone whose
last commit is this working tree (on a clean checkout, as in CI, that is simply HEAD)."""
from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from grader.build import ROOT

STAFF_ONLY = ["solutions", "grader/mutants", "grader/selftest", "grader/stress", "grader/class-trial",
              "grader/handout", "docs/instructor-guide.md", "docs/contributing.md", "docs/platforms.md", ".ci",
              "grader/gradescope", "grader/prairielearn", "grader/autolab", "grader/gradescope_zip.py"]
NEEDED = ["Makefile", "README.md", "labs/common/checkpoint.c", "grader/cli.py", "grader/find-python",
          "grader/checks", "docs/concepts/README.md"]
LABS = sorted(entry.name for entry in os.scandir(os.path.join(ROOT, "labs"))
              if entry.is_dir() and entry.name[:2].isdigit())


def git(*arguments: str, cwd: str = ROOT) -> str:
    finished = subprocess.run(["git", *arguments], cwd=cwd, capture_output=True, text=True, check=True)
    return finished.stdout.strip()


def make(cwd: Path, *arguments: str) -> subprocess.CompletedProcess:
    """make as a person types it: not as a sub-make of whatever make runs these tests."""
    env = {key: value for key, value in os.environ.items() if key not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    return subprocess.run(["make", *arguments], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300, stdin=subprocess.DEVNULL)


def checkout_of_working_tree(where: Path) -> Path:
    """A clone of this repository whose HEAD is this working tree's tracked files, edits included."""
    clone = where / "repository"
    git("clone", "--quiet", "--shared", ROOT, str(clone))
    git("reset", "--quiet", "--hard", git("stash", "create") or git("rev-parse", "HEAD"), cwd=str(clone))
    return clone


def extract(archive: Path, where: Path) -> Path:
    where.mkdir()
    subprocess.run(["tar", "-xzf", str(archive), "-C", str(where)], check=True)
    assert os.listdir(where) == ["procgroup-labs"], os.listdir(where)
    return where / "procgroup-labs"


@pytest.fixture(scope="module")
def handout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The students' copy, made by a plain `make handout` and extracted."""
    here = tmp_path_factory.mktemp("handout")
    clone = checkout_of_working_tree(here)
    made = make(clone, "handout")
    assert made.returncode == 0, made.stdout + made.stderr
    assert "not committed" not in made.stderr, made.stderr
    return extract(clone / "build" / "procgroup-labs.tar.gz", here / "copy")


def test_staff_files_are_left_out(handout: Path) -> None:
    assert not [path for path in STAFF_ONLY if (handout / path).exists()]
    assert not [path for path in NEEDED if not (handout / path).exists()]
    assert sorted(p.name for p in (handout / "labs").iterdir() if p.name[:2].isdigit()) == LABS


def test_what_a_student_reads_is_there(handout: Path) -> None:
    """Every link in the copy's Markdown leads to a file of the copy; its README lists every lab."""
    dead = []
    for page in handout.rglob("*.md"):
        for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text(encoding="utf-8")):
            path = target.split("#")[0]
            if path and "://" not in path and not (page.parent / path).exists():
                dead.append(f"{page.relative_to(handout)}: {target}")
    assert not dead, "links to what the students' copy does not have:\n" + "\n".join(dead)
    readme = (handout / "README.md").read_text(encoding="utf-8")
    assert not [lab for lab in LABS if f"(labs/{lab}/README.md)" not in readme], readme
    assert "solutions/" not in readme and "make handout" not in readme


def test_grade_works_out_of_the_box(handout: Path) -> None:
    graded = make(handout, "grade", "LAB=01 02")
    output = graded.stdout + graded.stderr
    assert "Traceback" not in output, output
    assert graded.returncode == 2 and "Error 1" in graded.stderr, output  # the grader's 1: not full marks
    assert "01-process-groups  (" in graded.stdout and "02-sessions  (" in graded.stdout, output
    score = re.fullmatch(r"Score: (\d+)/(\d+)", graded.stdout.rstrip().splitlines()[-1])
    assert score and int(score[1]) < int(score[2]), output


def test_its_grader_gives_full_marks_to_the_solutions(handout: Path) -> None:
    """Every lab's checks run in the copy: nothing they need was left out."""
    graded = make(handout, "grade", f"SUBMISSION={os.path.join(ROOT, 'solutions')}")
    assert graded.returncode == 0, graded.stdout + graded.stderr
    assert all(f"{lab}  (" in graded.stdout for lab in LABS), graded.stdout


@pytest.mark.parametrize("target, missing", [("test", "grader/selftest"), ("handout", "grader/handout")])
def test_staff_targets_point_to_make_grade(handout: Path, target: str, missing: str) -> None:
    finished = make(handout, target)
    assert finished.returncode == 2, finished.stdout + finished.stderr
    assert f"make {target} is for the course staff: this students' copy has no {missing}." in finished.stderr
    assert "To grade your labs: make grade" in finished.stderr and not finished.stdout


def test_uncommitted_changes_are_named_and_left_out(tmp_path: Path) -> None:
    clone = checkout_of_working_tree(tmp_path)
    page = clone / "labs" / "01-process-groups" / "README.md"
    page.write_text(page.read_text(encoding="utf-8") + "\nNot committed yet.\n", encoding="utf-8")
    made = make(clone, "handout", f"HANDOUT={tmp_path / 'out' / 'copy.tar.gz'}")
    assert made.returncode == 0, made.stdout + made.stderr
    assert "not committed, so not in the handout" in made.stderr
    assert "labs/01-process-groups/README.md" in made.stderr
    copy = extract(tmp_path / "out" / "copy.tar.gz", tmp_path / "copy")
    handed_out = copy / "labs" / "01-process-groups" / "README.md"
    assert "Not committed yet." not in handed_out.read_text(encoding="utf-8")


HIDDEN_CHECK = '''"""A check the course keeps from students (docs/instructor-guide.md, 'Hidden checks')."""
from grader.check import CheckFailed, check

LAB = "01-process-groups"
PROGRAMS = ["pgid_demo.c"]


@check(points=1, hint="task 1")
def test_no_todo_left(lab) -> None:
    """pgid_demo.c has no TODO left in it"""
    with open(lab.programs["pgid_demo"].source, encoding="utf-8") as handle:
        if "TODO" in handle.read():
            raise CheckFailed("no TODO left in pgid_demo.c", "a TODO is still there")
'''


def test_hidden_checks_grade_but_stay_out_of_the_handout(tmp_path: Path) -> None:
    clone = checkout_of_working_tree(tmp_path)
    (clone / "grader" / "checks" / "test_01_process_groups_hidden.py").write_text(HIDDEN_CHECK, encoding="utf-8")
    git("add", "grader/checks/test_01_process_groups_hidden.py", cwd=str(clone))
    git("-c", "user.name=staff", "-c", "user.email=staff@example.org", "commit", "--quiet", "-m", "hidden",
        cwd=str(clone))
    solutions = make(clone, "grade", "LAB=01", f"SUBMISSION={clone / 'solutions'}")
    assert solutions.returncode == 0 and "PASS   1/1  pgid_demo.c has no TODO left" in solutions.stdout, \
        solutions.stdout + solutions.stderr
    assert solutions.stdout.rstrip().endswith("Score: 14/14"), solutions.stdout  # one lab, 13 + 1 points
    starters = make(clone, "grade", "LAB=01")
    assert "FAIL   0/1  pgid_demo.c has no TODO left" in starters.stdout, starters.stdout + starters.stderr
    made = make(clone, "handout", f"HANDOUT={tmp_path / 'copy.tar.gz'}")
    assert made.returncode == 0, made.stdout + made.stderr
    copy = extract(tmp_path / "copy.tar.gz", tmp_path / "copy")
    assert not list((copy / "grader" / "checks").glob("*_hidden.py"))
