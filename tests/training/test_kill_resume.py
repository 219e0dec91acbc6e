"""Killing training with SIGKILL at some step and resuming gives the same final weights
as a run that was never interrupted."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import torch
from safetensors.torch import load_file

CONFIG = """
name: {name}
output_dir: {out}
tasks:
  n_instances: 12
  train_instances_per_task: 4
model:
  name: tiny
train:
  steps: 40
  batch_size: 2
  learning_rate: 0.002
  warmup_steps: 3
  mixed_precision: "no"
  save_every: 1
"""


def _train(cfg: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "instructkit.cli", "train", str(cfg), "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ},
    )


def test_sigkill_then_resume_is_exact(tmp_path: Path) -> None:
    for name in ("straight", "killed"):
        (tmp_path / f"{name}.yaml").write_text(CONFIG.format(name=name, out=tmp_path))
    straight = _train(tmp_path / "straight.yaml")
    assert straight.wait(timeout=300) == 0, straight.stderr.read() if straight.stderr else ""

    proc = _train(tmp_path / "killed.yaml")
    ckpts = tmp_path / "killed" / "checkpoints"
    deadline = time.time() + 240
    while time.time() < deadline:
        done = [p for p in ckpts.glob("checkpoint-*") if (p / "trainer_state.json").exists()]
        if any(int(p.name.split("-")[1]) >= 7 for p in done):
            break
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert not (tmp_path / "killed" / "model").exists()  # it really stopped midway

    resumed = _train(tmp_path / "killed.yaml")
    assert resumed.wait(timeout=300) == 0, resumed.stderr.read() if resumed.stderr else ""
    a = load_file(str(tmp_path / "straight" / "model" / "model.safetensors"))
    b = load_file(str(tmp_path / "killed" / "model" / "model.safetensors"))
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k
    state = (tmp_path / "killed" / "train_state.json").read_text()
    assert '"resumed_from": 0' not in state
