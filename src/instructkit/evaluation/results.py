"""Typed results: one :class:`Score` per number, with task, category and template as
fields (never encoded in strings), from which tables and the results store are made."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

ALL = "*"


# The rules of evaluation that are code, not config: every stored number and every
# prediction or option-score file is keyed by them, so that a change of rule recomputes
# instead of reusing (evaluation.evaluator and experiments.store use these values).
EVALUATION_RULES = {
    # Stop strings apply after a generation's leading whitespace (models.adapters).
    "stopping": "after-leading-whitespace",
    # Rank classification packs an item's options after its prompt (evaluation.rank).
    "rank_scorer": "packed",
}


@dataclass(frozen=True)
class Score:
    """One number: a system's metric over all tasks (``task == "*"``), one category
    (``task == "*"``, ``category`` set) or one task."""

    system: str
    metric: str
    value: float
    task: str = ALL
    category: str = ALL
    template: str = ALL


def scores_from_metrics(
    system: str,
    metrics: Mapping[str, Any],
    template: str,
    categories: Mapping[str, str],
) -> list[Score]:
    """The numbers of an aggregate (``overall``, ``per_task``, ``per_category``) as scores
    of every registered metric found there. ``categories`` maps tasks to categories."""
    from instructkit.evaluation.metrics import METRICS

    out: list[Score] = []
    overall = metrics.get("overall", {})
    for metric in METRICS.names():
        if metric in overall:
            out.append(Score(system, metric, float(overall[metric]), template=template))
            # The 95% bootstrap interval where one was computed (error bars in reports).
            ci = (overall.get("ci95") or {}).get(metric) or overall.get(f"{metric}_ci95")
            if ci:
                for end, v in zip(("low", "high"), ci, strict=True):
                    out.append(Score(system, f"{metric}_ci95_{end}", float(v), template=template))
        for task, m in metrics.get("per_task", {}).items():
            if metric in m:
                cat = categories.get(task, "")
                out.append(Score(system, metric, float(m[metric]), task, cat, template))
        for cat, m in metrics.get("per_category", {}).items():
            if metric in m:
                out.append(Score(system, metric, float(m[metric]), ALL, cat, template))
    return out
