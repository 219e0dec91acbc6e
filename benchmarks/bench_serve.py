"""How fast ``instructkit serve`` answers on the 152-task SuperNI folder of the shared
data: a real ``instructkit serve`` process is started, and the time from its launch to
the first page answered is measured (imports and loading the folder included), then
each page's latency over ``--rounds`` requests (medians). The goal: the first page
within 1 s of launch.

    python benchmarks/bench_serve.py [--shared ../shared/data] [--rounds 5]
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> float:
    t = time.perf_counter()
    with urllib.request.urlopen(url, timeout=30) as r:
        r.read()
    return time.perf_counter() - t


def first_page(source: Path) -> float:
    port = _free_port()
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "instructkit.cli",
            "serve",
            "--source",
            str(source),
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while True:
            try:
                _get(f"http://127.0.0.1:{port}/")
                return time.perf_counter() - t0
            except OSError:
                if proc.poll() is not None or time.perf_counter() - t0 > 60:
                    raise SystemExit("the server did not start") from None
                time.sleep(0.01)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", type=Path, default=Path("../shared/data"))
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    source = args.shared / "superni"
    if not (source / "tasks").is_dir():
        raise SystemExit(f"{source}: no SuperNI folder")
    starts = [first_page(source) for _ in range(args.rounds)]
    print(
        f"first page after launch: median {statistics.median(starts):.2f} s "
        f"(rounds: {', '.join(f'{s:.2f}' for s in starts)}; goal: 1 s)"
    )

    from starlette.testclient import TestClient

    from instructkit.serve.app import create_app

    client = TestClient(create_app([str(source)], None, None))
    n_tasks = len(client.get("/tasks?format=json").json()["tasks"])
    pages = [
        "/",
        "/tasks",
        "/tasks?q=question",
        f"/tasks/superni/{sorted(p.stem for p in (source / 'tasks').glob('*.json'))[0]}",
    ]
    for url in pages:
        client.get(url)  # warm
        times = []
        for _ in range(args.rounds):
            t = time.perf_counter()
            assert client.get(url).status_code == 200
            times.append(time.perf_counter() - t)
        print(f"{url:60s} median {1000 * statistics.median(times):7.1f} ms")
    print(f"({n_tasks} tasks)")
    print(
        f"result: serve answers its first page {statistics.median(starts):.2f} s after launch "
        f"on {n_tasks} SuperNI tasks (goal 1 s)"
    )


if __name__ == "__main__":
    main()
