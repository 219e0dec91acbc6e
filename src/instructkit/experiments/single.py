"""The single run: zero-shot evaluation on held-out tasks before and after instruction
tuning on the training tasks, beside the copy-input and copy-demo baselines.

Resumable: predictions already in the run folder are not regenerated, a finished
fine-tune is loaded rather than redone, and an unfinished one resumes from its last
checkpoint.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from accelerate.utils import set_seed
from rich.console import Console
from rich.text import Text

from instructkit._faults import reached
from instructkit.artifacts import claim, write_manifest
from instructkit.evaluation.api import add_rank_accuracy, by_template
from instructkit.evaluation.baselines import ALL_BASELINES
from instructkit.evaluation.evaluator import Evaluator, GenerationConfig
from instructkit.evaluation.rank import chance_accuracy
from instructkit.evaluation.results import Score, scores_from_metrics
from instructkit.evaluation.run import aggregate, example_baseline_predictions
from instructkit.experiments.config import ExperimentConfig, dump_config
from instructkit.experiments.plan import (
    eval_context,
    load_tasks,
    make_mixture,
    make_split,
    training_tasks,
)
from instructkit.experiments.report import per_task_table, render_markdown, results_table
from instructkit.mixtures.audit import audit_mixture, drop_overlapping
from instructkit.mixtures.split import Split
from instructkit.models.adapters import FamilyAdapter, adapter_for
from instructkit.models.loading import load_model, load_pretrained
from instructkit.prompts.example import PromptedExample
from instructkit.prompts.render import canonical_id, render_instances
from instructkit.tasks.collection import TaskCollection
from instructkit.tasks.superni import write_json_atomic

__all__ = [
    "RunResult",
    "load_tasks",
    "make_mixture",
    "make_split",
    "run_experiment",
    "score_examples",
    "train_experiment",
    "training_tasks",
    "tune",
]
from instructkit.training.loop import save_model, train
from instructkit.training.methods import apply_method, load_adapter, trainable_parameters


@dataclass
class RunResult:
    """Rows of the results table (system → metrics) and where everything was written."""

    run_dir: Path
    rows: dict[str, dict[str, Any]] = field(default_factory=dict)
    split: Split | None = None
    seconds: float = 0.0
    train_losses: list[float] = field(default_factory=list)
    parameters: int = 0  # of the pretrained model (embeddings included, as SuperNI counts)
    scores: list[Score] = field(default_factory=list)  # every number, typed


def training_key(config: ExperimentConfig) -> dict[str, Any]:
    """What the tuned weights depend on: the config less naming, evaluation, logging and
    checkpoint frequency. The tuned model and its checkpoints are keyed by it."""
    data = config.model_dump(mode="json")
    for k in ("name", "output_dir", "eval", "save_model"):
        data.pop(k, None)
    for k in ("eval_every", "log_with", "save_every"):
        data["train"].pop(k, None)
    data["audit"] = {k: data["audit"][k] for k in ("drop_overlaps", "ngram")}
    # A model loaded from a local folder (a tuned model, as prompt tuning starts from): what
    # is in the folder, not only its path.
    folder = Path(config.model.name)
    if folder.is_dir():
        from instructkit.artifacts import fingerprint, read_manifest

        manifest = read_manifest(folder)
        data["model"]["weights"] = (
            manifest["fingerprint"]
            if manifest and "fingerprint" in manifest
            else fingerprint(
                sorted(
                    (p.name, p.stat().st_size, p.stat().st_mtime_ns)
                    for p in folder.iterdir()
                    if p.is_file()
                )
            )
        )
    return data


def _saved_losses(run_dir: Path) -> list[float]:
    path = run_dir / "train_state.json"
    return list(json.loads(path.read_text()).get("losses", [])) if path.exists() else []


def tune(
    config: ExperimentConfig,
    tasks: TaskCollection,
    split: Split,
    adapter: FamilyAdapter,
    *,
    console: Console,
    show_progress: bool = True,
    evaluate: Callable[[FamilyAdapter, int], dict[str, float]] | None = None,
) -> tuple[FamilyAdapter, list[float]]:
    """Instruction-tune on the split's training tasks (or load the finished result):
    builds the mixture, applies the tuning method, trains with resumable checkpoints, and
    saves the model (or its adapter) to ``<run>/model``. Returns the tuned adapter and the
    training losses."""
    run_dir = config.run_dir
    final_dir = run_dir / "model"
    key = training_key(config)
    notify = console.print
    # A model or checkpoints trained under another config are set aside, never reused.
    claim(final_dir, key, notify=notify, write=False)
    claim(run_dir / "checkpoints", key, notify=notify, write=False)
    if (final_dir / "adapter_config.json").exists():
        console.print(f"loading the tuned adapter from {final_dir}")
        adapter.model = load_adapter(adapter.model, final_dir)
        adapter.model.eval()
        return adapter, _saved_losses(run_dir)
    if (final_dir / "config.json").exists():
        console.print(f"loading the tuned model from {final_dir}")
        return adapter_for(load_pretrained(str(final_dir))), _saved_losses(run_dir)
    examples = make_mixture(config, tasks, split, adapter.count_tokens).examples
    if config.audit.drop_overlaps:
        report = audit_mixture(examples, [tasks[t] for t in split.eval], n=config.audit.ngram)
        examples = drop_overlapping(examples, report)
        console.print(
            f"dropped {len(report.overlapping_train)} training examples that "
            f"overlap evaluation instances ({config.audit.ngram}-grams)"
        )
    n_tasks = len(training_tasks(config, split))
    console.print(f"training mixture: {len(examples)} examples from {n_tasks} tasks")
    adapter.model = apply_method(adapter.model, config.train.tuning)
    if config.train.tuning.method != "full":
        tuned, total = trainable_parameters(adapter.model)
        console.print(f"{config.train.tuning.method}: {tuned:,} of {total:,} parameters trained")
    write_manifest(run_dir / "checkpoints", key)
    tr = train(
        adapter,
        examples,
        config.train,
        run_dir / "checkpoints",
        show_progress=show_progress,
        evaluate=evaluate,
    )
    write_json_atomic(
        run_dir / "train_state.json",
        {
            "steps": tr.steps,
            "losses": tr.losses,
            "seconds": tr.seconds,
            "target_tokens": tr.target_tokens,
            "tokens": tr.tokens,
            "tokens_per_second": tr.tokens / tr.seconds if tr.seconds else None,
            "matmul_rate_tflops": round(tr.matmul_rate / 1e12, 4),
            "resumed_from": tr.resumed_from,
            "evaluations": {str(k): v for k, v in tr.evaluations.items()},
        },
    )
    if config.save_model:
        # Written beside and renamed, its key written last: a half-saved model is never
        # taken for a finished one.
        tmp = run_dir / "model.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        _name_base_model(adapter.model, config.model.name)
        save_model(adapter, tmp)
        reached("model-saved")
        shutil.rmtree(final_dir, ignore_errors=True)
        tmp.replace(final_dir)
        reached("model-renamed")
        write_manifest(final_dir, key)
        _card(config, split, final_dir, len(examples))
        # The saved model supersedes the optimizer checkpoints of this run.
        shutil.rmtree(run_dir / "checkpoints", ignore_errors=True)
    return adapter, tr.losses


def _name_base_model(model: Any, name: str) -> None:
    """An adapter's base model as instructkit names it (``default``, ``tiny``, a hub id or
    a folder), so that ``eval --model <run>/model`` finds it again: packaged and tiny
    models have no hub id of their own."""
    from instructkit.models.loading import PACKAGED_MODELS

    configs = getattr(model, "peft_config", None)
    if not configs:
        return
    for cfg in configs.values():
        if name in PACKAGED_MODELS or name.startswith("tiny") or not cfg.base_model_name_or_path:
            cfg.base_model_name_or_path = name


def _base_model_name(config: ExperimentConfig) -> str:
    from instructkit.models.loading import PACKAGED_MODELS

    name = config.model.name
    return PACKAGED_MODELS[name].name if name in PACKAGED_MODELS else name


def _card(
    config: ExperimentConfig,
    split: Split,
    model_dir: Path,
    train_examples: int | None = None,
    rows: dict[str, dict[str, Any]] | None = None,
) -> None:
    """The model card of a tuned model folder (rewritten with the held-out numbers once
    they are known)."""
    from instructkit.experiments.hub import model_card, write_model_card

    if model_dir.is_dir():
        card = model_card(
            config,
            base_model=_base_model_name(config),
            split=split,
            train_examples=train_examples,
            rows=rows,
        )
        write_model_card(model_dir, card)


def prepare_run(config: ExperimentConfig) -> tuple[TaskCollection, Split]:
    """Seed everything, create the run folder with the resolved config, and make the
    split (saved as ``split.json``)."""
    set_seed(config.seed)
    # Tasks and split first: a config naming bad task files leaves no run folder behind.
    tasks = load_tasks(config)
    split = make_split(config, tasks)
    config.run_dir.mkdir(parents=True, exist_ok=True)
    (config.run_dir / "config.yaml").write_text(dump_config(config), encoding="utf-8")
    write_json_atomic(config.run_dir / "split.json", split.to_json())
    reached("split-written")
    for w in split.warnings:
        Console(stderr=True, markup=False).print(f"warning: {w}", highlight=False)
    return tasks, split


def train_experiment(
    config: ExperimentConfig, *, console: Console | None = None, show_progress: bool = True
) -> list[float]:
    """Only the tuning part of a run (``instructkit train``); returns the losses."""
    console = console or Console(markup=False)
    tasks, split = prepare_run(config)
    loaded = load_model(
        config.model.name, seed=config.seed, trust_remote_code=config.model.trust_remote_code
    )
    _, losses = tune(
        config, tasks, split, adapter_for(loaded), console=console, show_progress=show_progress
    )
    console.print(
        f"trained {len(losses)} steps; final loss {losses[-1]:.4f}"
        if losses
        else "no training steps"
    )
    return losses


def evaluator_for(
    config: ExperimentConfig,
    adapter: FamilyAdapter,
    model_name: str,
    *,
    show_progress: bool = True,
    console: Console | None = None,
) -> Evaluator:
    """The evaluator of a run: the config's generation settings, keyed by ``model_name``."""
    ec = config.eval
    return Evaluator(
        adapter,
        model_name=model_name,
        generation=GenerationConfig(
            max_new_tokens=ec.max_new_tokens,
            stop=tuple(ec.stop),
            max_source_tokens=ec.max_source_tokens,
            truncate_source=config.train.truncate_source,
            batch_size=ec.batch_size,
            chat_template=ec.chat_template,
        ),
        show_progress=show_progress,
        notify=(console or Console(markup=False)).print,
    )


def score_examples(
    config: ExperimentConfig,
    adapter: FamilyAdapter,
    examples: list[PromptedExample],
    tag: str,
    *,
    label: str = "evaluating",
    show_progress: bool = True,
    model_name: str | None = None,
    shared_dir: Path | None = None,
    console: Console | None = None,
) -> dict[str, Any]:
    """Generate for ``examples`` and score the predictions (``<run>/predictions_<tag>.jsonl``,
    resumable, keyed by the model and the settings); with ``eval.rank_classification``, also
    rank-classify the examples that have options (``<run>/rank_<tag>.jsonl``)."""
    ev = evaluator_for(
        config,
        adapter,
        model_name or config.model.name,
        show_progress=show_progress,
        console=console,
    )
    preds = ev.generate(
        examples, config.run_dir / f"predictions_{tag}.jsonl", label=label, shared_dir=shared_dir
    )
    # With 95% bootstrap intervals over instances: the reports draw them as error bars.
    metrics = aggregate(preds, bootstrap=True)
    ranked = []
    if config.eval.rank_classification:
        ranked = ev.rank(examples, config.run_dir / f"rank_{tag}.jsonl")
        add_rank_accuracy(metrics, ranked)
    if len({e.template for e in examples}) > 1:
        # Several templates: each one's numbers too (T0's spread over templates).
        metrics["by_template"] = by_template(preds, ranked)
    return metrics


def run_experiment(
    config: ExperimentConfig,
    *,
    console: Console | None = None,
    show_progress: bool = True,
    untuned_cache: Path | None = None,
    record: bool = True,
) -> RunResult:
    """Run (or resume) a single experiment and write its run folder. With
    ``untuned_cache``, the untuned model's predictions are shared through that folder.
    With ``record``, the run's numbers go to ``<output_dir>/results.sqlite`` as experiment
    ``<name>`` of kind ``run`` (sweeps record their cells themselves)."""
    console = console or Console(markup=False)
    t0 = time.perf_counter()
    started = datetime.now(UTC).isoformat(timespec="seconds")
    tasks, split = prepare_run(config)
    run_dir = config.run_dir
    console.print(
        Text.assemble(
            (config.name, "bold"),
            f": {len(split.train)} training tasks, {len(split.eval)} held-out tasks "
            f"({split.protocol}), encoding {config.prompt.encoding}, model {config.model.name}",
        )
    )
    n_eval = config.tasks.eval_instances_per_task
    eval_tasks = [tasks[n] for n in split.eval]
    eval_instances = {t.name: t.instances[:n_eval] for t in eval_tasks}

    result = RunResult(run_dir=run_dir, split=split)

    loaded = load_model(
        config.model.name, seed=config.seed, trust_remote_code=config.model.trust_remote_code
    )
    result.parameters = loaded.model.num_parameters()
    adapter = adapter_for(loaded)
    count = adapter.count_tokens
    ctx = eval_context(config, count)
    templates = config.eval.templates or [config.prompt.encoding]
    eval_examples = [
        e
        for t in eval_tasks
        for e in render_instances(templates, t, eval_instances[t.name], ctx, warn=console.print)
    ]
    # The baselines answer the same prompted examples as the model, against the same
    # targets (a dataset task's references come from its templates).
    by_name = {t.name: t for t in eval_tasks}
    for label, fn in ALL_BASELINES.items():
        result.rows[label] = aggregate(example_baseline_predictions(eval_examples, by_name, fn))
    if config.eval.rank_classification:
        result.rows["chance"] = chance_accuracy(eval_examples)

    def generate_on(
        view: FamilyAdapter,
        tag: str,
        label: str,
        progress: bool,
        model_name: str,
        shared: Path | None = None,
    ) -> dict[str, Any]:
        return score_examples(
            config,
            view,
            eval_examples,
            tag,
            label=label,
            show_progress=progress,
            model_name=model_name,
            shared_dir=shared,
            console=console,
        )

    name = loaded.name
    tuned_name = f"{config.model.name} tuned in {run_dir}"
    if config.eval.before_tuning:
        # The untuned model's predictions are shared through `untuned_cache` by every run
        # that evaluates the same model with the same settings (keyed by both).
        result.rows[f"{name} (before tuning)"] = generate_on(
            adapter,
            "before",
            "evaluating (before tuning)",
            show_progress,
            config.model.name,
            untuned_cache,
        )

    def evaluate_during(model_view: FamilyAdapter, step: int) -> dict[str, float]:
        overall = generate_on(
            model_view, f"step{step}", f"evaluating (step {step})", False, tuned_name
        )
        return {
            "rougeL": overall["overall"]["rougeL"],
            "exact_match": overall["overall"]["exact_match"],
        }

    adapter, result.train_losses = tune(
        config,
        tasks,
        split,
        adapter,
        console=console,
        show_progress=show_progress,
        evaluate=evaluate_during,
    )
    result.rows[f"{name} (after tuning)"] = generate_on(
        adapter, "after", "evaluating (after tuning)", show_progress, tuned_name
    )
    categories = {t.name: t.category.lower().replace(" ", "_") for t in eval_tasks}
    used = sorted({e.template for e in eval_examples})
    template = used[0] if len(used) == 1 else canonical_id(config.prompt.encoding)
    systems = {
        **{b: b for b in ALL_BASELINES},
        "chance": "chance",
        f"{name} (before tuning)": "before tuning",
        f"{name} (after tuning)": "after tuning",
    }
    for label, metrics in result.rows.items():
        result.scores += scores_from_metrics(systems[label], metrics, template, categories)
    for label in (f"{name} (before tuning)", f"{name} (after tuning)"):
        for tpl, metrics in result.rows.get(label, {}).get("by_template", {}).items():
            result.scores += scores_from_metrics(systems[label], metrics, tpl, categories)

    result.seconds = time.perf_counter() - t0
    metrics = {
        "config_name": config.name,
        "split": split.protocol,
        "eval_tasks": split.eval,
        "seconds": round(result.seconds, 1),
        "parameters": result.parameters,
        "systems": result.rows,
    }
    write_json_atomic(run_dir / "metrics.json", metrics)
    reached("metrics-written")
    if config.save_model:
        _card(config, split, run_dir / "model", rows=result.rows)
    (run_dir / "report.md").write_text(
        render_markdown(config, result.rows, split, result.seconds), encoding="utf-8"
    )
    console.print(per_task_table(result.rows))
    console.print(
        results_table(result.rows, title=f"{len(split.eval)} held-out tasks ({split.protocol})")
    )
    if record:
        from instructkit.experiments.store import ResultsStore, config_hash

        store = ResultsStore(Path(config.output_dir) / "results.sqlite")
        try:
            store.record_cell(
                config.name,
                f"run={config.name}",
                config_hash(config),
                config.model.name,
                result.scores,
                kind="run",
                started=started,
                seconds=result.seconds,
            )
        finally:
            store.close()
    console.print(f"wrote {run_dir}/ in {result.seconds:.0f} s")
    return result
