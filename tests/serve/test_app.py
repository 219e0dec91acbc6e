"""The server's pages and their JSON views, through Starlette's test client."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient

from instructkit.serve.app import create_app
from tests.serve.conftest import HOSTILE


@pytest.fixture(scope="module")
def client(served: dict[str, Path]) -> TestClient:
    app = create_app(["builtin", str(served["tasks"])], served["runs"], served["store"])
    return TestClient(app)


def test_tasks_filter_and_task_page(client: TestClient) -> None:
    every = client.get("/tasks?format=json").json()
    assert len(every["tasks"]) == 54  # 53 built-in and the hostile one
    arithmetic = client.get("/tasks?cluster=arithmetic&format=json").json()["tasks"]
    assert arithmetic and all(t["cluster"] == "arithmetic" for t in arithmetic)
    found = client.get("/tasks?q=palindrome&format=json").json()["tasks"]
    assert [t["name"] for t in found] == ["ik046_is_palindrome"]
    page = client.get("/tasks/builtin/ik046_is_palindrome?format=json").json()
    assert page["definition"] and page["positive_examples"] and page["instances"]
    assert "superni" in page["templates"] and "flan" in page["templates"]
    assert client.get("/tasks/builtin/ik046_is_palindrome").status_code == 200


def test_template_rendered_on_rows(client: TestClient) -> None:
    data = client.get(
        "/tasks/builtin/ik046_is_palindrome/render?template=flan:1&n=3&format=json"
    ).json()
    assert len(data["rows"]) == 3
    assert all(r["source"] and r["target"] and r["options"] for r in data["rows"])
    assert "OPTIONS" in data["rows"][0]["source"]
    unknown = client.get("/tasks/builtin/ik046_is_palindrome/render?template=flan:0")
    assert unknown.status_code == 422 and "did you mean" in unknown.text


def test_runs_predictions_filters_and_compare(client: TestClient) -> None:
    runs = client.get("/runs?format=json").json()["runs"]
    ids = sorted(r["id"] for r in runs)
    assert ids == ["s/held_out=arithmetic", "s/held_out=rule_classification"]
    run = client.get(f"/runs/{ids[0]}?format=json").json()
    assert run["overall"] and run["per_task"] and run["by_category"]
    preds = client.get(f"/runs/{ids[0]}/predictions?tag=after&format=json").json()
    assert preds["total"] == len(preds["rows"]) > 0
    empty = client.get(f"/runs/{ids[0]}/predictions?tag=after&show=empty&format=json").json()
    assert all(not r["prediction"].strip() for r in empty["rows"])
    fails = client.get(
        f"/runs/{ids[0]}/predictions?tag=after&show=failures&sort=rougeL&desc=1&format=json"
    ).json()
    assert all(r["exact_match"] < 100 for r in fails["rows"])
    values = [r["rougeL"] for r in fails["rows"]]
    assert values == sorted(values, reverse=True)
    both = client.get(f"/compare?a={ids[0]}&b={ids[0]}&tag=before&show=all&format=json").json()
    assert both["matched"] == len(both["rows"]) and all(r["delta"] == 0 for r in both["rows"])
    split = client.get(f"/runs/{ids[0]}/split?format=json").json()
    assert {t["role"] for t in split["tasks"]} >= {"train", "eval"}
    assert split["rates"] and abs(sum(r["rate"] for r in split["rates"]) - 1) < 1e-3


def test_sweep_tables_and_plot(client: TestClient) -> None:
    sweeps = client.get("/sweeps?format=json").json()["experiments"]
    assert [(e["name"], e["kind"], e["cells"]) for e in sweeps] == [("s", "loco", 2)]
    page = client.get("/sweeps/s?format=json").json()
    assert page["tables"][0]["rows"] and page["plots"]
    png = client.get(f"/sweeps/s/plots/{page['plots'][0]}")
    assert png.status_code == 200 and png.content[:4] == b"\x89PNG"


def test_hostile_text_is_escaped(client: TestClient) -> None:
    html = client.get("/tasks/hostile/task999_hostile").text
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html
    assert "<img src=x" not in client.get("/tasks/hostile/task999_hostile").text
    data = client.get("/tasks/hostile/task999_hostile?format=json").json()
    assert data["definition"] == HOSTILE  # the JSON view gives the text as it is


@pytest.mark.parametrize(
    "url",
    [
        "/runs/../../etc",
        "/runs/%2e%2e/%2e%2e/etc/passwd",
        "/runs/s/held_out=arithmetic/predictions?tag=../../config",
        "/sweeps/s/plots/..%2F..%2Fresults.sqlite",
        "/tasks/nowhere/x",
        "/sweeps/unknown",
    ],
)
def test_paths_stay_inside_and_unknowns_are_404(client: TestClient, url: str) -> None:
    r = client.get(url)
    assert r.status_code == 404


def test_read_only(client: TestClient) -> None:
    assert client.post("/tasks").status_code == 405
    assert client.delete("/runs/s/held_out=arithmetic").status_code == 405


def test_the_serve_command_answers_on_localhost(served: dict[str, Path]) -> None:
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "instructkit.cli",
            "serve",
            "--runs",
            str(served["runs"]),
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.time() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/runs?format=json") as r:
                    body = r.read().decode()
                break
            except OSError:
                assert proc.poll() is None and time.time() < deadline, "serve did not start"
                time.sleep(0.05)
        assert "held_out=arithmetic" in body
    finally:
        proc.terminate()
        proc.wait(timeout=10)
