"""Reports of a run: a rich table for the terminal and a Markdown report for the folder."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from instructkit.experiments.config import ExperimentConfig, dump_config
from instructkit.mixtures.split import Split

OVERALL = {"rougeL": "ROUGE-L", "exact_match": "exact match", "accuracy": "accuracy (rank)"}


def _columns(rows: dict[str, dict[str, Any]]) -> list[str]:
    # Accuracy appears when rank classification was measured (the baselines have none).
    return [m for m in OVERALL if any(m in r["overall"] for r in rows.values())]


def _cell(block: dict[str, Any], metric: str) -> str:
    return f"{block[metric]:.1f}" if metric in block else "–"


def results_table(rows: dict[str, dict[str, Any]], *, title: str = "") -> Table:
    """Systems as rows with overall ROUGE-L, exact match and, when measured, accuracy."""
    table = Table(title=title or None)
    table.add_column("system", style="bold")
    cols = _columns(rows)
    for m in cols:
        table.add_column(OVERALL[m], justify="right")
    for system, r in rows.items():
        table.add_row(system, *(_cell(r["overall"], m) for m in cols))
    return table


def per_task_table(rows: dict[str, dict[str, Any]], metric: str = "rougeL") -> Table:
    """Held-out tasks as rows, systems as columns (one metric)."""
    tasks = sorted({t for r in rows.values() for t in r["per_task"]})
    table = Table(title=f"{OVERALL[metric]} per held-out task")
    table.add_column("task")
    for system in rows:
        table.add_column(system, justify="right")
    for t in tasks:
        table.add_row(t, *(_cell(r["per_task"].get(t, {}), metric) for r in rows.values()))
    return table


def render_markdown(
    config: ExperimentConfig, rows: dict[str, dict[str, Any]], split: Split, seconds: float
) -> str:
    """The run's report: setup, the main table, per-task tables, the split, the config."""
    tasks = sorted({t for r in rows.values() for t in r["per_task"]})
    n = next(iter(rows.values()))["overall"]["n"] if rows else 0
    lines = [
        f"# Run `{config.name}`",
        "",
        f"Zero-shot evaluation on {len(split.eval)} held-out tasks ({n} instances; "
        f"{split.protocol}) with the SuperNI encoding **{config.prompt.encoding}**, before and "
        f"after instruction tuning of `{config.model.name}` on {len(split.train)} training "
        f"tasks. ROUGE-L and exact match as the official SuperNI scorer computes them; "
        f"accuracy, where shown, by rank classification of the answer options (× 100). "
        f"Wall time: {seconds:.0f} s.",
        "",
    ]
    cols = _columns(rows)
    lines += ["| system | " + " | ".join(OVERALL[m] for m in cols) + " |"]
    lines += ["|---|" + "---:|" * len(cols)]
    for system, r in rows.items():
        lines.append(f"| {system} | " + " | ".join(_cell(r["overall"], m) for m in cols) + " |")
    for metric in cols:
        label = OVERALL[metric][0].upper() + OVERALL[metric][1:]
        lines += [
            "",
            f"## {label} per held-out task",
            "",
            "| task | " + " | ".join(rows) + " |",
            "|---|" + "---:|" * len(rows),
        ]
        for t in tasks:
            lines.append(
                f"| {t} | "
                + " | ".join(_cell(r["per_task"].get(t, {}), metric) for r in rows.values())
                + " |"
            )
    lines += [
        "",
        "## Split",
        "",
        f"- train ({len(split.train)}): {', '.join(split.train)}",
        f"- eval ({len(split.eval)}): {', '.join(split.eval)}",
        f"- excluded ({len(split.excluded)}): {', '.join(split.excluded) or 'none'}",
    ]
    for t in split.excluded:
        lines.append(f"  - {split.explain(t)}")
    lines += ["", "## Resolved config", "", "```yaml", dump_config(config).rstrip(), "```", ""]
    return "\n".join(lines)
