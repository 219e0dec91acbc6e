"""Report figures in one paper style: baselines, chance and the untuned model as labelled
reference lines, ×100 in the axis label, no line across unlike model families, shared y
axes for comparable panels, PNG at 200 dpi beside SVG."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import pytest

from instructkit.evaluation.results import Score
from instructkit.experiments import sweep_report
from instructkit.experiments.store import ResultsStore


def _store(path: Path, kind: str, cells: dict[str, dict[str, float]], params: bool) -> None:
    store = ResultsStore(path)
    for k, (cell, systems) in enumerate(cells.items()):
        rows = [Score(system, "rougeL", v, template="superni:Def") for system, v in systems.items()]
        if params:
            rows.append(Score("model", "parameters", float(10 ** (k + 5)), template="-"))
        store.record_cell("exp", cell, f"h{k}", "m", rows, kind=kind, started="", seconds=1.0)
    store.close()


@pytest.fixture
def figures(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    saved: list[Any] = []
    real = sweep_report._save

    def keep(fig: Any, out: Path) -> None:
        saved.append(fig)
        real(fig, out)

    monkeypatch.setattr(sweep_report, "_save", keep)
    return saved


BASE = {"copy input": 1.0, "copy demo": 20.0, "majority class": 30.0}


def test_curve_draws_references_as_lines(tmp_path: Path, figures: list[Any]) -> None:
    cells = {
        f"clusters={n}": {**BASE, "before tuning": 25.0, "after tuning": 30.0 + n}
        for n in (1, 3, 9)
    }
    _store(tmp_path / "r.sqlite", "clusters", cells, params=False)
    out = sweep_report.write_sweep_report(tmp_path / "r.sqlite", "exp", tmp_path / "rep")
    ax = figures[0].axes[0]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "after tuning" in legend
    # Constant baselines and the untuned model: one flat labelled line each.
    for name, v in (*BASE.items(), ("before tuning", 25.0)):
        flat = [ln for ln in ax.get_lines() if ln.get_label() == f"{name} ({v:.1f})"]
        assert len(flat) == 1 and set(flat[0].get_ydata()) == {v}
    assert "×100" in ax.get_ylabel()
    assert ax.get_title() == "Training clusters (FLAN)" or "exp" not in ax.get_title()
    from PIL import Image

    dpi = Image.open(out / "plot.png").info["dpi"]
    assert round(dpi[0]) == 200 and (out / "plot.svg").is_file()


def test_no_line_joins_two_model_families(tmp_path: Path, figures: list[Any]) -> None:
    cells = {
        "model=tiny": {**BASE, "before tuning": 5.0, "after tuning": 10.0},
        "model=tiny-t5": {**BASE, "before tuning": 6.0, "after tuning": 12.0},
    }
    _store(tmp_path / "r.sqlite", "scaling-models", cells, params=True)
    sweep_report.write_sweep_report(tmp_path / "r.sqlite", "exp", tmp_path / "rep")
    ax = figures[0].axes[0]
    tuned = [ln for ln in ax.get_lines() if ln.get_label().startswith("after tuning")]
    assert len(tuned) == 2  # one per family
    assert all(len(ln.get_xdata()) == 1 for ln in tuned)


def test_loco_bars_with_reference_segments(tmp_path: Path, figures: list[Any]) -> None:
    cells = {
        f"held_out={c}": {**BASE, "before tuning": 25.0, "after tuning": 40.0}
        for c in ("nli", "qa")
    }
    _store(tmp_path / "r.sqlite", "loco", cells, params=False)
    sweep_report.write_sweep_report(tmp_path / "r.sqlite", "exp", tmp_path / "rep")
    ax = figures[0].axes[0]
    bars = {p.get_label() for p in ax.containers}
    assert bars == {"before tuning", "after tuning"}  # baselines are not bars
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert {"copy demo", "majority class"} <= set(legend)
    plt.close("all")


def test_stored_intervals_become_error_bars(tmp_path: Path, figures: list[Any]) -> None:
    store = ResultsStore(tmp_path / "r.sqlite")
    for k, n in enumerate((1, 3)):
        rows = [
            Score(s, "rougeL", v, template="t") for s, v in {**BASE, "after tuning": 40.0}.items()
        ]
        rows += [Score("after tuning", "rougeL_ci95_low", 35.0, template="t"),
                 Score("after tuning", "rougeL_ci95_high", 44.0, template="t")]  # fmt: skip
        store.record_cell("exp", f"clusters={n}", f"h{k}", "m", rows, kind="clusters",
                          started="", seconds=1.0)  # fmt: skip
    store.close()
    sweep_report.write_sweep_report(tmp_path / "r.sqlite", "exp", tmp_path / "rep")
    ax = figures[0].axes[0]
    bars = [c for c in ax.containers if type(c).__name__ == "ErrorbarContainer"]
    assert bars and bars[0].has_yerr
    segments = bars[0].lines[2][0].get_segments()
    assert [tuple(round(y, 6) for y in (s[0][1], s[1][1])) for s in segments] == [(35.0, 44.0)] * 2


def test_run_scores_carry_bootstrap_intervals() -> None:
    from instructkit.evaluation.results import scores_from_metrics

    rows = scores_from_metrics(
        "after tuning",
        {"overall": {"rougeL": 50.0, "ci95": {"rougeL": [40.0, 60.0]}}},
        "t",
        {},
    )
    got = {r.metric: r.value for r in rows}
    assert got["rougeL_ci95_low"] == 40.0 and got["rougeL_ci95_high"] == 60.0
