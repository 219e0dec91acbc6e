"""Packing has no attention across examples; the loss does not depend on how a step is
split (micro-batches, processes); a 2-process run matches one process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from instructkit.models import Lengths, adapter_for, load_model
from instructkit.models.adapters import DecoderOnlyAdapter
from instructkit.prompts import PromptedExample
from instructkit.training import TrainConfig, train
from instructkit.training.loop import pack_examples

WORDS = ["red", "blue", "green", "gold", "black", "white", "pink", "grey"]


def _examples(n: int = 8) -> list[PromptedExample]:
    return [
        PromptedExample("t", str(i), "x", f"colour number {i} is", [WORDS[i % 8]]) for i in range(n)
    ]


def test_packed_loss_equals_sum_of_losses_alone() -> None:
    ad = adapter_for(load_model("tiny", seed=4))
    assert isinstance(ad, DecoderOnlyAdapter)
    lengths = Lengths(64, 8)
    rows = pack_examples(ad, _examples(5), lengths, pack_length=200)
    assert len(rows) == 1 and len(rows[0]) == 5
    packed = ad.collate_packed(rows, 200)
    with torch.no_grad():
        logits = ad.model(
            input_ids=packed["input_ids"], position_ids=packed["position_ids"], use_cache=False
        ).logits
        total, n_total = ad.token_loss(logits, packed["labels"])
        alone, n_alone = 0.0, 0
        for e in _examples(5):
            b = ad.collate([e.source], [e.target], lengths)
            s, n = ad.token_loss(ad.model(input_ids=b["input_ids"]).logits, b["labels"])
            alone += float(s)
            n_alone += n
    assert n_total == n_alone
    assert float(total) == pytest.approx(alone, rel=1e-5)
    # Token by token: the second example's logits inside the row equal its logits alone,
    # while one long sequence (attention across examples) gives clearly different ones.
    (s0, t0), (s1, t1) = rows[0][0], rows[0][1]
    a, b = len(s0) + len(t0), len(s0) + len(t0) + len(s1) + len(t1)
    with torch.no_grad():
        alone1 = ad.model(input_ids=torch.tensor([s1 + t1])).logits[0]
        joined = ad.model(input_ids=packed["input_ids"], use_cache=False).logits[0, a:b]
    assert (logits[0, a:b] - alone1).abs().max() < 1e-4
    assert (joined - alone1).abs().max() > 1e-2


def test_packing_rows_respect_the_length() -> None:
    ad = adapter_for(load_model("tiny"))
    rows = pack_examples(ad, _examples(8), Lengths(64, 8), pack_length=60)
    assert all(sum(len(s) + len(t) for s, t in r) <= 60 for r in rows)
    assert sum(len(r) for r in rows) == 8


def test_packed_training_runs(tmp_path: Path) -> None:
    ad = adapter_for(load_model("tiny"))
    cfg = TrainConfig(
        steps=15,
        batch_size=2,
        learning_rate=3e-3,
        warmup_steps=0,
        mixed_precision="no",
        save_every=0,
        packing=True,
        pack_length=96,
    )
    r = train(ad, _examples(), cfg, tmp_path, show_progress=False)
    assert r.losses[-1] < r.losses[0]


def test_gradient_accumulation_gives_the_same_step(tmp_path: Path) -> None:
    one = TrainConfig(
        steps=3,
        batch_size=4,
        grad_accum=1,
        learning_rate=1e-3,
        warmup_steps=0,
        mixed_precision="no",
        save_every=0,
    )
    two = one.model_copy(update={"batch_size": 2, "grad_accum": 2})
    a = train(
        adapter_for(load_model("tiny")), _examples(), one, tmp_path / "a", show_progress=False
    )
    b = train(
        adapter_for(load_model("tiny")), _examples(), two, tmp_path / "b", show_progress=False
    )
    for x, y in zip(a.losses, b.losses, strict=True):
        assert x == pytest.approx(y, rel=1e-4)


SCRIPT = """
import json, sys
from instructkit.models import adapter_for, load_model
from instructkit.prompts import PromptedExample
from instructkit.training import TrainConfig, train
from instructkit.models.loading import distributed_state
words = ["red", "blue", "green", "gold", "black", "white", "pink", "grey"]
ex = [PromptedExample("t", str(i), "x", f"colour number {i} is", [words[i % 8]]) for i in range(8)]
cfg = TrainConfig(steps=4, batch_size=int(sys.argv[2]), learning_rate=1e-3, warmup_steps=0,
                  mixed_precision="no", save_every=0)
r = train(adapter_for(load_model("tiny")), ex, cfg, sys.argv[1], show_progress=False)
if distributed_state().is_main_process:
    print("LOSSES", json.dumps(r.losses))
"""


def test_two_processes_match_one(tmp_path: Path) -> None:
    script = tmp_path / "run.py"
    script.write_text(SCRIPT)
    env = {**os.environ}
    one = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "one"), "4"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert one.returncode == 0, one.stderr
    two = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--nproc_per_node",
            "2",
            str(script),
            str(tmp_path / "two"),
            "2",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert two.returncode == 0, two.stderr

    def losses(out: str) -> list[float]:
        return json.loads(next(x for x in out.splitlines() if x.startswith("LOSSES"))[7:])

    a, b = losses(one.stdout), losses(two.stdout)
    assert len(a) == len(b) == 4
    for x, y in zip(a, b, strict=True):
        assert x == pytest.approx(y, rel=1e-4)


@pytest.mark.parametrize("packed", [False, True])
def test_kept_logits_loss_equals_full_loss(packed: bool) -> None:
    ad = adapter_for(load_model("tiny", seed=5))
    lengths = Lengths(64, 8)
    if packed:
        batch = ad.collate_packed(pack_examples(ad, _examples(6), lengths, 120), 120)
    else:
        exs = _examples(4)
        batch = ad.collate([e.source for e in exs], [e.target for e in exs], lengths)
    with torch.no_grad():
        fast = ad.forward_loss(ad.model, batch)
        inputs = {k: v for k, v in batch.items() if k != "labels"}
        full, _ = ad.token_loss(ad.model(**inputs, use_cache=False).logits, batch["labels"])
    assert float(fast) == pytest.approx(float(full), rel=1e-5)
