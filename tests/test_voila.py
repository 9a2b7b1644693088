"""End to end: ``NNVisu()`` in a Voila dashboard, driven by Debian Chromium.

Voila runs the notebook and shows its outputs only, so nothing can be typed after the page
shows: the later cell (``w.train(steps=300).wait()``) runs in the page's kernel through a
second client, and the view the page shows must follow it. Play trains in that same kernel.
"""

from __future__ import annotations

import contextlib
import secrets
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from frontend_checks import LATER_STEPS, VIEW, play_until_trained, shown_step, watch_page_errors
from jupyter_harness import (
    free_port,
    kernel_probe,
    server_process,
    still_running,
    wait_until,
    write_notebook,
)
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.jupyter, pytest.mark.browser]

NOTEBOOK = "dashboard.ipynb"
CELLS = ['from nnvisu import NNVisu\nw = NNVisu("moons", n=100)\nw']


class Voila:
    def __init__(self, root: Path, port: int, token: str) -> None:
        self.root, self.port, self.token = root, port, token

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/?token={self.token}"

    def connection_file(self) -> Path:
        """The connection file of the one kernel the page started."""
        files = list((self.root / ".runtime").rglob("kernel-*.json"))
        assert len(files) == 1, f"expected one kernel, found {files}"
        return files[0]


@contextlib.contextmanager
def running_voila(root: Path) -> Iterator[Voila]:
    """``voila dashboard.ipynb`` on a free loopback port, every Jupyter dir inside ``root``."""
    write_notebook(root / NOTEBOOK, CELLS)
    voila = Voila(root, free_port(), secrets.token_hex(16))
    command = [sys.executable, "-m", "voila", NOTEBOOK, "--no-browser"]
    command += ["--Voila.ip=127.0.0.1", f"--port={voila.port}", "--Voila.port_retries=0"]
    # Connection files (Voila puts them in the system's temp dir by default) go to the root too.
    (root / ".runtime").mkdir()
    command += [f"--token={voila.token}", f"--Voila.connection_dir_root={root / '.runtime'}"]
    env = {
        "JUPYTER_RUNTIME_DIR": str(root / ".runtime"),
        "JUPYTER_CONFIG_DIR": str(root / ".config"),
        "IPYTHONDIR": str(root / ".ipython"),
    }
    with server_process(command, root, env, "voila.log") as process:

        def answers() -> bool:
            still_running(process, root, "voila.log")
            # Any HTTP answer will do: asking for the page itself would start a kernel.
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{voila.port}/voila/files/none", timeout=5)
            except urllib.error.HTTPError:
                return True
            except OSError:
                return False
            return True

        wait_until(answers, 60, "Voila to answer")
        yield voila


@pytest.fixture(scope="module")
def voila(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Voila]:
    with running_voila(tmp_path_factory.mktemp("voila")) as server:
        yield server


def test_widget_in_voila(page: Page, voila: Voila) -> None:
    errors = watch_page_errors(page)
    page.set_default_timeout(60_000)
    response = page.goto(voila.url, timeout=120_000)  # Voila runs the notebook first
    assert response is not None and response.status == 200  # a missing kernel gives 500
    view = page.locator(VIEW)
    expect(view).to_be_visible(timeout=60_000)
    expect(view.locator("canvas.nnv-map")).to_have_count(1)

    with kernel_probe(voila.connection_file()) as kernel:
        played = play_until_trained(page, view)
        assert played > 0
        assert kernel.json("w.optimizer_state['global_step']") == played
        kernel.run(f"w.train(steps={LATER_STEPS}).wait()", timeout=60)
        later = played + LATER_STEPS
        assert kernel.json("w.optimizer_state['global_step']") == later
        wait_until(lambda: shown_step(view) == later, 30, "the page's view to follow")
    assert errors == [], f"uncaught errors in the page: {errors}"
