"""How time grows with the number of tasks, instances and the model, measured at 1x, 4x
and 16x on this machine (the README's scale note is written from this output):

- building and tokenising the training mixture: 47, 188 and 752 tasks × 100 instances
  (the built-in suite generated under several seeds);
- generation on held-out prompts (SmolLM2-135M, batch 16, 16 new tokens): 16, 64 and
  256 prompts;
- training steps of 8 examples: the tiny test model, SmolLM2-135M, and their parameter
  ratio, with the measured matmul rate beside.

    python benchmarks/bench_scale.py [--quick]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time

import torch

from instructkit.mixtures.arrow import tokenize_mixture
from instructkit.mixtures.mixture import build_mixture
from instructkit.models import adapter_for, load_model
from instructkit.prompts.render import render
from instructkit.tasks import TaskCollection
from instructkit.tasks.builtin import SPECS, build_task, builtin_tasks
from instructkit.training import TrainConfig, train
from instructkit.training.loop import matmul_rate


def suite(n_tasks: int, n_instances: int) -> TaskCollection:
    tasks = []
    for k in range(n_tasks):
        spec = SPECS[k % len(SPECS)]
        task = build_task(spec, n_instances=n_instances, seed=k // len(SPECS))
        tasks.append(task.model_copy(update={"name": f"{spec.name}_s{k // len(SPECS)}"}))
    return TaskCollection.from_tasks(tasks)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1x and 4x only")
    args = ap.parse_args()
    scales = (1, 4) if args.quick else (1, 4, 16)
    torch.manual_seed(0)
    adapter = adapter_for(load_model("default"))
    print("scale | mixture (tasks × 100): seconds | generation (prompts): seconds")
    tasks_all = builtin_tasks(n_instances=40)
    prompts_all = [render("superni:Def+Pos(2)", t, i) for t in tasks_all for i in t.instances]
    rows = []
    for s in scales:
        coll = suite(47 * s, 100)
        with tempfile.TemporaryDirectory() as cache:
            t = time.perf_counter()
            mixture = build_mixture(coll, coll.names, encoding="Def+Pos(2)", seed=0)
            tokenize_mixture(
                mixture, adapter.tokenizer, max_source_tokens=512, max_target_tokens=64,
                cache_dir=cache, num_proc=2,
            )  # fmt: skip
            t_mix = time.perf_counter() - t
        prompts = [e.source for e in prompts_all[: 16 * s]]
        t = time.perf_counter()
        adapter.generate(prompts, max_new_tokens=16, batch_size=16, stop=["\n"])
        t_gen = time.perf_counter() - t
        rows.append((s, len(coll), t_mix, len(prompts), t_gen))
        print(f"{s:>3}x | {len(coll):4d} tasks: {t_mix:6.1f} s | {len(prompts):4d}: {t_gen:6.1f} s")

    examples = [e for e in prompts_all if e.target][:64]
    rate = matmul_rate(torch.device("cpu"), "bf16", n=1024)
    for name in ("tiny", "default"):
        ad = adapter_for(load_model(name, seed=0))
        params = sum(p.numel() for p in ad.model.parameters())
        cfg = TrainConfig(
            steps=4, batch_size=8, learning_rate=1e-4, warmup_steps=0, mixed_precision="bf16",
            save_every=0,
        )  # fmt: skip
        with tempfile.TemporaryDirectory() as d:
            r = train(ad, examples, cfg, d, show_progress=False)
        print(
            f"training {name} ({params / 1e6:.1f}M parameters): {r.seconds / cfg.steps:.2f} s "
            f"per step of 8, {r.tokens / r.seconds:.0f} tokens/s, "
            f"{6 * params * r.tokens / r.seconds / rate:.0%} of the bf16 matmul rate "
            f"({rate / 1e12:.2f} TFLOP/s)"
        )
    first, last = rows[0], rows[-1]
    print(
        f"result: from 1x to {last[0]}x, mixture time x{last[2] / first[2]:.1f} "
        f"(tasks x{last[1] / first[1]:.0f}), generation time x{last[4] / first[4]:.1f} "
        f"(prompts x{last[3] / first[3]:.0f})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
