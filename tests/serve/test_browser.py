"""``instructkit serve`` driven in a real headless Chromium (Debian's, through Playwright):
open a task, a template on rows, a run with its predictions, filter to empty predictions,
compare two runs, open a sweep plot; hostile task text stays text. Screenshots go to the
test's temporary folder."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no Chromium here (scripts/setup.sh installs Debian's as root)"
)
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def base_url(served: dict[str, Path]) -> Iterator[str]:
    import uvicorn

    from instructkit.serve.app import create_app

    app = create_app(["builtin", str(served["tasks"])], served["runs"], served["store"])
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    assert server.started, "the server did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def page(base_url: str) -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        pg = browser.new_page(viewport={"width": 1400, "height": 900})
        dialogs: list[str] = []
        pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        pg.dialogs = dialogs
        yield pg
        browser.close()


def test_a_researchers_tour(page: Any, base_url: str, tmp_path: Path) -> None:
    shots = tmp_path / "screenshots"
    shots.mkdir()
    # Tasks: search, then open one in the Natural Instructions layout.
    page.goto(f"{base_url}/tasks")
    page.fill("input[name=q]", "palindrome")
    page.click("button[type=submit]")
    page.click("#tasks >> text=ik046_is_palindrome")
    assert page.text_content("#definition")
    assert page.locator(".box.pos").count() > 0
    page.screenshot(path=str(shots / "task.png"), full_page=True)
    # A template on rows.
    page.click("text=zeroshot-options")
    assert "render" in page.url
    assert page.locator("#rendered tr").count() > 1
    assert "OPTIONS" in page.text_content("#rendered")
    page.screenshot(path=str(shots / "template.png"), full_page=True)
    # A run with its predictions, filtered to empty predictions.
    page.goto(f"{base_url}/runs")
    page.click("#runs >> text=s/held_out=rule_classification")
    assert page.locator("#overall tr").count() > 2
    page.click("text=after")
    total = page.locator("#predictions tr").count() - 1
    page.select_option("#show", "empty")
    page.click("#apply")
    assert "show=empty" in page.url
    rows = page.locator("#predictions tr").count() - 1
    assert rows <= total
    for cell in page.locator("#predictions tr td:nth-child(4)").all_text_contents():
        assert not cell.strip()
    page.screenshot(path=str(shots / "predictions.png"), full_page=True)
    # Two runs compared instance by instance.
    page.goto(f"{base_url}/compare")
    page.select_option("select[name=a]", "s/held_out=arithmetic")
    page.select_option("select[name=b]", "s/held_out=rule_classification")
    page.fill("input[name=tag]", "before")
    page.click("button[type=submit]")
    assert page.locator("#compare").count() == 1
    page.screenshot(path=str(shots / "compare.png"), full_page=True)
    # A sweep: its table and its plot, loaded by the browser.
    page.goto(f"{base_url}/sweeps")
    page.click("#sweeps td a")
    page.wait_for_url("**/sweeps/s")
    assert page.locator("table.report tr").count() > 1
    width = page.eval_on_selector("img.plot", "img => img.complete && img.naturalWidth")
    assert width and width > 100
    page.screenshot(path=str(shots / "sweep.png"), full_page=True)
    assert len(list(shots.glob("*.png"))) == 5


def test_hostile_task_renders_as_text(page: Any, base_url: str, tmp_path: Path) -> None:
    from tests.serve.conftest import HOSTILE

    page.goto(f"{base_url}/tasks/hostile/task999_hostile")
    assert page.text_content("#definition") == HOSTILE
    assert page.locator("main script").count() == 0
    assert page.locator("main img").count() == 0
    assert "[/]" in page.text_content(".box.pos")
    assert "{{ x }}" in page.text_content(".box.pos")
    assert page.dialogs == []  # nothing ran
    # Long lines wrap inside the page instead of widening it.
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= 1400
    page.screenshot(path=str(tmp_path / "hostile.png"), full_page=True)
