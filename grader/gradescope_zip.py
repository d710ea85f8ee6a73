"""python -m grader.gradescope_zip OUT [--lab NN ...] [--visibility V]: Gradescope's autograder zip.

At the zip's root: setup.sh and run_autograder (from grader/gradescope/), autograder.conf (which labs
the assignment grades, and when students see the results), and what the grader needs: the Makefile,
labs/ and grader/, without the grader's own tests and known-wrong programs, and without solutions/.
The project files are those git tracks or would track (new, not ignored), as they are in the working
tree. `make autograder` runs this.
"""
from __future__ import annotations

import argparse
import os
import stat
import subprocess
import sys
import zipfile
from typing import Optional

from grader.build import ROOT
from grader.cli import select_labs
from grader.report import VISIBILITIES

INCLUDED = ["Makefile", "labs", "grader"]
LEFT_OUT = ["grader/mutants/", "grader/selftest/", "grader/stress"]
SCRIPTS = os.path.join(ROOT, "grader", "gradescope")  # setup.sh and run_autograder
CONFIG = "autograder.conf"
FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # the same project gives the same zip, byte for byte


class NoProjectFiles(Exception):
    """git could not list the project's files."""


def project_files() -> list[str]:
    """The files of the project that go into the zip, relative to ROOT."""
    try:
        command = ["git", "-C", ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", *INCLUDED]
        listed = subprocess.run(command, capture_output=True, text=True, check=True,
                                stdin=subprocess.DEVNULL).stdout
    except (OSError, subprocess.CalledProcessError) as error:
        reason = getattr(error, "stderr", "") or str(error)
        raise NoProjectFiles(f"git cannot list the project's files ({reason.strip()}); "
                             "build the zip in the project's git checkout") from error
    return [path for path in listed.split("\0")
            if path and not path.startswith(tuple(LEFT_OUT)) and os.path.isfile(os.path.join(ROOT, path))]


def config_text(labs: list[str], visibility: str) -> str:
    """autograder.conf: read by run_autograder as shell assignments, so an instructor can edit it."""
    return (
        "# Read by run_autograder. LABS: the labs this assignment grades, by folder name or number,\n"
        "# separated by spaces (empty: every lab). VISIBILITY: when students see the results and each\n"
        f"# check: {', '.join(VISIBILITIES)}.\n"
        f"LABS=\"{' '.join(labs)}\"\n"
        f"VISIBILITY={visibility}\n"
    )


def add(archive: zipfile.ZipFile, name: str, data: bytes, executable: bool) -> None:
    info = zipfile.ZipInfo(name, FIXED_TIME)
    info.external_attr = (stat.S_IFREG | (0o755 if executable else 0o644)) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, data)


def build_zip(out: str, labs: list[str], visibility: str) -> int:
    """Writes the zip to `out`; returns how many files it holds."""
    files = project_files()
    with zipfile.ZipFile(out, "w") as archive:
        for script in ("setup.sh", "run_autograder"):
            with open(os.path.join(SCRIPTS, script), "rb") as handle:
                add(archive, script, handle.read(), executable=True)
        add(archive, CONFIG, config_text(labs, visibility).encode(), executable=False)
        for path in files:
            full = os.path.join(ROOT, path)
            with open(full, "rb") as handle:
                add(archive, path, handle.read(), executable=os.access(full, os.X_OK))
    return len(files) + 3


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="grader.gradescope_zip",
                                     description="Build Gradescope's autograder zip.")
    parser.add_argument("out", help="where to write the zip (its folder is created)")
    parser.add_argument("--lab", action="append", default=[],
                        help="grade only these labs (a number or folder name; repeatable; default: all)")
    parser.add_argument("--visibility", choices=VISIBILITIES, default="visible",
                        help="when students see the results and each check (default: visible)")
    args = parser.parse_args(argv)
    try:
        wanted = [item for entry in args.lab for item in entry.replace(",", " ").split()]
        labs = list(select_labs(wanted)) if wanted else []  # none named: every lab in the zip
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        count = build_zip(args.out, labs, args.visibility)
    except (ValueError, NoProjectFiles, OSError) as error:
        print(f"grader.gradescope_zip: {error}", file=sys.stderr)
        return 2
    print(f"{args.out}: Gradescope's autograder ({count} files), grading {' '.join(labs) or 'every lab'}, "
          f"results {args.visibility}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
