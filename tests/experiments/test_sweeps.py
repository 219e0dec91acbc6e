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
from instructkit.experiments.store import ResultsStore, config_hash
from instructkit.experiments.sweep_report import write_sweep_report
from instructkit.experiments.sweeps import load_sweep, run_sweep

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
            ("after tuning", "*", "t", "rougeL", 12.5),
            ("after tuning", "task1", "t", "rougeL", 10.0),
        ],
        started="2026-01-01T00:00:00+00:00",
        seconds=1.0,
    )
    assert store.is_done("e", "c", h) and not store.is_done("e", "c", config_hash({"a": 2}))
    assert [r.value for r in store.results(experiment="e", task="*")] == [12.5]
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
        "held_out",
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


@pytest.mark.parametrize(
    "name",
    [
        "loco",
        "encoding_matrix",
        "natinst_fields",
        "fewshot",
        "templates",
        "scaling_tasks",
        "scaling_instances",
    ],
)
def test_builtin_sweep_configs_load(name: str) -> None:
    cfg = load_sweep(f"builtin:{name}")
    assert cfg.base.model.name == "default"
    keys = [
        k for k, _ in __import__("instructkit.experiments.sweeps", fromlist=["cells"]).cells(cfg)
    ]
    assert len(keys) >= 2 and len(set(keys)) == len(keys)


def test_builtin_sweep_cli_tiny(tmp_path: Path) -> None:
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "instructkit.cli",
            "sweep",
            "builtin:fewshot",
            "--model",
            "tiny",
            "--store",
            str(tmp_path / "r.sqlite"),
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert r.returncode == 0, r.stderr
    assert "| flan:zeroshot |" in r.stdout and "![plot](plot.png)" in r.stdout
    assert (tmp_path / "fewshot-small-tiny" / "plot.svg").exists()
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "instructkit.cli",
            "results",
            "--store",
            str(tmp_path / "r.sqlite"),
            "--metric",
            "rougeL",
            "--system",
            "after tuning",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert r.returncode == 0 and "prompt=flan:fewshot" in r.stdout


def test_templates_sweep_reports_median_and_iqr(tmp_path: Path) -> None:
    from instructkit.evaluation.stats import median_iqr

    body = (
        "kind: templates\nname: t\nvalues: [1, 3]\neval_templates: ['flan:1', 'flan:2', 'flan:3']\n"
    )
    cfg = load_sweep(_sweep(tmp_path, body))
    assert run_sweep(cfg, show_progress=False) == 2
    out = write_sweep_report(cfg.store, "t")
    rows = list(csv.reader((out / "results.csv").open()))
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
                metric="rougeL",
            )
        ]
        assert len(vals) == 3
        assert (
            row[1] == f"{median_iqr(vals).median:.1f}" and row[4] == f"{median_iqr(vals).iqr:.1f}"
        )
    store.close()
    assert (out / "plot.png").stat().st_size > 0
