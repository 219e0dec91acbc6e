"""One entry point for evaluating a model (in memory or loaded by the CLI) on prompted
examples, by generation or by rank classification, with resumable output files."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from instructkit.evaluation.rank import OptionScores, accuracy, score_options
from instructkit.evaluation.run import aggregate, drop_torn_tail, generate_predictions
from instructkit.evaluation.scoring import write_prediction_file
from instructkit.evaluation.stats import bootstrap_ci, spread_over_templates
from instructkit.models.adapters import FamilyAdapter
from instructkit.models.loading import distributed_state
from instructkit.prompts.example import PromptedExample

Mode = Literal["generate", "rank"]


def rank_predictions(
    adapter: FamilyAdapter,
    examples: Sequence[PromptedExample],
    out_path: str | Path,
    *,
    show_progress: bool = True,
) -> list[OptionScores]:
    """Rank-classify every example with options, appending one JSON line per instance to
    ``out_path``; instances already there are not scored again."""
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    drop_torn_tail(out_path)
    done: dict[str, OptionScores] = {}
    if out_path.exists():
        for line in out_path.read_text(encoding="utf-8").splitlines():
            d = json.loads(line)
            done[d["id"]] = OptionScores(
                d["id"],
                d["task"],
                d["template"],
                d["options"],
                d["logprob"],
                d["n_tokens"],
                d["targets"],
            )
    todo = [e for e in examples if e.options and e.instance_id not in done]
    adapter.model.eval()
    columns = (
        TextColumn("[bold]rank classification"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with (
        Progress(*columns, disable=not show_progress) as bar,
        out_path.open("a", encoding="utf-8") as f,
    ):
        tid = bar.add_task("rank", total=len(todo))
        for e in todo:
            scores, lengths = score_options(adapter, e.source, e.options)
            r = OptionScores(
                e.instance_id, e.task, e.template, list(e.options), scores, lengths, list(e.targets)
            )
            done[r.id] = r
            f.write(
                json.dumps(r.__dict__ | {"prediction": r.prediction()}, ensure_ascii=False) + "\n"
            )
            f.flush()
            bar.advance(tid)
    if not examples:
        return list(done.values())
    return [done[e.instance_id] for e in examples if e.instance_id in done]


def rank_metrics(results: Sequence[OptionScores], *, bootstrap: bool = False) -> dict[str, Any]:
    """Accuracy (summed and length-normalised log-likelihood), overall, per task, per
    (task, template), and per task the median and interquartile range over its templates
    (T0's report)."""
    by_task: dict[str, list[OptionScores]] = defaultdict(list)
    by_template: dict[str, dict[str, list[OptionScores]]] = defaultdict(lambda: defaultdict(list))
    for r in results:
        by_task[r.task].append(r)
        by_template[r.task][r.template].append(r)

    def block(rs: Sequence[OptionScores]) -> dict[str, Any]:
        out: dict[str, Any] = {
            "accuracy": accuracy(rs),
            "accuracy_norm": accuracy(rs, normalize=True),
            "n": len(rs),
        }
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


def rank_on_main(
    adapter: FamilyAdapter,
    examples: Sequence[PromptedExample],
    out_path: str | Path,
    *,
    show_progress: bool = True,
) -> list[OptionScores]:
    """:func:`rank_predictions` on the main process (it is not sharded yet); the other
    processes read its file once it is written."""
    state = distributed_state()
    results: list[OptionScores] = []
    if state.is_main_process:
        results = rank_predictions(adapter, examples, out_path, show_progress=show_progress)
    state.wait_for_everyone()
    if not state.is_main_process:
        results = rank_predictions(adapter, [], out_path, show_progress=False)
    return results


def add_rank_accuracy(metrics: dict[str, Any], results: Sequence[OptionScores]) -> dict[str, Any]:
    """Add rank-classification accuracy (summed and length-normalised) to generation
    metrics, overall and per task (over the instances that have options)."""
    ranked = rank_metrics(results)
    for key in ("accuracy", "accuracy_norm"):
        metrics["overall"][key] = ranked["overall"][key]
        for task, block in ranked["per_task"].items():
            metrics["per_task"].setdefault(task, {})[key] = block[key]
    metrics["overall"]["n_ranked"] = ranked["overall"]["n"]
    return metrics


def evaluate(
    adapter: FamilyAdapter,
    examples: Sequence[PromptedExample],
    out_dir: str | Path,
    *,
    mode: Mode = "generate",
    max_new_tokens: int = 32,
    max_source_tokens: int = 512,
    batch_size: int = 8,
    stop: Sequence[str] = ("\n",),
    xlingual_tokenizer: str | None = None,
    bootstrap: bool = False,
    show_progress: bool = True,
) -> dict[str, Any]:
    """Evaluate and write ``out_dir``: predictions (resumable JSONL, plus the official
    ``{"id", "prediction"}`` file for generation) and ``metrics.json``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    state = distributed_state()
    if mode == "rank":
        results = rank_on_main(
            adapter, examples, out / "rank_scores.jsonl", show_progress=show_progress
        )
        metrics = rank_metrics(results, bootstrap=bootstrap)
    else:
        preds = generate_predictions(
            adapter,
            examples,
            out / "predictions.jsonl",
            max_new_tokens=max_new_tokens,
            max_source_tokens=max_source_tokens,
            batch_size=batch_size,
            stop=stop,
            show_progress=show_progress,
        )
        if state.is_main_process:
            write_prediction_file(
                {p.id: p.prediction for p in preds}, out / "predictions.official.jsonl"
            )
        metrics = aggregate(preds, xlingual_tokenizer=xlingual_tokenizer, bootstrap=bootstrap)
    if state.is_main_process:
        (out / "metrics.json").write_text(json.dumps(metrics, indent=1), encoding="utf-8")
    return metrics
