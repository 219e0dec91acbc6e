"""Scoring prediction files against official SuperNI reference files.

References: JSONL with ``id``, ``task_id``, ``task_category``, ``track`` and
``references`` per instance (the official ``test_references.jsonl`` layout). Predictions:
JSONL with ``id`` and ``prediction`` (extra keys are ignored, as officially). A missing
prediction counts as the empty string. Results per track: overall, per category (first
category, lower case, spaces → "_") and per task.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from instructkit.errors import TaskFormatError
from instructkit.evaluation.metrics import compute_metrics, score_instance
from instructkit.jsonl_io import iter_json_objects


@dataclass(frozen=True)
class Reference:
    """One reference row of an official reference file."""

    id: str
    task_id: str
    category: str
    track: str
    references: list[str]


# The metric the SuperNI paper reports per test category: exact match for the six
# classification-like categories, ROUGE-L for the six generation categories.
EXACT_MATCH_CATEGORIES = frozenset(
    {
        "textual_entailment",
        "cause_effect_classification",
        "coreference_resolution",
        "dialogue_act_recognition",
        "answerability_classification",
        "word_analogy",
    }
)


def paper_metric(category: str) -> str:
    """``exact_match`` or ``rougeL``: what the SuperNI paper reports for a category."""
    return "exact_match" if category_key(category) in EXACT_MATCH_CATEGORIES else "rougeL"


def category_key(category: str) -> str:
    """The official per-category key: lower case, spaces replaced by underscores."""
    return category.lower().replace(" ", "_")


def read_references(path: str | Path) -> list[Reference]:
    """Read an official reference file."""
    path = Path(path)
    out = []
    seen: dict[str, int] = {}
    for k, row in iter_json_objects(path):
        for key in ("id", "task_id", "references"):
            if key not in row:
                raise TaskFormatError(path, f"line {k}.{key}", "missing")
        for key in ("id", "task_id"):
            if not isinstance(row[key], str):
                raise TaskFormatError(path, f"line {k}.{key}", "expected a string")
        for key, default in (("task_category", ""), ("track", "default")):
            if not isinstance(row.setdefault(key, default), str):
                raise TaskFormatError(path, f"line {k}.{key}", "expected a string")
        if row["track"] not in ("default", "xlingual"):
            raise TaskFormatError(
                path, f"line {k}.track", f"expected 'default' or 'xlingual', got {row['track']!r}"
            )
        refs = row["references"]
        if not isinstance(refs, list) or not all(isinstance(r, str) for r in refs):
            raise TaskFormatError(path, f"line {k}.references", "expected a list of strings")
        if row["id"] in seen:
            raise TaskFormatError(
                path,
                f"line {k}.id",
                f"duplicate id '{row['id']}' (first on line {seen[row['id']]})",
            )
        seen[row["id"]] = k
        out.append(
            Reference(
                row["id"],
                row["task_id"],
                row["task_category"],
                row["track"],
                refs,
            )
        )
    if not out:
        raise TaskFormatError(path, None, "holds no references")
    return out


def read_prediction_file(path: str | Path) -> dict[str, str]:
    """Read predictions (``id`` → ``prediction``), strictly: every line needs a string
    ``id`` and a string ``prediction`` (a number, a list or null is an error, never coerced),
    and an id may appear once."""
    path = Path(path)
    out: dict[str, str] = {}
    first: dict[str, int] = {}
    duplicates = 0
    dup_example = ""
    for k, row in iter_json_objects(path):
        for key in ("id", "prediction"):
            if key not in row:
                others = ", ".join(sorted(set(row) - {"id"})) or "none"
                hint = f" (other keys: {others})" if key == "prediction" else ""
                raise TaskFormatError(path, f"line {k}.{key}", f"missing{hint}")
            if not isinstance(row[key], str):
                got = type(row[key]).__name__ if row[key] is not None else "null"
                raise TaskFormatError(path, f"line {k}.{key}", f"expected a string, got {got}")
        if row["id"] in out:
            duplicates += 1
            dup_example = row["id"]
            continue
        first[row["id"]] = k
        out[row["id"]] = row["prediction"]
    if duplicates:
        raise TaskFormatError(
            path, "id", f"{duplicates} duplicate id(s), e.g. {dup_example!r} (each id once)"
        )
    if not out:
        raise TaskFormatError(path, None, "holds no predictions")
    return out


def write_prediction_file(predictions: Mapping[str, str], path: str | Path) -> Path:
    """Write predictions in the official layout, one ``{"id", "prediction"}`` per line."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as f:
        for iid, pred in predictions.items():
            f.write(json.dumps({"id": iid, "prediction": pred}, ensure_ascii=False) + "\n")
    tmp.replace(path)
    return path


def _mean_metrics(scores: list[tuple[float, float]]) -> dict[str, Any]:
    # Summed in instance order, as compute_metrics does, so the floats are identical.
    em = rl = 0.0
    for e, r in scores:
        em += e
        rl += r
    n = len(scores)
    if n == 0:
        return {"exact_match": 0.0, "rougeL": 0.0, "n": 0}
    return {"exact_match": round(100 * em / n, 4), "rougeL": round(100 * rl / n, 4), "n": n}


def _score_track(
    predictions: Mapping[str, str],
    refs: list[Reference],
    tok: str | None,
    reference_impl: bool,
) -> dict[str, Any]:
    by_cat: dict[str, list[int]] = defaultdict(list)
    by_task: dict[str, list[int]] = defaultdict(list)
    for k, r in enumerate(refs):
        by_cat[category_key(r.category)].append(k)
        by_task[r.task_id].append(k)
    each: list[tuple[float, float]] = []
    if not reference_impl:
        # A (prediction, references) pair is scored once: classification tasks repeat the
        # same few pairs (a label against a label) thousands of times.
        seen: dict[tuple[str, tuple[str, ...]], tuple[float, float]] = {}
        for r in refs:
            pred = predictions.get(r.id, "")
            key = (pred, tuple(r.references))
            got = seen.get(key)
            if got is None:
                s = score_instance(pred, r.references, xlingual_tokenizer=tok)
                got = seen[key] = (s["exact_match"], s["rougeL"])
            each.append(got)

    def score(idx: list[int]) -> dict[str, Any]:
        if not reference_impl:
            return _mean_metrics([each[k] for k in idx])
        group = [refs[k] for k in idx]
        return compute_metrics(
            [predictions.get(r.id, "") for r in group],
            [r.references for r in group],
            xlingual_tokenizer=tok,
            reference_impl=True,
        )

    per_category = {c: score(g) for c, g in sorted(by_cat.items())}
    return {
        "overall": score(list(range(len(refs)))),
        "per_category": per_category,
        "per_task": {t: score(g) for t, g in sorted(by_task.items())},
        "missing": sum(r.id not in predictions for r in refs),
        # Beside the official numbers: each category under the metric the paper reports.
        "paper_metric": {
            c: {"metric": paper_metric(c), "value": m[paper_metric(c)]}
            for c, m in per_category.items()
        },
    }


def score_predictions(
    predictions: Mapping[str, str],
    references: list[Reference],
    *,
    xlingual_tokenizer: str | None = None,
    reference_impl: bool = False,
) -> dict[str, dict[str, Any]]:
    """Per track: overall metrics, ``per_category`` and ``per_task``.

    Each instance is scored once and groups are averaged from those scores;
    ``reference_impl=True`` instead rescores every group through ``rouge_score``, as the
    official script does (same numbers, used to check ours). The cross-lingual track uses
    ``xlingual_tokenizer`` (a GPT-2 tokenizer folder; by default the hub's ``gpt2``).
    """
    tracks: dict[str, list[Reference]] = defaultdict(list)
    for r in references:
        tracks[r.track].append(r)
    english = None
    if not reference_impl and "default" in tracks:
        # Porter stems persist between processes (keyed by nltk's version): stemming
        # each distinct word is most of the cost of scoring a test set.
        from instructkit.evaluation.fast_rouge import stem_cache_path
        from instructkit.evaluation.metrics import fast_scorer

        english = fast_scorer(None)
        english.load_stems(stem_cache_path())
        english.prepare(
            x for r in tracks["default"] for x in (predictions.get(r.id, ""), *r.references)
        )
    result = {
        track: _score_track(
            predictions,
            refs,
            (xlingual_tokenizer or "gpt2") if track == "xlingual" else None,
            reference_impl,
        )
        for track, refs in tracks.items()
    }
    if english is not None:
        english.save_stems(stem_cache_path())
    return result
