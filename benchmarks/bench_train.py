"""Training throughput on SmolLM2-135M, bf16, this CPU: our loop with padding and with
packing against TRL's ``SFTTrainer`` (what users pick for supervised fine-tuning) on the
same token sequences (prompt masked out of the loss, as completion-only SFT does), the
same model, batch size and learning rate, in the same script. Reports useful target
tokens per second (padding excluded), the ratio to the
Trainer, and the share of the CPU's bf16 matrix-multiply rate (measured here) that the
training reaches, counting 6 × parameters × (non-padding) tokens per step.

    python benchmarks/bench_train.py [--steps 6] [--batch-size 8]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time

import torch

from instructkit.mixtures.mixture import build_mixture
from instructkit.models import Lengths, adapter_for, load_model
from instructkit.tasks.builtin import builtin_tasks
from instructkit.training import TrainConfig, train
from instructkit.training.loop import matmul_rate, pack_examples


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=6)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--pack-length", type=int, default=1024)
    args = ap.parse_args()
    torch.manual_seed(0)
    rate = matmul_rate(torch.device("cpu"), "bf16", n=2048)
    print(f"bf16 matrix multiply: {rate / 1e12:.2f} TFLOP/s")

    tasks = builtin_tasks(n_instances=40)
    examples = build_mixture(tasks, tasks.names, max_per_task=40, seed=0).examples
    lengths = Lengths(512, 64)
    results: dict[str, tuple[float, float]] = {}

    def ours(label: str, cfg: TrainConfig) -> None:
        adapter = adapter_for(load_model("default"))
        params = sum(p.numel() for p in adapter.model.parameters())
        warm = cfg.model_copy(update={"steps": 1})
        with tempfile.TemporaryDirectory() as d:
            train(adapter, examples, warm, d, show_progress=False)  # warm-up step
        adapter = adapter_for(load_model("default"))
        with tempfile.TemporaryDirectory() as d:
            r = train(adapter, examples, cfg, d, show_progress=False)
        if cfg.packing:
            rows = pack_examples(adapter, examples, lengths, cfg.pack_length)
            per_step = rows[: cfg.steps * cfg.batch_size]
            tokens = sum(len(s) + len(t) for row in per_step for s, t in row)
        else:
            used = examples[: cfg.steps * cfg.batch_size]
            tokens = sum(
                len(s) + len(t)
                for s, t in (adapter.example_ids(e.source, e.target, lengths) for e in used)
            )
        results[label] = (r.target_tokens / r.seconds, 6 * params * tokens / r.seconds / rate)

    base = TrainConfig(
        steps=args.steps,
        batch_size=args.batch_size,
        learning_rate=1e-4,
        warmup_steps=0,
        mixed_precision="bf16",
        save_every=0,
    )
    ours("ours, padding", base)
    packed_batch = max(1, args.batch_size * 200 // args.pack_length)
    ours(
        "ours, packing",
        base.model_copy(
            update={"packing": True, "pack_length": args.pack_length, "batch_size": packed_batch}
        ),
    )

    # TRL's SFTTrainer on the same sequences (padding; loss on the targets only).
    import datasets
    from transformers import TrainerCallback
    from trl import SFTConfig, SFTTrainer

    adapter = adapter_for(load_model("default"))
    params = sum(p.numel() for p in adapter.model.parameters())
    rows = []
    for e in examples[: (args.steps + 1) * args.batch_size]:
        src, tgt = adapter.example_ids(e.source, e.target, lengths)
        rows.append({"input_ids": src + tgt, "labels": [-100] * len(src) + tgt})

    with tempfile.TemporaryDirectory() as d:
        targs = SFTConfig(
            output_dir=d,
            per_device_train_batch_size=args.batch_size,
            max_steps=args.steps + 1,
            learning_rate=1e-4,
            lr_scheduler_type="constant",
            bf16=True,
            use_cpu=True,
            report_to=[],
            save_strategy="no",
            logging_strategy="no",
            dataloader_num_workers=0,
            seed=0,
            dataset_kwargs={"skip_prepare_dataset": True},
            remove_unused_columns=False,
        )
        trainer = SFTTrainer(
            model=adapter.model,
            args=targs,
            train_dataset=datasets.Dataset.from_list(rows),
            processing_class=adapter.tokenizer,
        )
        step_times: list[float] = []

        class Clock(TrainerCallback):
            def on_step_begin(self, *a, **k):  # type: ignore[no-untyped-def]
                self.t = time.perf_counter()

            def on_step_end(self, *a, **k):  # type: ignore[no-untyped-def]
                step_times.append(time.perf_counter() - self.t)

        trainer.add_callback(Clock())
        trainer.train()
    seconds = sum(step_times[1:])  # the first step is a warm-up, as for ours
    timed = rows[args.batch_size : (args.steps + 1) * args.batch_size]
    target = sum(sum(1 for x in r["labels"] if x != -100) for r in timed)
    tokens = sum(len(r["input_ids"]) for r in timed)
    results["trl.SFTTrainer"] = (target / seconds, 6 * params * tokens / seconds / rate)

    ref = results["trl.SFTTrainer"][0]
    pad, packed = results["ours, padding"][0] / ref, results["ours, packing"][0] / ref
    for label, (tps, floor) in results.items():
        print(
            f"{label:22s} {tps:8.1f} target tokens/s  {tps / ref:4.2f}x SFTTrainer  "
            f"{100 * floor:5.1f}% of the bf16 matmul rate"
        )
    print(
        f"result: training {pad:.2f}x (padding) and {packed:.2f}x (packing) the target "
        f"tokens/s of trl.SFTTrainer; bf16 matmul {rate / 1e12:.2f} TFLOP/s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
