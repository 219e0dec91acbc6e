"""Generation on a SuperNI test task with SmolLM2-135M: our generation (batched, grouped
by shared prompt prefix whose key/value cache is computed once, rows stopped at the stop
sequence) against a plain batch-1 Hugging Face ``generate`` loop on the same prompts.
Both predictions are cut at the stop sequence, as evaluation does. Prints both times, the
ratio, and how many predictions are identical.

    python benchmarks/bench_generation.py [--task TASK] [-n 48] [--batch-size 16]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

from instructkit.evaluation.run import cut_at_stop
from instructkit.models import adapter_for, load_model
from instructkit.prompts import encode_instance
from instructkit.tasks import load_task


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--shared", default=str(Path(__file__).resolve().parents[2] / "shared" / "data")
    )
    ap.add_argument("--task", default="task020_mctaco_span_based_question")
    ap.add_argument("-n", type=int, default=48)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--max-new-tokens", type=int, default=16)
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

    def plain(source: str) -> str:
        ids = tok(source, add_special_tokens=False, return_tensors="pt").input_ids
        out = model.generate(
            input_ids=ids,
            attention_mask=torch.ones_like(ids),
            max_new_tokens=args.max_new_tokens,
            do_sample=False,
            pad_token_id=adapter.pad_id,
            eos_token_id=adapter.eos_id,
        )
        return tok.decode(out[0, ids.shape[1] :], skip_special_tokens=True)

    plain(sources[0])  # warm-up
    t0 = time.perf_counter()
    one = [cut_at_stop(plain(s), stop) for s in sources]
    t_one = time.perf_counter() - t0
    t0 = time.perf_counter()
    batched = [
        cut_at_stop(t, stop)
        for t in adapter.generate(
            sources, max_new_tokens=args.max_new_tokens, batch_size=args.batch_size, stop=stop
        )
    ]
    t_batched = time.perf_counter() - t0
    same = sum(a == b for a, b in zip(one, batched, strict=True))
    print(
        f"plain batch-1 generate loop {t_one:.1f} s, ours (batch {args.batch_size}) "
        f"{t_batched:.1f} s, speed-up {t_one / t_batched:.1f}x; identical predictions "
        f"{same}/{len(sources)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
