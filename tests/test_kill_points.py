"""SIGKILL at every named point of ``run`` and ``sweep`` (training checkpoints, model
saving, prediction and option-score files, metrics, store writes), then the same command
again: the metrics, predictions, option scores, weights and stored numbers equal those of
a run that was never interrupted. The points are in ``instructkit._faults``."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors.torch import load_file

from instructkit._faults import POINTS

RUN = """
name: k
output_dir: {out}
tasks: {{n_instances: 12, train_instances_per_task: 4, eval_instances_per_task: 3}}
model: {{name: tiny}}
train: {{steps: 6, batch_size: 2, learning_rate: 0.01, warmup_steps: 1, mixed_precision: "no",
         save_every: 2}}
eval: {{max_new_tokens: 4, batch_size: 4, rank_classification: true}}
"""

SWEEP = """
kind: loco
name: s
store: {out}/results.sqlite
clusters: [rule_classification, arithmetic]
base:
  tasks: {{n_instances: 12, train_instances_per_task: 3, eval_instances_per_task: 2}}
  model: {{name: tiny}}
  train: {{steps: 3, batch_size: 2, learning_rate: 0.01, warmup_steps: 1,
           mixed_precision: "no", save_every: 1}}
  eval: {{max_new_tokens: 3, batch_size: 4}}
"""

# (point, n-th time reached): the untuned model's predictions and option scores are
# 4 batches and 3 batches of 4 items, the tuned model's the next ones; checkpoints every 2 of 6 steps.
RUN_KILLS = [
    ("split-written", 1),
    ("predictions-written", 2),
    ("option-scores-written", 2),
    ("checkpoint-state-saved", 2),
    ("checkpoint-complete", 1),
    ("model-saved", 1),
    ("model-renamed", 1),
    ("predictions-written", 6),
    ("option-scores-written", 5),
    ("metrics-written", 1),
    ("cell-rows-inserted", 1),
]
SWEEP_KILLS = [
    ("checkpoint-complete", 4),
    ("model-renamed", 2),
    ("cell-rows-inserted", 1),
    ("cell-recorded", 1),
    ("predictions-written", 3),
]


def _cli(args: list[str], kill_at: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}
    env.pop("INSTRUCTKIT_KILL_AT", None)
    if kill_at:
        env["INSTRUCTKIT_KILL_AT"] = kill_at
    return subprocess.run(
        [sys.executable, "-m", "instructkit.cli", *args, "--quiet"],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )


def _lines(path: Path) -> list[Any]:
    return sorted(path.read_text(encoding="utf-8").splitlines())


def _store(path: Path) -> list[tuple[Any, ...]]:
    db = sqlite3.connect(path)
    try:
        return sorted(
            db.execute(
                "SELECT experiment, cell, system, task, category, template, metric, value "
                "FROM results"
            ).fetchall()
        )
    finally:
        db.close()


def _run_outputs(out: Path) -> dict[str, Any]:
    run = out / "k"
    metrics = json.loads((run / "metrics.json").read_text())
    weights = load_file(str(run / "model" / "model.safetensors"))
    return {
        "systems": metrics["systems"],
        "losses": json.loads((run / "train_state.json").read_text())["losses"],
        "files": {p.name: _lines(p) for p in sorted(run.glob("*.jsonl"))},
        "weights": weights,
        "store": _store(out / "results.sqlite"),
        "leftovers": sorted(p.name for p in run.iterdir() if ".tmp" in p.name),
    }


def _same(a: dict[str, Any], b: dict[str, Any]) -> None:
    assert a["systems"] == b["systems"]
    assert a["losses"] == b["losses"]
    assert a["files"] == b["files"]
    assert a["store"] == b["store"]
    assert a["weights"].keys() == b["weights"].keys()
    for k in a["weights"]:
        assert torch.equal(a["weights"][k], b["weights"][k]), k
    assert b["leftovers"] == []


def _kill_then_resume(args: list[str], point: str, nth: int) -> None:
    killed = _cli(args, f"{point}:{nth}")
    assert killed.returncode == -signal.SIGKILL, (
        f"{point}:{nth} was not reached (exit {killed.returncode}): {killed.stderr[-1500:]}"
    )
    resumed = _cli(args)
    assert resumed.returncode == 0, resumed.stderr[-3000:]


def test_every_point_is_exercised() -> None:
    assert {p for p, _ in RUN_KILLS + SWEEP_KILLS} == set(POINTS)


def _straight_and_killed(
    tmp_path: Path, command: str, template: str, kills: list[tuple[str, int]]
) -> tuple[Path, list[tuple[str, Path]]]:
    """One uninterrupted ``instructkit <command>`` and one killed-then-resumed per kill
    point, two at a time; their output folders."""
    config = "exp.yaml" if command == "run" else "sweep.yaml"

    def folder(name: str) -> Path:
        out = tmp_path / name
        out.mkdir()
        (out / config).write_text(template.format(out=out))
        return out

    def job(k: int) -> tuple[str, Path]:
        out = folder(f"kill{k}")
        point, nth = kills[k]
        _kill_then_resume([command, str(out / config)], point, nth)
        return f"{point}:{nth}", out

    straight = folder("straight")
    with ThreadPoolExecutor(max_workers=2) as pool:
        first = pool.submit(_cli, [command, str(straight / config)])
        killed = list(pool.map(job, range(len(kills))))
        done = first.result()
    assert done.returncode == 0, done.stderr[-3000:]
    return straight, killed


def test_run_killed_at_every_point_resumes_exactly(tmp_path: Path) -> None:
    straight, killed = _straight_and_killed(tmp_path, "run", RUN, RUN_KILLS)
    reference = _run_outputs(straight)
    assert reference["weights"] and reference["files"]
    for label, out in killed:
        try:
            _same(reference, _run_outputs(out))
        except AssertionError as e:
            pytest.fail(f"killed at {label}: {e}")


def test_sweep_killed_at_every_point_resumes_exactly(tmp_path: Path) -> None:
    straight, killed = _straight_and_killed(tmp_path, "sweep", SWEEP, SWEEP_KILLS)
    reference = _store(straight / "results.sqlite")
    assert len({row[1] for row in reference}) == 2  # both cells
    for label, out in killed:
        assert _store(out / "results.sqlite") == reference, f"killed at {label}"
        for cell in ("held_out=rule_classification", "held_out=arithmetic"):
            a = load_file(str(straight / "s" / cell / "model" / "model.safetensors"))
            b = load_file(str(out / "s" / cell / "model" / "model.safetensors"))
            assert all(torch.equal(a[k], b[k]) for k in a), f"killed at {label}: {cell}"
