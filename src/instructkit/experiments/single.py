"""The single run: zero-shot evaluation on held-out tasks before and after instruction
tuning on the training tasks, beside the copy-input and copy-demo baselines.

Resumable: predictions already in the run folder are not regenerated, a finished
fine-tune is loaded rather than redone, and an unfinished one resumes from its last
checkpoint.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from accelerate.utils import set_seed
from rich.console import Console

from instructkit.errors import ConfigError
from instructkit.evaluation.api import add_rank_accuracy, rank_on_main
from instructkit.evaluation.baselines import ALL_BASELINES
from instructkit.evaluation.rank import chance_accuracy
from instructkit.evaluation.run import aggregate, baseline_predictions, generate_predictions
from instructkit.experiments.config import ExperimentConfig, dump_config
from instructkit.experiments.report import per_task_table, render_markdown, results_table
from instructkit.mixtures.audit import audit_mixture, drop_overlapping
from instructkit.mixtures.mixture import Mixture, build_mixture
from instructkit.mixtures.split import (
    Split,
    explicit_split,
    held_out_task_types,
    leave_one_category,
    leave_one_cluster_out,
    leave_one_dataset,
    leave_one_task,
    natinst_random,
    split_from_yaml,
    superni_official,
)
from instructkit.models.adapters import FamilyAdapter, adapter_for
from instructkit.models.loading import load_model, load_pretrained
from instructkit.prompts.example import PromptedExample
from instructkit.prompts.templates import render_prompt
from instructkit.tasks.builtin import builtin_tasks
from instructkit.tasks.collection import TaskCollection, load_collection
from instructkit.tasks.superni import write_json_atomic
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


def load_tasks(config: ExperimentConfig) -> TaskCollection:
    """The task collection a config names."""
    tc = config.tasks
    if tc.source == "builtin":
        return builtin_tasks(n_instances=tc.n_instances, seed=tc.builtin_seed)
    return load_collection(tc.source, track=tc.track)


def make_split(config: ExperimentConfig, tasks: TaskCollection) -> Split:
    """The train / eval split a config asks for."""
    tc, sc = config.tasks, config.split
    lr = tc.leakage_rule
    if sc.protocol == "auto":
        if tc.train_tasks is not None or tc.eval_tasks is not None:
            return explicit_split(tasks, tc.train_tasks or [], tc.eval_tasks or [], leakage_rule=lr)
        if tc.source != "builtin" and (Path(tc.source) / "splits").is_dir():
            split = superni_official(tc.source, tasks, track=tc.track)
            present = set(tasks.names)
            split.train = [t for t in split.train if t in present]
            split.eval = [t for t in split.eval if t in present]
            return split
        if not tc.held_out_clusters:
            raise ConfigError(
                None, "tasks.held_out_clusters", "give held-out clusters or task lists"
            )
        return leave_one_cluster_out(tasks, tc.held_out_clusters, leakage_rule=lr)
    held = sc.held_out
    if (
        sc.protocol in ("leave-one-category", "leave-one-dataset", "leave-one-task")
        and len(held) != 1
    ):
        raise ConfigError(None, "split.held_out", f"{sc.protocol} needs exactly one name")
    if sc.protocol == "leave-one-cluster-out":
        return leave_one_cluster_out(tasks, held, also_hold_out=sc.also_hold_out, leakage_rule=lr)
    if sc.protocol == "superni-official":
        return superni_official(tc.source, tasks, track=tc.track)
    if sc.protocol == "natinst-random":
        return natinst_random(
            tasks, per_category=sc.per_category, seed=config.seed, leakage_rule=lr
        )
    if sc.protocol == "leave-one-category":
        return leave_one_category(tasks, held[0], leakage_rule=lr)
    if sc.protocol == "leave-one-dataset":
        return leave_one_dataset(tasks, held[0], leakage_rule=lr)
    if sc.protocol == "leave-one-task":
        return leave_one_task(tasks, held[0], leakage_rule=lr)
    if sc.protocol == "task-types":
        return held_out_task_types(tasks, held, leakage_rule=lr)
    if sc.file is None:
        raise ConfigError(None, "split.file", "the custom protocol needs a YAML file")
    return split_from_yaml(sc.file, tasks, leakage_rule=lr)


def training_tasks(config: ExperimentConfig, split: Split) -> list[str]:
    """The tasks the mixture draws from: the split's training tasks, or its evaluation
    tasks when the config adapts on them."""
    return split.eval if config.tasks.adapt_on_eval_tasks else split.train


def make_mixture(config: ExperimentConfig, tasks: TaskCollection, split: Split) -> Mixture:
    """The training mixture a config asks for."""
    mc = config.mixture
    adapt = config.tasks.adapt_on_eval_tasks
    return build_mixture(
        tasks,
        training_tasks(config, split),
        encoding=config.prompt.train_encodings or config.prompt.encoding,
        max_per_task=config.tasks.train_instances_per_task,
        # The evaluation instances are each task's first ones: adapt on those after them.
        skip=config.tasks.eval_instances_per_task if adapt else 0,
        rate=mc.rate,
        cap=mc.cap,
        temperature=mc.temperature,
        template_cap=mc.template_cap,
        length=mc.length,
        seed=config.seed,
    )


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
    if (final_dir / "adapter_config.json").exists():
        console.print(f"loading the tuned adapter from {final_dir}")
        adapter.model = load_adapter(adapter.model, final_dir)
        adapter.model.eval()
        return adapter, _saved_losses(run_dir)
    if (final_dir / "config.json").exists():
        console.print(f"loading the tuned model from {final_dir}")
        return adapter_for(load_pretrained(str(final_dir))), _saved_losses(run_dir)
    examples = make_mixture(config, tasks, split).examples
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
            "resumed_from": tr.resumed_from,
            "evaluations": {str(k): v for k, v in tr.evaluations.items()},
        },
    )
    if config.save_model:
        save_model(adapter, final_dir)
        # The saved model supersedes the optimizer checkpoints of this run.
        shutil.rmtree(run_dir / "checkpoints", ignore_errors=True)
    return adapter, tr.losses


def prepare_run(config: ExperimentConfig) -> tuple[TaskCollection, Split]:
    """Seed everything, create the run folder with the resolved config, and make the
    split (saved as ``split.json``)."""
    set_seed(config.seed)
    config.run_dir.mkdir(parents=True, exist_ok=True)
    (config.run_dir / "config.yaml").write_text(dump_config(config), encoding="utf-8")
    tasks = load_tasks(config)
    split = make_split(config, tasks)
    write_json_atomic(config.run_dir / "split.json", split.to_json())
    return tasks, split


def train_experiment(
    config: ExperimentConfig, *, console: Console | None = None, show_progress: bool = True
) -> list[float]:
    """Only the tuning part of a run (``instructkit train``); returns the losses."""
    console = console or Console()
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


def score_examples(
    config: ExperimentConfig,
    adapter: FamilyAdapter,
    examples: list[PromptedExample],
    tag: str,
    *,
    label: str = "evaluating",
    show_progress: bool = True,
) -> dict[str, Any]:
    """Generate for ``examples`` and score the predictions (``<run>/predictions_<tag>.jsonl``,
    resumable); with ``eval.rank_classification``, also rank-classify the examples that have
    options (``<run>/rank_<tag>.jsonl``) and add their accuracy."""
    preds = generate_predictions(
        adapter,
        examples,
        config.run_dir / f"predictions_{tag}.jsonl",
        max_new_tokens=config.eval.max_new_tokens,
        max_source_tokens=config.eval.max_source_tokens,
        batch_size=config.eval.batch_size,
        stop=config.eval.stop,
        label=label,
        show_progress=show_progress,
    )
    metrics = aggregate(preds)
    if config.eval.rank_classification:
        ranked = rank_on_main(
            adapter, examples, config.run_dir / f"rank_{tag}.jsonl", show_progress=show_progress
        )
        add_rank_accuracy(metrics, ranked)
    return metrics


def run_experiment(
    config: ExperimentConfig,
    *,
    console: Console | None = None,
    show_progress: bool = True,
    untuned_cache: Path | None = None,
) -> RunResult:
    """Run (or resume) a single experiment and write its run folder. With
    ``untuned_cache``, the untuned model's predictions are shared through that folder."""
    console = console or Console()
    t0 = time.perf_counter()
    tasks, split = prepare_run(config)
    run_dir = config.run_dir
    console.print(
        f"[bold]{config.name}[/]: {len(split.train)} training tasks, {len(split.eval)} held-out "
        f"tasks ({split.protocol}), encoding {config.prompt.encoding}, model {config.model.name}"
    )
    n_eval = config.tasks.eval_instances_per_task
    eval_tasks = [tasks[n] for n in split.eval]
    eval_instances = {t.name: t.instances[:n_eval] for t in eval_tasks}

    result = RunResult(run_dir=run_dir, split=split)
    for label, fn in ALL_BASELINES.items():
        preds = baseline_predictions(eval_tasks, eval_instances, fn)
        result.rows[label] = aggregate(preds)

    loaded = load_model(
        config.model.name, seed=config.seed, trust_remote_code=config.model.trust_remote_code
    )
    result.parameters = loaded.model.num_parameters()
    adapter = adapter_for(loaded)
    count = adapter.count_tokens
    eval_examples = [
        render_prompt(
            config.prompt.encoding,
            t,
            i,
            count_tokens=count,
            max_source_tokens=config.eval.max_source_tokens,
            seed=config.seed,
        )
        for t in eval_tasks
        for i in eval_instances[t.name]
    ]
    if config.eval.rank_classification:
        result.rows["chance"] = chance_accuracy(eval_examples)

    def generate_on(view: FamilyAdapter, tag: str, label: str, progress: bool) -> dict[str, Any]:
        return score_examples(config, view, eval_examples, tag, label=label, show_progress=progress)

    def evaluate(tag: str) -> dict[str, Any]:
        return generate_on(adapter, tag, f"evaluating ({tag} tuning)", show_progress)

    name = loaded.name
    if config.eval.before_tuning:
        cached = None
        if untuned_cache is not None:
            # The untuned model's predictions depend only on the model, the examples and
            # the generation settings: cells of a sweep that share them generate once.
            key = hashlib.sha256(
                json.dumps(
                    [
                        config.model.name,
                        config.eval.model_dump(mode="json"),
                        [(e.task, e.instance_id, e.source) for e in eval_examples],
                    ]
                ).encode()
            ).hexdigest()[:24]
            cached = untuned_cache / f"{key}.jsonl"
            before = run_dir / "predictions_before.jsonl"
            if cached.exists() and not before.exists():
                shutil.copyfile(cached, before)
        result.rows[f"{name} (before tuning)"] = evaluate("before")
        if cached is not None and not cached.exists():
            cached.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(run_dir / "predictions_before.jsonl", cached)

    def evaluate_during(model_view: FamilyAdapter, step: int) -> dict[str, float]:
        overall = generate_on(model_view, f"step{step}", f"evaluating (step {step})", False)
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
    result.rows[f"{name} (after tuning)"] = evaluate("after")

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
    (run_dir / "report.md").write_text(
        render_markdown(config, result.rows, split, result.seconds), encoding="utf-8"
    )
    console.print(per_task_table(result.rows))
    console.print(
        results_table(result.rows, title=f"{len(split.eval)} held-out tasks ({split.protocol})")
    )
    console.print(f"wrote {run_dir}/ in {result.seconds:.0f} s")
    return result
