"""Whole-process scoring time: ``instructkit score`` against a whole-process run of the
official SuperNI definition on ``rouge_score`` (one pass, as the official
``compute_metrics.py`` scores), on the same 11,810 English test predictions.

Both are started as fresh Python processes (imports included), interleaved for
``--rounds`` rounds; ``instructkit score`` runs twice per round: with an empty cache
folder (cold: every word stemmed) and with the stems an earlier process left (warm, as a
user scoring again). The medians and their ratios are printed, with a check that the
overall exact match and ROUGE-L are identical, and the machine's measured float32 matmul
rate for scale.

    python benchmarks/bench_score_process.py [--shared ../shared/data] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# The reference, as a user would run it: SQuAD-normalised exact match and rouge_score's
# ROUGE-L (Porter stemmer), best over references, averaged × 100 (the official definition).
REFERENCE = r"""
import json, re, string, sys
from rouge_score import rouge_scorer

def normalize(s):
    s = s.lower()
    s = "".join(ch for ch in s if ch not in set(string.punctuation))
    return " ".join(s.split())

preds = {}
for line in open(sys.argv[1], encoding="utf-8"):
    d = json.loads(line)
    preds[d["id"]] = d["prediction"]
scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
em = rl = 0.0
n = 0
for line in open(sys.argv[2], encoding="utf-8"):
    r = json.loads(line)
    p = preds.get(r["id"], "")
    refs = r["references"] or [""]
    em += max(float(normalize(p) == normalize(x)) for x in refs)
    rl += max(scorer.score(prediction=p, target=x)["rougeL"].fmeasure for x in refs)
    n += 1
json.dump({"exact_match": round(100 * em / n, 4), "rougeL": round(100 * rl / n, 4)},
          open(sys.argv[3], "w"))
"""


def matmul_gflops() -> float:
    """The machine's float32 matrix-multiply rate (numpy, 1024 × 1024), GFLOP/s."""
    import numpy as np

    a = np.random.default_rng(0).random((1024, 1024), dtype=np.float32)
    a @ a
    t0 = time.perf_counter()
    for _ in range(10):
        a @ a
    return 10 * 2 * 1024**3 / (time.perf_counter() - t0) / 1e9


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--shared", default=str(Path(__file__).resolve().parents[2] / "shared" / "data")
    )
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    root = Path(args.shared) / "superni"
    refs = root / "test_references_en.jsonl"
    if not refs.exists():
        print(f"skipped: {refs} not found")
        return 0
    demo = {}
    for line in (root / "task_metadata.jsonl").read_text().splitlines():
        m = json.loads(line)
        demo[m["task"]] = (m.get("first_positive_example") or {}).get("output", "")
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        preds = d / "predictions.jsonl"
        with preds.open("w", encoding="utf-8") as f:
            for line in refs.read_text(encoding="utf-8").splitlines():
                r = json.loads(line)
                pred = demo.get(r["task_id"], "")
                f.write(json.dumps({"id": r["id"], "prediction": pred}) + "\n")
        ref_script = d / "reference.py"
        ref_script.write_text(REFERENCE)
        ours_cmd = [
            sys.executable, "-m", "instructkit.cli", "score", str(preds), str(refs),
            "--no-per-task", "--json", str(d / "ours.json"),
        ]  # fmt: skip
        ref_cmd = [sys.executable, str(ref_script), str(preds), str(refs), str(d / "ref.json")]
        import os
        import shutil

        cold, warm = "instructkit score (cold stem cache)", "instructkit score (warm stem cache)"
        ref_name = "rouge_score reference"
        times: dict[str, list[float]] = {cold: [], warm: [], ref_name: []}
        warm_dir = d / "warm-cache"
        env = {**os.environ, "INSTRUCTKIT_CACHE": str(warm_dir)}
        subprocess.run(ours_cmd, check=True, capture_output=True, env=env)  # fills it
        for k in range(args.rounds):
            cold_dir = d / f"cold-cache-{k}"
            runs = (
                (cold, ours_cmd, {**os.environ, "INSTRUCTKIT_CACHE": str(cold_dir)}),
                (warm, ours_cmd, env),
                (ref_name, ref_cmd, dict(os.environ)),
            )
            for name, cmd, run_env in runs:
                t0 = time.perf_counter()
                subprocess.run(cmd, check=True, capture_output=True, env=run_env)
                times[name].append(time.perf_counter() - t0)
            shutil.rmtree(cold_dir, ignore_errors=True)
        ours = json.loads((d / "ours.json").read_text())["default"]["overall"]
        ref = json.loads((d / "ref.json").read_text())
    same = all(ours[k] == ref[k] for k in ("exact_match", "rougeL"))
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"float32 matmul rate: {matmul_gflops():.0f} GFLOP/s")
    for k, v in med.items():
        each = ", ".join(f"{t:.2f}" for t in times[k])
        print(f"{k}: median {v:.2f} s over {args.rounds} rounds ({each})")
    for name in (cold, warm):
        print(f"whole-process speed-up, {name}: {med[ref_name] / med[name]:.1f}x")
    print(f"identical overall numbers: {same} (EM {ours['exact_match']}, ROUGE-L {ours['rougeL']})")
    print(
        f"result: scoring as a whole process {med[ref_name] / med[cold]:.1f}x (cold) and "
        f"{med[ref_name] / med[warm]:.1f}x (warm stem cache) a one-pass rouge_score process "
        f"(goal 10x), identical numbers: {same}"
    )
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
