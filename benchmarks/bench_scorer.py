"""Scoring the 11,810 English SuperNI test predictions: our scorer against a
rouge_score-based implementation of the official definition, same script, same inputs.

Predictions: the copy-demo baseline (first positive example's output) for every
instance, and the copy-input baseline where the task file is present (long inputs make
ROUGE-L's LCS expensive). Prints both timings, the ratio, and checks that every number
(overall, per category, per task) is identical.

    python benchmarks/bench_scorer.py [--shared ../shared/data]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from instructkit.evaluation.metrics import fast_scorer
from instructkit.evaluation.scoring import read_references, score_predictions
from instructkit.tasks import TaskCollection


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--shared", default=str(Path(__file__).resolve().parents[2] / "shared" / "data")
    )
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
    for name, preds in sets.items():
        t0 = time.perf_counter()
        slow = score_predictions(preds, refs, reference_impl=True)
        t_ref = time.perf_counter() - t0
        fast_scorer.cache_clear()  # cold caches: no reuse from an earlier run
        t0 = time.perf_counter()
        fast = score_predictions(preds, refs)
        t_fast = time.perf_counter() - t0
        same = slow == fast
        ok &= same
        o = fast["default"]["overall"]
        print(
            f"{name}: EM {o['exact_match']:.4f} ROUGE-L {o['rougeL']:.4f} | rouge_score-based "
            f"{t_ref:.2f} s, ours {t_fast:.2f} s, speed-up {t_ref / t_fast:.1f}x | "
            f"identical numbers: {same}"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
