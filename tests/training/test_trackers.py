"""Experiment trackers for real: TensorBoard event files and an offline W&B run get the
loss, the throughput and the flattened config; a tracker whose package is missing is a
one-line error naming what to install."""

from __future__ import annotations

from pathlib import Path

import pytest

from instructkit.errors import ConfigError
from instructkit.models import adapter_for, load_model
from instructkit.prompts import PromptedExample
from instructkit.training import TrainConfig, train
from instructkit.training.loop import flat_config

EXAMPLES = [
    PromptedExample(task="t", instance_id=str(i), template="x", source=f"say {i}", targets=[str(i)])
    for i in range(8)
]


def _config(tracker: str) -> TrainConfig:
    return TrainConfig(
        steps=3, batch_size=2, learning_rate=1e-3, warmup_steps=0, mixed_precision="no",
        save_every=0, log_with=[tracker],
    )  # fmt: skip


def test_flat_config_is_scalar() -> None:
    flat = flat_config(TrainConfig(log_with=["tensorboard"]).model_dump(mode="json"))
    assert flat["tuning.method"] == "full" and flat["log_with"] == "tensorboard"
    assert all(isinstance(v, str | int | float | bool) for v in flat.values())


def test_tensorboard(tmp_path: Path) -> None:
    pytest.importorskip("tensorboard", reason="tensorboard is not installed (dev extra)")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    train(adapter_for(load_model("tiny", seed=0)), EXAMPLES, _config("tensorboard"), tmp_path)
    events = list(tmp_path.rglob("events.out.tfevents.*"))
    assert events
    tags: set[str] = set()
    for e in events:
        acc = EventAccumulator(str(e.parent))
        acc.Reload()
        tags |= set(acc.Tags()["scalars"])
    assert {"loss", "tokens_per_second", "matmul_share"} <= tags


def test_wandb_offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("wandb", reason="wandb is not installed (dev extra)")
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.setenv("WANDB_DIR", str(tmp_path))
    train(adapter_for(load_model("tiny", seed=0)), EXAMPLES, _config("wandb"), tmp_path / "run")
    runs = list(tmp_path.rglob("offline-run-*"))
    assert runs, "no offline W&B run was written"
    assert any(p.suffix == ".wandb" for r in runs for p in r.iterdir())


def test_missing_tracker_package_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    import accelerate.utils

    monkeypatch.setattr(accelerate.utils, "is_wandb_available", lambda: False)
    with pytest.raises(ConfigError, match=r"train.log_with.*pip install wandb") as e:
        train(adapter_for(load_model("tiny", seed=0)), EXAMPLES, _config("wandb"), "/tmp/unused")
    assert "\n" not in str(e.value)
