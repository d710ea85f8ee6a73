"""Grading-platform outputs and the uploads they grade."""
from __future__ import annotations

import importlib
import os
from pathlib import Path

from grader import build, cli

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
