"""Sweep kinds: the families of studies a sweep can run, by name.

A :class:`SweepKind` says which cells a sweep has (each a single-run config derived from
the sweep's ``base``), which further templates each cell's tuned model is evaluated with,
and how the report lays its numbers out (``layout``: one of :data:`LAYOUTS`). The kind is
stored with every cell in the results store, and reports read it from there. A new kind
is one function and one ``SWEEP_KINDS.register`` line.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from instructkit.experiments.config import ExperimentConfig
from instructkit.experiments.plan import load_tasks, make_split
from instructkit.registry import Registry
from instructkit.tasks.collection import TaskCollection

if TYPE_CHECKING:
    from instructkit.experiments.sweep_config import SweepConfig

Cells = Iterator[tuple[str, ExperimentConfig]]

# Report layouts: a table of systems per cell (bars: "loco", "prompts"; curves: "clusters",
# "scaling" with a log x axis), a train × test matrix, T0's spread over templates, and the
# prompt-tuning table.
LAYOUTS = (
    "loco",
    "clusters",
    "prompts",
    "scaling",
    "encoding-matrix",
    "templates",
    "datasets",
    "prompt-tuning",
)

# FLAN templates that state the task (the turned-around ones have other targets).
FORWARD_TEMPLATES = [f"flan:{k}" for k in range(1, 8)]


@dataclass(frozen=True)
class SweepKind:
    """A family of studies: its cells, its extra evaluation templates, its report."""

    name: str
    cells: Callable[[SweepConfig, ExperimentConfig], Cells]
    layout: str
    title: str
    x_label: str
    test_templates: Callable[[SweepConfig], list[str]] = field(default=lambda sweep: [])
    records_parameters: bool = False  # store each cell's model size (model-size curves)


SWEEP_KINDS: Registry[SweepKind] = Registry("sweep kind", entry_points="instructkit.sweep_kinds")


def with_sections(cfg: ExperimentConfig, **sections: dict[str, Any]) -> ExperimentConfig:
    """``cfg`` with fields of some of its sections replaced."""
    update = {k: getattr(cfg, k).model_copy(update=v) for k, v in sections.items()}
    return cfg.model_copy(update=update)


def named(cfg: ExperimentConfig, name: str) -> ExperimentConfig:
    """``cfg`` under a run name (a folder of the sweep)."""
    return cfg.model_copy(update={"name": name})


def training_by_cluster(
    base: ExperimentConfig, tasks: TaskCollection
) -> tuple[dict[str, list[str]], list[str]]:
    """The base split's training tasks grouped by cluster, and its evaluation tasks."""
    split = make_split(base, tasks)
    by_cluster: dict[str, list[str]] = {}
    for t in sorted(split.train):
        by_cluster.setdefault(tasks[t].cluster or "(none)", []).append(t)
    return by_cluster, split.eval


def check_values(sweep: SweepConfig, available: int, what: str) -> None:
    """Refuse sweep values a cell cannot honour (its label would not say what it does)."""
    from instructkit.errors import ConfigError

    bad = [v for v in sweep.values if v < 1]
    if bad:
        raise ConfigError(None, "values", f"values must be positive counts, got {bad[0]}")
    too_many = [v for v in sweep.values if v > available]
    if too_many:
        raise ConfigError(None, "values", f"{too_many[0]} {what} asked for, {available} available")


def _register(kind: SweepKind) -> None:
    SWEEP_KINDS.register(kind.name, kind)


def _loco(sweep: SweepConfig, base: ExperimentConfig) -> Cells:
    from instructkit.errors import ConfigError, UnknownNameError

    known = sorted({t.cluster or "" for t in load_tasks(base)})
    for c in sweep.clusters:
        if c not in known:
            raise ConfigError(None, "clusters", str(UnknownNameError("cluster", c, known)))
    for c in sweep.clusters or known:
        cfg = with_sections(base, split={"protocol": "leave-one-cluster-out", "held_out": [c]})
        yield f"held_out={c}", named(cfg, f"held_out={c}")


def _clusters(sweep: SweepConfig, base: ExperimentConfig) -> Cells:
    by_cluster, eval_tasks = training_by_cluster(base, load_tasks(base))
    order = [c for c in sweep.clusters if c in by_cluster]
    rest = sorted(set(by_cluster) - set(order))
    random.Random(base.seed).shuffle(rest)
    order += rest
    check_values(sweep, len(order), "training clusters")
    for k in sweep.values:
        train = [t for c in order[:k] for t in by_cluster[c]]
        cfg = with_sections(base, tasks={"train_tasks": train, "eval_tasks": eval_tasks})
        yield f"clusters={k}", named(cfg, f"clusters={k}")


def _datasets(sweep: SweepConfig, base: ExperimentConfig) -> Cells:
    # T0: k training tasks (datasets) of each cluster, all templates of each.
    by_cluster, eval_tasks = training_by_cluster(base, load_tasks(base))
    rng = random.Random(base.seed)
    shuffled = {c: rng.sample(ts, len(ts)) for c, ts in sorted(by_cluster.items())}
    check_values(sweep, max(len(ts) for ts in shuffled.values()), "training tasks per cluster")
    for k in sweep.values:
        train = sorted(t for ts in shuffled.values() for t in ts[:k])
        cfg = with_sections(
            base,
            tasks={"train_tasks": train, "eval_tasks": eval_tasks},
            prompt={
                "encoding": sweep.eval_templates[0],
                "train_encodings": list(sweep.eval_templates),
            },
        )
        yield f"datasets={k}", named(cfg, f"datasets={k}")


def _prompt_tuning(sweep: SweepConfig, base: ExperimentConfig) -> Cells:
    # FLAN: instruction-tune first, then prompt-tune each held-out task's soft prompt on
    # its own training instances, from the untuned and from the tuned model.
    tuned = named(base, "instruction-tuned")
    # One process holds one mixed-precision setting: the soft prompt trains in the base's.
    soft = sweep.prompt_tuning.model_copy(update={"mixed_precision": base.train.mixed_precision})
    yield "stage=instruction tuning", tuned
    for start, model in (
        ("untuned", base.model.name),
        ("instruction-tuned", str(tuned.run_dir / "model")),
    ):
        cfg = with_sections(base, tasks={"adapt_on_eval_tasks": True}, model={"name": model})
        yield (
            f"start={start}",
            cfg.model_copy(update={"train": soft, "name": f"prompt-tuned_{start}"}),
        )


def _encoding_matrix(sweep: SweepConfig, base: ExperimentConfig) -> Cells:
    for enc in sweep.train_encodings:
        yield f"train={enc}", named(with_sections(base, prompt={"encoding": enc}), f"train={enc}")


def _prompts(sweep: SweepConfig, base: ExperimentConfig) -> Cells:
    for p in sweep.prompts:
        cfg = with_sections(base, prompt={"encoding": p})
        yield f"prompt={p}", named(cfg, f"prompt={p.replace(':', '-')}")


def _templates(sweep: SweepConfig, base: ExperimentConfig) -> Cells:
    # T0: k templates per training task (drawn per instance), the same evaluation.
    check_values(sweep, len(FORWARD_TEMPLATES), "templates per task")
    for k in sweep.values:
        cfg = with_sections(
            base,
            prompt={"encoding": sweep.eval_templates[0], "train_encodings": FORWARD_TEMPLATES[:k]},
        )
        yield f"templates={k}", named(cfg, f"templates={k}")


def _scaling_tasks(sweep: SweepConfig, base: ExperimentConfig) -> Cells:
    split = make_split(base, load_tasks(base))
    order = sorted(split.train)
    random.Random(base.seed).shuffle(order)
    check_values(sweep, len(order), "training tasks")
    for n in sweep.values:
        cfg = with_sections(base, tasks={"train_tasks": order[:n], "eval_tasks": split.eval})
        yield f"train_tasks={n}", named(cfg, f"train_tasks={n}")


def _scaling_instances(sweep: SweepConfig, base: ExperimentConfig) -> Cells:
    tasks = load_tasks(base)
    split = make_split(base, tasks)
    check_values(
        sweep, max((len(tasks[t].instances) for t in split.train), default=0), "instances per task"
    )
    for n in sweep.values:
        cfg = with_sections(base, tasks={"train_instances_per_task": n})
        yield f"instances={n}", named(cfg, f"instances={n}")


def _scaling_models(sweep: SweepConfig, base: ExperimentConfig) -> Cells:
    if not sweep.models:
        from instructkit.errors import ConfigError

        raise ConfigError(None, "models", "give at least one model name")
    for m in sweep.models:
        cfg = with_sections(base, model={"name": m})
        yield f"model={m}", named(cfg, f"model={m.replace('/', '_')}")


def _eval_templates(sweep: SweepConfig) -> list[str]:
    return list(sweep.eval_templates)


for _kind in (
    SweepKind("loco", _loco, "loco", "Leave-one-cluster-out", "held-out cluster"),
    SweepKind(
        "clusters", _clusters, "clusters", "Number of training clusters (FLAN)", "training clusters"
    ),
    SweepKind(
        "encoding-matrix",
        _encoding_matrix,
        "encoding-matrix",
        "Train × test encoding",
        "train \\ test",
        test_templates=lambda sweep: list(sweep.test_encodings),
    ),
    SweepKind("prompts", _prompts, "prompts", "Prompt ablation", "prompt"),
    SweepKind(
        "templates",
        _templates,
        "templates",
        "Templates per training task (T0)",
        "templates per task",
        test_templates=_eval_templates,
    ),
    SweepKind(
        "datasets",
        _datasets,
        "datasets",
        "Training datasets per cluster (T0)",
        "training tasks per cluster",
        test_templates=_eval_templates,
    ),
    SweepKind(
        "prompt-tuning",
        _prompt_tuning,
        "prompt-tuning",
        "Prompt tuning on a tuned against an untuned model (FLAN)",
        "start",
    ),
    SweepKind("scaling-tasks", _scaling_tasks, "scaling", "Scaling (SuperNI)", "training tasks"),
    SweepKind(
        "scaling-instances",
        _scaling_instances,
        "scaling",
        "Scaling (SuperNI)",
        "instances per task",
    ),
    SweepKind(
        "scaling-models",
        _scaling_models,
        "scaling",
        "Scaling (SuperNI)",
        "model",
        records_parameters=True,
    ),
):
    _register(_kind)

# A single run recorded in the store (``instructkit run``): one cell, the systems table.
SWEEP_KINDS.register(
    "run",
    SweepKind("run", lambda sweep, base: iter(()), "prompts", "Single run", "run"),
)
