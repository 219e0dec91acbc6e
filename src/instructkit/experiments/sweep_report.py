"""Reports of sweeps, read from the results store: Markdown, CSV, and plots (PNG, SVG).

Tables are laid out as the papers lay them out:

- leave-one-cluster-out (FLAN): one row per held-out cluster, the baselines and the model
  before and after tuning as columns, and a bar chart;
- number of training clusters (FLAN): one row per number, a curve;
- encoding matrix (SuperNI): training encodings as rows, test encodings as columns, and a
  heatmap;
- prompts (NI v1 field sets, FLAN few-shot): one row per prompt, and bars;
- templates / datasets (T0): median and IQR over evaluation templates, over all held-out
  tasks and per held-out task (dataset), and box plots per held-out task;
- prompt tuning (FLAN): one row per starting model, zero-shot and prompt-tuned columns;
- scaling (SuperNI): the x value (tasks, instances, model) as rows, a log-x curve.

Whenever the held-out tasks span several categories, a per-category table (rows: cells,
columns: categories, as NI v1's) and grouped bars are added. The kind is read from the
store (recorded with every cell); its registered :class:`~instructkit.experiments.kinds.
SweepKind` gives the layout, the title and the x label.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any, cast

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from instructkit.errors import InstructkitError
from instructkit.evaluation.metrics import METRICS
from instructkit.evaluation.stats import median_iqr
from instructkit.experiments.kinds import SWEEP_KINDS, SweepKind
from instructkit.experiments.store import ResultRow, ResultsStore

SYSTEMS = ("copy input", "copy demo", "majority class", "before tuning", "after tuning")
BASELINES = SYSTEMS[:3]

PARAMS = "parameters (M)"
T0_NOTE = (
    "Median, quartiles and IQR over evaluation templates of the tuned model; the baselines "
    "and the untuned model on the first evaluation template; per held-out task: median (IQR)."
)


def _kind(store: ResultsStore, experiment: str) -> SweepKind:
    """The registered kind of an experiment, as the store recorded it."""
    name = store.kind(experiment)
    if not name:
        raise InstructkitError(f"no cells of experiment '{experiment}' in {store.path}")
    return SWEEP_KINDS.get(name)


def _x(cell: str) -> str:
    return cell.split("=", 1)[1]


def _fmt(v: float | None) -> str:
    return "" if v is None or math.isnan(v) else f"{v:.1f}"


def _ordered_cells(store: ResultsStore, experiment: str, rows: list[ResultRow]) -> list[str]:
    # Cells in sweep order (as they finished); numeric x values in numeric order.
    order = [c for _, c, _, _, _ in store.cells(experiment)]
    cells = sorted(
        {r.cell for r in rows}, key=lambda c: order.index(c) if c in order else len(order)
    )
    if all(_x(c).isdigit() for c in cells):
        cells.sort(key=lambda c: int(_x(c)))
    return cells


def _spreads(rows: list[ResultRow], cells: list[str]) -> dict[str, dict[str, list[float]]]:
    """cell → task (``*`` for all tasks) → the tuned model's value per evaluation template."""
    out: dict[str, dict[str, list[float]]] = {c: {} for c in cells}
    for r in rows:
        if r.system == "after tuning" and r.cell in out and (r.task != "*" or r.category == "*"):
            out[r.cell].setdefault(r.task, []).append(r.value)
    return out


def sweep_table(
    store: ResultsStore, experiment: str, metric: str = "rougeL"
) -> tuple[str, list[str], list[list[str]]]:
    """(layout, header, rows) of an experiment's main table, from stored values."""
    every = store.results(experiment=experiment, metric=metric)
    rows = [r for r in every if r.task == "*" and r.category == "*"]
    if not rows:
        raise InstructkitError(f"no {metric} results for experiment '{experiment}' in {store.path}")
    cells = _ordered_cells(store, experiment, rows)
    sweep_kind = _kind(store, experiment)
    kind = sweep_kind.layout
    # A cell evaluated with every template of a family ("family:*") also stores a number
    # per template: its main table takes the pooled one.
    pooled = {r.cell for r in rows if r.template.endswith(":*")}
    rows = [r for r in rows if r.cell not in pooled or r.template.endswith(":*")]
    value = {(r.cell, r.system, r.template): r.value for r in rows}
    if kind in ("templates", "datasets"):
        # T0: the spread over evaluation templates of the tuned model, over all held-out
        # tasks and per held-out task (dataset): "median (IQR)".
        spreads = _spreads(every, cells)
        tasks = sorted({t for per in spreads.values() for t in per if t != "*"})
        # Beside the spread: the baselines and the untuned model (first evaluation template).
        others = [
            s
            for s in (*BASELINES, "chance", "before tuning")
            if any(system == s for (_, system, _) in value)
        ]
        header = [
            sweep_kind.x_label,
            "median",
            "Q1",
            "Q3",
            "IQR",
            "eval templates",
            *others,
            *tasks,
        ]
        body = []
        for c in cells:
            sp = median_iqr(spreads[c].get("*", []))
            per = [median_iqr(spreads[c].get(t, [])) for t in tasks]
            own = {s: v for (cc, s, _), v in value.items() if cc == c}
            body.append(
                [
                    _x(c),
                    *(_fmt(v) for v in (sp.median, sp.q1, sp.q3, sp.iqr)),
                    str(sp.n),
                    *(_fmt(own.get(s)) for s in others),
                    *(f"{_fmt(p.median)} ({_fmt(p.iqr)})" for p in per),
                ]
            )
        return kind, header, body
    if kind == "encoding-matrix":
        found = {r.template for r in rows if r.system == "after tuning"}
        # Test encodings in the order of the training encodings (the diagonal), then others.
        tests = [t for c in cells for t in found if t.removeprefix("superni:") == _x(c)]
        tests += sorted(found - set(tests))
        header = ["train \\ test", *[t.removeprefix("superni:") for t in tests]]
        body = [
            [_x(c), *[_fmt(value.get((c, "after tuning", t), float("nan"))) for t in tests]]
            for c in cells
        ]
        return kind, header, body
    if kind == "prompt-tuning":
        header = ["start", *BASELINES, "zero-shot", "prompt-tuned"]
        body = []
        for c in cells:
            if not c.startswith("start="):
                continue  # the instruction-tuning stage: its model is a starting point
            own = {s: v for (cc, s, _), v in value.items() if cc == c}
            body.append(
                [_x(c), *[_fmt(own.get(s)) for s in (*BASELINES, "before tuning", "after tuning")]]
            )
        return kind, header, body
    systems = [*SYSTEMS[:3], "chance", *SYSTEMS[3:]]
    if not any(system == "chance" for (_, system, _) in value):
        systems.remove("chance")
    header = [sweep_kind.x_label, *systems]
    sizes = {r.cell: r.value for r in store.results(experiment=experiment, metric="parameters")}
    if sweep_kind.records_parameters and all(c in sizes for c in cells):
        # SuperNI's model-size curve: models ordered by their number of parameters.
        cells.sort(key=lambda c: sizes[c])
        header.insert(1, PARAMS)
    body = []
    for c in cells:
        own = {s: v for (cc, s, _), v in value.items() if cc == c}
        size = [f"{sizes[c] / 1e6:.4g}"] if header[1] == PARAMS else []
        body.append([_x(c), *size, *[_fmt(own.get(s)) for s in systems]])
    return kind, header, body


def template_spread_table(
    store: ResultsStore, experiment: str, metric: str = "rougeL"
) -> tuple[list[str], list[list[str]]] | None:
    """T0's report of cells evaluated with several templates: per cell and held-out task,
    the median and IQR over templates before and after tuning; ``None`` when every cell
    used one template."""
    every = store.results(experiment=experiment, metric=metric)
    rows = [r for r in every if r.category == "*" or r.task != "*"]
    per: dict[tuple[str, str, str], list[float]] = {}
    for r in rows:
        if r.system in ("before tuning", "after tuning"):
            per.setdefault((r.cell, r.task, r.system), []).append(r.value)
    templates = {(r.cell, r.template) for r in rows if r.system == "after tuning"}
    cells = _ordered_cells(store, experiment, rows)
    if not any(sum(1 for c, _ in templates if c == cell) > 2 for cell in cells):
        return None
    header = ["cell", "task", "templates", "before: median (IQR)", "after: median (IQR)"]
    body = []
    for cell in cells:
        tasks = sorted({t for c, t, _ in per if c == cell}, key=lambda t: (t != "*", t))
        for task in tasks:
            # The pooled number is stored under its own template: leave it out of the spread.
            spreads = []
            for system in ("before tuning", "after tuning"):
                vals = [
                    r.value
                    for r in rows
                    if r.cell == cell
                    and r.task == task
                    and r.system == system
                    and r.template.split(":", 1)[-1] != "*"
                    and (r.category == "*" if task == "*" else True)
                ]
                spreads.append(median_iqr(vals))
            body.append(
                [
                    _x(cell) if "=" in cell else cell,
                    "all" if task == "*" else task,
                    str(spreads[1].n),
                    *(f"{_fmt(sp.median)} ({_fmt(sp.iqr)})" for sp in spreads),
                ]
            )
    return header, body


def category_table(
    store: ResultsStore, experiment: str, metric: str = "rougeL"
) -> tuple[list[str], list[list[str]]] | None:
    """Per-category values of the tuned model (rows: cells, columns: categories, then all
    tasks), as NI v1 reports its ablations; ``None`` when the held-out tasks span fewer
    than two categories or a cell was evaluated with several templates."""
    every = store.results(experiment=experiment, metric=metric, system="after tuning")
    rows = [r for r in every if r.task == "*"]
    if not rows:
        return None
    cells = _ordered_cells(store, experiment, rows)
    if any(len({r.template for r in rows if r.cell == c}) > 1 for c in cells):
        return None
    cats = sorted({r.category for r in rows if r.category != "*"})
    if len(cats) < 2:
        return None
    value = {(r.cell, r.category): r.value for r in rows}
    prefixes = {c.split("=", 1)[0] for c in cells}
    header = [prefixes.pop() if len(prefixes) == 1 else "cell", *cats, "all"]
    body = [[_x(c), *[_fmt(value.get((c, k))) for k in [*cats, "*"]]] for c in cells]
    return header, body


# One paper style for every figure: readable at column width, no chart junk.
PAPER_STYLE: dict[str, Any] = {
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "legend.fontsize": 8,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.grid.axis": "y",
    "grid.alpha": 0.3,
    "savefig.bbox": "tight",
}
# Systems drawn as labelled reference lines, not as results of the tuned model.
REFERENCES = ("copy input", "copy demo", "majority class", "majority class (oracle)", "chance")
UNTUNED = "before tuning"


def _intervals(
    store: ResultsStore, experiment: str, metric: str
) -> dict[str, dict[str, tuple[float, float]]]:
    """system → x label → stored 95% interval of the overall number (where computed)."""
    ends: dict[tuple[str, str], dict[str, float]] = {}
    for end in ("low", "high"):
        for r in store.results(experiment=experiment, metric=f"{metric}_ci95_{end}"):
            if r.task == "*" and r.category == "*":
                ends.setdefault((r.system, _x(r.cell)), {})[end] = r.value
    out: dict[str, dict[str, tuple[float, float]]] = {}
    for (system, x), v in ends.items():
        if len(v) == 2:
            out.setdefault(system, {})[x] = (v["low"], v["high"])
    return out


def _save(fig: plt.Figure, out: Path) -> None:
    fig.tight_layout()
    fig.savefig(out.with_suffix(".png"), dpi=200)
    fig.savefig(out.with_suffix(".svg"))
    plt.close(fig)


def _reference_lines(ax: plt.Axes, xs: list[float], series: dict[str, list[float]]) -> None:
    """Baselines, chance and the untuned model as labelled dashed lines: flat where the
    value is the same at every x, else a dotted line through their points."""
    styles = {UNTUNED: ("tab:gray", "-."), "chance": ("black", ":")}
    for k, (name, ys) in enumerate(series.items()):
        color, ls = styles.get(name, (f"C{k + 1}", "--"))
        finite = [y for y in ys if not math.isnan(y)]
        if not finite:
            continue
        if max(finite) - min(finite) < 1e-9:
            ax.axhline(finite[0], color=color, ls=ls, lw=1, label=f"{name} ({finite[0]:.1f})")
        else:
            ax.plot(xs, ys, color=color, ls=ls, lw=1, marker=".", label=name)


def _family(cell: str) -> str:
    """The model family of a scaling-models cell (model=<name>), for lines that never join
    unlike models; "" when it cannot be told offline."""
    from instructkit.errors import InstructkitError as _Err
    from instructkit.models.loading import is_encoder_decoder

    name = cell.split("=", 1)[-1]
    try:
        return "encoder-decoder" if is_encoder_decoder(name) else "decoder-only"
    except (_Err, OSError, ValueError):
        return ""


def _bars(
    ax: plt.Axes,
    labels: list[str],
    series: dict[str, list[float]],
    references: dict[str, list[float]] | None = None,
    intervals: dict[str, dict[str, tuple[float, float]]] | None = None,
) -> None:
    """Grouped bars of the model's numbers (with their 95% intervals where stored); the
    references (baselines, chance) as short labelled dashed lines across each group."""
    width = 0.8 / max(len(series), 1)
    for k, (name, ys) in enumerate(series.items()):
        ax.bar(
            [i + k * width for i in range(len(labels))], ys, width, label=name, color=f"C{k}",
            yerr=_yerr(name, labels, ys, intervals or {}), capsize=3,
        )  # fmt: skip
    centers = [i + width * (len(series) - 1) / 2 for i in range(len(labels))]
    for k, (name, ys) in enumerate((references or {}).items()):
        color = "black" if name == "chance" else f"C{k + len(series)}"
        for j, (c, y) in enumerate(zip(centers, ys, strict=True)):
            if not math.isnan(y):
                ax.hlines(y, c - 0.45, c + 0.45, colors=color, linestyles="--", lw=1.2,
                          label=name if j == 0 else "_nolegend_")  # fmt: skip
    ax.set_xticks(centers, labels, rotation=30, ha="right")
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5))


def _num(x: str) -> float:
    return float(x) if x else float("nan")


def _plot(
    kind: str,
    header: list[str],
    body: list[list[str]],
    title: str,
    out: Path,
    spreads: dict[str, dict[str, list[float]]] | None = None,
    metric: str = "ROUGE-L",
    x_label: str = "",
    intervals: dict[str, dict[str, tuple[float, float]]] | None = None,
) -> None:
    with plt.rc_context(cast(Any, PAPER_STYLE)):
        _draw(kind, header, body, title, out, spreads, f"{metric} (×100)", x_label, intervals)


def _yerr(
    name: str, xs: list[str], ys: list[float], intervals: dict[str, dict[str, tuple[float, float]]]
) -> list[list[float]] | None:
    """Error bars (below, above) of a system at each x from its stored 95% intervals."""
    per = intervals.get(name)
    if not per or not all(x in per for x in xs):
        return None
    return [
        [max(y - per[x][0], 0.0) for x, y in zip(xs, ys, strict=True)],
        [max(per[x][1] - y, 0.0) for x, y in zip(xs, ys, strict=True)],
    ]


def _draw(
    kind: str,
    header: list[str],
    body: list[list[str]],
    title: str,
    out: Path,
    spreads: dict[str, dict[str, list[float]]] | None,
    metric: str,
    x_label: str,
    intervals: dict[str, dict[str, tuple[float, float]]] | None = None,
) -> None:
    intervals = intervals or {}
    if kind in ("templates", "datasets") and spreads:
        tasks = ["*", *sorted({t for per in spreads.values() for t in per if t != "*"})]
        cols = min(3, len(tasks))
        rows = math.ceil(len(tasks) / cols)
        # One y axis for every panel: the same metric, comparable across tasks.
        fig, axes = plt.subplots(
            rows, cols, figsize=(4.2 * cols, 3.4 * rows), squeeze=False, sharey=True
        )
        for ax, task in zip(axes.flat, tasks, strict=False):
            ax.boxplot(
                [per.get(task, []) for per in spreads.values()],
                tick_labels=[_x(c) for c in spreads],
            )
            ax.set_title("all held-out tasks" if task == "*" else task, fontsize="small")
            ax.set_xlabel(x_label)
            ax.set_ylabel(metric)
        for ax in list(axes.flat)[len(tasks) :]:
            ax.axis("off")
        fig.suptitle(title)
        _save(fig, out)
        return
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    if kind == "encoding-matrix":
        data = [[_num(x) for x in row[1:]] for row in body]
        im = ax.imshow(data, cmap="viridis")
        ax.set_xticks(range(len(header) - 1), header[1:], rotation=30, ha="right")
        ax.set_yticks(range(len(body)), [r[0] for r in body])
        ax.set_xlabel("test encoding")
        ax.set_ylabel("training encoding")
        for i, row in enumerate(data):
            for j, v in enumerate(row):
                ax.text(j, i, f"{v:.1f}", ha="center", va="center", color="white")
        fig.colorbar(im, ax=ax, label=metric)
    else:
        xs = [r[0] for r in body]
        series = {h: [_num(r[1 + k]) for r in body] for k, h in enumerate(header[1:])}
        refs = {k: series.pop(k) for k in list(series) if k in REFERENCES}
        if header[1] == PARAMS:
            # Model size on a log x axis, each point named by its model; a line joins
            # models of one family only.
            sizes = series.pop(PARAMS)
            families = [_family(x) for x in xs]
            for k, (name, ys) in enumerate(series.items()):
                for fam in dict.fromkeys(families):
                    idx = [i for i, f in enumerate(families) if f == fam]
                    ax.plot(
                        [sizes[i] for i in idx],
                        [ys[i] for i in idx],
                        marker="o" if fam != "encoder-decoder" else "s",
                        color=f"C{k}",
                        ls="-" if fam else "none",
                        label=f"{name}" + (f" ({fam})" if fam and len(set(families)) > 1 else ""),
                    )
            _reference_lines(ax, sizes, refs)
            ax.set_xscale("log")
            ax.minorticks_off()
            ax.set_xticks(sizes, [f"{x}\n{s:.3g}M" for x, s in zip(xs, sizes, strict=True)])
            ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5))
        elif all(x.isdigit() for x in xs) and kind != "loco":
            xi = [int(x) for x in xs]
            tuned = {k: v for k, v in series.items() if k != UNTUNED}
            for k, (name, ys) in enumerate(tuned.items()):
                ax.errorbar(
                    xi, ys, yerr=_yerr(name, xs, ys, intervals), marker="o", color=f"C{k}",
                    capsize=3, label=name,
                )  # fmt: skip
            _reference_lines(
                ax,
                [float(x) for x in xi],
                {**refs, **{k: v for k, v in series.items() if k == UNTUNED}},
            )
            if kind == "scaling":
                ax.set_xscale("log")  # as SuperNI's scaling curves
                ax.minorticks_off()
            ax.set_xticks(xi, xs)
            ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5))
        else:
            _bars(ax, xs, series, refs, intervals)
        ax.set_xlabel(header[0])
        ax.set_ylabel(metric)
    ax.set_title(title)
    _save(fig, out)


def _plot_categories(
    header: list[str], body: list[list[str]], title: str, out: Path, metric: str = "ROUGE-L"
) -> None:
    cats = header[1:-1]
    with plt.rc_context(cast(Any, PAPER_STYLE)):
        fig, ax = plt.subplots(figsize=(max(6.4, 0.9 * len(cats)), 4.2))
        _bars(ax, cats, {r[0]: [_num(v) for v in r[1:-1]] for r in body})
        ax.set_ylabel(f"{metric} of the tuned model (×100)")
        ax.set_title(title)
        _save(fig, out)


def _markdown_table(header: list[str], body: list[list[str]]) -> list[str]:
    return [
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *["| " + " | ".join(row) + " |" for row in body],
    ]


def report_metric(store: ResultsStore, experiment: str) -> str:
    """The metric a report shows by default: T0's rank-classification accuracy for the T0
    kinds when it was measured, ROUGE-L otherwise."""
    ranked = store.results(experiment=experiment, metric="accuracy", system="after tuning")
    if ranked and _kind(store, experiment).layout in ("templates", "datasets"):
        return "accuracy"
    return "rougeL"


def write_sweep_report(
    store_path: str | Path,
    experiment: str,
    out_dir: str | Path | None = None,
    metric: str | None = None,
) -> Path:
    """Write ``report.md``, ``results.csv``, ``plot.png`` and ``plot.svg`` (and, over
    several categories, ``categories.csv``, ``categories.png`` and ``categories.svg``);
    returns the folder. ``metric``: any registered metric (``rougeL``, ``exact_match``,
    ``accuracy``, ...); by default :func:`report_metric`."""
    if metric is not None:
        METRICS.get(metric)  # "did you mean" for an unknown metric
    store = ResultsStore(store_path)
    try:
        metric = metric or report_metric(store, experiment)
        sweep_kind = _kind(store, experiment)
        kind, header, body = sweep_table(store, experiment, metric)
        by_category = category_table(store, experiment, metric)
        by_template = (
            template_spread_table(store, experiment, metric)
            if kind not in ("templates", "datasets")
            else None
        )
        timings = store.cells(experiment)
        intervals = _intervals(store, experiment, metric)
        spreads: dict[str, dict[str, list[float]]] = {}
        if kind in ("templates", "datasets"):
            every = store.results(experiment=experiment, metric=metric)
            spreads = _spreads(every, _ordered_cells(store, experiment, every))
    finally:
        store.close()
    if out_dir is None:
        from instructkit.experiments.config import check_name

        check_name(experiment, "experiment")
    out = Path(out_dir) if out_dir else Path(store_path).parent / experiment
    out.mkdir(parents=True, exist_ok=True)
    with (out / "results.csv").open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([header, *body])
    title = sweep_kind.title
    label = METRICS.get(metric).label or metric
    _plot(
        kind,
        header,
        body,
        title,
        out / "plot",
        spreads,
        label,
        sweep_kind.x_label,
        intervals,
    )
    note = {
        "templates": T0_NOTE,
        "datasets": T0_NOTE,
        "prompt-tuning": "Held-out tasks before (zero-shot) and after prompt tuning on their own "
        "training instances.",
    }.get(kind, "")
    if metric == "accuracy":
        label = "Accuracy by rank classification (the answer option of highest log-likelihood)"
    lines = [f"# {title}: `{experiment}`", "", f"{label} (× 100) from the results store. {note}"]
    lines += ["", *_markdown_table(header, body), "", "![plot](plot.png)", ""]
    if by_category is not None:
        cat_header, cat_body = by_category
        with (out / "categories.csv").open("w", newline="", encoding="utf-8") as f:
            csv.writer(f).writerows([cat_header, *cat_body])
        _plot_categories(cat_header, cat_body, f"{title}: per category", out / "categories", label)
        lines += ["## Per category (tuned model)", "", *_markdown_table(cat_header, cat_body)]
        lines += ["", "![categories](categories.png)", ""]
    if by_template is not None:
        header_t, body_t = by_template
        with (out / "templates.csv").open("w", newline="", encoding="utf-8") as f:
            csv.writer(f).writerows([header_t, *body_t])
        lines += [
            "## Over templates: median (IQR), as T0 reports",
            "",
            *_markdown_table(header_t, body_t),
            "",
        ]
    lines += ["| cell | model | finished | seconds |", "|---|---|---|---:|"]
    lines += [f"| {c} | {m} | {fin} | {sec:.0f} |" for _, c, m, fin, sec in timings]
    (out / "report.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out
