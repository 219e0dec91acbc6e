"""Extension points: a test registers, each in one place, a task source, a template
family, a metric, a sweep kind and a model family, and runs them through a single run, a
sweep and its report."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from instructkit.evaluation.metrics import METRICS, Metric
from instructkit.experiments import default_config, run_experiment, tiny_overrides
from instructkit.experiments.config import ExperimentConfig
from instructkit.experiments.kinds import SWEEP_KINDS, SweepKind, named, with_sections
from instructkit.experiments.store import ResultsStore
from instructkit.experiments.sweep_report import write_sweep_report
from instructkit.experiments.sweeps import SweepConfig, run_sweep
from instructkit.models.adapters import MODEL_FAMILIES, DecoderOnlyAdapter
from instructkit.prompts.example import PromptedExample
from instructkit.prompts.render import TEMPLATE_FAMILIES, RenderContext, TemplateFamily
from instructkit.tasks.collection import TaskCollection
from instructkit.tasks.schema import Example, Instance, Task
from instructkit.tasks.sources import TASK_SOURCES

USED: dict[str, int] = {"family": 0}


# 1. A task source: copy tasks in two clusters, made in memory.
def copy_tasks(cfg: Any) -> TaskCollection:
    tasks = []
    for cluster in ("letters", "digits"):
        for k in range(2):
            name = f"copy_{cluster}_{k}"
            alphabet = "abcdefgh" if cluster == "letters" else "01234567"
            items = [alphabet[(i + k) % 8] * (1 + i % 3) for i in range(cfg.n_instances)]
            tasks.append(
                Task(
                    name=name,
                    definition="Repeat the input exactly.",
                    cluster=cluster,
                    categories=[f"Copy {cluster}"],
                    source=[name],
                    positive_examples=[Example(input="x", output="x")],
                    instances=[
                        Instance(id=f"{name}-{i}", input=s, outputs=[s])
                        for i, s in enumerate(items)
                    ],
                )
            )
    return TaskCollection.from_tasks(tasks)


# 2. A template family: "echo:plain".
def echo(name: str, task: Task, instance: Instance, ctx: RenderContext) -> PromptedExample:
    return PromptedExample(
        task=task.name,
        instance_id=instance.id,
        template=f"echo:{name}",
        source=f"{task.definition} {instance.input} =>",
        targets=list(instance.outputs),
        category=task.category,
        cluster=task.cluster or "",
    )


# 3. A metric: the length of the prediction relative to the reference's.
def length_ratio(prediction: str, references: list[str], **_: Any) -> float:
    return max(min(len(prediction), len(r)) / max(len(r), 1) for r in references)


# 4. A sweep kind: one cell per seed.
def seeds(sweep: SweepConfig, base: ExperimentConfig) -> Iterator[tuple[str, ExperimentConfig]]:
    for s in sweep.values:
        yield f"seed={s}", named(base.model_copy(update={"seed": s}), f"seed={s}")


# 5. A model family: decoder-only models handled by an adapter of our own.
class CountingAdapter(DecoderOnlyAdapter):
    def __init__(self, model: Any, tokenizer: Any) -> None:
        USED["family"] += 1
        super().__init__(model, tokenizer)


def _register() -> None:
    TASK_SOURCES.register("copy-tasks", copy_tasks)
    TEMPLATE_FAMILIES.register("echo", TemplateFamily("echo", lambda task: ["plain"], echo))
    METRICS.register("length_ratio", Metric("length_ratio", "generation", length_ratio, "Length"))
    SWEEP_KINDS.register("seeds", SweepKind("seeds", seeds, "prompts", "Seeds", "seed"))
    MODEL_FAMILIES.register("counting", CountingAdapter)


def _unregister() -> None:
    TASK_SOURCES.unregister("copy-tasks")
    TEMPLATE_FAMILIES.unregister("echo")
    METRICS.unregister("length_ratio")
    SWEEP_KINDS.unregister("seeds")
    MODEL_FAMILIES.unregister("counting")


def _base(tmp_path: Path) -> ExperimentConfig:
    cfg = tiny_overrides(default_config())
    return with_sections(
        cfg.model_copy(update={"output_dir": str(tmp_path), "name": "ext", "save_model": False}),
        tasks={
            "source": "copy-tasks",
            "n_instances": 12,
            "held_out_clusters": ["digits"],
            "eval_instances_per_task": 4,
        },
        prompt={"encoding": "echo:plain"},
        model={"name": "tiny"},
        train={"steps": 3, "save_every": 0},
        eval={"max_new_tokens": 4, "stop": []},
    )


def test_new_extensions_run_through_run_sweep_and_report(tmp_path: Path) -> None:
    _register()
    try:
        base = _base(tmp_path)
        result = run_experiment(base, show_progress=False)
        assert USED["family"] >= 1, "the registered model family handled the model"
        assert set(result.split.eval) == {"copy_digits_0", "copy_digits_1"}  # type: ignore[union-attr]
        ratio = [s for s in result.scores if s.metric == "length_ratio" and s.task == "*"]
        assert {s.system for s in ratio} >= {"copy input", "before tuning", "after tuning"}
        assert all(s.template == "echo:plain" for s in ratio)
        copy_input = next(s for s in ratio if s.system == "copy input" and s.category == "*")
        assert copy_input.value == 100.0  # copying the input is a perfect copy

        sweep = SweepConfig(
            kind="seeds",
            name="seeds",
            store=str(tmp_path / "store" / "results.sqlite"),
            base=base,
            values=[0, 1],
        )
        assert run_sweep(sweep, show_progress=False) == 2
        out = write_sweep_report(sweep.store, "seeds", metric="length_ratio")
        rows = list(csv.reader((out / "results.csv").open()))
        assert rows[0][0] == "seed" and [r[0] for r in rows[1:]] == ["0", "1"]
        store = ResultsStore(sweep.store)
        assert store.kind("seeds") == "seeds"
        for row in rows[1:]:
            (after,) = store.results(
                experiment="seeds",
                cell=f"seed={row[0]}",
                system="after tuning",
                task="*",
                category="*",
                metric="length_ratio",
            )
            assert row[-1] == f"{after.value:.1f}"
        store.close()
        assert "Length" in (out / "report.md").read_text()
    finally:
        _unregister()
