"""Every split protocol, on real SuperNI metadata and on the built-in suite."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from instructkit.errors import ConfigError
from instructkit.mixtures.split import (
    TaskInfo,
    dataset_from_name,
    held_out_task_types,
    leave_one_category,
    leave_one_cluster_out,
    leave_one_dataset,
    leave_one_task,
    natinst_random,
    split_from_yaml,
    superni_infos,
    superni_official,
    task_infos,
)
from instructkit.tasks.builtin import builtin_tasks


def _check(split, names) -> None:  # type: ignore[no-untyped-def]
    assert not set(split.train) & set(split.eval)
    assert not set(split.train) & set(split.excluded)
    assert set(split.placements) == set(split.train) | set(split.eval) | set(split.excluded)
    assert set(split.placements) <= set(names)
    for t in split.placements:
        assert split.explain(t).startswith(f"{t}: ")


@pytest.fixture(scope="module")
def infos(superni_root: Path) -> list[TaskInfo]:
    return superni_infos(superni_root)


def test_superni_official_matches_split_files(superni_root: Path, infos: list[TaskInfo]) -> None:
    split = superni_official(superni_root)
    files = {
        k: (superni_root / f"splits/default/{k}_tasks.txt").read_text().split()
        for k in ("train", "test", "excluded")
    }
    assert split.train == files["train"] and split.eval == files["test"]
    assert split.excluded == files["excluded"]
    assert "listed in splits/default/excluded_tasks.txt" in split.explain(files["excluded"][0])
    x = superni_official(superni_root, track="xlingual")
    assert len(x.eval) == 35 and len(x.excluded) == 308
    assert len(x.train) == len(infos) - 35 - 308
    _check(x, [i.name for i in infos])


def test_natinst_random_two_per_category(infos: list[TaskInfo]) -> None:
    split = natinst_random(infos, seed=1)
    per_cat = Counter(next(i.category for i in infos if i.name == t) for t in split.eval)
    cats = Counter(i.category for i in infos if i.category)
    assert per_cat == Counter({c: 2 for c, n in cats.items() if n > 2})
    assert split.eval == natinst_random(infos, seed=1).eval
    assert split.eval != natinst_random(infos, seed=2).eval
    _check(split, [i.name for i in infos])
    # The leakage rule: no training task shares a source dataset (read from its task file)
    # with an evaluation task.
    known = [i for i in infos if i.source_known]
    eval_sources = {s for i in known if i.name in split.eval for s in i.source}
    assert not any(set(i.source) & eval_sources for i in known if i.name in split.train)
    assert split.excluded and all(
        "shares source dataset" in split.explain(t) for t in split.excluded
    )


def test_leave_one_category_dataset_task(infos: list[TaskInfo]) -> None:
    names = [i.name for i in infos]
    cat = leave_one_category(infos, "Title Generation")
    assert cat.eval and all(
        next(i for i in infos if i.name == t).category == "Title Generation" for t in cat.eval
    )
    _check(cat, names)
    ds = leave_one_dataset(infos, "winogrande")
    assert ds.eval and all(dataset_from_name(t) == "winogrande" for t in ds.eval)
    _check(ds, names)
    one = leave_one_task(infos, "task020_mctaco_span_based_question")
    assert one.eval == ["task020_mctaco_span_based_question"]
    # Its source is only guessed from its name (no task file): the leakage rule ignores it.
    assert not any("mctaco" in one.explain(t) for t in one.excluded)
    _check(one, names)
    known = [TaskInfo(i.name, i.categories, i.source, i.cluster) for i in infos]
    one = leave_one_task(known, "task020_mctaco_span_based_question")
    assert any("mctaco" in one.explain(t) for t in one.excluded)  # same-dataset tasks excluded


def test_flan_and_t0_protocols_on_builtin() -> None:
    tasks = builtin_tasks(n_instances=3)
    infos = task_infos(tasks)
    loco = leave_one_cluster_out(tasks, ["ciphers"], also_hold_out=["string_manipulation"])
    assert {i.cluster for i in infos if i.name in loco.eval} == {"ciphers"}
    assert {i.cluster for i in infos if i.name in loco.excluded} == {"string_manipulation"}
    _check(loco, tasks.names)
    t0 = held_out_task_types(tasks, ["Sentiment Analysis", "Sorting"])
    assert {i.category for i in infos if i.name in t0.eval} == {"Sentiment Analysis", "Sorting"}
    assert all(
        i.category not in ("Sentiment Analysis", "Sorting") for i in infos if i.name in t0.train
    )
    _check(t0, tasks.names)


def test_custom_yaml(tmp_path: Path) -> None:
    tasks = builtin_tasks(n_instances=3)
    p = tmp_path / "split.yaml"
    p.write_text(
        "train: [ik001_add_two_numbers, ik002_subtract_two_numbers]\neval: [ik002_subtract_two_numbers, ik038_caesar_encode]\n"
    )
    split = split_from_yaml(p, tasks, leakage_rule=False)
    assert split.eval == ["ik002_subtract_two_numbers", "ik038_caesar_encode"]
    assert split.train == ["ik001_add_two_numbers"]  # an evaluation task is never trained on
    p.write_text("train: ik001\n")
    with pytest.raises(ConfigError, match=r"split.yaml: field 'train'"):
        split_from_yaml(p, tasks)


def test_official_split_with_the_leakage_rule_keeps_every_training_task() -> None:
    from tests.conftest import SHARED_DATA

    root = SHARED_DATA / "superni"
    if not (root / "splits").is_dir():
        pytest.skip(f"SuperNI reference data not found at {root}")
    # Sources guessed from task names ("msr", "web", ...) would exclude official training
    # tasks by false matches; only the task files' "Source" fields count.
    split = superni_official(root, leakage_rule=True)
    assert (len(split.train), len(split.eval), len(split.excluded)) == (756, 119, 738)


def test_partial_checkout_loads_with_a_warning(tmp_path: Path) -> None:
    from tests.cli_runner import run_cli
    from tests.conftest import SHARED_DATA

    root = SHARED_DATA / "superni"
    if not (root / "tasks").is_dir():
        pytest.skip(f"SuperNI reference data not found at {root}")
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"tasks:\n  source: {root}\n")
    r = run_cli("split", "show", str(cfg), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr and "are not in the task folder" in r.stderr
