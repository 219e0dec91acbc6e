"""Sweeps: experiments made of many single runs (cells), resumable through the store.

Kinds (first form):

- ``loco``: FLAN's leave-one-cluster-out: one model per held-out cluster;
- ``clusters``: FLAN's ablation over the number of training clusters (clusters added in
  a fixed order, the held-out clusters fixed);
- ``encoding-matrix``: SuperNI's train × test encoding table: one model per training
  encoding, each evaluated with every test encoding;
- ``prompts``: one model per prompt (NI v1's instruction fields, FLAN's few- vs zero-shot);
- ``templates`` / ``datasets``: T0's ablations over the number of templates per training
  task and the number of training tasks (datasets) per cluster, each evaluated with every
  evaluation template (median and IQR over templates);
- ``prompt-tuning``: FLAN's prompt tuning of the held-out tasks, starting from the
  untuned model and from the instruction-tuned one;
- ``scaling-tasks`` / ``scaling-instances`` / ``scaling-models``: SuperNI's curves over
  the number of training tasks, instances per task, and model size.

Each cell is a single run (:func:`run_experiment`) with a config derived from ``base``;
a cell whose config hash is already finished in the store is never run again.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from rich.console import Console

from instructkit.errors import ConfigError, read_yaml_mapping
from instructkit.experiments.config import ExperimentConfig
from instructkit.experiments.single import (
    load_tasks,
    make_split,
    run_experiment,
    score_examples,
    tune,
)
from instructkit.experiments.store import ResultsStore, config_hash
from instructkit.models.adapters import adapter_for
from instructkit.models.loading import load_model
from instructkit.prompts.superni import ENCODINGS
from instructkit.prompts.templates import is_known_prompt, render_prompt
from instructkit.tasks.collection import TaskCollection
from instructkit.training.config import MethodConfig, TrainConfig

Kind = Literal[
    "loco",
    "clusters",
    "encoding-matrix",
    "prompts",
    "templates",
    "datasets",
    "prompt-tuning",
    "scaling-tasks",
    "scaling-instances",
    "scaling-models",
]

# FLAN templates that state the task (the turned-around ones have other targets).
FORWARD_TEMPLATES = [f"flan:{k}" for k in range(1, 8)]


class SweepConfig(BaseModel):
    """A sweep: its kind, the values it varies, and the base single-run config."""

    model_config = ConfigDict(extra="forbid")

    kind: Kind = Field(description="Which study.")
    name: str = Field(description="Experiment name in the store and the report folder.")
    store: str = Field("runs/results.sqlite", description="SQLite results store.")
    base: ExperimentConfig = Field(default_factory=ExperimentConfig, description="Base run.")
    clusters: list[str] = Field(
        default_factory=list,
        description="loco: the held-out clusters; clusters: the order in which training "
        "clusters are added (default: a seeded shuffle).",
    )
    train_encodings: list[str] = Field(
        default_factory=lambda: ["Def", "Pos(2)", "Def+Pos(2)"], description="encoding-matrix rows."
    )
    test_encodings: list[str] = Field(
        default_factory=lambda: ["Def", "Pos(2)", "Def+Pos(2)"],
        description="encoding-matrix columns.",
    )
    values: list[int] = Field(
        default_factory=list,
        description="The x values: training tasks, instances per task, training clusters, "
        "templates per task, or training tasks per cluster.",
    )
    models: list[str] = Field(default_factory=list, description="scaling-models: model names.")
    prompts: list[str] = Field(
        default_factory=list,
        description="prompts: encodings or template ids, one model each (e.g. the NI v1 field "
        "sets natinst:prompt ... natinst:full instruction, or flan:zeroshot vs flan:fewshot).",
    )
    eval_templates: list[str] = Field(
        default_factory=lambda: list(FORWARD_TEMPLATES),
        description="templates / datasets: every held-out task is evaluated with each of these.",
    )
    prompt_tuning: TrainConfig = Field(
        default_factory=lambda: TrainConfig(
            steps=30,
            learning_rate=0.03,
            warmup_steps=2,
            tuning=MethodConfig(method="prompt-tuning", num_virtual_tokens=20),
        ),
        description="prompt-tuning: how the soft prompt is trained on the held-out tasks.",
    )


BUILTIN_SWEEPS = (
    "loco",
    "clusters",
    "datasets",
    "prompt_tuning",
    "encoding_matrix",
    "natinst_fields",
    "fewshot",
    "templates",
    "scaling_tasks",
    "scaling_instances",
    "scaling_models",
)


def builtin_sweep_path(name: str) -> Path:
    """A small-scale sweep config shipped with the package (``builtin:<name>``)."""
    from importlib.resources import files

    from instructkit.errors import UnknownNameError

    if name not in BUILTIN_SWEEPS:
        raise UnknownNameError("built-in sweep", name, list(BUILTIN_SWEEPS))
    return Path(str(files("instructkit") / "configs" / "sweeps" / f"{name}.yaml"))


def load_sweep(path: str | Path) -> SweepConfig:
    """Read and validate a sweep YAML (or ``builtin:<name>``); errors name the file and
    the field."""
    if isinstance(path, str) and path.startswith("builtin:"):
        path = builtin_sweep_path(path.removeprefix("builtin:"))
    path = Path(path)
    data = read_yaml_mapping(path, "sweep config")
    try:
        cfg = SweepConfig.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        raise ConfigError(path, ".".join(str(x) for x in err["loc"]), err["msg"]) from None
    for field, names in (
        ("train_encodings", cfg.train_encodings),
        ("test_encodings", cfg.test_encodings),
        ("prompts", cfg.prompts),
    ):
        for name in names:
            if not is_known_prompt(name):
                raise ConfigError(path, field, f"unknown encoding or template {name!r}")
    return cfg


def _with(cfg: ExperimentConfig, **sections: dict[str, Any]) -> ExperimentConfig:
    update = {k: getattr(cfg, k).model_copy(update=v) for k, v in sections.items()}
    return cfg.model_copy(update=update)


def _training_by_cluster(
    base: ExperimentConfig, tasks: TaskCollection
) -> tuple[dict[str, list[str]], list[str]]:
    """The base split's training tasks grouped by cluster, and its evaluation tasks."""
    split = make_split(base, tasks)
    by_cluster: dict[str, list[str]] = {}
    for t in sorted(split.train):
        by_cluster.setdefault(tasks[t].cluster or "(none)", []).append(t)
    return by_cluster, split.eval


def cells(sweep: SweepConfig) -> Iterator[tuple[str, ExperimentConfig]]:
    """The (key, config) of every cell, in order."""
    base = sweep.base.model_copy(update={"output_dir": str(Path(sweep.store).parent / sweep.name)})
    if sweep.kind == "loco":
        clusters = sweep.clusters or sorted({t.cluster or "" for t in load_tasks(base)})
        for c in clusters:
            cfg = _with(base, split={"protocol": "leave-one-cluster-out", "held_out": [c]})
            yield f"held_out={c}", cfg.model_copy(update={"name": f"held_out={c}"})
    elif sweep.kind == "clusters":
        tasks = load_tasks(base)
        by_cluster, eval_tasks = _training_by_cluster(base, tasks)
        order = [c for c in sweep.clusters if c in by_cluster]
        rest = sorted(set(by_cluster) - set(order))
        random.Random(base.seed).shuffle(rest)
        order += rest
        for k in sweep.values:
            train = [t for c in order[:k] for t in by_cluster[c]]
            cfg = _with(base, tasks={"train_tasks": train, "eval_tasks": eval_tasks})
            yield f"clusters={k}", cfg.model_copy(update={"name": f"clusters={k}"})
    elif sweep.kind == "datasets":
        # T0: k training tasks (datasets) of each cluster, all templates of each.
        tasks = load_tasks(base)
        by_cluster, eval_tasks = _training_by_cluster(base, tasks)
        rng = random.Random(base.seed)
        shuffled = {c: rng.sample(ts, len(ts)) for c, ts in sorted(by_cluster.items())}
        for k in sweep.values:
            train = sorted(t for ts in shuffled.values() for t in ts[:k])
            cfg = _with(
                base,
                tasks={"train_tasks": train, "eval_tasks": eval_tasks},
                prompt={
                    "encoding": sweep.eval_templates[0],
                    "train_encodings": list(sweep.eval_templates),
                },
            )
            yield f"datasets={k}", cfg.model_copy(update={"name": f"datasets={k}"})
    elif sweep.kind == "prompt-tuning":
        # FLAN: instruction-tune first, then prompt-tune each held-out task's soft prompt
        # on its own training instances, from the untuned and from the tuned model.
        tuned = base.model_copy(update={"name": "instruction-tuned"})
        # One process holds one mixed-precision setting: the soft prompt trains in the base's.
        soft = sweep.prompt_tuning.model_copy(
            update={"mixed_precision": base.train.mixed_precision}
        )
        yield "stage=instruction tuning", tuned
        for start, model in (
            ("untuned", base.model.name),
            ("instruction-tuned", str(tuned.run_dir / "model")),
        ):
            cfg = _with(
                base, tasks={"adapt_on_eval_tasks": True}, model={"name": model}
            ).model_copy(update={"train": soft, "name": f"prompt-tuned_{start}"})
            yield f"start={start}", cfg
    elif sweep.kind == "encoding-matrix":
        for enc in sweep.train_encodings:
            cfg = _with(base, prompt={"encoding": enc})
            yield f"train={enc}", cfg.model_copy(update={"name": f"train={enc}"})
    elif sweep.kind == "prompts":
        for p in sweep.prompts:
            cfg = _with(base, prompt={"encoding": p})
            yield f"prompt={p}", cfg.model_copy(update={"name": f"prompt={p.replace(':', '-')}"})
    elif sweep.kind == "templates":
        # T0: k templates per training task (drawn per instance), the same evaluation.
        for k in sweep.values:
            cfg = _with(
                base,
                prompt={
                    "encoding": sweep.eval_templates[0],
                    "train_encodings": FORWARD_TEMPLATES[:k],
                },
            )
            yield f"templates={k}", cfg.model_copy(update={"name": f"templates={k}"})
    elif sweep.kind == "scaling-tasks":
        split = make_split(base, load_tasks(base))
        order = sorted(split.train)
        random.Random(base.seed).shuffle(order)
        for n in sweep.values:
            cfg = _with(base, tasks={"train_tasks": order[:n], "eval_tasks": split.eval})
            yield f"train_tasks={n}", cfg.model_copy(update={"name": f"train_tasks={n}"})
    elif sweep.kind == "scaling-instances":
        for n in sweep.values:
            cfg = _with(base, tasks={"train_instances_per_task": n})
            yield f"instances={n}", cfg.model_copy(update={"name": f"instances={n}"})
    else:
        for m in sweep.models:
            cfg = _with(base, model={"name": m})
            yield f"model={m}", cfg.model_copy(update={"name": f"model={m.replace('/', '_')}"})


def _template_key(name: str) -> str:
    return f"superni:{name}" if name in ENCODINGS else name


def _system(label: str) -> str:
    for tag in ("before tuning", "after tuning"):
        if label.endswith(f"({tag})"):
            return tag
    return label


def _rows(rows: dict[str, dict[str, Any]], template: str) -> list[tuple[str, str, str, str, float]]:
    out = []
    for label, r in rows.items():
        system = _system(label)
        for metric in ("rougeL", "exact_match", "accuracy"):
            if metric not in r["overall"]:
                continue  # accuracy: rank classification of the model's systems only
            out.append((system, "*", template, metric, r["overall"][metric]))
            for task, m in r["per_task"].items():
                if metric in m:
                    out.append((system, task, template, metric, m[metric]))
            for cat, m in r.get("per_category", {}).items():
                if metric in m:
                    out.append((system, f"category={cat}", template, metric, m[metric]))
    return out


def _other_encodings(
    cfg: ExperimentConfig, encodings: list[str], console: Console
) -> list[tuple[str, str, str, str, float]]:
    """Evaluate a cell's tuned model with further test encodings."""
    tasks = load_tasks(cfg)
    split = make_split(cfg, tasks)
    adapter = adapter_for(load_model(cfg.model.name, seed=cfg.seed))
    adapter, _ = tune(cfg, tasks, split, adapter, console=console, show_progress=False)
    n = cfg.tasks.eval_instances_per_task
    out: list[tuple[str, str, str, str, float]] = []
    for enc in encodings:
        examples = [
            render_prompt(
                enc,
                tasks[t],
                i,
                count_tokens=adapter.count_tokens,
                max_source_tokens=cfg.eval.max_source_tokens,
                seed=cfg.seed,
            )
            for t in split.eval
            for i in tasks[t].instances[:n]
        ]
        scores = score_examples(cfg, adapter, examples, f"test={enc}", show_progress=False)
        out += _rows({"(after tuning)": scores}, _template_key(enc))
    return out


def run_sweep(
    sweep: SweepConfig, *, console: Console | None = None, show_progress: bool = True
) -> int:
    """Run every unfinished cell; returns the number of cells run now."""
    console = console or Console()
    store = ResultsStore(sweep.store)
    ran = 0
    try:
        for key, cfg in cells(sweep):
            chash = config_hash(cfg)
            if store.is_done(sweep.name, key, chash):
                console.print(f"[dim]{sweep.name}/{key}: done, skipped[/]")
                continue
            started = datetime.now(UTC).isoformat(timespec="seconds")
            t0 = time.perf_counter()
            console.print(f"[bold]{sweep.name}/{key}[/]")
            result = run_experiment(
                cfg,
                console=console,
                show_progress=show_progress,
                untuned_cache=Path(sweep.store).parent / "untuned-predictions",
            )
            rows = _rows(result.rows, _template_key(cfg.prompt.encoding))
            if sweep.kind in ("encoding-matrix", "templates", "datasets"):
                tests = (
                    sweep.test_encodings
                    if sweep.kind == "encoding-matrix"
                    else sweep.eval_templates
                )
                others = [e for e in tests if e != cfg.prompt.encoding]
                rows += _other_encodings(cfg, others, console)
            if sweep.kind == "scaling-models":
                # The x value of SuperNI's model-size curve.
                rows.append(("model", "*", "-", "parameters", float(result.parameters)))
            store.record_cell(
                sweep.name,
                key,
                chash,
                cfg.model.name,
                rows,
                started=started,
                seconds=time.perf_counter() - t0,
            )
            ran += 1
    finally:
        store.close()
    return ran
