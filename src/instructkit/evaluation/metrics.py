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
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from rouge_score import rouge_scorer

from instructkit.evaluation.fast_rouge import FastRougeL

# Deletes exactly the characters of string.punctuation, as the official character filter.
_DROP_PUNCT = str.maketrans("", "", string.punctuation)


def normalize_answer(text: str) -> str:
    """Lower-case, drop punctuation, collapse whitespace (the official normalisation)."""
    return " ".join(text.lower().translate(_DROP_PUNCT).split())


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
def _scorer(xlingual_tokenizer: str | None) -> rouge_scorer.RougeScorer:
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


def score_instance(
    prediction: str,
    references: Sequence[str],
    *,
    xlingual_tokenizer: str | None = None,
    reference_impl: bool = False,
) -> dict[str, float]:
    """Exact match and ROUGE-L of one prediction, each the best over the references."""
    refs = list(references) or [""]
    rl = rouge_l_reference if reference_impl else rouge_l
    norm = normalize_answer_reference if reference_impl else normalize_answer
    pred = norm(prediction)
    return {
        "exact_match": max(float(pred == norm(r)) for r in refs),
        "rougeL": max(rl(prediction, r, xlingual_tokenizer=xlingual_tokenizer) for r in refs),
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
    if not predictions:
        return {"exact_match": 0.0, "rougeL": 0.0, "n": 0}
    em = rl = 0.0
    for p, refs in zip(predictions, references, strict=True):
        s = score_instance(
            p, refs, xlingual_tokenizer=xlingual_tokenizer, reference_impl=reference_impl
        )
        em += s["exact_match"]
        rl += s["rougeL"]
    n = len(predictions)
    return {"exact_match": round(100 * em / n, 4), "rougeL": round(100 * rl / n, 4), "n": n}
