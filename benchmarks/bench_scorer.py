"""Scoring the 11,810 English SuperNI test predictions in one process: our scorer
against one pass of the official definition on ``rouge_score`` (exact match after
lower-casing and dropping punctuation, and rouge_score's ROUGE-L with the Porter stemmer,
best over references, as the official ``compute_metrics.py`` computes them), same inputs,
interleaved over ``--rounds`` (medians).

Predictions: the copy-demo baseline (first positive example's output) for every
instance, and the copy-input baseline where the task file is present (long inputs make
ROUGE-L's LCS expensive). Prints both timings, the ratio, and checks that the overall
numbers are identical (and, against our own rouge_score-based path, every number).

    python benchmarks/bench_scorer.py [--shared ../shared/data] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

from instructkit.evaluation.metrics import fast_scorer
from instructkit.evaluation.scoring import read_references, score_predictions
from instructkit.tasks import TaskCollection


def one_pass(preds: dict[str, str], refs: list) -> dict[str, float]:  # type: ignore[type-arg]
    """The official definition, one pass over the rows (the reference a user would run)."""
    import string

    from rouge_score import rouge_scorer

    punct = set(string.punctuation)

    def normalize(s: str) -> str:
        s = s.lower()
        s = "".join(ch for ch in s if ch not in punct)
        return " ".join(s.split())

    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
    em = rl = 0.0
    for r in refs:
        p = preds.get(r.id, "")
        targets = r.references or [""]
        em += max(float(normalize(p) == normalize(x)) for x in targets)
        rl += max(scorer.score(prediction=p, target=x)["rougeL"].fmeasure for x in targets)
    n = len(refs)
    return {"exact_match": round(100 * em / n, 4), "rougeL": round(100 * rl / n, 4)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--shared", default=str(Path(__file__).resolve().parents[2] / "shared" / "data")
    )
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    root = Path(args.shared) / "superni"
    refs_path = root / "test_references_en.jsonl"
    if not refs_path.exists():
        print(f"skipped: {refs_path} not found")
        return 0
    refs = read_references(refs_path)
    demo = {}
    for line in (root / "task_metadata.jsonl").read_text().splitlines():
        m = json.loads(line)
        demo[m["task"]] = (m.get("first_positive_example") or {}).get("output", "")
    inputs = {}
    for task in TaskCollection.superni(root, split="test", max_instances=100):
        inputs.update({i.id: i.input for i in task.instances})
    sets = {
        "copy demo": {r.id: demo.get(r.task_id, "") for r in refs},
        "copy input (where present, else copy demo)": {
            r.id: inputs.get(r.id, demo.get(r.task_id, "")) for r in refs
        },
    }
    print(f"{len(refs)} reference rows, {len({r.task_id for r in refs})} tasks")
    ok = True
    ratios = []
    for name, preds in sets.items():
        slow = score_predictions(preds, refs, reference_impl=True)
        t_ref, t_fast = [], []
        for _ in range(args.rounds):
            t0 = time.perf_counter()
            ref = one_pass(preds, refs)
            t_ref.append(time.perf_counter() - t0)
            fast_scorer.cache_clear()  # cold caches: no reuse from an earlier round
            t0 = time.perf_counter()
            fast = score_predictions(preds, refs)
            t_fast.append(time.perf_counter() - t0)
        o = fast["default"]["overall"]
        same = slow == fast and all(ref[k] == round(o[k], 4) for k in ("exact_match", "rougeL"))
        ok &= same
        a, b = statistics.median(t_ref), statistics.median(t_fast)
        ratios.append(a / b)
        print(
            f"{name}: EM {o['exact_match']:.4f} ROUGE-L {o['rougeL']:.4f} | one-pass rouge_score "
            f"{a:.2f} s, ours {b:.2f} s, {a / b:.1f}x | identical numbers: {same}"
        )
    print(
        f"result: scoring in process {min(ratios):.1f}x to {max(ratios):.1f}x one-pass "
        f"rouge_score (goal 20x), identical numbers: {ok}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
