"""Evaluation: official SuperNI metrics, generation runs, aggregation and baselines."""

from instructkit.evaluation.baselines import BASELINES, copy_demo_output, copy_input
from instructkit.evaluation.metrics import (
    compute_metrics,
    exact_match,
    normalize_answer,
    rouge_l,
    score_instance,
)
from instructkit.evaluation.run import (
    Prediction,
    aggregate,
    baseline_predictions,
    cut_at_stop,
    generate_predictions,
    read_predictions,
)

__all__ = [
    "BASELINES",
    "Prediction",
    "aggregate",
    "baseline_predictions",
    "compute_metrics",
    "copy_demo_output",
    "copy_input",
    "cut_at_stop",
    "exact_match",
    "generate_predictions",
    "normalize_answer",
    "read_predictions",
    "rouge_l",
    "score_instance",
]
