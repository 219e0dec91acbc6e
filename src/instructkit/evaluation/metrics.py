"""ROUGE-L and exact match as the official SuperNI scorer computes them.

- exact match: SQuAD-style normalisation (lower case, punctuation dropped, whitespace
  collapsed; articles kept), best over the references;
- ROUGE-L: ``rouge_score``'s F-measure, English with its default tokenizer and the
  Porter stemmer, cross-lingual with GPT-2 byte-level BPE tokens (leading "Ġ" removed)
  and no stemmer; best over the references;
- both averaged over instances and multiplied by 100.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from instructkit.evaluation.fast_rouge import FastRougeL
from instructkit.registry import Registry

# Deletes exactly the characters of string.punctuation, as the official character filter.
_DROP_PUNCT = str.maketrans("", "", string.punctuation)


_PUNCT_BYTES = string.punctuation.encode("ascii")
# Every byte but the ASCII letters and digits.
_NOT_ALNUM = bytes(c for c in range(256) if not (chr(c).isascii() and chr(c).isalnum()))


def normalize_answer(text: str) -> str:
    """Lower-case, drop punctuation, collapse whitespace (the official normalisation)."""
    text = text.lower()
    if text.isascii():  # the same deletion on bytes: several times faster on long texts
        return " ".join(text.encode("ascii").translate(None, _PUNCT_BYTES).decode().split())
    return " ".join(text.translate(_DROP_PUNCT).split())


_PUNCT = set(string.punctuation)


def normalize_answer_reference(text: str) -> str:
    """The official normalisation, written as the official script does (char filter)."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCT)
    return " ".join(text.split())


def exact_match(prediction: str, reference: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(reference))


class _GPT2Tokens:
    """The cross-lingual tokenizer: GPT-2 byte-level BPE tokens, leading "Ġ" removed."""

    def __init__(self, name_or_path: str) -> None:
        from transformers import AutoTokenizer

        self.tok = AutoTokenizer.from_pretrained(name_or_path)

    def tokenize(self, text: str) -> list[str]:
        return [t.lstrip("Ġ") for t in self.tok.tokenize(text)]


@lru_cache(maxsize=4)
def _scorer(xlingual_tokenizer: str | None) -> Any:
    # rouge_score itself, imported only for the reference implementation.
    from rouge_score import rouge_scorer

    if xlingual_tokenizer is None:
        return rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
    return rouge_scorer.RougeScorer(["rougeL"], tokenizer=_GPT2Tokens(xlingual_tokenizer))


def rouge_l_reference(
    prediction: str, reference: str, *, xlingual_tokenizer: str | None = None
) -> float:
    """ROUGE-L F-measure through ``rouge_score`` itself (the official computation)."""
    return float(_scorer(xlingual_tokenizer).score(reference, prediction)["rougeL"].fmeasure)


@lru_cache(maxsize=4)
def fast_scorer(xlingual_tokenizer: str | None = None) -> FastRougeL:
    """The shared fast scorer (its caches persist across calls)."""
    if xlingual_tokenizer is None:
        return FastRougeL()
    return FastRougeL(tokenize=_GPT2Tokens(xlingual_tokenizer).tokenize)


def rouge_l(prediction: str, reference: str, *, xlingual_tokenizer: str | None = None) -> float:
    """ROUGE-L F-measure of one prediction against one reference (0..1); identical to
    :func:`rouge_l_reference`, faster."""
    return fast_scorer(xlingual_tokenizer).score(prediction, reference)


@dataclass(frozen=True)
class Metric:
    """A metric by name. ``needs``: ``generation`` (``fn(prediction, references,
    xlingual_tokenizer=..., reference_impl=...)`` gives one instance's value in 0..1, best
    over its references) or ``options`` (``fn(option_scores)`` gives 0 or 1 from one
    instance's rank-classification scores). Corpus values are means × 100."""

    name: str
    needs: Literal["generation", "options"]
    fn: Callable[..., float]
    label: str = ""


METRICS: Registry[Metric] = Registry("metric", entry_points="instructkit.metrics")


def _exact_match(
    prediction: str,
    references: Sequence[str],
    *,
    xlingual_tokenizer: str | None = None,
    reference_impl: bool = False,
) -> float:
    if reference_impl:
        pred = normalize_answer_reference(prediction)
        return max(float(pred == normalize_answer_reference(r)) for r in references)
    refs = [normalize_answer(r) for r in references]
    # Normalising keeps every ASCII letter and digit (lower-cased), so a prediction with
    # more of them than the longest normalised reference has characters matches none:
    # a long prediction is not normalised for nothing.
    kept = prediction.lower().encode("utf-8", "surrogatepass").translate(None, _NOT_ALNUM)
    if len(kept) > max(map(len, refs)):
        return 0.0
    pred = normalize_answer(prediction)
    return max(float(pred == r) for r in refs)


def _rouge_l(
    prediction: str,
    references: Sequence[str],
    *,
    xlingual_tokenizer: str | None = None,
    reference_impl: bool = False,
) -> float:
    rl = rouge_l_reference if reference_impl else rouge_l
    return max(rl(prediction, r, xlingual_tokenizer=xlingual_tokenizer) for r in references)


METRICS.register("exact_match", Metric("exact_match", "generation", _exact_match, "Exact match"))
METRICS.register("rougeL", Metric("rougeL", "generation", _rouge_l, "ROUGE-L"))
METRICS.register(
    "accuracy",
    Metric("accuracy", "options", lambda r: float(r.correct()), "Accuracy (rank)"),
)
METRICS.register(
    "accuracy_norm",
    Metric(
        "accuracy_norm",
        "options",
        lambda r: float(r.correct(normalize="chars")),
        "Accuracy (rank, per character: lm-eval's acc_norm)",
    ),
)
METRICS.register(
    "accuracy_per_token",
    Metric(
        "accuracy_per_token",
        "options",
        lambda r: float(r.correct(normalize="tokens")),
        "Accuracy (rank, per token)",
    ),
)


def generation_metrics() -> list[Metric]:
    """The registered metrics computed from generated text, in registration order."""
    return list(_generation_metrics(METRICS.version))


@lru_cache(maxsize=8)
def _generation_metrics(version: int) -> tuple[Metric, ...]:
    # Looked up once per registry state: scoring calls this for every instance.
    return tuple(m for _, m in METRICS.items() if m.needs == "generation")


def score_instance(
    prediction: str,
    references: Sequence[str],
    *,
    xlingual_tokenizer: str | None = None,
    reference_impl: bool = False,
) -> dict[str, float]:
    """Every generation metric of one prediction (exact match and ROUGE-L first), each
    the best over the references."""
    refs = list(references) or [""]
    return {
        m.name: m.fn(
            prediction, refs, xlingual_tokenizer=xlingual_tokenizer, reference_impl=reference_impl
        )
        for m in _generation_metrics(METRICS.version)
    }


def compute_metrics(
    predictions: Sequence[str],
    references: Sequence[Sequence[str]],
    *,
    xlingual_tokenizer: str | None = None,
    reference_impl: bool = False,
) -> dict[str, Any]:
    """Corpus-level exact match and ROUGE-L (× 100, rounded to 4 places as officially).

    ``reference_impl=True`` computes ROUGE-L through ``rouge_score`` itself.
    """
    if len(predictions) != len(references):
        raise ValueError("predictions and references differ in length")
    names = [m.name for m in generation_metrics()]
    if not predictions:
        return {**dict.fromkeys(names, 0.0), "n": 0}
    sums = dict.fromkeys(names, 0.0)
    for p, refs in zip(predictions, references, strict=True):
        s = score_instance(
            p, refs, xlingual_tokenizer=xlingual_tokenizer, reference_impl=reference_impl
        )
        for k in names:
            sums[k] += s[k]
    n = len(predictions)
    return {**{k: round(100 * v / n, 4) for k, v in sums.items()}, "n": n}
