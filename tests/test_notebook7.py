"""End to end: ``NNVisu()`` in a real Notebook 7 driven by Debian Chromium.

The first cell shows the view; Play trains in the kernel (read through a second client);
then a second cell runs ``w.train(steps=300).wait()`` and the view shown by the first cell
follows it, the sequence Colab once got wrong.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from frontend_checks import LATER_STEPS, VIEW, play_until_trained, shown_step, watch_page_errors
from jupyter_harness import (
    KERNEL_IDLE,
    JupyterLab,
    running_jupyterlab,
    wait_until,
    write_notebook,
)
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.jupyter, pytest.mark.browser]

NOTEBOOK = "widget.ipynb"
CELLS = [
    'from nnvisu import NNVisu\nw = NNVisu("moons", n=100)\nw',
    f"w.train(steps={LATER_STEPS}).wait()\nprint('trained to', w.optimizer_state['global_step'])",
]
# Notebook 7's own, on any notebook (a plain 1+1 too): not nnvisu's.
NOISE = ("Cannot read properties of undefined (reading 'schema')",)
STDOUT = '[data-mime-type="application/vnd.jupyter.stdout"]'
RUN_CELL = """(index) => {
  const panel = window.jupyterapp.shell.currentWidget;
  panel.content.activeCellIndex = index;
  return window.jupyterapp.commands.execute("notebook:run-cell");
}"""


@pytest.fixture(scope="module")
def notebook_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterLab]:
    root = tmp_path_factory.mktemp("notebook7")
    write_notebook(root / NOTEBOOK, CELLS)
    with running_jupyterlab(root, app="notebook") as server:
        yield server


def test_widget_in_notebook7(page: Page, notebook_server: JupyterLab) -> None:
    errors = watch_page_errors(page, NOISE)
    page.set_default_timeout(60_000)
    page.goto(notebook_server.url(f"notebooks/{NOTEBOOK}"))
    page.wait_for_function(KERNEL_IDLE, timeout=90_000)
    page.evaluate(RUN_CELL, 0)
    view = page.locator(f".jp-OutputArea-output {VIEW}")
    expect(view).to_be_visible()
    expect(view.locator("canvas.nnv-map")).to_have_count(1)

    with notebook_server.kernel_client(NOTEBOOK) as kernel:
        played = play_until_trained(page, view)
        # Play trained in the kernel: the kernel's model holds what the view shows.
        assert played > 0
        assert kernel.json("w.optimizer_state['global_step']") == played

        page.evaluate(RUN_CELL, 1)
        later = played + LATER_STEPS
        output = page.locator(".jp-Cell >> nth=1").locator(STDOUT)
        expect(output).to_have_text(f"trained to {later}", timeout=60_000)
        wait_until(lambda: shown_step(view) == later, 30, "the first cell's view to follow")
        assert kernel.json("w.optimizer_state['global_step']") == later
    assert errors == [], f"uncaught errors in the page: {errors}"
