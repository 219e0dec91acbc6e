"""Building and tokenising a SuperNI-sized mixture (756 tasks × 100 instances, the
built-in suite generated under several seeds), cold and from the cache, with the default
model's tokenizer. Prints the times against the goals (30 s cold, 2 s cached).

    python benchmarks/bench_mixture.py [--tasks 756] [--instances 100] [--num-proc 2]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time

from instructkit.mixtures.arrow import tokenize_mixture
from instructkit.mixtures.mixture import build_mixture
from instructkit.models.loading import load_tokenizer
from instructkit.tasks import TaskCollection
from instructkit.tasks.builtin import SPECS, build_task


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", type=int, default=756)
    ap.add_argument("--instances", type=int, default=100)
    ap.add_argument("--num-proc", type=int, default=2)
    ap.add_argument("--model", default="default")
    args = ap.parse_args()
    tok = load_tokenizer(args.model)

    t0 = time.perf_counter()
    tasks = []
    for k in range(args.tasks):
        spec = SPECS[k % len(SPECS)]
        task = build_task(spec, n_instances=args.instances, seed=k // len(SPECS))
        tasks.append(task.model_copy(update={"name": f"{spec.name}_s{k // len(SPECS)}"}))
    coll = TaskCollection.from_tasks(tasks)
    t_tasks = time.perf_counter() - t0
    print(f"generated {len(tasks)} tasks × {args.instances} instances in {t_tasks:.1f} s")

    with tempfile.TemporaryDirectory() as cache:
        runs = []
        for label in ("cold", "cached"):
            t0 = time.perf_counter()
            mixture = build_mixture(coll, coll.names, encoding="Def+Pos(2)", seed=0)
            ds = tokenize_mixture(
                mixture,
                tok,
                max_source_tokens=512,
                max_target_tokens=64,
                cache_dir=cache,
                num_proc=args.num_proc,
            )
            runs.append(time.perf_counter() - t0)
            print(f"{label}: built and tokenised {len(ds)} examples in {runs[-1]:.2f} s")
    n_tokens = sum(map(len, ds["source_ids"])) + sum(map(len, ds["target_ids"]))
    print(
        f"{n_tokens:,} tokens; cold {runs[0]:.1f} s (goal < 30 s), cached {runs[1]:.2f} s "
        f"(goal < 2 s), cached/cold {runs[1] / runs[0]:.3f}"
    )
    print(
        f"result: mixture of {len(ds):,} examples built and tokenised in {runs[0]:.1f} s cold, "
        f"{runs[1]:.2f} s from the cache"
    )
    return 0 if runs[0] < 30 and runs[1] < 2 else 1


if __name__ == "__main__":
    sys.exit(main())
