"""The built-in suite: size, determinism, and exact correctness of every output."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from instructkit.tasks import TaskCollection
from instructkit.tasks.builtin import CLUSTERS, SPECS, build_task, builtin_tasks, export_builtin
from instructkit.tasks.builtin.spec import TaskSpec


def test_suite_size_and_clusters() -> None:
    assert len(SPECS) >= 40
    assert len(CLUSTERS) >= 8
    per_cluster = Counter(s.cluster for s in SPECS)
    assert min(per_cluster.values()) >= 3
    assert len({s.name for s in SPECS}) == len(SPECS)
    assert len({s.definition for s in SPECS}) == len(SPECS)
    turned = [s for s in SPECS if s.turns_around]
    assert len(turned) >= 5
    names = {s.name for s in SPECS}
    assert all(s.turns_around in names for s in turned)


def _safe_check(spec: TaskSpec, inp: str, out: str) -> bool:
    try:
        return spec.check(inp, out)
    except (ValueError, IndexError, AssertionError):
        return False


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_every_output_is_correct(spec: TaskSpec) -> None:
    task = build_task(spec, n_instances=150, seed=7)
    assert len(task.instances) == 150
    assert len({i.input for i in task.instances}) == 150
    assert len(task.positive_examples) >= 2 and len(task.negative_examples) >= 1
    example_inputs = {e.input for e in task.positive_examples}
    for inst in task.instances:
        assert inst.input not in example_inputs
        assert inst.outputs
        for out in inst.outputs:
            assert _safe_check(spec, inst.input, out), (inst.input, out)
    for e in task.positive_examples:
        assert e.explanation and _safe_check(spec, e.input, e.output)
    for e in task.negative_examples:
        assert e.explanation and e.suggestion
        assert not _safe_check(spec, e.input, e.output), (e.input, e.output)
    if spec.answer_choices:
        assert all(o in spec.answer_choices for i in task.instances for o in i.outputs)


@pytest.mark.parametrize("spec", SPECS[::7], ids=lambda s: s.name)
def test_checkers_reject_wrong_outputs(spec: TaskSpec) -> None:
    # The checkers are not vacuous: another instance's answer is usually wrong here.
    task = build_task(spec, n_instances=40)
    rejected = sum(
        not _safe_check(spec, a.input, b.outputs[0])
        for a, b in zip(task.instances, task.instances[1:], strict=False)
        if b.outputs[0] not in a.outputs
    )
    assert rejected >= 10


def test_determinism() -> None:
    a = [t.model_dump() for t in builtin_tasks(n_instances=20, seed=3)]
    b = [t.model_dump() for t in builtin_tasks(n_instances=20, seed=3)]
    c = [t.model_dump() for t in builtin_tasks(n_instances=20, seed=4)]
    assert a == b
    assert a != c


def test_export_is_a_superni_folder(tmp_path: Path) -> None:
    out = export_builtin(tmp_path / "suite", n_instances=5, test_clusters=["ciphers"])
    train = TaskCollection.superni(out, split="train")
    test = TaskCollection.superni(out, split="test")
    assert len(train) + len(test) == len(SPECS)
    assert all(t.cluster == "ciphers" for t in test)
    raw = json.loads((out / "tasks" / f"{SPECS[0].name}.json").read_text())
    assert raw["Definition"] == [SPECS[0].definition]
    assert len(raw["Instances"]) == 5 and isinstance(raw["Instances"][0]["output"], list)
    assert test[test.names[0]] == build_task(
        next(s for s in SPECS if s.name == test.names[0]), n_instances=5
    )
