"""The training loop: Hugging Face Accelerate drives devices, mixed precision and
gradient accumulation; checkpoints let an interrupted run resume where it stopped.

The data order is fixed by the mixture's seed, so the stream position is the number of
optimizer steps done times the examples per step; resuming skips exactly those.
"""

from __future__ import annotations

import copy
import json
import math
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import torch
from accelerate import Accelerator
from accelerate.utils import set_seed
from rich.progress import Progress
from transformers import get_scheduler

from instructkit._faults import reached
from instructkit.errors import ConfigError
from instructkit.models.adapters import DecoderOnlyAdapter, FamilyAdapter, Lengths
from instructkit.progress import bar_columns
from instructkit.prompts.example import PromptedExample
from instructkit.training.config import TrainConfig


@dataclass
class TrainResult:
    """What a training run did."""

    steps: int
    losses: list[float] = field(default_factory=list)
    seconds: float = 0.0
    target_tokens: int = 0
    tokens: int = 0  # every token the model processed (source and target, no padding)
    matmul_rate: float = 0.0  # this machine's measured matrix-multiply FLOP/s
    resumed_from: int = 0
    evaluations: dict[int, dict[str, float]] = field(default_factory=dict)


def _latest_checkpoint(out_dir: Path) -> Path | None:
    ckpts = sorted(out_dir.glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[1]))
    done = [c for c in ckpts if (c / "trainer_state.json").exists()]
    return done[-1] if done else None


def train(
    adapter: FamilyAdapter,
    examples: Sequence[PromptedExample],
    config: TrainConfig,
    out_dir: str | Path,
    *,
    show_progress: bool = True,
    evaluate: Callable[[FamilyAdapter, int], dict[str, float]] | None = None,
) -> TrainResult:
    """Fine-tune ``adapter.model`` on ``examples`` (cycled in order) for ``config.steps``.

    Checkpoints go to ``out_dir/checkpoint-<step>``; if one exists the run resumes from it.
    ``evaluate(adapter, step)`` runs every ``config.eval_every`` steps; its metrics and
    the training loss go to the configured trackers and to ``result.evaluations``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if config.steps == 0 or not examples:
        return TrainResult(steps=0)
    set_seed(config.seed)
    check_trackers(config.log_with)
    accelerator = Accelerator(
        mixed_precision=config.mixed_precision,
        gradient_accumulation_steps=config.grad_accum,
        cpu=not torch.cuda.is_available(),
        log_with=config.log_with or None,
        project_dir=str(out),
        # The loop counts global optimizer steps itself: one scheduler step per step,
        # whatever the number of processes.
        step_scheduler_with_optimizer=False,
    )
    if config.log_with:
        # Trackers take flat hyper-parameters (TensorBoard's add_hparams refuses nesting);
        # W&B writes its files into the run's checkpoint folder.
        accelerator.init_trackers(
            "instructkit",
            config=flat_config(config.model_dump(mode="json")),
            init_kwargs={"wandb": {"dir": str(out)}},
        )
    model = adapter.model
    model.train()
    optimizer = torch.optim.AdamW(
        [p for p in model.parameters() if p.requires_grad],
        lr=config.learning_rate,
        weight_decay=config.weight_decay,
    )
    scheduler = get_scheduler(
        config.schedule,
        optimizer,
        num_warmup_steps=config.warmup_steps,
        num_training_steps=config.steps,
    )
    model, optimizer, scheduler = accelerator.prepare(model, optimizer, scheduler)
    lengths = Lengths(config.max_source_tokens, config.max_target_tokens, config.truncate_source)
    per_step = config.batch_size * config.grad_accum * accelerator.num_processes
    result = TrainResult(steps=config.steps)

    start_step = 0
    ckpt = _latest_checkpoint(out)
    if ckpt is not None:
        accelerator.load_state(str(ckpt))
        state = json.loads((ckpt / "trainer_state.json").read_text())
        start_step, result.losses = state["step"], state["losses"]
        result.target_tokens = state.get("target_tokens", 0)
        result.resumed_from = start_step

    rows: list[list[tuple[list[int], list[int]]]] = []
    if config.packing:
        if adapter.family != "decoder-only":
            raise ConfigError(None, "train.packing", "packing applies to decoder-only models")
        rows = pack_examples(adapter, examples, lengths, config.pack_length)

    def micro_batch(step: int, micro: int) -> dict[str, torch.Tensor]:
        # The data position is a function of the step: resuming at a step resumes the data.
        first = (
            step * per_step
            + (micro * accelerator.num_processes + accelerator.process_index) * config.batch_size
        )
        if config.packing:
            chunk_rows = [rows[(first + k) % len(rows)] for k in range(config.batch_size)]
            batch = cast(DecoderOnlyAdapter, adapter).collate_packed(chunk_rows, config.pack_length)
        else:
            chunk = [examples[(first + k) % len(examples)] for k in range(config.batch_size)]
            batch = adapter.collate([e.source for e in chunk], [e.target for e in chunk], lengths)
        return {k: v.to(accelerator.device) for k, v in batch.items()}

    params = sum(p.numel() for p in model.parameters())
    result.matmul_rate = matmul_rate(next(model.parameters()).device, config.mixed_precision)
    t0 = time.perf_counter()
    columns = bar_columns(
        "training",
        "steps · loss {task.fields[loss]:.3f}",
        "· {task.fields[tps]:.0f} tokens/s ({task.fields[ttps]:.0f} target)",
        "· {task.fields[share]:.0%} of matmul peak",
    )
    with Progress(*columns, disable=not show_progress or not accelerator.is_main_process) as bar:
        task_id = bar.add_task(
            "train",
            total=config.steps,
            completed=start_step,
            loss=math.nan,
            tps=0.0,
            ttps=0.0,
            share=0.0,
        )
        for step in range(start_step, config.steps):
            batches = [micro_batch(step, m) for m in range(config.grad_accum)]
            local = torch.tensor(
                sum(adapter.count_loss_tokens(b) for b in batches), device=accelerator.device
            )
            step_tokens = int(accelerator.reduce(local, reduction="sum"))
            local_all = torch.tensor(
                sum(_processed_tokens(adapter, b) for b in batches), device=accelerator.device
            )
            result.tokens += int(accelerator.reduce(local_all, reduction="sum"))
            loss_sum = torch.zeros((), device=accelerator.device)
            for batch in batches:
                with accelerator.accumulate(model):
                    summed = adapter.forward_loss(model, batch)
                    # Gradients are averaged over processes: scale so the step's loss is
                    # the mean over all its target tokens, however the step is split.
                    loss = summed * accelerator.num_processes / max(step_tokens, 1)
                    accelerator.backward(loss)
                    if accelerator.sync_gradients:
                        accelerator.clip_grad_norm_(model.parameters(), config.max_grad_norm)
                    optimizer.step()
                    if accelerator.sync_gradients:
                        scheduler.step()
                    optimizer.zero_grad()
                loss_sum += summed.detach().float()
            step_loss = float(accelerator.reduce(loss_sum, reduction="sum")) / max(step_tokens, 1)
            if not math.isfinite(step_loss):
                # Nothing of this step is saved: the last checkpoint on disk stays the last
                # good state, and no model is written.
                raise ConfigError(
                    None,
                    "train",
                    f"the loss is {step_loss} at step {step + 1}: training stopped "
                    f"(learning_rate {config.learning_rate}; lower it, or check the data)",
                )
            result.losses.append(step_loss)
            result.target_tokens += step_tokens
            elapsed = max(time.perf_counter() - t0, 1e-9)
            tps = result.tokens / elapsed
            # Training costs about 6 FLOPs per parameter and token (forward and backward).
            share = 6 * params * tps / accelerator.num_processes / max(result.matmul_rate, 1.0)
            bar.update(
                task_id,
                advance=1,
                loss=step_loss,
                tps=tps,
                ttps=result.target_tokens / elapsed,
                share=share,
            )
            done = step + 1
            logs: dict[str, float] = {
                "loss": step_loss,
                "lr": scheduler.get_last_lr()[0],
                "tokens_per_second": tps,
                "target_tokens_per_second": result.target_tokens / elapsed,
                "matmul_share": share,
            }
            if evaluate is not None and config.eval_every and done % config.eval_every == 0:
                model.eval()
                metrics = evaluate(adapter_view(adapter, accelerator.unwrap_model(model)), done)
                model.train()
                result.evaluations[done] = metrics
                logs.update({f"eval/{k}": v for k, v in metrics.items()})
            if config.log_with:
                accelerator.log(logs, step=done)
            if config.save_every and done % config.save_every == 0 and done < config.steps:
                _save_checkpoint(accelerator, out, done, result.losses, result.target_tokens)
    result.seconds = time.perf_counter() - t0
    if config.log_with:
        accelerator.end_training()
    accelerator.wait_for_everyone()
    # Without Accelerate's autocast wrapper: the tuned model computes in its own precision,
    # as the untuned model did and as the saved model does once loaded again.
    adapter.model = accelerator.unwrap_model(model, keep_fp32_wrapper=False)
    adapter.model.eval()
    return result


def flat_config(config: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """A nested config as ``{"a.b": value}`` with scalar values (lists become strings), as
    experiment trackers take hyper-parameters."""
    out: dict[str, Any] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out |= flat_config(value, f"{name}.")
        elif isinstance(value, list | tuple):
            out[name] = ", ".join(str(v) for v in value)
        elif value is None:
            out[name] = "none"
        else:
            out[name] = value
    return out


def check_trackers(names: Sequence[str]) -> None:
    """A tracker whose package is not installed is a one-line error naming what to
    install (Accelerate would fail later, or log nothing)."""
    import accelerate.utils as au

    for name in names:
        if name == "all":
            continue
        available = getattr(au, f"is_{name}_available", None)
        if available is not None and not available():
            package = TRACKER_PACKAGES.get(name, name)
            raise ConfigError(
                None,
                "train.log_with",
                f"tracker '{name}' needs its package: pip install {package} "
                "(tensorboard and wandb come with instructkit[trackers])",
            )


TRACKER_PACKAGES = {"comet_ml": "comet-ml"}


def _processed_tokens(adapter: FamilyAdapter, batch: dict[str, torch.Tensor]) -> int:
    """Tokens a batch feeds the model, padding excluded (encoder and decoder tokens for
    encoder-decoder models)."""
    if "attention_mask" in batch:
        n = int(batch["attention_mask"].sum())
    else:  # packed rows: padding is labelled -100 and sits at position 0 onwards
        n = int((batch["input_ids"] != adapter.pad_id).sum())
    if adapter.family == "encoder-decoder":
        n += int((batch["labels"] != -100).sum())
    return n


_RATES: dict[tuple[str, str], float] = {}


def matmul_rate(device: torch.device, precision: str = "no", n: int = 512) -> float:
    """This machine's measured matrix-multiply rate (FLOP/s) on ``device`` in the training
    precision, measured once per process (a few milliseconds)."""
    key = (str(device), precision)
    if key not in _RATES:
        dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision, torch.float32)
        if device.type == "cpu" and dtype == torch.float16:
            dtype = torch.float32
        a = torch.randn(n, n, dtype=dtype, device=device)
        b = torch.randn(n, n, dtype=dtype, device=device)
        a @ b
        reps = 8
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        t = time.perf_counter()
        for _ in range(reps):
            a @ b
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        _RATES[key] = 2 * n**3 * reps / max(time.perf_counter() - t, 1e-9)
    return _RATES[key]


def adapter_view(adapter: FamilyAdapter, model: Any) -> FamilyAdapter:
    """The same adapter around another model object (e.g. the unwrapped training model)."""
    view = copy.copy(adapter)
    view.model = model
    return view


def pack_examples(
    adapter: FamilyAdapter,
    examples: Sequence[PromptedExample],
    lengths: Lengths,
    pack_length: int,
) -> list[list[tuple[list[int], list[int]]]]:
    """Greedy packing in stream order: examples are added to a row while they fit."""
    rows: list[list[tuple[list[int], list[int]]]] = []
    row: list[tuple[list[int], list[int]]] = []
    used = 0
    for e in examples:
        src, tgt = adapter.example_ids(e.source, e.target, lengths)
        if len(src) + len(tgt) > pack_length:  # keep the query end and the target
            src = src[len(src) + len(tgt) - pack_length :]
        n = len(src) + len(tgt)
        if row and used + n > pack_length:
            rows.append(row)
            row, used = [], 0
        row.append((src, tgt))
        used += n
    if row:
        rows.append(row)
    return rows


def _save_checkpoint(
    accelerator: Accelerator, out: Path, step: int, losses: list[float], target_tokens: int
) -> None:
    path = out / f"checkpoint-{step}"
    accelerator.save_state(str(path), safe_serialization=True)
    reached("checkpoint-state-saved")
    if accelerator.is_main_process:
        # trainer_state.json is written last: a checkpoint without it is incomplete.
        state = {"step": step, "losses": losses, "target_tokens": target_tokens}
        (path / "trainer_state.json").write_text(json.dumps(state))
        reached("checkpoint-complete")
        for old in out.glob("checkpoint-*"):
            if old != path:
                shutil.rmtree(old, ignore_errors=True)


def save_model(adapter: FamilyAdapter, out_dir: str | Path) -> Path:
    """Save the tuned model and its tokenizer as safetensors."""
    path = Path(out_dir)
    adapter.model.save_pretrained(path)
    adapter.tokenizer.save_pretrained(path)
    return path
