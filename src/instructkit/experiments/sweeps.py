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

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.text import Text

from instructkit._faults import reached
from instructkit.errors import named_by
from instructkit.evaluation.results import Score, scores_from_metrics
from instructkit.experiments.config import ExperimentConfig
from instructkit.experiments.kinds import SWEEP_KINDS
from instructkit.experiments.plan import eval_context, load_tasks, make_split
from instructkit.experiments.single import run_experiment, score_examples, tune
from instructkit.experiments.store import ResultsStore, config_hash
from instructkit.experiments.sweep_config import (
    BUILTIN_SWEEPS,
    SweepConfig,
    builtin_sweep_path,
    load_sweep,
)
from instructkit.models.adapters import adapter_for
from instructkit.models.loading import load_model
from instructkit.prompts.render import canonical_id, render_instances

__all__ = [
    "BUILTIN_SWEEPS",
    "SweepConfig",
    "builtin_sweep_path",
    "cells",
    "load_sweep",
    "run_sweep",
]


class _CellLock:
    """An advisory lock on one sweep cell (``fcntl.flock``): released when the process
    ends, however it ends, so a killed run never leaves a cell locked."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._f: Any = None

    def acquire(self, *, wait: bool) -> bool:
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._f = self.path.open("a")
        try:
            fcntl.flock(self._f, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            self._f.close()
            self._f = None
            return False
        return True

    def release(self) -> None:
        if self._f is not None:
            import fcntl

            fcntl.flock(self._f, fcntl.LOCK_UN)
            self._f.close()
            self._f = None


def cells(sweep: SweepConfig) -> Iterator[tuple[str, ExperimentConfig]]:
    """The (key, config) of every cell, in order, from the sweep's registered kind."""
    base = sweep.base.model_copy(update={"output_dir": str(Path(sweep.store).parent / sweep.name)})
    return SWEEP_KINDS.get(sweep.kind).cells(sweep, base)


def _other_templates(cfg: ExperimentConfig, templates: list[str], console: Console) -> list[Score]:
    """Evaluate a cell's tuned model with further templates."""
    tasks = load_tasks(cfg)
    split = make_split(cfg, tasks)
    loaded = load_model(cfg.model.name, seed=cfg.seed)
    adapter, _ = tune(cfg, tasks, split, adapter_for(loaded), console=console, show_progress=False)
    n = cfg.tasks.eval_instances_per_task
    ctx = eval_context(cfg, adapter.count_tokens)
    categories = {t: tasks[t].category.lower().replace(" ", "_") for t in split.eval}
    out: list[Score] = []
    for tid in templates:
        examples = [
            e
            for t in split.eval
            for e in render_instances(tid, tasks[t], tasks[t].instances[:n], ctx)
        ]
        scores = score_examples(
            cfg,
            adapter,
            examples,
            f"test={tid}",
            show_progress=False,
            model_name=f"{cfg.model.name} tuned in {cfg.run_dir}",
            console=console,
        )
        out += scores_from_metrics("after tuning", scores, canonical_id(tid), categories)
    return out


def run_sweep(
    sweep: SweepConfig, *, console: Console | None = None, show_progress: bool = True
) -> int:
    """Run every unfinished cell; returns the number of cells run now."""
    console = console or Console(markup=False)
    kind = SWEEP_KINDS.get(sweep.kind)
    # The cells first: a sweep whose values cannot run stops before its store is touched.
    with named_by(sweep.source_file, "kind"):
        todo = list(cells(sweep))
    with named_by(sweep.source_file, "store"):
        store = ResultsStore(sweep.store)
    ran = 0
    deferred: list[tuple[str, ExperimentConfig]] = []
    lock: _CellLock | None = None
    try:
        while todo:
            key, cfg = todo.pop(0)
            chash = config_hash(cfg)
            if store.is_done(sweep.name, key, chash):
                console.print(Text(f"{sweep.name}/{key}: done, skipped", style="dim"))
                continue
            # One process per cell: another process running the same sweep takes the cells
            # it holds; this one comes back to them once the others are done.
            lock = _CellLock(Path(sweep.store).parent / sweep.name / f".{chash[:16]}.lock")
            if not lock.acquire(wait=(key, cfg) in deferred):
                console.print(Text(f"{sweep.name}/{key}: running elsewhere, later", style="dim"))
                deferred.append((key, cfg))
                todo.append((key, cfg))
                continue
            if store.is_done(sweep.name, key, chash):  # finished while we waited
                lock.release()
                continue
            started = datetime.now(UTC).isoformat(timespec="seconds")
            t0 = time.perf_counter()
            console.print(Text(f"{sweep.name}/{key}", style="bold"))
            result = run_experiment(
                cfg,
                console=console,
                show_progress=show_progress,
                untuned_cache=Path(sweep.store).parent / "untuned-predictions",
                record=False,
            )
            rows = list(result.scores)
            others = [t for t in kind.test_templates(sweep) if t != cfg.prompt.encoding]
            if others:
                rows += _other_templates(cfg, others, console)
            if kind.records_parameters:
                # The x value of SuperNI's model-size curve.
                rows.append(Score("model", "parameters", float(result.parameters), template="-"))
            store.record_cell(
                sweep.name,
                key,
                chash,
                cfg.model.name,
                rows,
                kind=sweep.kind,
                started=started,
                seconds=time.perf_counter() - t0,
            )
            reached("cell-recorded")
            lock.release()
            ran += 1
    finally:
        if lock is not None:
            lock.release()
        store.close()
    return ran
