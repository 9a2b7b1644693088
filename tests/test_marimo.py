"""End to end: ``NNVisu()`` in marimo, as an app (``marimo run``) and in the editor
(``marimo edit``), driven by Debian Chromium.

The notebook shows the view with ``mo.ui.anywidget``; Play trains in the kernel; a run button
then re-runs a later cell, ``w.train(steps=300).wait()``, and the view shown by the first cell
follows it. The cell prints the kernel's step, which must be the view's. In the editor the view
must not be clipped inside marimo's capped output box.
"""

from __future__ import annotations

import contextlib
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from frontend_checks import (
    LATER_STEPS,
    VIEW,
    clipping_boxes,
    play_until_trained,
    shown_step,
    watch_page_errors,
)
from jupyter_harness import free_port, server_process, still_running, wait_until
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.jupyter, pytest.mark.browser]

APP = f"""import marimo

app = marimo.App()


@app.cell
def _():
    import marimo as mo
    from nnvisu import NNVisu

    w = NNVisu("moons", n=100)
    mo.ui.anywidget(w)
    return mo, w


@app.cell
def _(mo):
    later = mo.ui.run_button(label="Train {LATER_STEPS} steps")
    later
    return (later,)


@app.cell
def _(later, mo, w):
    mo.stop(not later.value)
    w.train(steps={LATER_STEPS}).wait()
    mo.md(f"trained to {{w.optimizer_state['global_step']}}")
    return
"""
# The editor's "run all stale cells" button (cells do not run by themselves in the editor).
RUN_ALL = '[data-testid="run-button"].mo-button'
STALE = f"{RUN_ALL}.yellow"  # yellow while cells wait to run
CELL = '[data-testid="cell-editor"]'


@contextlib.contextmanager
def running_marimo(root: Path, mode: str) -> Iterator[str]:
    """``marimo <mode> app.py`` on a free loopback port, its config and state inside ``root``."""
    (root / "app.py").write_text(APP)
    port = free_port()
    command = [sys.executable, "-m", "marimo", mode, "app.py", "--headless", "--no-token"]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    if mode == "edit":
        command.append("--skip-update-check")
    env = {
        f"XDG_{kind}_HOME": str(root / f".{kind.lower()}") for kind in ("CONFIG", "STATE", "CACHE")
    }
    url = f"http://127.0.0.1:{port}/"
    with server_process(command, root, env, "marimo.log") as process:

        def answers() -> bool:
            still_running(process, root, "marimo.log")
            try:
                with urllib.request.urlopen(url + "health", timeout=5) as response:
                    return bool(response.status == 200)
            except OSError:
                return False

        wait_until(answers, 60, f"marimo {mode} to answer")
        yield url


@pytest.fixture(scope="module")
def marimo_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_marimo(tmp_path_factory.mktemp("marimo_run"), "run") as url:
        yield url


@pytest.fixture(scope="module")
def marimo_edit(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_marimo(tmp_path_factory.mktemp("marimo_edit"), "edit") as url:
        yield url


def check_the_view(page: Page) -> None:
    """Play trains in the kernel, and a later cell's training reaches the view shown earlier."""
    view = page.locator(VIEW)
    expect(view).to_be_visible(timeout=90_000)  # the kernel starts and imports torch first
    expect(view.locator("canvas.nnv-map")).to_have_count(1)
    assert clipping_boxes(view) == []

    played = play_until_trained(page, view)
    assert played > 0
    page.get_by_role("button", name=f"Train {LATER_STEPS} steps").click()
    # The kernel's step after the later cell: what Play left there, plus the later steps.
    later = played + LATER_STEPS
    expect(page.get_by_text(f"trained to {later}")).to_be_visible(timeout=60_000)
    wait_until(lambda: shown_step(view) == later, 30, "the first cell's view to follow")
    assert clipping_boxes(view) == []


def test_widget_in_marimo_run(page: Page, marimo_run: str) -> None:
    errors = watch_page_errors(page)
    page.set_default_timeout(60_000)
    page.goto(marimo_run)
    check_the_view(page)
    assert errors == [], f"uncaught errors in the page: {errors}"


def test_widget_in_marimo_edit(page: Page, marimo_edit: str) -> None:
    errors = watch_page_errors(page)
    page.set_default_timeout(60_000)
    page.goto(marimo_edit)
    # The editor shows the three cells once its kernel is connected; then Run runs them.
    expect(page.locator(CELL)).to_have_count(3, timeout=60_000)
    expect(page.locator(STALE)).to_be_enabled()
    page.locator(RUN_ALL).click()
    check_the_view(page)
    assert errors == [], f"uncaught errors in the page: {errors}"
