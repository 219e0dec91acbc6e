"""Natural Instructions v1 files and JSONL instance files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from instructkit.errors import TaskFormatError
from instructkit.tasks import load_task_file
from instructkit.tasks.jsonl import iter_jsonl_instances, load_jsonl_task

V1 = {
    "Title": "Writing questions that involve tracking entities",
    "Prompt": 'Ask a question on "event duration" based on the provided sentence.',
    "Definition": "In this task, you write questions about the passage.",
    "Things to Avoid": "Avoid questions that can be answered without the passage.",
    "Emphasis & Caution": "The answer should be one phrase of the passage.",
    "Examples": {
        "Positive Examples": [{"input": "p1", "output": "q1", "reason": "good because"}],
        "Negative Examples": [
            {"input": "p2", "output": "q2", "reason": "bad because", "suggestion": "do x"}
        ],
    },
    "Instances": [{"input": "i1", "output": ["o1", "o1b"]}, {"input": "i2", "output": ["o2"]}],
}


def test_natinst_v1_fields(tmp_path: Path) -> None:
    p = tmp_path / "subtask001_quoref_question_generation.json"
    p.write_text(json.dumps(V1))
    t = load_task_file(p)
    assert t.title == V1["Title"] and t.prompt == V1["Prompt"]
    assert t.things_to_avoid == V1["Things to Avoid"]
    assert t.emphasis_and_caution == V1["Emphasis & Caution"]
    assert t.positive_examples[0].explanation == "good because"
    assert t.negative_examples[0].suggestion == "do x"
    assert [i.id for i in t.instances] == [f"{p.stem}-0", f"{p.stem}-1"]
    assert t.instances[0].outputs == ["o1", "o1b"]


def test_natinst_v1_missing_title(tmp_path: Path) -> None:
    bad = {k: v for k, v in V1.items() if k != "Title"}
    p = tmp_path / "subtask002.json"
    p.write_text(json.dumps(bad))
    with pytest.raises(TaskFormatError, match="field 'Title'"):
        load_task_file(p)


def test_jsonl_plain_and_structured(tmp_path: Path) -> None:
    p = tmp_path / "mytask.jsonl"
    p.write_text('{"id": "a", "input": "x", "output": "y"}\n{"input": "z", "output": ["w"]}\n')
    t = load_jsonl_task(p, definition="Copy.")
    assert [i.id for i in t.instances] == ["a", "mytask-1"]
    assert t.instances[0].outputs == ["y"]


def test_jsonl_streams_lazily(tmp_path: Path) -> None:
    p = tmp_path / "big.jsonl"
    p.write_text('{"input": "x", "output": "y"}\n' + "not json\n")
    it = iter_jsonl_instances(p)
    assert next(it).input == "x"  # the broken second line is not read yet
    with pytest.raises(TaskFormatError, match=r"big.jsonl: field 'line 2'"):
        next(it)


def test_jsonl_real_t0_rows(t0_eval_root: Path) -> None:
    insts = list(iter_jsonl_instances(t0_eval_root / "super_glue_rte" / "validation.jsonl"))
    assert len(insts) == 277
    assert set(insts[0].fields) >= {"premise", "hypothesis", "label"}
    assert (
        len(
            list(
                iter_jsonl_instances(
                    t0_eval_root / "super_glue_rte" / "validation.jsonl", max_instances=5
                )
            )
        )
        == 5
    )


def test_hf_loader_on_local_rows(t0_eval_root: Path) -> None:
    from instructkit.tasks.hf import load_hf_task

    t = load_hf_task(
        "json",
        data_files=str(t0_eval_root / "super_glue_cb" / "validation.jsonl"),
        split="train",
        name="super_glue/cb",
        max_instances=10,
    )
    assert len(t.instances) == 10 and t.name == "super_glue/cb"
    assert set(t.instances[0].fields) >= {"premise", "hypothesis", "label"}


def test_hf_loader_error_is_one_line(tmp_path: Path) -> None:
    from instructkit.tasks.hf import load_hf_task

    with pytest.raises(TaskFormatError, match="cannot load dataset") as info:
        load_hf_task("json", data_files=str(tmp_path / "missing.jsonl"), split="train")
    assert "\n" not in str(info.value)
