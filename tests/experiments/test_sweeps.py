"""Sweeps at tiny scale: every kind runs, reports match the store, resume skips finished
cells (also after SIGKILL midway)."""

from __future__ import annotations

import csv
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from instructkit.errors import ConfigError
from instructkit.evaluation.results import Score
from instructkit.experiments.store import ResultsStore, config_hash
from instructkit.experiments.sweep_report import write_sweep_report
from instructkit.experiments.sweeps import BUILTIN_SWEEPS, cells, load_sweep, run_sweep
from instructkit.models import load_model
from tests.cli_runner import run_cli

BASE = """
base:
  tasks: {{n_instances: 24, eval_instances_per_task: 3, train_instances_per_task: 6, held_out_clusters: [ciphers]}}
  model: {{name: {model}}}
  train: {{steps: 3, learning_rate: 0.001, mixed_precision: "no", save_every: 0}}
  eval: {{max_new_tokens: 3}}
"""


def _sweep(tmp_path: Path, body: str, model: str = "tiny") -> Path:
    p = tmp_path / "sweep.yaml"
    p.write_text(f"store: {tmp_path / 'results.sqlite'}\n" + body + BASE.format(model=model))
    return p


def test_store_roundtrip(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path / "r.sqlite")
    h = config_hash({"a": 1})
    assert not store.is_done("e", "c", h)
    store.record_cell(
        "e",
        "c",
        h,
        "tiny",
        [
            Score("after tuning", "rougeL", 12.5, template="t"),
            Score("after tuning", "rougeL", 10.0, task="task1", category="c1", template="t"),
            Score("after tuning", "rougeL", 10.0, category="c1", template="t"),
        ],
        kind="loco",
        started="2026-01-01T00:00:00+00:00",
        seconds=1.0,
    )
    assert store.is_done("e", "c", h) and not store.is_done("e", "c", config_hash({"a": 2}))
    assert [r.value for r in store.results(experiment="e", task="*", category="*")] == [12.5]
    assert [r.category for r in store.results(experiment="e", task="task1")] == ["c1"]
    assert store.kind("e") == "loco"
    assert {r.kind for r in store.results(experiment="e")} == {"loco"}
    with pytest.raises(ValueError, match="unknown filter"):
        store.results(colour="red")
    store.close()


def test_loco_sweep_report_matches_store_and_resumes(tmp_path: Path) -> None:
    cfg = load_sweep(_sweep(tmp_path, "kind: loco\nname: loco\nclusters: [ciphers, counting]\n"))
    assert run_sweep(cfg, show_progress=False) == 2
    assert run_sweep(cfg, show_progress=False) == 0  # nothing recomputed
    out = write_sweep_report(cfg.store, "loco")
    rows = list(csv.reader((out / "results.csv").open()))
    assert rows[0] == [
        "held-out cluster",
        "copy input",
        "copy demo",
        "majority class",
        "before tuning",
        "after tuning",
    ]
    store = ResultsStore(cfg.store)
    for row in rows[1:]:
        for system, shown in zip(rows[0][1:], row[1:], strict=True):
            stored = store.results(
                experiment="loco",
                cell=f"held_out={row[0]}",
                system=system,
                task="*",
                category="*",
                metric="rougeL",
            )
            assert len(stored) == 1 and f"{stored[0].value:.1f}" == shown
    store.close()
    assert (out / "plot.png").stat().st_size > 0 and (out / "plot.svg").exists()
    assert "| ciphers |" in (out / "report.md").read_text()


def test_encoding_matrix_and_scaling(tmp_path: Path) -> None:
    matrix = load_sweep(
        _sweep(
            tmp_path,
            "kind: encoding-matrix\nname: m\n"
            "train_encodings: [Def, Pos(1)]\ntest_encodings: [Def, Pos(1)]\n",
        )
    )
    run_sweep(matrix, show_progress=False)
    rows = list(csv.reader((write_sweep_report(matrix.store, "m") / "results.csv").open()))
    assert rows[0] == ["train \\ test", "Def", "Pos(1)"] and [r[0] for r in rows[1:]] == [
        "Def",
        "Pos(1)",
    ]
    scaling = load_sweep(_sweep(tmp_path, "kind: scaling-tasks\nname: s\nvalues: [2, 6]\n"))
    run_sweep(scaling, show_progress=False)
    rows = list(csv.reader((write_sweep_report(scaling.store, "s") / "results.csv").open()))
    assert [r[0] for r in rows[1:]] == ["2", "6"]


def test_bad_sweep_config(tmp_path: Path) -> None:
    p = tmp_path / "bad.yaml"
    p.write_text("kind: everything\nname: x\n")
    with pytest.raises(ConfigError, match=r"bad.yaml: field 'kind'"):
        load_sweep(p)


def test_sigkill_midway_then_resume(tmp_path: Path) -> None:
    path = _sweep(tmp_path, "kind: loco\nname: k\nclusters: [ciphers, counting, ordering]\n")
    db = tmp_path / "results.sqlite"
    proc = subprocess.Popen(
        [sys.executable, "-m", "instructkit.cli", "sweep", str(path), "--quiet"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ},
    )
    deadline = time.time() + 240
    done: list[tuple[str, str]] = []
    while time.time() < deadline and not done:
        time.sleep(0.05)
        if db.exists():
            try:
                done = sqlite3.connect(db).execute("SELECT cell, finished FROM cells").fetchall()
            except sqlite3.OperationalError:
                done = []
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert 1 <= len(done) < 3
    first = dict(done)
    time.sleep(1.1)  # a recomputed cell would get a later timestamp
    ran = run_sweep(load_sweep(path), show_progress=False)
    after = dict(sqlite3.connect(db).execute("SELECT cell, finished FROM cells").fetchall())
    assert len(after) == 3 and ran == 3 - len(first)
    for cell, finished in first.items():
        assert after[cell] == finished


def test_prompts_sweep_natinst_fields_and_fewshot(tmp_path: Path) -> None:
    body = (
        "kind: prompts\nname: p\nprompts: ['natinst:prompt', 'natinst:full instruction', "
        "'flan:zeroshot', 'flan:fewshot']\n"
    )
    cfg = load_sweep(_sweep(tmp_path, body))
    assert run_sweep(cfg, show_progress=False) == 4
    rows = list(csv.reader((write_sweep_report(cfg.store, "p") / "results.csv").open()))
    assert rows[0][0] == "prompt"
    assert [r[0] for r in rows[1:]] == [
        "natinst:prompt",
        "natinst:full instruction",
        "flan:zeroshot",
        "flan:fewshot",
    ]
    src = (tmp_path / "p" / "prompt=flan-fewshot" / "predictions_after.jsonl").read_text()
    assert src  # the run evaluated with the few-shot template
    p = tmp_path / "bad.yaml"
    p.write_text("kind: prompts\nname: q\nprompts: ['natinst:everything']\n")
    with pytest.raises(ConfigError, match="field 'prompts'"):
        load_sweep(p)


@pytest.mark.parametrize("name", BUILTIN_SWEEPS)
def test_builtin_sweep_configs_load(name: str) -> None:
    from tests.conftest import SHARED_DATA

    if name == "flan_loco" and not (SHARED_DATA / "t0-eval").is_dir():
        pytest.skip(f"the T0 evaluation data it names is not at {SHARED_DATA}")
    cfg = load_sweep(f"builtin:{name}")
    assert cfg.base.model.name == "default"
    keys = [k for k, _ in cells(cfg)]
    assert len(keys) >= 2 and len(set(keys)) == len(keys)


def test_builtin_sweep_cli_tiny(tmp_path: Path) -> None:
    store = str(tmp_path / "r.sqlite")
    r = run_cli("sweep", "builtin:fewshot", "--model", "tiny", "--store", store, "--quiet")
    assert r.returncode == 0, r.stderr
    assert "| flan:zeroshot |" in r.stdout and "![plot](plot.png)" in r.stdout
    assert (tmp_path / "fewshot-small-tiny" / "plot.svg").exists()
    r = run_cli("results", "--store", store, "--metric", "rougeL", "--system", "after tuning")
    assert r.returncode == 0 and "prompt=flan:fewshot" in r.stdout


def test_builtin_model_size_sweep_with_tiny_models(tmp_path: Path) -> None:
    store = str(tmp_path / "r.sqlite")
    r = run_cli("sweep", "builtin:scaling_models", "--model", "tiny", "--store", store, "--quiet")
    assert r.returncode == 0, r.stderr
    assert "| tiny | 0.09862 |" in r.stdout and "| tiny-t5 | 0.1894 |" in r.stdout
    # Another model cannot stand in for the sweep's list: one line, naming the field.
    r = run_cli("sweep", "builtin:scaling_models", "--model", "gpt2", "--store", store)
    assert (
        r.returncode == 1
        and "field 'models'" in r.stderr
        and len(r.stderr.strip().splitlines()) == 1
    )


def test_templates_sweep_reports_median_and_iqr(tmp_path: Path) -> None:
    from instructkit.evaluation.stats import median_iqr

    body = (
        "kind: templates\nname: t\nvalues: [1, 3]\neval_templates: ['flan:1', 'flan:2', 'flan:3']\n"
    )
    cfg = load_sweep(_sweep(tmp_path, body))
    assert run_sweep(cfg, show_progress=False) == 2
    out = write_sweep_report(cfg.store, "t")
    rows = list(csv.reader((out / "results.csv").open()))
    assert rows[0][6:10] == ["copy input", "copy demo", "majority class", "before tuning"]
    assert rows[0][:3] == ["templates per task", "median", "Q1"] and [r[0] for r in rows[1:]] == [
        "1",
        "3",
    ]
    store = ResultsStore(cfg.store)
    for row in rows[1:]:
        vals = [
            r.value
            for r in store.results(
                experiment="t",
                cell=f"templates={row[0]}",
                system="after tuning",
                task="*",
                category="*",
                metric="rougeL",
            )
        ]
        assert len(vals) == 3
        assert (
            row[1] == f"{median_iqr(vals).median:.1f}" and row[4] == f"{median_iqr(vals).iqr:.1f}"
        )
    store.close()
    assert (out / "plot.png").stat().st_size > 0


def test_t0_sweep_reports_rank_classification_accuracy(tmp_path: Path) -> None:
    import json

    from instructkit.errors import InstructkitError
    from instructkit.evaluation.stats import median_iqr

    p = tmp_path / "sweep.yaml"
    p.write_text(
        f"store: {tmp_path / 'results.sqlite'}\n"
        "kind: templates\nname: t0\nvalues: [1, 2]\neval_templates: ['flan:1', 'flan:2']\n"
        "base:\n"
        "  tasks: {n_instances: 24, eval_instances_per_task: 4, train_instances_per_task: 6,"
        " held_out_clusters: [rule_classification]}\n"
        "  model: {name: tiny}\n"
        "  train: {steps: 3, learning_rate: 0.001, mixed_precision: 'no', save_every: 0}\n"
        "  eval: {max_new_tokens: 3, rank_classification: true}\n"
    )
    cfg = load_sweep(p)
    assert run_sweep(cfg, show_progress=False) == 2
    store = ResultsStore(cfg.store)
    acc = store.results(experiment="t0", metric="accuracy", task="*", category="*")
    # The tuned model under both evaluation templates, the untuned one and chance under the
    # first; the text baselines have no option scores.
    assert {(r.cell, r.system, r.template) for r in acc} == {
        (c, s, t)
        for c in ("templates=1", "templates=2")
        for s, t in (
            ("chance", "flan:1"),
            ("before tuning", "flan:1"),
            ("after tuning", "flan:1"),
            ("after tuning", "flan:2"),
        )
    }
    # A stored accuracy is the share of instances whose best-scored option is a reference.
    scores = tmp_path / "t0" / "templates=1" / "rank_test=flan:2.jsonl"  # beside the store
    lines = [json.loads(x) for x in scores.read_text().splitlines()]
    assert len(lines) == 4 * 4  # the held-out tasks with options (not the turned-around one)
    expected = 100 * sum(x["prediction"] in x["targets"] for x in lines) / len(lines)
    stored = {(r.cell, r.system, r.template): r.value for r in acc}
    assert stored[("templates=1", "after tuning", "flan:2")] == pytest.approx(expected)
    store.close()

    out = write_sweep_report(cfg.store, "t0")  # accuracy by default for a T0 sweep
    assert (out / "report.md").read_text().splitlines()[2].startswith("Accuracy by rank")
    rows = list(csv.reader((out / "results.csv").open()))
    assert rows[0][5:8] == ["eval templates", "chance", "before tuning"]
    chance = [100 * len(set(x["targets"]) & set(x["options"])) / len(x["options"]) for x in lines]
    assert float(rows[1][6]) == pytest.approx(sum(chance) / len(chance), abs=0.05)
    for row in rows[1:]:
        vals = [
            v
            for (c, s, _), v in stored.items()
            if c == f"templates={row[0]}" and s == "after tuning"
        ]
        assert row[1] == f"{median_iqr(vals).median:.1f}"
    rouge = write_sweep_report(cfg.store, "t0", tmp_path / "rouge", metric="rougeL")
    assert (rouge / "report.md").read_text().splitlines()[2].startswith("ROUGE-L")
    with pytest.raises(InstructkitError, match="metric 'bleu'"):
        write_sweep_report(cfg.store, "t0", metric="bleu")


def _train_tasks(run_dir: Path) -> list[str]:
    import json

    return json.loads((run_dir / "split.json").read_text())["train"]


def test_clusters_sweep_adds_whole_clusters_in_order(tmp_path: Path) -> None:
    from instructkit.tasks.builtin import builtin_tasks

    body = "kind: clusters\nname: c\nvalues: [1, 2]\nclusters: [counting, ordering]\n"
    cfg = load_sweep(_sweep(tmp_path, body))
    assert run_sweep(cfg, show_progress=False) == 2
    tasks = builtin_tasks(n_instances=24)
    runs = tmp_path / "c"
    one, two = _train_tasks(runs / "clusters=1"), _train_tasks(runs / "clusters=2")
    assert {tasks[t].cluster for t in one} == {"counting"}
    assert {tasks[t].cluster for t in two} == {"counting", "ordering"}
    rows = list(csv.reader((write_sweep_report(cfg.store, "c") / "results.csv").open()))
    assert rows[0][0] == "training clusters" and [r[0] for r in rows[1:]] == ["1", "2"]
    # The untuned model's predictions were generated once and shared by both cells.
    assert len(list((tmp_path / "untuned-predictions").glob("*.jsonl"))) == 1
    before = [
        (runs / c / "predictions_before.jsonl").read_text() for c in ("clusters=1", "clusters=2")
    ]
    assert before[0] == before[1] and before[0]


def test_datasets_sweep_takes_k_tasks_per_cluster_and_reports_per_task(tmp_path: Path) -> None:
    from collections import Counter

    from instructkit.evaluation.stats import median_iqr
    from instructkit.tasks.builtin import builtin_tasks

    body = (
        "kind: datasets\nname: d\nvalues: [1, 2]\neval_templates: ['flan:1', 'flan:2', 'flan:3']\n"
    )
    cfg = load_sweep(_sweep(tmp_path, body))
    assert run_sweep(cfg, show_progress=False) == 2
    tasks = builtin_tasks(n_instances=24)
    for k in (1, 2):
        per_cluster = Counter(
            tasks[t].cluster for t in _train_tasks(tmp_path / "d" / f"datasets={k}")
        )
        assert set(per_cluster.values()) == {k} and "ciphers" not in per_cluster
    out = write_sweep_report(cfg.store, "d")
    rows = list(csv.reader((out / "results.csv").open()))
    assert rows[0][6:10] == ["copy input", "copy demo", "majority class", "before tuning"]
    held_out = rows[0][10:]
    assert held_out and all(tasks[t].cluster == "ciphers" for t in held_out)
    store = ResultsStore(cfg.store)
    for row in rows[1:]:
        for task, cell_text in zip(held_out, row[10:], strict=True):
            vals = [
                r.value
                for r in store.results(
                    experiment="d",
                    cell=f"datasets={row[0]}",
                    system="after tuning",
                    task=task,
                    metric="rougeL",
                )
            ]
            sp = median_iqr(vals)
            assert len(vals) == 3 and cell_text == f"{sp.median:.1f} ({sp.iqr:.1f})"
    store.close()
    assert (out / "plot.svg").stat().st_size > 0


def test_prompt_tuning_sweep_starts_from_the_tuned_model(tmp_path: Path) -> None:
    import json

    body = (
        "kind: prompt-tuning\nname: pt\n"
        "prompt_tuning: {steps: 2, learning_rate: 0.03, warmup_steps: 0, save_every: 0, "
        "tuning: {method: prompt-tuning, num_virtual_tokens: 4}}\n"
    )
    cfg = load_sweep(_sweep(tmp_path, body))
    assert run_sweep(cfg, show_progress=False) == 3
    runs = tmp_path / "pt"
    tuned = yaml_load(runs / "prompt-tuned_instruction-tuned" / "config.yaml")
    assert tuned["model"]["name"] == str(runs / "instruction-tuned" / "model")
    assert tuned["train"]["tuning"]["method"] == "prompt-tuning"
    assert (runs / "prompt-tuned_untuned" / "model" / "adapter_config.json").exists()
    # The soft prompt is trained on the held-out tasks, never on their evaluation instances.
    split = json.loads((runs / "prompt-tuned_untuned" / "split.json").read_text())
    assert split["eval"] and all(t.startswith("ik") for t in split["eval"])
    out = write_sweep_report(cfg.store, "pt")
    rows = list(csv.reader((out / "results.csv").open()))
    assert rows[0] == [
        "start",
        "copy input",
        "copy demo",
        "majority class",
        "zero-shot",
        "prompt-tuned",
    ]
    assert [r[0] for r in rows[1:]] == ["untuned", "instruction-tuned"]
    store = ResultsStore(cfg.store)
    zero_shot = store.results(
        experiment="pt",
        cell="stage=instruction tuning",
        system="after tuning",
        task="*",
        category="*",
        metric="rougeL",
    )
    tuned_start = store.results(
        experiment="pt",
        cell="start=instruction-tuned",
        system="before tuning",
        task="*",
        category="*",
        metric="rougeL",
    )
    # The tuned starting point evaluated zero-shot is the instruction-tuning stage's result.
    assert zero_shot[0].value == tuned_start[0].value and rows[2][4] == f"{zero_shot[0].value:.1f}"
    store.close()


def test_adaptation_mixture_skips_the_evaluation_instances() -> None:
    from instructkit.experiments.config import ExperimentConfig
    from instructkit.experiments.single import load_tasks, make_mixture, make_split

    cfg = ExperimentConfig.model_validate(
        {
            "tasks": {
                "n_instances": 30,
                "eval_instances_per_task": 5,
                "train_instances_per_task": 10,
                "adapt_on_eval_tasks": True,
            }
        }
    )
    tasks = load_tasks(cfg)
    split = make_split(cfg, tasks)
    examples = make_mixture(cfg, tasks, split).examples
    assert {e.task for e in examples} == set(split.eval)
    for name in split.eval:
        evaluated = {i.id for i in tasks[name].instances[:5]}
        following = {i.id for i in tasks[name].instances[5:15]}
        trained = {e.instance_id for e in examples if e.task == name}
        # The stream samples each task's pool at its rate: a subset of the ten that follow.
        assert trained and trained <= following and not trained & evaluated


def test_category_table_matches_store(tmp_path: Path) -> None:
    from instructkit.experiments.sweep_report import category_table

    body = "kind: prompts\nname: n\nprompts: ['natinst:prompt', 'natinst:full instruction']\n"
    path = _sweep(tmp_path, body)
    text = path.read_text().replace("held_out_clusters: [ciphers]", "held_out_clusters: []")
    path.write_text(text + "  split: {protocol: natinst-random, per_category: 1}\n")
    cfg = load_sweep(path)
    run_sweep(cfg, show_progress=False)
    store = ResultsStore(cfg.store)
    table = category_table(store, "n")
    assert table is not None
    header, body_rows = table
    assert len(header) > 4 and header[-1] == "all"
    for row in body_rows:
        for cat, cell_text in zip(header[1:-1], row[1:-1], strict=True):
            (r,) = store.results(
                experiment="n",
                cell=f"prompt={row[0]}",
                system="after tuning",
                task="*",
                category=cat,
                metric="rougeL",
            )
            assert cell_text == f"{r.value:.1f}"
    store.close()
    out = write_sweep_report(cfg.store, "n")
    assert (out / "categories.png").exists() and "## Per category" in (
        out / "report.md"
    ).read_text()


def yaml_load(path: Path) -> dict:
    import yaml

    return yaml.safe_load(path.read_text())


def test_scaling_models_sweep_one_cell_per_model_and_family(tmp_path: Path) -> None:
    # Listed largest first: the report orders models by their number of parameters.
    cfg = load_sweep(_sweep(tmp_path, "kind: scaling-models\nname: sm\nmodels: [tiny-t5, tiny]\n"))
    assert run_sweep(cfg, show_progress=False) == 2
    out = write_sweep_report(cfg.store, "sm")
    rows = list(csv.reader((out / "results.csv").open()))
    assert rows[0][:2] == ["model", "parameters (M)"]
    assert [r[0] for r in rows[1:]] == ["tiny", "tiny-t5"]
    sizes = [load_model(m).model.num_parameters() / 1e6 for m in ("tiny", "tiny-t5")]
    assert [float(r[1]) for r in rows[1:]] == pytest.approx(sizes, rel=1e-3)
    store = ResultsStore(cfg.store)
    models = {c: m for _, c, m, _, _ in store.cells("sm")}
    assert models == {"model=tiny": "tiny", "model=tiny-t5": "tiny-t5"}
    store.close()
    assert (out / "plot.png").stat().st_size > 0


def test_two_processes_share_a_sweep(tmp_path: Path) -> None:
    path = _sweep(tmp_path, "kind: loco\nname: shared\nclusters: [ciphers, counting, ordering]\n")
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "instructkit.cli", "sweep", str(path), "--quiet"],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=600) for p in procs]
    assert all(p.returncode == 0 for p in procs), [e for _, e in outs]
    db = sqlite3.connect(tmp_path / "results.sqlite")
    cells_done = db.execute("SELECT cell FROM cells WHERE experiment='shared'").fetchall()
    # Every cell was run exactly once, by one of the two processes.
    assert sorted(c for (c,) in cells_done) == [
        "held_out=ciphers",
        "held_out=counting",
        "held_out=ordering",
    ]
    import re

    ran = sum(
        int(re.search(r"(\d+) cell\(s\) run in", " ".join(o.split())).group(1)) for o, _ in outs
    )  # type: ignore[union-attr]
    assert ran == 3


def test_sweep_values_are_checked(tmp_path: Path) -> None:
    p = _sweep(tmp_path, "kind: scaling-tasks\nname: s\nvalues: [2, -1]\n")
    with pytest.raises(ConfigError, match="positive counts"):
        list(cells(load_sweep(p)))
    p = _sweep(tmp_path, "kind: templates\nname: t\nvalues: [1, 100]\n")
    with pytest.raises(ConfigError, match="100 templates per task asked for, 7 available"):
        list(cells(load_sweep(p)))


def test_a_cell_holds_its_latest_numbers_only(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A cell computed again under another config (or other evaluation rules) replaces
    its old numbers: a report never mixes the two."""
    from instructkit.evaluation import results as results_module
    from instructkit.evaluation.results import Score
    from instructkit.experiments.store import ResultsStore, config_hash

    store = ResultsStore(tmp_path / "r.sqlite")
    for chash, value in (("old", 10.0), ("new", 20.0)):
        store.record_cell("e", "c", chash, "m", [Score("after tuning", "rougeL", value)],
                          kind="loco", started="", seconds=1.0)  # fmt: skip
    rows = store.results(experiment="e")
    assert [r.value for r in rows] == [20.0]
    assert store.is_done("e", "c", "new") and not store.is_done("e", "c", "old")
    store.close()
    before = config_hash({"a": 1})
    monkeypatch.setitem(results_module.EVALUATION_RULES, "stopping", "another rule")
    assert config_hash({"a": 1}) != before
