"""Evaluating a model (in memory or loaded by the CLI) on prompted examples, by generation
or by rank classification, through the one :class:`~instructkit.evaluation.evaluator.Evaluator`,
and the metrics of rank classification (T0's accuracy, median and IQR over templates)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from instructkit.evaluation.evaluator import Evaluator, GenerationConfig
from instructkit.evaluation.metrics import METRICS
from instructkit.evaluation.rank import OptionScores, accuracy
from instructkit.evaluation.run import Prediction, aggregate
from instructkit.evaluation.scoring import write_prediction_file
from instructkit.evaluation.stats import bootstrap_ci, spread_over_templates
from instructkit.models.adapters import FamilyAdapter
from instructkit.models.loading import distributed_state
from instructkit.prompts.example import PromptedExample

Mode = Literal["generate", "rank"]


def rank_metrics(results: Sequence[OptionScores], *, bootstrap: bool = False) -> dict[str, Any]:
    """Accuracy (summed and length-normalised log-likelihood), overall, per task, per
    (task, template), and per task the median and interquartile range over its templates
    (T0's report)."""
    by_task: dict[str, list[OptionScores]] = defaultdict(list)
    by_template: dict[str, dict[str, list[OptionScores]]] = defaultdict(lambda: defaultdict(list))
    for r in results:
        by_task[r.task].append(r)
        by_template[r.task][r.template].append(r)

    rank = [m for _, m in METRICS.items() if m.needs == "options"]

    def block(rs: Sequence[OptionScores]) -> dict[str, Any]:
        out: dict[str, Any] = {
            m.name: 100.0 * sum(m.fn(r) for r in rs) / len(rs) if rs else 0.0 for m in rank
        }
        out["n"] = len(rs)
        if bootstrap and rs:
            lo, hi = bootstrap_ci([100.0 * r.correct() for r in rs])
            out["accuracy_ci95"] = [lo, hi]
        return out

    per_template = {
        t: {tpl: accuracy(rs) for tpl, rs in sorted(tpls.items())}
        for t, tpls in sorted(by_template.items())
    }
    spread = {
        t: {"median": s.median, "q1": s.q1, "q3": s.q3, "iqr": s.iqr, "templates": s.n}
        for t, s in spread_over_templates(per_template).items()
    }
    return {
        "overall": block(results),
        "per_task": {t: block(rs) for t, rs in sorted(by_task.items())},
        "per_template": per_template,
        "spread_over_templates": spread,
    }


def add_rank_accuracy(metrics: dict[str, Any], results: Sequence[OptionScores]) -> dict[str, Any]:
    """Add rank-classification accuracy (summed and length-normalised) to generation
    metrics, overall and per task (over the instances that have options)."""
    ranked = rank_metrics(results)
    for key in (m.name for _, m in METRICS.items() if m.needs == "options"):
        metrics["overall"][key] = ranked["overall"][key]
        for task, block in ranked["per_task"].items():
            metrics["per_task"].setdefault(task, {})[key] = block[key]
    metrics["overall"]["n_ranked"] = ranked["overall"]["n"]
    return metrics


def by_template(
    preds: Sequence[Prediction], ranked: Sequence[OptionScores] = ()
) -> dict[str, dict[str, Any]]:
    """Generation metrics (and rank accuracy, when option scores are given) of each
    template on its own: what T0's spread over templates is computed from."""
    out: dict[str, dict[str, Any]] = {}
    for tpl in sorted({p.template for p in preds}):
        metrics = aggregate([p for p in preds if p.template == tpl])
        mine = [r for r in ranked if r.template == tpl]
        if mine:
            add_rank_accuracy(metrics, mine)
        out[tpl] = metrics
    return out


def evaluate(
    adapter: FamilyAdapter,
    examples: Sequence[PromptedExample],
    out_dir: str | Path,
    *,
    mode: Mode = "generate",
    model_name: str = "",
    max_new_tokens: int = 32,
    max_source_tokens: int = 512,
    batch_size: int = 8,
    stop: Sequence[str] = ("\n",),
    xlingual_tokenizer: str | None = None,
    bootstrap: bool = False,
    show_progress: bool = True,
    chat_template: bool = False,
) -> dict[str, Any]:
    """Evaluate with the one :class:`Evaluator` and write ``out_dir``: predictions or option
    scores (resumable, keyed by model and settings), the official ``{"id", "prediction"}``
    file when every instance has one prompt, and ``metrics.json``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    state = distributed_state()
    evaluator = Evaluator(
        adapter,
        model_name=model_name,
        generation=GenerationConfig(
            max_new_tokens=max_new_tokens,
            stop=tuple(stop),
            max_source_tokens=max_source_tokens,
            batch_size=batch_size,
            chat_template=chat_template,
        ),
        show_progress=show_progress,
    )
    if mode == "rank":
        results = evaluator.rank(examples, out / "rank_scores.jsonl")
        metrics = rank_metrics(results, bootstrap=bootstrap)
    else:
        preds = evaluator.generate(examples, out / "predictions.jsonl")
        ids = [p.id for p in preds]
        if state.is_main_process and len(set(ids)) == len(ids):
            write_prediction_file(
                {p.id: p.prediction for p in preds}, out / "predictions.official.jsonl"
            )
        metrics = aggregate(preds, xlingual_tokenizer=xlingual_tokenizer, bootstrap=bootstrap)
        if len({p.template for p in preds}) > 1:
            metrics["per_template"] = {t: m["overall"] for t, m in by_template(preds).items()}
    if state.is_main_process:
        (out / "metrics.json").write_text(json.dumps(metrics, indent=1), encoding="utf-8")
    return metrics
