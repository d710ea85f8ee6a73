"""The grade report and Gradescope's results.json."""
from __future__ import annotations

import json

from grader import report

OUTCOMES = [
    report.Outcome("01-process-groups", "test_compiles", "pgid_demo.c compiles", 1, True),
    report.Outcome("01-process-groups", "test_race", "The race", 3, False, "Expected: x\nObserved: y"),
    report.Outcome("02-sessions", "test_compiles", "session_demo.c compiles", 1, True),
]


def test_table_and_score_last() -> None:
    text = report.render(OUTCOMES)
    assert text.splitlines()[-1] == "Score: 2/5"
    assert "01-process-groups  (1/4)" in text and "02-sessions  (1/1)" in text
    assert "  FAIL   0/3  The race" in text and "Observed: y" in text


def test_results_json_schema(tmp_path) -> None:
    path = tmp_path / "results.json"
    report.write_gradescope(str(path), OUTCOMES, ["a note"])
    data = json.loads(path.read_text())
    assert data["score"] == 2 and data["output"] == "a note"
    assert len(data["tests"]) == 3
    race = data["tests"][1]
    assert race == {"name": "01-process-groups: The race", "score": 0, "max_score": 3, "status": "failed",
                    "output": "Expected: x\nObserved: y", "tags": ["01-process-groups", "test_race"]}
    assert {t["status"] for t in data["tests"]} == {"passed", "failed"}


def test_feedback_has_every_part() -> None:
    text = report.feedback("A", "B", "Try C.", "$ prog\nline", "session 1", "at checkpoint 'x'",
                           "labs/01/README.md, task 2")
    assert text.splitlines() == [
        "Expected: A", "Observed: B", "Try C.", "Terminal:", "    | $ prog", "    | line",
        "Processes at checkpoint 'x' (session -> groups -> processes):", "    session 1",
        "Hint: labs/01/README.md, task 2",
    ]


def test_results_json_visibility() -> None:
    """An instructor's visibility applies to the whole result and to each check; without one, Gradescope's
    default (visible) holds and the key is left out."""
    data = report.gradescope(OUTCOMES, visibility="after_published")
    assert data["visibility"] == "after_published"
    assert [t["visibility"] for t in data["tests"]] == ["after_published"] * 3
    default = report.gradescope(OUTCOMES)
    assert "visibility" not in default and "visibility" not in default["tests"][0]
