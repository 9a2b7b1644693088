"""The standalone page end to end: the real server (CLI subprocess) driven by Debian Chromium.

The user's state lives in the browser's localStorage (the server keeps none), so these tests
read it there: points, weights and the step counter must survive a reload exactly.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from conftest import free_port
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

pytestmark = pytest.mark.browser

MAP = "Data and decision map"


class ServerProcess:
    """``python -m nnvisu.server`` on a given port; can be stopped and started again."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}/"
        self.proc: subprocess.Popen[str] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "nnvisu.server", "--port", str(self.port)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert self.url in line, line

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGTERM)
        assert self.proc.wait(30) == 0
        assert self.proc.stdout is not None
        self.proc.stdout.close()
        self.proc = None


@pytest.fixture
def server() -> Iterator[ServerProcess]:
    srv = ServerProcess(free_port())
    srv.start()
    yield srv
    if srv.proc is not None and srv.proc.poll() is None:
        srv.stop()


def watch_for_errors(page: Page) -> list[str]:
    """Collect uncaught page errors and console errors (CSP violations show up there)."""
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))

    def on_console(msg: ConsoleMessage) -> None:
        if msg.type == "error" and "WebSocket connection" not in msg.text:
            errors.append(f"console: {msg.text}")

    page.on("console", on_console)
    return errors


# Counts, in the page, the train_step requests on its WebSockets that have no reply yet
# (window.nnvPending): the test waits for 0 instead of guessing how long a reply takes.
COUNT_PENDING = """
(() => {
  window.nnvPending = 0;
  const ids = new Set();
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", (e) => {
        const id = typeof e.data === "string" ? JSON.parse(e.data).id : undefined;
        if (ids.delete(id)) window.nnvPending = ids.size;
      });
    }
    send(data) {
      const message = typeof data === "string" ? JSON.parse(data) : null;
      if (message && message.type === "train_step") ids.add(message.id);
      window.nnvPending = ids.size;
      super.send(data);
    }
  };
})();
"""


def settle(page: Page) -> None:
    """Wait until every train_step has its reply, then for the frames that draw it."""
    page.wait_for_function("() => window.nnvPending === 0", timeout=30_000)
    page.evaluate(
        "() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(() =>"
        " setTimeout(done))))"
    )


@pytest.fixture
def open_page(browser: Browser) -> Iterator[Callable[[str], tuple[Page, list[str]]]]:
    contexts = []

    def open_(url: str) -> tuple[Page, list[str]]:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        contexts.append(context)
        context.add_init_script(COUNT_PENDING)
        page = context.new_page()
        errors = watch_for_errors(page)
        page.goto(url)
        expect(page.get_by_role("application", name=MAP)).to_be_visible(timeout=30_000)
        return page, errors

    yield open_
    for context in contexts:
        context.close()


def stored(page: Page, part: str) -> dict[str, Any]:
    text = page.evaluate(f"() => localStorage.getItem('nnvisu:{part}')")
    assert text, f"nnvisu:{part} is not in localStorage"
    values: dict[str, Any] = json.loads(text)["values"]
    return values


def global_step(page: Page) -> int:
    return int(stored(page, "progress").get("metrics", {}).get("global_step", 0))


def map_pixels(page: Page) -> str:
    return str(page.evaluate("() => document.querySelector('canvas.nnv-map').toDataURL()"))


def train(page: Page, at_least: int) -> None:
    page.get_by_role("button", name="Play", exact=True).click()
    page.wait_for_function(
        "n => (JSON.parse(localStorage.getItem('nnvisu:progress') || '{}').values?.metrics"
        "?.global_step ?? 0) >= n",
        arg=at_least,
        timeout=60_000,
    )
    page.get_by_role("button", name="Pause").click()
    expect(page.get_by_role("button", name="Play", exact=True)).to_be_visible()


def test_page_title_and_first_visit_defaults(server: ServerProcess, open_page: Any) -> None:
    page, errors = open_page(server.url)
    expect(page).to_have_title(re.compile("nnvisu"))
    # A first visit got a dataset and a network from the server, and stored them.
    assert len(stored(page, "data")["data"]) > 0
    network = stored(page, "network")
    assert network["network"]["weights"] and network["optimizer_state"]
    assert errors == []


def test_add_points_play_and_reload_restores_everything(
    server: ServerProcess, open_page: Any
) -> None:
    page, errors = open_page(server.url)
    canvas = page.get_by_role("application", name=MAP)
    before_points = len(stored(page, "data")["data"])
    box = canvas.bounding_box()
    assert box is not None
    for fx, fy in [(0.2, 0.2), (0.8, 0.25), (0.5, 0.8)]:
        canvas.click(position={"x": box["width"] * fx, "y": box["height"] * fy})
    page.wait_for_function(
        "n => JSON.parse(localStorage.getItem('nnvisu:data')).values.data.length === n",
        arg=before_points + 3,
    )
    untrained = map_pixels(page)

    train(page, at_least=30)
    settle(page)  # the reply in flight at the pause lands, and the map redraws
    trained = map_pixels(page)
    assert trained != untrained, "the decision map did not change while training"

    page.evaluate("() => window.dispatchEvent(new Event('pagehide'))")  # flush, as a reload does
    points, network, step = stored(page, "data")["data"], stored(page, "network"), global_step(page)
    assert step >= 30

    page.reload()
    expect(page.get_by_role("application", name=MAP)).to_be_visible(timeout=30_000)
    assert stored(page, "data")["data"] == points
    assert stored(page, "network") == network  # weights and optimizer state, exactly
    assert global_step(page) == step
    expect(
        page.get_by_role("button", name="Play", exact=True)
    ).to_be_visible()  # a reload starts paused
    # The restored weights draw the same map (a different one times out here).
    page.wait_for_function(
        "m => document.querySelector('canvas.nnv-map').toDataURL() === m", arg=trained
    )
    assert errors == []


def test_two_tabs_train_independently(server: ServerProcess, open_page: Any) -> None:
    first, errors_1 = open_page(server.url)
    second, errors_2 = open_page(server.url)  # another browser context: its own storage
    untouched = stored(second, "network")
    train(first, at_least=20)
    assert global_step(second) == 0
    assert stored(second, "network") == untouched
    train(second, at_least=5)
    assert stored(first, "network")["network"] != stored(second, "network")["network"]
    assert errors_1 == [] and errors_2 == []


def test_banner_when_the_server_is_unreachable_and_back(
    server: ServerProcess, open_page: Any
) -> None:
    page, errors = open_page(server.url)
    alert = page.get_by_role("alert")
    expect(alert).to_be_hidden()
    server.stop()
    expect(alert).to_contain_text("Cannot reach the nnvisu server", timeout=15_000)
    server.start()
    expect(alert).to_contain_text("Connected to the nnvisu server again", timeout=30_000)
    # And it works again: training proceeds.
    train(page, at_least=5)
    assert errors == []


def test_compare_trains_two_runs_in_lockstep_over_the_websocket(
    server: ServerProcess, open_page: Any
) -> None:
    """Compare on the standalone page: compare_step through the server, each run exact."""
    from nnvisu import handle_message

    page, errors = open_page(server.url)
    panel = page.locator(".nnv-panel--compare")
    panel.get_by_role("button", name="Compare").click()
    panel.get_by_label("Optimizer of run B").select_option("adam")
    expect(panel.locator(".nnv-compare-title").nth(1)).to_contain_text("optimizer adam")
    panel.get_by_role("button", name="Play both").click()
    steps = (
        "() => JSON.parse(localStorage.getItem('nnvisu:extra') || '{}').values?.comparison"
        "?.runs?.[0]?.metrics?.global_step ?? 0"
    )
    page.wait_for_function(f"() => ({steps})() >= 30", timeout=60_000)
    panel.get_by_role("button", name="Pause both").click()
    expect(panel.get_by_role("button", name="Play both")).to_be_visible()
    settle(page)
    page.reload()  # the comparison is stored like the rest of the learner's state
    expect(panel.locator(".nnv-compare-verdict")).to_contain_text("reached the lower test loss")
    comparison = stored(page, "extra")["comparison"]
    a, b = comparison["runs"]
    assert a["metrics"]["global_step"] == b["metrics"]["global_step"] >= 30
    data = stored(page, "data")["data"]
    # This process's engine compiles on its first call: not under the request's time cap.
    handle_message({"type": "train_step", "config": a["config"], "data": data})
    for run in (a, b):
        config = {**run["config"], "steps": run["metrics"]["global_step"], "time_budget_ms": None}
        alone = handle_message({"type": "train_step", "config": config, "data": data})
        assert alone["steps"] == config["steps"]
        assert run["network"] == alone["network"]
    assert errors == []
