"""The frontend's own checks from pytest: strict TypeScript, vitest, and a fresh bundle.

The bundle in ``src/nnvisu/static`` is committed (installs need no Node), so a build into a
temporary directory must reproduce it byte for byte; so must the generated WebAssembly module
(compared, never written: ``cd js && npm run build`` regenerates both).
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
JS = ROOT / "js"
STATIC = ROOT / "src" / "nnvisu" / "static"
BUNDLE = ("widget.js", "widget.css", "host.js")


def run(*cmd: str) -> None:
    proc = subprocess.run(cmd, cwd=JS, capture_output=True, text=True, timeout=900)
    if proc.returncode != 0:
        pytest.fail(f"`{' '.join(cmd)}` failed:\n{proc.stdout}\n{proc.stderr}")


@pytest.fixture(scope="module")
def node_modules() -> None:
    """Install the locked JS dev dependencies once, if a checkout has none yet."""
    if shutil.which("npm") is None:
        pytest.fail("npm not found: the frontend checks need Node 20+ (apt-get install nodejs npm)")
    if not (JS / "node_modules").is_dir():
        run("npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")


@pytest.mark.usefixtures("node_modules")
def test_typescript_strict() -> None:
    run("npx", "tsc", "--noEmit")


@pytest.mark.usefixtures("node_modules")
def test_vitest() -> None:
    run("npx", "vitest", "run")


@pytest.mark.usefixtures("node_modules")
def test_committed_bundle_is_fresh(tmp_path: Path) -> None:
    run("node", "build.mjs", "--outdir", str(tmp_path))
    stale = [n for n in BUNDLE if (tmp_path / n).read_bytes() != (STATIC / n).read_bytes()]
    assert not stale, f"src/nnvisu/static/{stale} differ from a fresh build: cd js && npm run build"


@pytest.mark.usefixtures("node_modules")
def test_generated_wasm_module_is_fresh() -> None:
    run("node", "wat.mjs", "--check")  # exits 1 naming the stale module; writes nothing


@pytest.mark.usefixtures("node_modules")
def test_dev_build_has_inline_sourcemaps(tmp_path: Path) -> None:
    run("node", "build.mjs", "--dev", "--once", "--outdir", str(tmp_path))
    code = (tmp_path / "widget.js").read_text()
    found = re.search(r"//# sourceMappingURL=data:application/json;base64,(\S+)\s*$", code)
    assert found, "the dev bundle has no inline sourcemap"
    sourcemap = json.loads(base64.b64decode(found.group(1)))
    # The map leads back to the TypeScript (its paths are relative to the output directory).
    assert any(source.endswith("js/src/loop.ts") for source in sourcemap["sources"])
    assert len(code.splitlines()) > 5000  # not minified: a statement a line
