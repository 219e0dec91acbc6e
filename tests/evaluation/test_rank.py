"""Rank classification for both families: shared-prompt scoring equals per-option scoring."""

from __future__ import annotations

import math

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
