"""Reports of sweeps, read from the results store: Markdown, CSV, and plots (PNG, SVG).

- leave-one-cluster-out: one row per held-out cluster, columns copy demo / before /
  after tuning, and a bar chart;
- encoding matrix: training encodings as rows, test encodings as columns, and a heatmap;
- scaling: the x value (tasks, instances, model) as rows, and a curve with a log-scale x
  axis as in SuperNI.

The kind is read from the cell keys (``held_out=``, ``train=``, ``train_tasks=``,
``instances=``, ``model=``).
"""

from __future__ import annotations

import csv
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from instructkit.errors import InstructkitError
from instructkit.evaluation.stats import median_iqr
from instructkit.experiments.store import ResultsStore

SYSTEMS = ("copy input", "copy demo", "majority class", "before tuning", "after tuning")


def _kind(cells: list[str]) -> str:
    prefix = cells[0].split("=", 1)[0]
    return {
        "held_out": "loco",
        "train": "encoding-matrix",
        "prompt": "prompts",
        "templates": "templates",
    }.get(prefix, "scaling")


def sweep_table(
    store: ResultsStore, experiment: str, metric: str = "rougeL"
) -> tuple[str, list[str], list[list[str]]]:
    """(kind, header, rows) of an experiment's main table, from stored values."""
    rows = [r for r in store.results(experiment=experiment, metric=metric) if r.task == "*"]
    if not rows:
        raise InstructkitError(f"no results for experiment '{experiment}' in {store.path}")
    # Cells in sweep order (as they finished); numeric x values in numeric order.
    order = [c for _, c, _, _, _ in store.cells(experiment)]
    cells = sorted(
        {r.cell for r in rows}, key=lambda c: order.index(c) if c in order else len(order)
    )
    if all(c.split("=", 1)[1].isdigit() for c in cells):
        cells.sort(key=lambda c: int(c.split("=", 1)[1]))
    kind = _kind(cells)
    value = {(r.cell, r.system, r.template): r.value for r in rows}
    if kind == "templates":
        # T0: the spread over evaluation templates of the tuned model's ROUGE-L.
        header = ["templates per task", "median", "Q1", "Q3", "IQR", "eval templates"]
        body = []
        for c in cells:
            vals = [v for (cc, s, _), v in value.items() if cc == c and s == "after tuning"]
            sp = median_iqr(vals)
            body.append(
                [
                    c.split("=", 1)[1],
                    f"{sp.median:.1f}",
                    f"{sp.q1:.1f}",
                    f"{sp.q3:.1f}",
                    f"{sp.iqr:.1f}",
                    str(sp.n),
                ]
            )
        return kind, header, body
    if kind == "encoding-matrix":
        tests = sorted({r.template for r in rows if r.system == "after tuning"})
        header = ["train \\ test", *[t.removeprefix("superni:") for t in tests]]
        body = [
            [
                c.split("=", 1)[1],
                *[f"{value.get((c, 'after tuning', t), float('nan')):.1f}" for t in tests],
            ]
            for c in cells
        ]
        return kind, header, body
    header = [cells[0].split("=", 1)[0], *SYSTEMS]
    body = []
    for c in cells:
        own = {s: v for (cc, s, _), v in value.items() if cc == c}
        body.append([c.split("=", 1)[1], *[f"{own[s]:.1f}" if s in own else "" for s in SYSTEMS]])
    return kind, header, body


def _plot(
    kind: str,
    header: list[str],
    body: list[list[str]],
    title: str,
    out: Path,
    spreads: dict[str, list[float]] | None = None,
) -> None:
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    if kind == "templates" and spreads:
        ax.boxplot(list(spreads.values()), tick_labels=list(spreads))
        ax.set_xlabel("templates per training task")
        ax.set_ylabel("ROUGE-L over evaluation templates")
    elif kind == "encoding-matrix":
        data = [[float(x) for x in row[1:]] for row in body]
        im = ax.imshow(data, cmap="viridis")
        ax.set_xticks(range(len(header) - 1), header[1:], rotation=30, ha="right")
        ax.set_yticks(range(len(body)), [r[0] for r in body])
        ax.set_xlabel("test encoding")
        ax.set_ylabel("training encoding")
        for i, row in enumerate(data):
            for j, v in enumerate(row):
                ax.text(j, i, f"{v:.1f}", ha="center", va="center", color="white")
        fig.colorbar(im, ax=ax, label="ROUGE-L")
    elif kind == "loco":
        width = 0.8 / len(SYSTEMS)
        for k, s in enumerate(SYSTEMS):
            ys = [float(r[1 + k]) if r[1 + k] else 0.0 for r in body]
            ax.bar([i + k * width for i in range(len(body))], ys, width, label=s)
        ax.set_xticks(
            [i + width for i in range(len(body))], [r[0] for r in body], rotation=30, ha="right"
        )
        ax.set_ylabel("ROUGE-L on the held-out cluster")
        ax.legend()
    else:
        xs = [r[0] for r in body]
        numeric = all(x.isdigit() for x in xs)
        width = 0.8 / len(SYSTEMS)
        for k, s in enumerate(SYSTEMS):
            ys = [float(r[1 + k]) if r[1 + k] else float("nan") for r in body]
            if numeric:
                ax.plot([int(x) for x in xs], ys, marker="o", label=s)
            else:  # prompts or model names: bars
                ax.bar([i + k * width for i in range(len(xs))], ys, width, label=s)
        if numeric:
            ax.set_xscale("log")
        else:
            ax.set_xticks([i + width for i in range(len(xs))], xs, rotation=30, ha="right")
        ax.set_xlabel(header[0])
        ax.set_ylabel("ROUGE-L")
        ax.legend()
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(out.with_suffix(".png"), dpi=120)
    fig.savefig(out.with_suffix(".svg"))
    plt.close(fig)


def write_sweep_report(
    store_path: str | Path, experiment: str, out_dir: str | Path | None = None
) -> Path:
    """Write ``report.md``, ``results.csv``, ``plot.png`` and ``plot.svg``; returns the folder."""
    store = ResultsStore(store_path)
    try:
        kind, header, body = sweep_table(store, experiment)
        timings = store.cells(experiment)
        spreads: dict[str, list[float]] = {}
        if kind == "templates":
            for r in store.results(
                experiment=experiment, system="after tuning", task="*", metric="rougeL"
            ):
                spreads.setdefault(r.cell.split("=", 1)[1], []).append(r.value)
    finally:
        store.close()
    out = Path(out_dir) if out_dir else Path(store_path).parent / experiment
    out.mkdir(parents=True, exist_ok=True)
    with (out / "results.csv").open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([header, *body])
    title = {
        "loco": "Leave-one-cluster-out",
        "encoding-matrix": "Train × test encoding",
        "prompts": "Prompt ablation",
        "templates": "Templates per training task (T0)",
        "scaling": "Scaling",
    }[kind]
    _plot(kind, header, body, f"{title}: {experiment}", out / "plot", spreads)
    lines = [
        f"# {title}: `{experiment}`",
        "",
        "ROUGE-L (× 100) from the results store.",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    lines += ["| " + " | ".join(row) + " |" for row in body]
    lines += [
        "",
        "![plot](plot.png)",
        "",
        "| cell | model | finished | seconds |",
        "|---|---|---|---:|",
    ]
    lines += [f"| {c} | {m} | {fin} | {sec:.0f} |" for _, c, m, fin, sec in timings]
    (out / "report.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out
