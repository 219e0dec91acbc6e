"""Evaluation: official SuperNI metrics, generation runs, aggregation and baselines."""

from typing import TYPE_CHECKING

from instructkit._lazy import lazy_exports

_EXPORTS = {
    "BASELINES": "baselines",
    "copy_demo_output": "baselines",
    "copy_input": "baselines",
    "compute_metrics": "metrics",
    "exact_match": "metrics",
    "normalize_answer": "metrics",
    "rouge_l": "metrics",
    "score_instance": "metrics",
    "Prediction": "run",
    "aggregate": "run",
    "baseline_predictions": "run",
    "cut_at_stop": "run",
    "generate_predictions": "run",
    "read_predictions": "run",
}
__getattr__ = lazy_exports(__name__, _EXPORTS)
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

if TYPE_CHECKING:
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
