"""End to end: ``NNVisu()`` in a real JupyterLab driven by Debian Chromium.

The browser test clicks like a learner (add points, Play, Pause), asserts the Python side
through a second kernel client, saves and reopens the notebook, and takes a screenshot: into a
temporary directory, or where ``NNVISU_SCREENSHOT`` says (``NNVISU_SCREENSHOT=docs/screenshot.png
python -m pytest tests/test_jupyterlab.py`` refreshes the README's picture).
It prints what it measured (map frame rate, training steps per second) as one JSON line.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from jupyter_harness import (
    KERNEL_IDLE,
    JupyterLab,
    KernelProbe,
    running_jupyterlab,
    wait_until,
    write_notebook,
)
from nbclient import NotebookClient
from playwright.sync_api import Locator, Page, expect

NOTEBOOK = "widget.ipynb"
WIDGET = ".jp-OutputArea-output .nnvisu"
MAP = "canvas.nnv-map"
METRICS = "dl.nnv-metrics"  # step, epoch, losses and accuracies as the view shows them
STEP = "dl.nnv-metrics dd >> nth=0"
PYTHON_STEPS = 1500  # trained from Python after Play/Pause: a well-trained map to show
NNVISU_MODEL = "nnvisu.widget.NNVisu"  # the _anywidget_id of our models in saved widget state

# Counts animation frames, and frames whose map differs from the previous frame's, on a
# 32x32 copy of the map canvas (cheap enough for every frame).
FRAME_COUNTER = """(canvas) => {
  const probe = document.createElement("canvas");
  probe.width = probe.height = 32;
  const ctx = probe.getContext("2d", { willReadFrequently: true });
  const stats = { frames: 0, changes: 0, start: performance.now(), stop: false };
  let last = null;
  const tick = () => {
    ctx.drawImage(canvas, 0, 0, 32, 32);
    const px = ctx.getImageData(0, 0, 32, 32).data;
    let hash = 0;
    for (let i = 0; i < px.length; i += 1) hash = (hash * 31 + px[i]) | 0;
    stats.frames += 1;
    if (last !== null && hash !== last) stats.changes += 1;
    last = hash;
    if (!stats.stop) requestAnimationFrame(tick);
  };
  window.__nnvisuFrames = stats;
  requestAnimationFrame(tick);
}"""
READ_FRAMES = """() => {
  const s = window.__nnvisuFrames;
  s.stop = true;
  const seconds = (performance.now() - s.start) / 1000;
  return { fps: s.frames / seconds, map_updates_per_s: s.changes / seconds };
}"""


@pytest.fixture
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_context_args, "viewport": {"width": 1400, "height": 1400}}


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[JupyterLab]:
    write_notebook(tmp_path / NOTEBOOK, ["from nnvisu import NNVisu\nw = NNVisu()\nw"])
    with running_jupyterlab(tmp_path) as server:
        yield server


@pytest.fixture
def page_errors(page: Page) -> Iterator[list[str]]:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.set_default_timeout(60_000)
    yield errors
    assert errors == [], f"uncaught errors in the page: {errors}"


def open_notebook(page: Page, lab: JupyterLab) -> None:
    page.goto(lab.url(f"lab/tree/{NOTEBOOK}"))
    page.wait_for_function(KERNEL_IDLE, timeout=90_000)


def canvas_pixels(canvas: Locator) -> str:
    return str(canvas.evaluate("(c) => c.toDataURL()"))


def saved_model_state(path: Path) -> dict[str, Any]:
    """The NNVisu model's state as JupyterLab saved it in the notebook's metadata."""
    nb = nbformat.read(path, as_version=4)
    models = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    [state] = [
        m["state"] for m in models.values() if m["state"].get("_anywidget_id") == NNVISU_MODEL
    ]
    return dict(state)


def add_points_by_clicking(page: Page, canvas: Locator, kernel: KernelProbe) -> None:
    before = kernel.json("len(w.data)")
    box = canvas.bounding_box()
    assert box is not None
    spots = [(0.3, 0.12), (0.5, 0.08), (0.7, 0.12)]  # above the top moon: its class fits
    for fx, fy in spots:
        canvas.click(position={"x": box["width"] * fx, "y": box["height"] * fy})
    wait_until(lambda: kernel.json("len(w.data)") == before + len(spots), 20, "clicked points")


def train_until_loss_halves(page: Page, kernel: KernelProbe) -> dict[str, float]:
    """Play until the kernel's loss halved (and 3 s passed, to measure rates); then Pause."""
    start_loss = kernel.json("w.metrics")["train_loss"]
    page.get_by_role("button", name="Play").click()
    expect(page.get_by_role("button", name="Pause")).to_be_visible()
    t0, step0 = time.monotonic(), kernel.json("w.metrics")["global_step"]

    def trained() -> dict[str, Any] | None:
        metrics: dict[str, Any] = kernel.json("w.metrics")
        done = metrics["train_loss"] < 0.5 * start_loss and time.monotonic() - t0 > 3
        return metrics if done else None

    metrics = wait_until(trained, 60, "the loss to halve", interval=0.25)
    elapsed = time.monotonic() - t0
    page.get_by_role("button", name="Pause").click()
    expect(page.get_by_role("button", name="Play")).to_be_visible()
    return {
        "start_loss": start_loss,
        "loss": metrics["train_loss"],
        "steps_per_s": (metrics["global_step"] - step0) / elapsed,
    }


def train_from_python(widget: Locator, kernel: KernelProbe, steps: int) -> float:
    """``w.train()`` in the kernel, the view watching: its step counter follows the thread."""
    start = kernel.json("w.optimizer_state['global_step']")
    kernel.run(f"run = w.train(steps={steps}, progress=False)")
    t0 = time.monotonic()
    wait_until(lambda: kernel.json("run.done"), 60, "the Python run to end")
    elapsed = time.monotonic() - t0
    assert kernel.json("run.error") is None
    expect(widget.locator(STEP)).to_have_text(f"{start + steps:,}")
    return steps / elapsed


def wait_until_training_stopped(kernel: KernelProbe) -> int:
    """The kernel's global_step once it stayed the same for a whole second."""
    seen: list[int] = []

    def steady() -> int | None:
        seen.append(kernel.json("w.optimizer_state['global_step']"))
        return seen[-1] if len(seen) > 1 and seen[-1] == seen[-2] else None

    return wait_until(steady, 15, "training to stop", interval=1.0)


@pytest.mark.jupyter
@pytest.mark.browser
def test_widget_in_jupyterlab(
    page: Page, page_errors: list[str], lab: JupyterLab, tmp_path: Path
) -> None:
    open_notebook(page, lab)
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    widget = page.locator(WIDGET)
    expect(widget).to_be_visible()
    canvas = widget.locator(MAP)
    with lab.kernel_client(NOTEBOOK) as kernel:
        add_points_by_clicking(page, canvas, kernel)
        untrained = canvas_pixels(canvas)
        canvas.evaluate(FRAME_COUNTER)
        measured = train_until_loss_halves(page, kernel)
        measured.update(page.evaluate(READ_FRAMES))
        assert measured["loss"] < 0.5 * measured["start_loss"]
        paused_step = wait_until_training_stopped(kernel)
        assert canvas_pixels(canvas) != untrained
        measured["python_steps_per_s"] = train_from_python(widget, kernel, PYTHON_STEPS)
        final_step = kernel.json("w.optimizer_state['global_step']")
        assert final_step == paused_step + PYTHON_STEPS
    print("e2e measurements:", json.dumps({k: round(v, 3) for k, v in measured.items()}))
    screenshot = Path(os.environ.get("NNVISU_SCREENSHOT") or tmp_path / "screenshot.png")
    widget.screenshot(path=str(screenshot))
    assert screenshot.read_bytes().startswith(b"\x89PNG")

    shown = widget.locator(METRICS).text_content()
    pixels = canvas_pixels(canvas)
    page.evaluate("window.jupyterapp.commands.execute('docmanager:save')")
    wait_until(
        lambda: (
            saved_model_state(lab.root / NOTEBOOK)["optimizer_state"]["global_step"] == final_step
        ),
        20,
        "the notebook to be saved with the widget state",
    )
    reopen_without_kernel_state(page, lab)
    restored = page.locator(WIDGET)
    expect(restored).to_be_visible()
    expect(restored.locator(MAP)).to_have_count(1)
    expect(restored.locator(METRICS)).to_have_text(shown)
    assert canvas_pixels(restored.locator(MAP)) == pixels


def reopen_without_kernel_state(page: Page, lab: JupyterLab) -> None:
    """Close the notebook and shut its kernel down, then open it again: the widget then
    comes from the state saved in the notebook, not from a live kernel."""
    session = [s for s in lab.api("sessions") if s["path"] == NOTEBOOK][0]
    page.evaluate("window.jupyterapp.commands.execute('application:close-all')")
    expect(page.locator(WIDGET)).to_have_count(0)
    lab.api(f"sessions/{session['id']}", method="DELETE")
    page.evaluate(f"window.jupyterapp.commands.execute('docmanager:open', {{path: '{NOTEBOOK}'}})")
    page.wait_for_function(KERNEL_IDLE, timeout=90_000)


def widget_states(nb: Any) -> dict[str, dict[str, Any]]:
    """Model states nbclient recorded from the comm messages, by model name."""
    states = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    return {model["model_name"]: model["state"] for model in states.values()}


@pytest.mark.jupyter
def test_train_in_a_kernel_runs_in_the_background() -> None:
    """In a real kernel train() returns at once, cells keep running, updates reach the views."""
    cells = [
        "from nnvisu import NNVisu\nw = NNVisu(n=100)\nrun = w.train(steps=10**6)",
        "import time\nrunning = not run.done\n"
        "while w.metrics['global_step'] == 0: time.sleep(0.02)",
        "w.stop()\nassert running and run.done, run\nprint(w.optimizer_state['global_step'])",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NotebookClient(nb, timeout=60, kernel_name="python3", shutdown_kernel="immediate").execute()
    steps = int(nb.cells[2].outputs[0]["text"])
    states = widget_states(nb)
    # What the views last received, sent from the training thread, is the final state.
    assert states["AnyModel"]["optimizer_state"]["global_step"] == steps
    assert states["AnyModel"]["status"]["message"] == f"stopped after {steps}/1000000 steps"
    progress = states["IntProgressModel"]
    assert (progress["value"], progress["bar_style"]) == (steps, "warning")
