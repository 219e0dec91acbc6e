"""Rank classification for both families: shared-prompt scoring equals per-option scoring."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from instructkit.evaluation.rank import (
    OptionScores,
    accuracy,
    rank_classify,
    score_options,
    score_options_naive,
)
from instructkit.models import adapter_for, load_model
from instructkit.prompts import PromptedExample


@pytest.mark.parametrize("kind", ["tiny", "tiny-t5"])
def test_shared_prompt_equals_one_pass_per_option(kind: str) -> None:
    ad = adapter_for(load_model(kind, seed=3))
    src = "Definition: answer yes or no.\nInput: is the sky blue?\nOutput: "
    options = ["yes", "no", "maybe not", "y"]
    fast, n_fast = score_options(ad, src, options)
    slow, n_slow = score_options_naive(ad, src, options)
    assert n_fast == n_slow
    assert all(math.isfinite(x) and x < 0 for x in fast)
    for a, b in zip(fast, slow, strict=True):
        assert a == pytest.approx(b, abs=1e-4)
    # Longer options accumulate more negative log-probability.
    assert n_fast[2] > n_fast[0]


def test_rank_classify_picks_argmax_and_accuracy() -> None:
    ad = adapter_for(load_model("tiny", seed=1))
    exs = [
        PromptedExample(
            task="t",
            instance_id=str(i),
            template="x",
            source=f"q{i}: ",
            targets=["b"],
            options=["a", "b", "c"],
        )
        for i in range(5)
    ]
    exs.append(
        PromptedExample(task="t", instance_id="gen", template="x", source="q", targets=["z"])
    )
    res = rank_classify(ad, exs)
    assert len(res) == 5  # the example without options is skipped
    for r in res:
        assert r.prediction() == r.options[max(range(3), key=lambda k: r.logprob[k])]
    assert accuracy(res) == 100.0 * sum(r.prediction() == "b" for r in res) / 5


def test_length_normalisation_can_change_the_pick() -> None:
    r = OptionScores("1", "t", "x", ["short", "much longer"], [-2.0, -3.0], [1, 6], ["much longer"])
    assert r.prediction() == "short" and r.prediction(normalize="tokens") == "much longer"
    assert not r.correct() and r.correct(normalize="tokens")
    # lm-eval's acc_norm divides by the option's characters: 2/5 = 0.4 > 3/11 = 0.27.
    assert r.prediction(normalize="chars") == "much longer"
    q = OptionScores("2", "t", "x", ["ab", "abcdef"], [-1.0, -2.5], [2, 1], ["ab"])
    assert q.prediction(normalize="chars") == "abcdef"  # -2.5/6 > -1/2
    assert q.prediction(normalize="tokens") == "ab"  # -1/2 > -2.5/1


@pytest.mark.parametrize("kind", ["tiny", "tiny-t5"])
@pytest.mark.parametrize("batch_size", [1, 3, 16])
def test_packed_batches_equal_one_pass_per_option(kind: str, batch_size: int) -> None:
    """Items of different prompt and option lengths, packed several to a pass (padding
    included), score as one full pass per option scores them, in the input order."""
    from instructkit.evaluation.rank import RankItem, rank_items, score_batched

    ad = adapter_for(load_model(kind, seed=5))
    prompts = ["Q: a?", "Definition: pick one.\nInput: " + "word " * 30 + "\nOutput:", "x"]
    opts = [["yes", "no"], ["alpha beta gamma", "b", "c d"], ["1", "22", "333", "4444", "5"]]
    examples = [
        PromptedExample(
            task="t", instance_id=str(i), template="x", source=p, targets=[o[0]], options=o
        )
        for i, (p, o) in enumerate(zip(prompts * 3, opts * 3, strict=True))
    ]
    items = rank_items(ad, examples)
    assert all(isinstance(it, RankItem) for it in items)
    got: dict[int, list[float]] = {}
    order = []
    for batch, scores in score_batched(ad, items, batch_size=batch_size):
        assert len(batch) <= batch_size
        order += batch
        got.update(zip(batch, scores, strict=True))
    assert sorted(order) == list(range(len(items)))
    # Longest first within a batch (little padding), as lm-evaluation-harness orders.
    from instructkit.evaluation.rank import _batches

    for batch in _batches(items, list(range(len(items))), batch_size):
        lengths = [items[i].length for i in batch]
        assert lengths == sorted(lengths, reverse=True)
    for i, (p, o) in enumerate(zip(prompts * 3, opts * 3, strict=True)):
        ref, _ = score_options_naive(ad, p, o)
        assert got[i] == pytest.approx(ref, abs=1e-4)


RANK_SCRIPT = """
import json, os, sys
from pathlib import Path
from instructkit.evaluation.evaluator import Evaluator, GenerationConfig
from instructkit.models import adapter_for, load_model
from instructkit.prompts.render import render
from instructkit.tasks.builtin import builtin_tasks

tasks = builtin_tasks(n_instances=6)
examples = [render("superni:Def+Pos(2)", t, i) for t in tasks for i in t.instances[:2]]
ad = adapter_for(load_model("tiny", seed=0))
ev = Evaluator(ad, model_name="tiny", generation=GenerationConfig(batch_size=4),
               show_progress=False)
out = ev.rank(examples, Path(sys.argv[1]) / "rank.jsonl")
if os.environ.get("RANK", "0") == "0":  # one process prints
    print("RANK", json.dumps([[r.id, r.logprob] for r in out]))
"""


def test_rank_sharded_over_two_processes_matches_one(tmp_path: Path) -> None:
    import json
    import os
    import subprocess
    import sys

    script = tmp_path / "rank.py"
    script.write_text(RANK_SCRIPT)
    runs = {}
    for name, cmd in (
        ("one", [sys.executable, str(script)]),
        (
            "two",
            [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", str(script)],
        ),
    ):
        out = tmp_path / name
        proc = subprocess.run(
            [*cmd, str(out)], capture_output=True, text=True, timeout=300, env={**os.environ}
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
        line = next(x for x in proc.stdout.splitlines() if x.startswith("RANK"))
        runs[name] = json.loads(line[5:])
        assert not list(out.glob("rank.rank*.jsonl"))  # shards merged and removed
    assert [r[0] for r in runs["one"]] == [r[0] for r in runs["two"]]
    for a, b in zip(runs["one"], runs["two"], strict=True):
        assert a[1] == pytest.approx(b[1], abs=1e-4)


@pytest.mark.parametrize("batch_size", [2, 5])
def test_shared_prompt_prefix_is_encoded_once_and_scores_equal(batch_size: int) -> None:
    """Prompts of one task share their definition: the batch encodes it once (a key/value
    cache repeated over the rows), with the same scores as one pass per option."""
    from instructkit.evaluation import rank
    from instructkit.evaluation.rank import rank_items, score_batched

    ad = adapter_for(load_model("tiny", seed=7))
    definition = "Definition: say whether the word is a colour. " * 3
    examples = [
        PromptedExample(task="t", instance_id=str(i), template="x",
                        source=f"{definition}\nInput: {w}\nOutput:", targets=["yes"],
                        options=["yes", "no", "maybe so"])
        for i, w in enumerate(["red", "table", "blue sky", "tree", "green", "a"])
    ]  # fmt: skip
    items = rank_items(ad, examples)
    shared = rank._shared_prefix([it.ctx for it in items])
    assert shared >= rank.MIN_SHARED_PREFIX
    assert all(shared < len(it.ctx) for it in items)
    got: dict[int, list[float]] = {}
    for batch, scores in score_batched(ad, items, batch_size=batch_size):
        got.update(zip(batch, scores, strict=True))
    for i, e in enumerate(examples):
        ref, _ = score_options_naive(ad, e.source, e.options)
        assert got[i] == pytest.approx(ref, abs=1e-4)
