"""LoRA and prompt tuning through PEFT, for both families: train, save, load."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from instructkit.evaluation.rank import score_options
from instructkit.models import adapter_for, load_model
from instructkit.models.adapters import is_prompt_learning
from instructkit.prompts import PromptedExample
from instructkit.training import MethodConfig, TrainConfig, apply_method, load_adapter, train
from instructkit.training.methods import trainable_parameters


def _examples() -> list[PromptedExample]:
    return [
        PromptedExample("t", str(i), "x", f"say {w}:", [w])
        for i, w in enumerate(["red", "blue", "green", "gold"])
    ]


@pytest.mark.parametrize("kind", ["tiny", "tiny-t5"])
@pytest.mark.parametrize("method", ["lora", "prompt-tuning"])
def test_train_save_load(kind: str, method: str, tmp_path: Path) -> None:
    loaded = load_model(kind, seed=0)
    base_state = {k: v.clone() for k, v in loaded.model.state_dict().items()}
    ad = adapter_for(loaded)
    ad.model = apply_method(ad.model, MethodConfig(method=method, num_virtual_tokens=4, lora_r=4))
    tuned, total = trainable_parameters(ad.model)
    assert 0 < tuned < total / 2
    assert is_prompt_learning(ad.model) == (method == "prompt-tuning")
    lr = 0.3 if method == "prompt-tuning" else 1e-2  # soft prompts need large steps
    cfg = TrainConfig(
        steps=12, batch_size=4, learning_rate=lr, warmup_steps=0, mixed_precision="no", save_every=0
    )
    r = train(ad, _examples(), cfg, tmp_path / "ckpt", show_progress=False)
    assert sum(r.losses[-3:]) < sum(r.losses[:3])
    # The base weights are untouched.
    base_after = ad.model.get_base_model().state_dict()
    for k, v in base_state.items():
        if k in base_after:
            assert torch.equal(base_after[k], v), k
    ad.model.save_pretrained(tmp_path / "adapter")
    assert (tmp_path / "adapter" / "adapter_model.safetensors").exists()
    src, opts = "say blue:", ["red", "blue"]
    before = score_options(ad, src, opts)[0]
    fresh = adapter_for(load_model(kind, seed=0))
    fresh.model = load_adapter(fresh.model, tmp_path / "adapter")
    fresh.model.eval()
    after = score_options(fresh, src, opts)[0]
    assert after == pytest.approx(before, abs=1e-5)
    assert fresh.generate(["say red:"], max_new_tokens=3) == ad.generate(
        ["say red:"], max_new_tokens=3
    )


def test_prompt_tuning_on_an_instruction_tuned_checkpoint(tmp_path: Path) -> None:
    # FLAN: tune a soft prompt on top of an already tuned model, loaded from its folder.
    ad = adapter_for(load_model("tiny"))
    train(
        ad,
        _examples(),
        TrainConfig(
            steps=5,
            batch_size=4,
            learning_rate=3e-3,
            warmup_steps=0,
            mixed_precision="no",
            save_every=0,
        ),
        tmp_path / "a",
        show_progress=False,
    )
    ad.model.save_pretrained(tmp_path / "tuned")
    ad.tokenizer.save_pretrained(tmp_path / "tuned")
    tuned = adapter_for(load_model(str(tmp_path / "tuned")))
    tuned.model = apply_method(
        tuned.model,
        MethodConfig(
            method="prompt-tuning", num_virtual_tokens=3, prompt_init_text="say the color"
        ),
        tokenizer_path=str(tmp_path / "tuned"),
    )
    r = train(
        tuned,
        _examples(),
        TrainConfig(
            steps=6,
            batch_size=4,
            learning_rate=0.3,
            warmup_steps=0,
            mixed_precision="no",
            save_every=0,
        ),
        tmp_path / "b",
        show_progress=False,
    )
    assert len(r.losses) == 6 and r.losses[-1] < r.losses[0]
