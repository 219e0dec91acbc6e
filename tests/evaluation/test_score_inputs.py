"""`instructkit score` takes its inputs strictly: no coercion, no silent zero."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli_runner import run_cli

REF = {
    "id": "t1-a",
    "task_id": "t1_x",
    "task_category": "C",
    "track": "default",
    "references": ["yes"],
}


def _write(path: Path, rows: list) -> Path:  # type: ignore[type-arg]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.mark.parametrize(
    ("preds", "refs", "message"),
    [
        (
            [{"id": "t1-a", "prediction": ["yes"]}],
            [REF],
            "line 1.prediction': expected a string, got list",
        ),
        ([{"id": "t1-a", "prediction": None}], [REF], "expected a string, got null"),
        (
            [{"id": "t1-a", "predicton": "yes"}],
            [REF],
            "line 1.prediction': missing (other keys: predicton)",
        ),
        ([{"id": 1, "prediction": "yes"}], [REF], "line 1.id': expected a string, got int"),
        (
            [{"id": "t1-a", "prediction": "a"}, {"id": "t1-a", "prediction": "b"}],
            [REF],
            "1 duplicate id",
        ),
        ([{"id": "zz", "prediction": "yes"}], [REF], "none of the 1 ids is in"),
        ([{"id": "t1-a", "prediction": "yes"}], [], "holds no references"),
        ([{"id": "t1-a", "prediction": "yes"}], [REF, REF], "duplicate id 't1-a'"),
    ],
)
def test_malformed_score_inputs_are_one_line(tmp_path: Path, preds, refs, message) -> None:  # type: ignore[no-untyped-def]
    p = _write(tmp_path / "p.jsonl", preds)
    r = _write(tmp_path / "r.jsonl", refs)
    out = run_cli("score", str(p), str(r), cwd=tmp_path)
    assert out.returncode == 1 and message in out.stderr.replace("\n", " ")
    assert "Traceback" not in out.stderr
