"""Model cards, and sharing tuned models and mixtures on the Hugging Face Hub.

Every tuned model folder gets a ``README.md`` model card (``huggingface_hub.ModelCard``):
the base model, the tuning method, the split, the mixture, the training settings and the
held-out metrics beside the baselines. :func:`push_model` uploads a finished model folder
(its manifest is written last, so a half-saved model is refused); :func:`save_mixture`
writes a training mixture as a ``datasets`` folder and can push it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from instructkit.errors import ConfigError, InstructkitError
from instructkit.experiments.config import ExperimentConfig


def _overall_rows(rows: dict[str, dict[str, Any]]) -> list[str]:
    metrics = sorted({m for r in rows.values() for m in r.get("overall", {}) if m != "n"})
    metrics = [m for m in ("rougeL", "exact_match", "accuracy") if m in metrics]
    if not metrics:
        return []
    out = [
        "| system | " + " | ".join(metrics) + " |",
        "|---" * (len(metrics) + 1) + "|",
    ]
    for system, r in rows.items():
        vals = [r.get("overall", {}).get(m) for m in metrics]
        cells = [f"{v:.1f}" if isinstance(v, int | float) else "–" for v in vals]
        out.append(f"| {system} | " + " | ".join(cells) + " |")
    return out


def model_card(
    config: ExperimentConfig,
    *,
    base_model: str,
    split: Any,
    train_examples: int | None = None,
    rows: dict[str, dict[str, Any]] | None = None,
) -> str:
    """The model card of a tuned model, as Markdown with the Hub's YAML metadata."""
    from huggingface_hub import ModelCard, ModelCardData

    method = config.train.tuning.method
    data = ModelCardData(
        base_model=base_model,
        library_name="peft" if method != "full" else "transformers",
        tags=["instructkit", "instruction-tuning", method],
    )
    t = config.train
    lines = [
        f"# {config.name}",
        "",
        f"`{base_model}` instruction-tuned with instructkit "
        f"({method} fine-tuning) and evaluated zero-shot on held-out tasks.",
        "",
        "## Training",
        "",
        f"- Split: `{split.protocol}`; {len(split.train)} training tasks, "
        f"{len(split.eval)} held-out tasks ({', '.join(split.eval[:20])}"
        f"{', ...' if len(split.eval) > 20 else ''}).",
        f"- Mixture: `{config.mixture.rate}` rates"
        + (f", cap {config.mixture.cap}" if config.mixture.cap else "")
        + (f", temperature {config.mixture.temperature}" if config.mixture.temperature != 1 else "")
        + f", up to {config.tasks.train_instances_per_task} instances per task"
        + (f", {train_examples} examples" if train_examples is not None else "")
        + ".",
        f"- Prompt: `{config.prompt.encoding}`"
        + (
            f"; training encodings {', '.join(config.prompt.train_encodings)}"
            if config.prompt.train_encodings
            else ""
        )
        + ".",
        f"- {t.steps} steps of batch {t.batch_size} × {t.grad_accum} accumulation, learning "
        f"rate {t.learning_rate} ({t.schedule}, {t.warmup_steps} warm-up steps), "
        f"{t.mixed_precision} precision, seed {t.seed}.",
        "",
    ]
    table = _overall_rows(rows or {})
    if table:
        lines += [
            "## Held-out results (×100)",
            "",
            f"Evaluated with `{', '.join(config.eval.templates or [config.prompt.encoding])}`, "
            f"{config.tasks.eval_instances_per_task} instances per task; the heuristic "
            "baselines answer the same prompts.",
            "",
            *table,
            "",
        ]
    lines += [
        "## Reproduce",
        "",
        "The run's resolved config is `config.yaml` in the run folder: "
        "`instructkit run config.yaml`.",
        "",
    ]
    return str(ModelCard(f"---\n{data.to_yaml()}\n---\n\n" + "\n".join(lines)))


def write_model_card(model_dir: Path, card: str) -> Path:
    path = Path(model_dir) / "README.md"
    path.write_text(card, encoding="utf-8")
    return path


def push_model(model_dir: str | Path, repo_id: str, *, private: bool = False) -> str:
    """Upload a finished model folder (weights or adapter, tokenizer, model card) to the
    Hub; returns the repository URL."""
    from huggingface_hub import HfApi

    from instructkit.artifacts import manifest_path

    folder = Path(model_dir)
    if not folder.is_dir():
        raise ConfigError(folder, None, "no such model folder")
    has_model = any((folder / f).is_file() for f in ("config.json", "adapter_config.json"))
    if not has_model or not manifest_path(folder).is_file():
        raise ConfigError(
            folder, None, "not a finished tuned model (its manifest is written last; rerun it)"
        )
    api = HfApi()
    try:
        url = api.create_repo(repo_id, exist_ok=True, private=private)
        api.upload_folder(
            folder_path=str(folder),
            repo_id=repo_id,
            ignore_patterns=["*.stale-*", "*.tmp", "*.tmp/*"],
            commit_message="Upload a model tuned with instructkit",
        )
    except Exception as e:  # network, authentication, permissions: one line
        raise InstructkitError(f"cannot push {folder} to {repo_id}: {e}".splitlines()[0]) from None
    return str(url)


def save_mixture(
    examples: list[Any], output: str | Path | None, *, push_to_hub: str | None = None
) -> Any:
    """The mixture's examples as a ``datasets.Dataset`` (task, template, source, target,
    instance id), written to ``output`` and/or pushed to the Hub."""
    import datasets

    ds = datasets.Dataset.from_list(
        [
            {
                "task": e.task,
                "instance_id": e.instance_id,
                "template": e.template,
                "source": e.source,
                "target": e.target,
            }
            for e in examples
        ]
    )
    if output is not None:
        ds.save_to_disk(str(output))
    if push_to_hub:
        try:
            ds.push_to_hub(push_to_hub)
        except Exception as e:  # network, authentication: one line
            raise InstructkitError(
                f"cannot push the mixture to {push_to_hub}: {e}".splitlines()[0]
            ) from None
    return ds
