"""Rank classification against lm-evaluation-harness: instructkit's batched scorer
(``evaluation.rank.score_batched``) and lm-eval's ``HFLM.loglikelihood`` on the same
model object, the same items, the same context / continuation pairs and the same batch
size. The reference is what a user would run instead of instructkit.

Items (``--dataset``): RTE validation (277 rows of ``../shared/data/t0-eval``, two
one-token options) with PromptSource's "GPT-3 style" template; COPA validation (100 rows,
two sentence options) with "best_option"; or the built-in ``ik044_word_category`` (four
one-word options; one task, so every prompt begins with the same definition and
demonstrations) with ``superni:Def+Pos(2)``. The model: SmolLM2-135M-Instruct (the
packaged default). Each round runs both, interleaved; medians over ``--rounds`` are
printed with their ratio, the accuracy of each, how many items pick the same option, the
largest log-likelihood difference, and the machine's measured matmul rate.

    python benchmarks/bench_rank.py [--rounds 3] [--batch-size 16] [--items 277]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import torch

DATASETS = {
    "rte": ("super_glue_rte", "super_glue/rte", "promptsource:GPT-3 style"),
    "copa": ("super_glue_copa", "super_glue/copa", "promptsource:best_option"),
}


def items(data: Path, dataset: str, n: int) -> list:  # type: ignore[type-arg]
    from instructkit.prompts.render import render
    from instructkit.tasks.builtin import build_task, spec_by_name
    from instructkit.tasks.datasets import DatasetSpec, load_dataset_task

    if dataset == "builtin":
        task = build_task(spec_by_name("ik044_word_category"), n_instances=n)
        return [render("superni:Def+Pos(2)", task, i) for i in task.instances]
    folder, templates, template = DATASETS[dataset]
    task = load_dataset_task(
        DatasetSpec(
            name=dataset,
            path=str(data / "t0-eval" / folder),
            files=["validation.jsonl"],
            id_field="idx",
            templates=str(data / "promptsource" / "templates" / templates),
        )
    )
    return [render(template, task, i) for i in task.instances[:n]]


def compute(adapter, examples, its, batch_size: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Floating-point operations of the transformer's matrix multiplies (2 per weight per
    token; attention scores left out) that lm-eval and instructkit spend on the items.

    lm-eval: one row per request, its context and continuation but the last token, except
    that requests with the same context and a one-token continuation share one row (its
    logits cache); rows longest first in batches, padded to the longest of each; the
    language-model head on every position. instructkit: what :func:`_batches` plans:
    the prefix a batch shares once, then its rows padded to the longest; the head only
    on the positions that predict option tokens."""
    from instructkit.evaluation.rank import _batches, _shared_prefix

    model = adapter.model
    head = model.get_output_embeddings().weight.numel()
    body = sum(p.numel() for p in model.get_decoder().parameters())
    body -= model.get_input_embeddings().weight.numel()
    rows: list[int] = []
    for it in its:
        if all(len(o) == 1 for o in it.options):
            rows.append(len(it.ctx))
        else:
            rows += [len(it.ctx) + len(o) - 1 for o in it.options]
    rows.sort(reverse=True)
    theirs_tokens = sum(
        max(rows[k : k + batch_size]) * len(rows[k : k + batch_size])
        for k in range(0, len(rows), batch_size)
    )
    theirs = 2 * theirs_tokens * (body + head)
    ours_tokens = 0
    for batch in _batches(its, list(range(len(its))), batch_size):
        shared = _shared_prefix([its[i].ctx for i in batch])
        width = max(its[i].length for i in batch) - shared
        ours_tokens += shared + width * len(batch)
    option_tokens = sum(len(o) for it in its for o in it.options)
    ours = 2 * (ours_tokens * body + option_tokens * head)
    return theirs, ours


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--data", type=Path, default=Path(os.environ.get("INSTRUCTKIT_DATA", "../shared/data"))
    )
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--items", type=int, default=277)
    ap.add_argument("--dataset", choices=["rte", "copa", "builtin"], default="rte")
    ap.add_argument("--model", default="default")
    args = ap.parse_args()

    from lm_eval.api.instance import Instance
    from lm_eval.models.huggingface import HFLM

    from instructkit.evaluation.rank import rank_items, score_batched
    from instructkit.models import adapter_for, load_model
    from instructkit.training.loop import matmul_rate

    torch.manual_seed(0)
    adapter = adapter_for(load_model(args.model))
    adapter.model.eval()
    examples = items(args.data, args.dataset, args.items)
    lm = HFLM(pretrained=adapter.model, tokenizer=adapter.tokenizer, batch_size=args.batch_size)
    requests = [
        Instance("loglikelihood", doc={}, arguments=(e.source.rstrip(), " " + o), idx=k)
        for e in examples
        for k, o in enumerate(e.options)
    ]

    def ours() -> list[list[float]]:
        its = rank_items(adapter, examples)
        out: dict[int, list[float]] = {}
        for batch, scores in score_batched(adapter, its, batch_size=args.batch_size):
            out.update(zip(batch, scores, strict=True))
        return [out[i] for i in range(len(examples))]

    def theirs() -> list[list[float]]:
        flat = [ll for ll, _ in lm.loglikelihood(requests, disable_tqdm=True)]
        out, k = [], 0
        for e in examples:
            out.append(flat[k : k + len(e.options)])
            k += len(e.options)
        return out

    # Token splits: lm-eval's context / continuation ids against ours.
    same_split = sum(
        lm._encode_pair(e.source.rstrip(), " " + o)[1] == ids
        for e, it in zip(examples, rank_items(adapter, examples), strict=True)
        for o, ids in zip(e.options, it.options, strict=True)
    )
    t_ours, t_theirs = [], []
    for _ in range(args.rounds):
        t = time.perf_counter()
        a = ours()
        t_ours.append(time.perf_counter() - t)
        t = time.perf_counter()
        b = theirs()
        t_theirs.append(time.perf_counter() - t)

    def pick(xs: list[float]) -> int:
        return max(range(len(xs)), key=xs.__getitem__)

    def acc(scores: list[list[float]]) -> float:
        return (
            100
            * sum(e.options[pick(s)] in e.targets for e, s in zip(examples, scores, strict=True))
            / len(examples)
        )

    same = sum(pick(x) == pick(y) for x, y in zip(a, b, strict=True))
    diff = max(abs(u - v) for x, y in zip(a, b, strict=True) for u, v in zip(x, y, strict=True))
    mo, mt = statistics.median(t_ours), statistics.median(t_theirs)
    n_opts = sum(len(e.options) for e in examples)
    print(
        f"rank classification, {args.dataset}: {len(examples)} items ({n_opts} options), "
        f"{sum(len(c) for it in rank_items(adapter, examples) for c in it.options) / n_opts:.1f}"
        f" tokens per option, batch size "
        f"{args.batch_size}, {torch.get_num_threads()} threads, "
        f"{adapter.model.dtype}, {args.rounds} rounds"
    )
    print(
        f"  instructkit score_batched: {mo:.2f} s (rounds {', '.join(f'{x:.2f}' for x in t_ours)})"
    )
    rounds = ", ".join(f"{x:.2f}" for x in t_theirs)
    print(f"  lm-eval HFLM.loglikelihood: {mt:.2f} s (rounds {rounds})")
    print(f"  ratio: {mt / mo:.2f}x (goal: 3x)")
    print(
        f"  accuracy {acc(a):.2f} / {acc(b):.2f}; same choice on {same}/{len(examples)} items; "
        f"same token split on {same_split}/{n_opts} options; max |Δ log-likelihood| {diff:.1e}"
    )
    flops_theirs, flops_ours = compute(
        adapter, examples, rank_items(adapter, examples), args.batch_size
    )
    print(
        f"  matrix-multiply work: lm-eval {flops_theirs / 1e12:.2f} TFLOP, instructkit "
        f"{flops_ours / 1e12:.2f} TFLOP: {flops_theirs / flops_ours:.2f}x less work, the most "
        f"an exact scorer in the same precision gains at the same matmul speed"
    )
    print(
        f"  machine: float32 matmul {matmul_rate(torch.device('cpu'), n=1024) / 1e12:.2f} TFLOP/s"
    )
    print(
        f"result: rank classification ({args.dataset}, batch {args.batch_size}) "
        f"{mt / mo:.2f}x lm-eval HFLM.loglikelihood (goal 3x; {flops_theirs / flops_ours:.2f}x "
        f"less matmul work), same choice on {same}/{len(examples)} items"
    )
    return 0 if same == len(examples) else 1


if __name__ == "__main__":
    sys.exit(main())
