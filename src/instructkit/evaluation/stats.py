"""Robustness statistics: T0's median and interquartile range over templates, and
bootstrap confidence intervals over instances."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Spread:
    """Median and quartiles of a metric over templates (T0 reports median and IQR)."""

    median: float
    q1: float
    q3: float
    n: int

    @property
    def iqr(self) -> float:
        return self.q3 - self.q1


def median_iqr(values: Sequence[float]) -> Spread:
    """Median, first and third quartile (linear interpolation, numpy's default)."""
    if not values:
        raise ValueError("median_iqr needs at least one value")
    q1, med, q3 = np.percentile(np.asarray(values, dtype=float), [25, 50, 75])
    return Spread(float(med), float(q1), float(q3), len(values))


def spread_over_templates(per_template: Mapping[str, Mapping[str, float]]) -> dict[str, Spread]:
    """Per dataset, the spread of a metric over its templates.

    ``per_template`` maps dataset → template → metric value.
    """
    return {d: median_iqr(list(t.values())) for d, t in per_template.items()}


def bootstrap_ci(
    values: Sequence[float], *, n_resamples: int = 1000, alpha: float = 0.05, seed: int = 0
) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of the mean of per-instance scores."""
    if not values:
        raise ValueError("bootstrap_ci needs at least one value")
    arr = np.asarray(values, dtype=float)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(arr), size=(n_resamples, len(arr)))
    means = arr[idx].mean(axis=1)
    lo, hi = np.percentile(means, [100 * alpha / 2, 100 * (1 - alpha / 2)])
    return float(lo), float(hi)
