"""Rank classification of 4-option items on SmolLM2-135M: the prompt encoded once and the
options scored together, against one full forward pass per option. Same scores (within
float tolerance), and the speed ratio.

    python benchmarks/bench_rank.py [--items 24]
"""

from __future__ import annotations

import argparse
import sys
import time

import torch

from instructkit.evaluation.rank import score_options, score_options_naive
from instructkit.models import adapter_for, load_model
from instructkit.prompts import apply_template
from instructkit.tasks.builtin import build_task, spec_by_name


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=24)
    ap.add_argument("--model", default="default")
    args = ap.parse_args()
    torch.manual_seed(0)
    adapter = adapter_for(load_model(args.model))
    task = build_task(spec_by_name("ik044_word_category"), n_instances=args.items)
    examples = [apply_template("superni:Def+Pos(2)", task, i) for i in task.instances]
    assert all(len(e.options) == 4 for e in examples)
    tokens = sum(adapter.count_tokens(e.source) for e in examples) / len(examples)
    print(f"{len(examples)} items, 4 options each, prompts of {tokens:.0f} tokens on average")
    score_options(adapter, examples[0].source, examples[0].options)  # warm-up

    t0 = time.perf_counter()
    naive = [score_options_naive(adapter, e.source, e.options)[0] for e in examples]
    t_naive = time.perf_counter() - t0
    t0 = time.perf_counter()
    shared = [score_options(adapter, e.source, e.options)[0] for e in examples]
    t_shared = time.perf_counter() - t0
    diff = max(
        abs(a - b)
        for xs, ys in zip(naive, shared, strict=True)
        for a, b in zip(xs, ys, strict=True)
    )
    same_pick = sum(
        max(range(4), key=xs.__getitem__) == max(range(4), key=ys.__getitem__)
        for xs, ys in zip(naive, shared, strict=True)
    )
    print(
        f"one pass per option {t_naive:.2f} s, shared prompt {t_shared:.2f} s, "
        f"speed-up {t_naive / t_shared:.1f}x; max |score difference| {diff:.2e}; "
        f"same choice on {same_pick}/{len(examples)} items"
    )
    return 0 if diff < 1e-3 else 1


if __name__ == "__main__":
    sys.exit(main())
