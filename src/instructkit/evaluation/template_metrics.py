"""The metrics PromptSource templates declare (``metadata.metrics``), where they apply.

``Accuracy`` is exact agreement of the prediction with the target (for rank
classification, the chosen option); ``ROUGE`` is ROUGE-L as the SuperNI scorer computes
it; ``Squad`` is SQuAD's exact match and token F1. Metrics this toolkit does not compute
(``BLEU``, ``Other``, ...) are listed under ``unsupported`` rather than guessed.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Sequence
from typing import Any

from instructkit.evaluation.metrics import rouge_l


def _squad_normalize(text: str) -> str:
    # SQuAD v1.1 normalisation: lower case, no punctuation, no articles, single spaces.
    text = "".join(ch for ch in text.lower() if ch not in set(string.punctuation))
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def squad_f1(prediction: str, reference: str) -> float:
    """SQuAD token F1 of one prediction against one reference (0..1)."""
    p, r = _squad_normalize(prediction).split(), _squad_normalize(reference).split()
    common = sum((Counter(p) & Counter(r)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(p), common / len(r)
    return 2 * precision * recall / (precision + recall)


def template_metrics(
    declared: Sequence[str], predictions: Sequence[str], targets: Sequence[Sequence[str]]
) -> dict[str, Any]:
    """Compute each declared metric (× 100) over predictions and their targets."""
    n = len(predictions)
    out: dict[str, Any] = {"n": n, "unsupported": []}
    pairs = list(zip(predictions, targets, strict=True))
    for metric in declared:
        if n == 0:
            break
        if metric == "Accuracy":
            out["accuracy"] = (
                100.0 * sum(p.strip() in [t.strip() for t in ts] for p, ts in pairs) / n
            )
        elif metric == "ROUGE":
            out["rougeL"] = 100.0 * sum(max(rouge_l(p, t) for t in ts) for p, ts in pairs) / n
        elif metric == "Squad":
            out["squad_em"] = (
                100.0
                * sum(
                    max(_squad_normalize(p) == _squad_normalize(t) for t in ts) for p, ts in pairs
                )
                / n
            )
            out["squad_f1"] = 100.0 * sum(max(squad_f1(p, t) for t in ts) for p, ts in pairs) / n
        else:
            out["unsupported"].append(metric)
    return out
