"""Generation on a SuperNI test task with SmolLM2-135M: our generation (batched, grouped
by shared prompt prefix whose key/value cache is computed once, rows stopped at the stop
sequence) against Hugging Face ``generate`` batched as users batch it (left padding,
the same batch size, greedy), on the same prompts, interleaved over ``--rounds``
(medians). Both predictions are cut at the stop sequence, as evaluation does. Prints
both times, the ratio, how many predictions are identical, and the matmul rate.

    python benchmarks/bench_generation.py [--task TASK] [-n 48] [--batch-size 16]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

from instructkit.evaluation.run import cut_at_stop
from instructkit.models import adapter_for, load_model
from instructkit.prompts import encode_instance
from instructkit.tasks import load_task
from instructkit.training.loop import matmul_rate


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--shared", default=str(Path(__file__).resolve().parents[2] / "shared" / "data")
    )
    ap.add_argument("--task", default="task020_mctaco_span_based_question")
    ap.add_argument("-n", type=int, default=48)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--max-new-tokens", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    path = Path(args.shared) / "superni" / "tasks" / f"{args.task}.json"
    if not path.exists():
        print(f"skipped: {path} not found")
        return 0
    torch.manual_seed(0)
    task = load_task(path, max_instances=args.n)
    adapter = adapter_for(load_model("default"))
    sources = [encode_instance(task, i, "Def+Pos(2)").source for i in task.instances]
    tokens = sum(adapter.count_tokens(s) for s in sources) / len(sources)
    print(f"{task.name}: {len(sources)} instances, prompts of {tokens:.0f} tokens on average")
    model, tok = adapter.model, adapter.tokenizer
    stop = ["\n"]

    def reference() -> list[str]:
        tok.padding_side = "left"
        out: list[str] = []
        for k in range(0, len(sources), args.batch_size):
            enc = tok(
                sources[k : k + args.batch_size],
                add_special_tokens=False,
                return_tensors="pt",
                padding=True,
            )
            with torch.no_grad():
                gen = model.generate(
                    **enc,
                    max_new_tokens=args.max_new_tokens,
                    do_sample=False,
                    pad_token_id=adapter.pad_id,
                    eos_token_id=adapter.eos_id,
                )
            width = enc.input_ids.shape[1]
            out += [
                cut_at_stop(t, stop)
                for t in tok.batch_decode(gen[:, width:], skip_special_tokens=True)
            ]
        return out

    def ours() -> list[str]:
        return [
            cut_at_stop(t, stop)
            for t in adapter.generate(
                sources, max_new_tokens=args.max_new_tokens, batch_size=args.batch_size, stop=stop
            )
        ]

    reference()  # warm-up
    t_ref, t_ours = [], []
    for _ in range(args.rounds):
        t0 = time.perf_counter()
        theirs = reference()
        t_ref.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        mine = ours()
        t_ours.append(time.perf_counter() - t0)
    same = sum(a == b for a, b in zip(theirs, mine, strict=True))
    a, b = statistics.median(t_ref), statistics.median(t_ours)
    rate = matmul_rate(torch.device("cpu"), n=1024) / 1e12
    print(
        f"batched generate (left padding, batch {args.batch_size}) {a:.1f} s, ours {b:.1f} s, "
        f"ratio {a / b:.1f}x (medians of {args.rounds}); identical predictions "
        f"{same}/{len(sources)}; float32 matmul {rate:.2f} TFLOP/s"
    )
    print(
        f"result: generation {a / b:.1f}x batched generate (left padding, batch "
        f"{args.batch_size}), identical predictions {same}/{len(sources)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
