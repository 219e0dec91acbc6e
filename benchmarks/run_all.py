"""``make bench``: every benchmark of this folder, one after another, then
``benchmarks/RESULTS.md`` with the machine, the library versions, each script's
``result:`` line (its ratio against its anchor) and its whole output.

    python benchmarks/run_all.py [--shared ../shared/data] [--quick]
    python benchmarks/run_all.py --readme-only   # README's table from RESULTS.md

``--quick`` runs fewer rounds and items (a smoke test of the scripts, not numbers to
report). After a full run, README's benchmark table (between its ``bench:start`` and
``bench:end`` markers) is regenerated from RESULTS.md.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).parent


def scripts(shared: str, quick: bool) -> list[tuple[str, list[str]]]:
    rounds = "1" if quick else "3"
    score_rounds = "1" if quick else "7"
    return [
        ("bench_train.py", ["--steps", "2" if quick else "6"]),
        ("bench_rank.py", ["--data", shared, "--rounds", rounds, "--dataset", "rte"]
         + (["--items", "32"] if quick else [])),
        ("bench_rank.py", ["--data", shared, "--rounds", rounds, "--dataset", "copa"]
         + (["--items", "32"] if quick else [])),
        ("bench_rank.py", ["--data", shared, "--rounds", rounds, "--dataset", "builtin",
                           "--items", "32" if quick else "100"]),
        ("bench_generation.py", ["--shared", shared, "--rounds", rounds]
         + (["-n", "16"] if quick else [])),
        # Scoring takes a fraction of a second a round: more rounds against the noise.
        ("bench_scorer.py", ["--shared", shared, "--rounds", score_rounds]),
        ("bench_score_process.py", ["--shared", shared, "--rounds", score_rounds]),
        ("bench_mixture.py", ["--tasks", "100"] if quick else []),
        ("bench_serve.py", ["--shared", shared, "--rounds", rounds]),
        ("bench_scale.py", ["--quick"] if quick else []),
    ]  # fmt: skip


def machine() -> list[str]:
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass

    from instructkit.training.loop import matmul_rate

    def rate(precision: str) -> float:
        return matmul_rate(torch.device("cpu"), precision, n=1024) / 1e12

    versions = []
    for pkg in (
        "instructkit",
        "torch",
        "transformers",
        "accelerate",
        "lm-eval",
        "trl",
        "rouge-score",
        "starlette",
    ):
        try:
            versions.append(f"{pkg} {importlib.metadata.version(pkg)}")
        except importlib.metadata.PackageNotFoundError:
            versions.append(f"{pkg} (not installed)")
    return [
        f"- CPU: {cpu}, {os.cpu_count()} cores, {torch.get_num_threads()} torch threads; "
        f"GPU: {torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'none'}",
        f"- matmul rate (1024², torch): float32 {rate('no'):.2f} TFLOP/s, "
        f"bfloat16 {rate('bf16'):.2f} TFLOP/s",
        f"- Python {platform.python_version()}; " + ", ".join(versions),
    ]  # fmt: skip


README = HERE.parent / "README.md"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"


def update_readme(results_md: Path, readme: Path = README) -> None:
    """README's benchmark table: the machine and result rows of RESULTS.md."""
    text = results_md.read_text(encoding="utf-8")
    machine = [ln for ln in text.splitlines() if ln.startswith("- ")][:3]
    rows = [ln for ln in text.splitlines() if ln.startswith("| `")]
    written = next((ln for ln in text.splitlines() if ln.startswith("Written by")), "")
    block = [
        START,
        f"From `benchmarks/RESULTS.md` ({written.split(' on ', 1)[-1].split('.')[0]}):",
        "",
        *machine,
        "",
        "| benchmark | result | seconds |",
        "|---|---|---|",
        *rows,
        END,
    ]
    readme_text = readme.read_text(encoding="utf-8")
    if START not in readme_text or END not in readme_text:
        raise SystemExit(f"{readme}: no {START} ... {END} markers")
    head, rest = readme_text.split(START, 1)
    _, tail = rest.split(END, 1)
    readme.write_text(head + "\n".join(block) + tail, encoding="utf-8")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", default=os.environ.get("INSTRUCTKIT_DATA", "../shared/data"))
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--readme-only", action="store_true")
    ap.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    args = ap.parse_args()
    if args.readme_only:
        update_readme(args.out)
        return 0
    results: list[tuple[str, str, float, int]] = []
    outputs: list[tuple[str, str]] = []
    for script, extra in scripts(args.shared, args.quick):
        cmd = [sys.executable, str(HERE / script), *extra]
        label = " ".join([script, *extra]).replace(args.shared, "$DATA")
        print(f"== {label}", flush=True)
        t = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        seconds = time.perf_counter() - t
        print(proc.stdout, end="", flush=True)
        lines = [x for x in proc.stdout.splitlines() if x.startswith("result:")]
        result = lines[-1].removeprefix("result:").strip() if lines else "no result line"
        if proc.returncode != 0:
            result += f" (exit {proc.returncode}: {proc.stderr.strip().splitlines()[-1:]})"
        results.append((label, result, seconds, proc.returncode))
        outputs.append((label, proc.stdout))
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    md = [
        "# Benchmark results",
        "",
        f"Written by `make bench` (`python benchmarks/run_all.py`) on {when}"
        + (" with `--quick` (smoke test: not numbers to report)" if args.quick else "")
        + ". Each script runs its anchor (what a user would pick instead) in the same "
        "process or run, interleaved, and prints medians.",
        "",
        "## Machine",
        "",
        *machine(),
        "",
        "## Results",
        "",
        "| benchmark | result | seconds |",
        "|---|---|---|",
        *[f"| `{label}` | {result} | {seconds:.0f} |" for label, result, seconds, _ in results],
        "",
        "## Outputs",
        "",
    ]
    for label, out in outputs:
        md += [f"### `{label}`", "", "```", out.rstrip(), "```", ""]
    args.out.write_text("\n".join(md), encoding="utf-8")
    print(f"wrote {args.out}")
    if not args.quick:
        update_readme(args.out)
        print(f"updated the benchmark table of {README}")
    return 0 if all(code == 0 for *_, code in results) else 1


if __name__ == "__main__":
    sys.exit(main())
