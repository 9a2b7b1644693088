"""End to end: ``nnvisu.watch`` in a real JupyterLab while a cell runs the user's own loop.

A residual MLP with BatchNorm trains on spirals in a plain PyTorch loop; the view's map must
change while that cell runs (the kernel is busy: only kernel-to-page messages flow), and the
page must show no errors. The screenshot goes to a temporary path (or to the path in
NNVISU_WATCH_SCREENSHOT, which is how docs/watch.png was made).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jupyter_harness import JupyterLab, running_jupyterlab, wait_until, write_notebook
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.jupyter, pytest.mark.browser]

NOTEBOOK = "watch.ipynb"
WIDGET = ".jp-OutputArea-output .nnv-watch"
SETUP = """\
import time
import torch
from torch import nn
import nnvisu
from nnvisu import datasets

class Block(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(width, width), nn.BatchNorm1d(width), nn.ReLU())

    def forward(self, h):
        return h + self.layers(h)

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), Block(32), Block(32), nn.Linear(32, 3))
X, y = datasets.generate("spiral", n=600, num_classes=3, noise=0.05, seed=0)
X, y = torch.tensor(X, dtype=torch.float32), torch.tensor(y)
opt = torch.optim.Adam(model.parameters(), lr=0.01)  # imports torch.optim's machinery now
view = nnvisu.watch(model, X[:450], y[:450], X_test=X[450:], y_test=y[450:])
view"""
LOOP = """\
start, step = time.monotonic(), 0
while time.monotonic() - start < 14:
    model.train()
    opt.zero_grad()
    loss = nn.functional.cross_entropy(model(X[:450]), y[:450])
    loss.backward()
    opt.step()
    step += 1
    view.update(loss=loss, step=step)
final_step = step"""
KERNEL_BUSY = """() => {
  const panel = window.jupyterapp?.shell.currentWidget;
  return panel?.sessionContext?.session?.kernel?.status === "busy";
}"""
KERNEL_IDLE = KERNEL_BUSY.replace('"busy"', '"idle"')


@pytest.fixture
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_context_args, "viewport": {"width": 1400, "height": 1500}}


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[JupyterLab]:
    write_notebook(tmp_path / NOTEBOOK, [SETUP, LOOP])
    with running_jupyterlab(tmp_path) as server:
        yield server


def test_watch_view_follows_a_loop_running_in_a_cell(
    page: Page, lab: JupyterLab, tmp_path: Path
) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.set_default_timeout(60_000)
    page.goto(lab.url(f"lab/tree/{NOTEBOOK}"))
    page.wait_for_function(KERNEL_IDLE, timeout=90_000)
    page.evaluate("() => void window.jupyterapp.commands.execute('notebook:run-all-cells')")
    widget = page.locator(WIDGET)
    expect(widget).to_be_visible(timeout=90_000)
    expect(widget.locator(".nnv-watch-where")).to_contain_text("your own Python loop")
    expect(widget.locator(".nnv-transport")).to_have_count(0)  # no Play: the loop is the user's
    canvas = widget.locator("canvas.nnv-watch-map")
    seen: set[str] = set()  # maps drawn while the kernel was busy running the loop

    def map_changed_three_times_while_busy() -> bool:
        pixels = str(canvas.evaluate("(c) => c.toDataURL()"))
        if page.evaluate(KERNEL_BUSY):
            seen.add(pixels)
        return len(seen) >= 3

    wait_until(map_changed_three_times_while_busy, 90, "the map to change during the loop", 0.5)
    page.wait_for_function(KERNEL_IDLE, timeout=60_000)
    with lab.kernel_client(NOTEBOOK) as kernel:
        final = kernel.json("final_step")
        assert kernel.json("view.step") == final
        # The last steps are shown once the cell is over (the view catches up then).
        wait_until(lambda: kernel.json("view.frame['step']") == final, 20, "the final frame")
        assert kernel.json("view.status['state']") == "watching"
        assert kernel.json("view.metrics['accuracy']") > 0.6
    layers = widget.locator(".nnv-watch-layer")
    expect(layers.filter(has_text="BatchNorm1d").first).to_contain_text("No neuron maps")
    expect(widget.locator("canvas.nnv-watch-layer-maps").first).to_be_visible()
    expect(widget.locator(".nnv-watch-scrub")).to_be_enabled()
    screenshot = Path(os.environ.get("NNVISU_WATCH_SCREENSHOT", tmp_path / "watch.png"))
    widget.screenshot(path=str(screenshot))
    assert errors == [], f"uncaught errors in the page: {errors}"
