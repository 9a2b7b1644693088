"""The package as a user gets it: ``python -m build`` from a copy of the checkout, then the wheel
installed in a fresh venv and run from a directory outside the checkout.

The venv sees the test environment's packages (``--system-site-packages``) and the wheel goes
in with ``--no-deps``, so nothing is downloaded; every run strips ``PYTHONPATH`` and starts in a
temporary directory, and asserts that ``nnvisu`` really comes from the venv.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import urllib.request
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import websocket  # websocket-client

pytestmark = pytest.mark.slow

CHECKOUT = Path(__file__).resolve().parents[1]
STATIC = CHECKOUT / "src" / "nnvisu" / "static"
BUNDLE = ("widget.js", "widget.css", "host.js", "index.html")
# What a copy of the checkout leaves out: history, installed packages, build and test leftovers.
NOT_SOURCE = shutil.ignore_patterns(
    ".git",
    "node_modules",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    ".*_cache",
    ".hypothesis",
    "test-results",
)


@dataclass
class Built:
    sdist: Path
    wheel: Path


@dataclass
class Venv:
    root: Path
    workdir: Path  # a directory outside the checkout, the cwd of every run

    @property
    def python(self) -> Path:
        return self.root / "bin" / "python"

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        return {**env, "OMP_NUM_THREADS": "1"}

    def run(self, code: str) -> Any:
        """Run ``code`` in the venv's Python; it prints one JSON value, returned decoded."""
        out = subprocess.run(
            [str(self.python), "-c", code],
            cwd=self.workdir,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """``python -m build`` on a copy of the checkout: an sdist, then a wheel built from it."""
    tmp = tmp_path_factory.mktemp("build")
    source = tmp / "nnvisu"
    shutil.copytree(CHECKOUT, source, ignore=NOT_SOURCE)
    out = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(tmp / "dist"), str(source)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    [sdist] = (tmp / "dist").glob("nnvisu-*.tar.gz")
    [wheel] = (tmp / "dist").glob("nnvisu-*.whl")
    return Built(sdist, wheel)


@pytest.fixture(scope="module")
def venv(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Venv:
    root = tmp_path_factory.mktemp("venv")
    subprocess.run(
        [sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(root)],
        check=True,
        timeout=120,
    )
    # The test environment's pip installs into the venv (no pip of its own to bootstrap);
    # --ignore-installed: the test environment's own nnvisu (editable) must not count.
    subprocess.run(
        [
            *(sys.executable, "-m", "pip", "--python", str(root / "bin" / "python")),
            *("install", "-q", "--no-deps", "--ignore-installed", str(built.wheel)),
        ],
        check=True,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
        timeout=300,
    )
    return Venv(root, tmp_path_factory.mktemp("elsewhere"))


def test_sdist_and_wheel_carry_the_bundle(built: Built) -> None:
    with zipfile.ZipFile(built.wheel) as wheel:
        in_wheel = {name: wheel.read(f"nnvisu/static/{name}") for name in BUNDLE}
        assert "nnvisu/py.typed" in wheel.namelist()
    with tarfile.open(built.sdist) as sdist:
        [top] = {name.split("/")[0] for name in sdist.getnames()}
        in_sdist = {}
        for name in BUNDLE:
            member = sdist.extractfile(f"{top}/src/nnvisu/static/{name}")
            assert member is not None, name
            in_sdist[name] = member.read()
    for name in BUNDLE:
        committed = (STATIC / name).read_bytes()
        assert in_wheel[name] == committed, f"{name} in the wheel differs from the checkout's"
        assert in_sdist[name] == committed, f"{name} in the sdist differs from the checkout's"


def test_wheel_metadata_requires_ipykernel(built: Built) -> None:
    """Voila and VS Code need a kernel in the environment: installing nnvisu brings one."""
    with zipfile.ZipFile(built.wheel) as wheel:
        [metadata] = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
        text = wheel.read(metadata).decode()
    requires = re.findall(r"^Requires-Dist: ([A-Za-z0-9_.-]+)(.*)$", text, flags=re.M)
    runtime = {name.lower() for name, rest in requires if "extra ==" not in rest}
    assert {"ipykernel", "anywidget", "torch", "tornado"} <= runtime


def test_wheel_metadata_has_the_version_license_and_classifiers(built: Built) -> None:
    from nnvisu import __version__

    with zipfile.ZipFile(built.wheel) as wheel:
        [metadata] = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
        text = wheel.read(metadata).decode()
        licenses = [n for n in wheel.namelist() if n.endswith(".dist-info/licenses/LICENSE")]
        assert licenses, "the wheel carries no LICENSE"
        assert wheel.read(licenses[0]) == (CHECKOUT / "LICENSE").read_bytes()
    fields = re.findall(r"^([A-Za-z-]+): (.*)$", text.split("\n\n")[0], flags=re.M)
    assert ("Version", __version__) in fields
    assert ("License-Expression", "MIT") in fields
    assert ("License-File", "LICENSE") in fields
    assert ("Classifier", "Framework :: Jupyter") in fields


def test_widget_imports_from_the_wheel_outside_the_checkout(venv: Venv) -> None:
    found = venv.run(
        "import json, nnvisu, nnvisu.widget\n"
        "from nnvisu import NNVisu\n"
        "w = NNVisu('moons', n=40)\n"
        "static = nnvisu.widget._STATIC\n"
        "print(json.dumps({'file': nnvisu.__file__, 'static': str(static),"
        " 'esm_is_the_file': w._esm == (static / 'widget.js').read_text(),"
        " 'css_is_the_file': w._css == (static / 'widget.css').read_text(),"
        " 'points': len(w.data), 'version': nnvisu.__version__}))"
    )
    for key in ("file", "static"):
        path = Path(found[key]).resolve()
        assert path.is_relative_to(venv.root.resolve()), f"{key} is {path}, not in the venv"
        assert not path.is_relative_to(CHECKOUT), f"{key} comes from the checkout: {path}"
    assert found["esm_is_the_file"] and found["css_is_the_file"]
    assert (Path(found["static"]) / "widget.js").read_bytes() == (STATIC / "widget.js").read_bytes()
    assert found["points"] == 40
    assert found["version"] != "0.0.0"  # the installed distribution's version was found


@pytest.fixture
def wheel_server(venv: Venv) -> Iterator[str]:
    """``python -m nnvisu.server`` from the venv, started outside the checkout; yields its URL."""
    proc = subprocess.Popen(
        [str(venv.python), "-m", "nnvisu.server", "--port", "0"],
        cwd=venv.workdir,
        env=venv.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:\d+/", line)
        assert match, f"no URL in {line!r}; stderr: {proc.stderr.read() if proc.stderr else ''}"
        yield match.group(0)
    finally:
        proc.terminate()
        proc.wait(30)
        for stream in (proc.stdout, proc.stderr):
            if stream:
                stream.close()


def test_server_from_the_wheel_serves_the_page_and_trains(venv: Venv, wheel_server: str) -> None:
    where = venv.run("import json, nnvisu.server; print(json.dumps(nnvisu.server.__file__))")
    assert Path(where).resolve().is_relative_to(venv.root.resolve())
    url = wheel_server
    with urllib.request.urlopen(url, timeout=10) as response:
        page = response.read().decode()
    assert 'src="host.js"' in page and "nnvisu" in page
    with urllib.request.urlopen(url + "widget.js", timeout=10) as response:
        assert response.read() == (STATIC / "widget.js").read_bytes()
    with urllib.request.urlopen(url + "healthz", timeout=10) as response:
        health = json.loads(response.read())
    assert health["ok"] is True and health["version"] != "0.0.0"

    ws = websocket.create_connection(url.replace("http", "ws") + "ws", timeout=60)
    try:
        ws.send(json.dumps({"type": "init_network", "id": "n", "config": {}}))
        network = json.loads(ws.recv())
        assert network["type"] == "network", network
        points = [
            {"x": 0.5, "y": 0.5, "label": 0},
            {"x": -0.5, "y": -0.5, "label": 0},
            {"x": 0.5, "y": -0.5, "label": 1},
            {"x": -0.5, "y": 0.5, "label": 1},
        ]
        request = {
            "type": "train_step",
            "id": "t",
            "config": {"steps": 20},
            "network": network["network"],
            "data": points,
        }
        ws.send(json.dumps(request))
        reply = json.loads(ws.recv())
    finally:
        ws.close()
    assert reply["type"] == "train_step_result", reply
    assert reply["id"] == "t"
    assert reply["network"] != network["network"]
