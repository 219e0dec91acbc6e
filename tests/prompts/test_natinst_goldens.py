"""Natural Instructions v1 encodings against the official prompts: for every official
prompt file in ../shared/data/natinst-v1 (12 tasks, 11 field sets, several K), the prompt
instructkit renders equals the official encoder's, byte for byte."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from instructkit.prompts.natinst import get_field_set, official_eval_indices
from instructkit.prompts.render import render
from instructkit.tasks.collection import load_task_file
from tests.conftest import SHARED_DATA

ROOT = SHARED_DATA / "natinst-v1"
FILES = sorted((ROOT / "prompts").glob("*.json")) if (ROOT / "prompts").is_dir() else []


def _parse(name: str) -> tuple[str, str, int]:
    task, fields, rest = Path(name).stem.split("@")
    return task, fields, int(rest.split("_")[0])


@pytest.mark.skipif(not FILES, reason=f"NI v1 official prompts not found at {ROOT}")
def test_every_official_prompt_file_is_reproduced() -> None:
    assert len(FILES) == 233
    tasks = {p.stem: load_task_file(p) for p in (ROOT / "tasks").glob("*.json")}
    checked = 0
    for f in FILES:
        task_name, fields, k = _parse(f.name)
        task = tasks[task_name]
        by_index = {i.index: i for i in task.instances}
        template = f"natinst:{fields}@{k}"
        for p in json.loads(f.read_text(encoding="utf-8"))["predictions"]:
            got = render(template, task, by_index[p["index"]]).source
            assert got == p["input"], f"{f.name}, instance {p['index']}"
            checked += 1
    assert checked == 233 * 20


@pytest.mark.skipif(not FILES, reason=f"NI v1 official prompts not found at {ROOT}")
def test_rows_name_official_field_sets_and_v1_schema_loads() -> None:
    assert (
        get_field_set("full instruction").fields
        == get_field_set(
            "_Definition_Prompt_Things to Avoid_Emphasis & Caution"
            "_Negative Examples Full Explanations_Positive Examples Full Explanations"
        ).fields
    )
    task = load_task_file(ROOT / "tasks" / "subtask052_multirc_identify_bad_question.json")
    evaluated = [i for i in task.instances if not i.outputs]
    assert len(evaluated) == 100 and all(i.index is not None for i in task.instances)
    assert task.things_to_avoid == "- "  # strips to "-" but is not "-": printed, not skipped


def test_official_evaluation_indices() -> None:
    assert official_eval_indices(6460, 100)[:3] == [60, 124, 188]
    assert len(official_eval_indices(6460, 100)) == 100
    assert official_eval_indices(100, 100) == []
