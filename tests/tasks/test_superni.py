"""Loading and validating real and malformed SuperNI task files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from instructkit.errors import TaskFormatError
from instructkit.tasks import TaskCollection, load_collection, load_task, write_task


def test_every_real_task_file_loads(superni_root: Path) -> None:
    files = sorted((superni_root / "tasks").glob("*.json"))
    assert len(files) >= 100
    for f in files:
        task = load_task(f)
        raw = json.loads(f.read_text())
        assert task.name == f.stem
        assert task.definition == raw["Definition"][0]
        assert len(task.instances) == len(raw["Instances"])
        assert [i.id for i in task.instances] == [i["id"] for i in raw["Instances"]]
        assert task.instances[0].outputs == raw["Instances"][0]["output"]
        assert len(task.positive_examples) == len(raw["Positive Examples"])
        assert task.categories == raw["Categories"]


def test_fields_of_a_known_task(superni_root: Path) -> None:
    t = load_task(superni_root / "tasks" / "task020_mctaco_span_based_question.json")
    assert t.category == "Answerability Classification"
    assert t.source == ["mctaco"]
    assert t.reasoning == ["Temporal Reasoning", "Commonsense Reasoning"]
    assert t.input_language == ["English"]
    assert t.positive_examples[0].output == "Yes."
    assert t.positive_examples[0].explanation
    assert t.instances[0].id.startswith("task020-")
    assert t.task_id == "task020"


def test_official_test_split_with_max_instances(superni_root: Path) -> None:
    coll = TaskCollection.superni(superni_root, split="test", max_instances=100)
    listed = (superni_root / "splits/default/test_tasks.txt").read_text().split()
    assert len(listed) == 119
    assert len(coll) + len(coll.missing) == 119
    assert set(coll.names) <= set(listed)
    first = coll[coll.names[0]]
    assert 0 < len(first.instances) <= 100
    short = TaskCollection.superni(superni_root, split="test", max_instances=3)
    assert len(short[short.names[0]].instances) == 3


def test_collection_is_lazy(superni_root: Path) -> None:
    coll = load_collection(superni_root)
    assert not coll._cache
    _ = coll[coll.names[0]]
    assert len(coll._cache) == 1


def test_round_trip_through_writer(superni_root: Path, tmp_path: Path) -> None:
    t = load_task(superni_root / "tasks" / "task020_mctaco_span_based_question.json")
    write_task(t, tmp_path / f"{t.name}.json")
    assert load_task(tmp_path / f"{t.name}.json") == t


GOOD = {
    "Contributors": ["x"],
    "Source": ["s"],
    "URL": ["u"],
    "Categories": ["c"],
    "Reasoning": [],
    "Definition": ["Do it."],
    "Input_language": ["English"],
    "Output_language": ["English"],
    "Instruction_language": ["English"],
    "Domains": ["d"],
    "Positive Examples": [{"input": "a", "output": "b", "explanation": "e"}],
    "Negative Examples": [],
    "Instances": [
        {"id": "t-1", "input": "a", "output": ["b"]},
        {"id": "t-2", "input": "c", "output": ["d"]},
    ],
}


def _write(tmp_path: Path, obj: object, name: str = "task1_bad.json") -> Path:
    p = tmp_path / name
    p.write_text(obj if isinstance(obj, str) else json.dumps(obj))
    return p


def test_good_file_passes(tmp_path: Path) -> None:
    assert len(load_task(_write(tmp_path, GOOD)).instances) == 2


@pytest.mark.parametrize(
    ("mutate", "field", "problem"),
    [
        (lambda d: d.pop("Definition"), "Definition", "missing"),
        (
            lambda d: d.__setitem__("Categories", "c"),
            "Categories",
            "expected a list of strings, got string",
        ),
        (lambda d: d.__setitem__("Domains", ["a", 3]), "Domains[1]", "expected a string, got int"),
        (lambda d: d.__setitem__("Instances", []), "Instances", "is empty"),
        (
            lambda d: d["Instances"][1].__setitem__("id", "t-1"),
            "Instances[1].id",
            "duplicate id 't-1'",
        ),
        (
            lambda d: d["Instances"][0].__setitem__("output", 5),
            "Instances[0].output",
            "expected a list",
        ),
        (lambda d: d["Instances"][0].__setitem__("output", []), "Instances[0].output", "is empty"),
        (lambda d: d["Instances"][1].pop("input"), "Instances[1].input", "missing"),
        (
            lambda d: d["Positive Examples"][0].__setitem__("output", None),
            "Positive Examples[0].output",
            "expected a string",
        ),
    ],
)
def test_each_malformation_names_file_and_field(
    tmp_path: Path, mutate, field: str, problem: str
) -> None:  # type: ignore[no-untyped-def]
    data = json.loads(json.dumps(GOOD))
    mutate(data)
    path = _write(tmp_path, data)
    with pytest.raises(TaskFormatError) as info:
        load_task(path)
    msg = str(info.value)
    assert str(path) in msg and f"'{field}'" in msg and problem in msg
    assert "\n" not in msg


def test_bad_json_names_line_and_column(tmp_path: Path) -> None:
    path = _write(tmp_path, '{"Definition": ["x"],\n  "Source": [}')
    with pytest.raises(TaskFormatError, match=r"invalid JSON at line 2 column"):
        load_task(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(TaskFormatError, match="file not found"):
        load_task(tmp_path / "nope.json")


def test_atomic_writes_follow_the_umask(tmp_path: Path) -> None:
    import os

    from instructkit.tasks.superni import write_json_atomic

    old = os.umask(0o022)
    try:
        write_json_atomic(tmp_path / "x.json", {"a": 1})
    finally:
        os.umask(old)
    assert (tmp_path / "x.json").stat().st_mode & 0o777 == 0o644
