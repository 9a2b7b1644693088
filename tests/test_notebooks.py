"""Execute every tutorial notebook in notebooks/ in a real Python kernel; any error fails.

Each notebook ends with a "Check your understanding" cell that asserts what the lesson
claims (e.g. relu beats a linear net on circles), so running them is a behavioural test of
the widget's Python API, the engine and the standalone server, not just a smoke test.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

pytestmark = pytest.mark.slow

NOTEBOOKS_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))
EXPECTED = {
    "01_first_network.ipynb",
    "02_depth_width_activations.ipynb",
    "03_learning_rate_and_optimizers.ipynb",
    "04_overfitting_and_regularization.ipynb",
    "05_your_own_data.ipynb",
    "06_server_for_a_class.ipynb",
    "07_watch_your_own_model.ipynb",
}
# Per-cell limit: generous for a loaded 2-core machine; each notebook takes a few seconds.
CELL_TIMEOUT_S = 120


def test_all_tutorials_are_found() -> None:
    found = {p.name for p in NOTEBOOKS}
    assert found >= EXPECTED, f"missing notebooks: {sorted(EXPECTED - found)}"


def test_notebooks_are_committed_clean() -> None:
    """Outputs and execution counts are not committed; every notebook is nbformat 4 and valid."""
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=nbformat.NO_CONVERT)
        assert nb.nbformat == 4, path.name
        nbformat.validate(nb)
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [], f"{path.name}: a cell has committed outputs"
                assert cell.execution_count is None, f"{path.name}: execution_count committed"
        last_code = [c for c in nb.cells if c.cell_type == "code"][-1]
        assert "assert" in last_code.source, f"{path.name}: last code cell must check the claims"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # debugpy warns on stderr about frozen modules in every fresh kernel: harmless noise.
    monkeypatch.setenv("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",
        shutdown_kernel="immediate",
        resources={"metadata": {"path": str(NOTEBOOKS_DIR)}},
    )
    try:
        client.execute()
    except CellExecutionError as exc:
        pytest.fail(f"{path.name} failed:\n{exc}")
