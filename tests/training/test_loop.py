"""The Accelerate training loop on a tiny model: it learns, and it resumes."""

from __future__ import annotations

import json
import math
from pathlib import Path

from instructkit.models import adapter_for, load_model
from instructkit.prompts import PromptedExample
from instructkit.training import TrainConfig, train


def _examples() -> list[PromptedExample]:
    return [
        PromptedExample(task="t", instance_id=str(i), template="x", source=f"say {w}:", targets=[w])
        for i, w in enumerate(["red", "blue", "green", "gold"])
    ]


def test_loss_goes_down(tmp_path: Path) -> None:
    ad = adapter_for(load_model("tiny"))
    cfg = TrainConfig(
        steps=40,
        batch_size=4,
        learning_rate=3e-3,
        warmup_steps=0,
        mixed_precision="no",
        save_every=0,
    )
    r = train(ad, _examples(), cfg, tmp_path, show_progress=False)
    assert len(r.losses) == 40
    assert sum(r.losses[-5:]) / 5 < 0.5 * sum(r.losses[:5]) / 5


def test_resume_from_checkpoint_continues_the_run(tmp_path: Path) -> None:
    cfg = TrainConfig(
        steps=6,
        batch_size=2,
        learning_rate=1e-3,
        warmup_steps=0,
        mixed_precision="no",
        save_every=3,
    )
    straight = train(
        adapter_for(load_model("tiny")), _examples(), cfg, tmp_path / "a", show_progress=False
    )
    # The run left its step-3 checkpoint; a fresh process resumes from it and redoes 4-6.
    assert (tmp_path / "a" / "checkpoint-3" / "trainer_state.json").exists()
    resumed = train(
        adapter_for(load_model("tiny", seed=99)),
        _examples(),
        cfg,
        tmp_path / "a",
        show_progress=False,
    )
    assert resumed.resumed_from == 3
    assert len(resumed.losses) == 6
    assert resumed.losses[:3] == straight.losses[:3]
    for a, b in zip(straight.losses[3:], resumed.losses[3:], strict=True):
        assert abs(a - b) < 1e-5


def test_evaluation_during_training(tmp_path: Path) -> None:
    calls: list[int] = []

    def evaluate(adapter, step):  # type: ignore[no-untyped-def]
        assert not adapter.model.training
        calls.append(step)
        return {"score": float(step)}

    ad = adapter_for(load_model("tiny"))
    cfg = TrainConfig(
        steps=6,
        batch_size=2,
        learning_rate=1e-3,
        warmup_steps=0,
        mixed_precision="no",
        save_every=0,
        eval_every=2,
    )
    r = train(ad, _examples(), cfg, tmp_path, show_progress=False, evaluate=evaluate)
    assert calls == [2, 4, 6]
    assert r.evaluations == {2: {"score": 2.0}, 4: {"score": 4.0}, 6: {"score": 6.0}}


def test_tuned_model_in_memory_equals_the_saved_one_under_bf16(tmp_path: Path) -> None:
    """After bf16 mixed-precision training the model computes in its own precision: the
    evaluation right after training equals the evaluation of the saved model reloaded
    (one process holds one mixed-precision setting, hence the subprocess)."""
    import subprocess
    import sys

    ckpt, saved = tmp_path / "ckpt", tmp_path / "model"
    script = f"""
import torch
from instructkit.models import adapter_for, load_model
from instructkit.models.loading import load_pretrained
from instructkit.prompts import PromptedExample
from instructkit.training import TrainConfig, train
from instructkit.training.loop import save_model

ex = [PromptedExample(task="t", instance_id=str(i), template="x", source=f"say {{w}}:", targets=[w])
      for i, w in enumerate(["red", "blue", "green", "gold"])]
ad = adapter_for(load_model("tiny"))
cfg = TrainConfig(steps=3, batch_size=4, learning_rate=3e-3, warmup_steps=0, mixed_precision="bf16", save_every=0)
train(ad, ex, cfg, r"{ckpt}", show_progress=False)
save_model(ad, r"{saved}")
again = load_pretrained(r"{saved}").model.eval()
ids = torch.tensor([[5, 9, 17, 33, 65, 80]])
with torch.no_grad():
    a, b = ad.model(input_ids=ids).logits, again(input_ids=ids).logits
assert a.dtype == torch.float32, a.dtype
assert torch.equal(a, b), (a - b).abs().max()
print("same")
"""
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and "same" in r.stdout, r.stderr[-2000:]


def test_non_finite_loss_stops_training_without_saving(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import pytest

    from instructkit.errors import ConfigError
    from instructkit.experiments.config import parse_config
    from instructkit.models import adapter_for, load_model
    from instructkit.prompts.example import PromptedExample

    with pytest.raises(ConfigError, match="finite number"):
        parse_config({"train": {"learning_rate": float("inf")}})
    ad = adapter_for(load_model("tiny"))
    ex = [PromptedExample("t", str(i), "x", "abc", ["def"]) for i in range(8)]
    cfg = TrainConfig(
        steps=6, learning_rate=1e36, max_grad_norm=1e30, warmup_steps=0, save_every=1,
        mixed_precision="no",
    )  # fmt: skip
    with pytest.raises(ConfigError, match="training stopped"):
        train(ad, ex, cfg, tmp_path, show_progress=False)
    # The checkpoints on disk are of steps whose loss was finite.
    for ckpt in tmp_path.glob("checkpoint-*"):
        state = json.loads((ckpt / "trainer_state.json").read_text())
        assert all(math.isfinite(x) for x in state["losses"])
