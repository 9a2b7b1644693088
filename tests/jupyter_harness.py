"""Start and stop a real JupyterLab (or Notebook 7) in a temporary root, and talk to its kernels.

The server runs in its own session on a free loopback
port with every Jupyter directory inside the temp root, so a test never touches the user's
settings and teardown can find (by pid) every process it started, kernels included.
"""

from __future__ import annotations

import ast
import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from jupyter_client import BlockingKernelClient

T = TypeVar("T")

#: Settings every test wants: widget state saved with the notebook, and no cell
#: virtualisation (a detached cell would hide the widget from the browser test).
DEFAULT_SETTINGS: dict[str, dict[str, Any]] = {
    "@jupyter-widgets/jupyterlab-manager:plugin": {"saveState": True},
    "@jupyterlab/notebook-extension:tracker": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension:notification": {
        "checkForUpdates": False,
        "fetchNews": "false",
    },
}


#: True once the current notebook panel's kernel is idle (JupyterLab and Notebook 7 alike, with
#: ``expose_app_in_browser``): the notebook is open and can run cells.
KERNEL_IDLE = """() => {
  const panel = window.jupyterapp?.shell.currentWidget;
  return panel?.sessionContext?.session?.kernel?.status === "idle";
}"""


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_notebook(path: Path, cells: list[str]) -> None:
    """Write a Python 3 notebook made of the given code cells (not executed)."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    nbformat.write(nb, path)


def write_settings(settings_dir: Path, settings: dict[str, dict[str, Any]]) -> None:
    """Write JupyterLab user settings: "<extension>:<plugin>" -> settings dict."""
    for plugin_id, values in settings.items():
        extension, plugin = plugin_id.split(":")
        target = settings_dir / extension / f"{plugin}.jupyterlab-settings"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(values))


def wait_until(
    probe: Callable[[], T | None], timeout: float, what: str, interval: float = 0.1
) -> T:
    """Call ``probe`` until it returns something other than None/False; fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result is not None and result is not False:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


@dataclass
class JupyterLab:
    """A running JupyterLab server (see :func:`running_jupyterlab`)."""

    root: Path
    port: int
    token: str
    process: subprocess.Popen[bytes]

    def url(self, path: str) -> str:
        """Return the full URL of ``path`` (e.g. ``lab/tree/x.ipynb``) with the token."""
        sep = "&" if "?" in path else "?"
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}{sep}token={self.token}"

    def api(self, path: str, method: str = "GET") -> Any:
        """Call the REST API; return the decoded JSON body (None when empty)."""
        request = urllib.request.Request(self.url(f"api/{path}"), method=method)
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def kernel_id(self, notebook: str) -> str:
        """Return the kernel id of the session on ``notebook`` (a path relative to the root)."""
        sessions = [s for s in self.api("sessions") if s["path"] == notebook]
        if len(sessions) != 1:
            raise AssertionError(f"expected one session on {notebook}, got {sessions}")
        return str(sessions[0]["kernel"]["id"])

    def kernel_client(self, notebook: str) -> contextlib.AbstractContextManager[KernelProbe]:
        """A second client on the notebook's kernel, to read Python-side state."""
        return kernel_probe(self.root / ".runtime" / f"kernel-{self.kernel_id(notebook)}.json")


@contextlib.contextmanager
def kernel_probe(connection_file: Path) -> Iterator[KernelProbe]:
    """A second client on the kernel of ``connection_file``, to read Python-side state."""
    client = BlockingKernelClient(connection_file=str(connection_file))
    client.load_connection_file()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=30)
        yield KernelProbe(client)
    finally:
        client.stop_channels()


class KernelProbe:
    """Evaluate expressions in a running kernel without disturbing its notebook."""

    def __init__(self, client: BlockingKernelClient) -> None:
        self._client = client

    def json(self, expression: str, timeout: float = 30) -> Any:
        """Evaluate ``expression`` in the kernel and return its value, transported as JSON."""
        reply = self._execute("", {"r": f"__import__('json').dumps({expression})"}, timeout)
        result = reply["user_expressions"]["r"]
        if result["status"] != "ok":
            raise AssertionError(f"{expression!r} failed in the kernel: {result}")
        return json.loads(ast.literal_eval(result["data"]["text/plain"]))

    def run(self, code: str, timeout: float = 30) -> None:
        """Execute statements in the kernel (silently: the notebook sees no new cell)."""
        reply = self._execute(code, {}, timeout)
        if reply["status"] != "ok":
            raise AssertionError(f"{code!r} failed in the kernel: {reply}")

    def _execute(self, code: str, expressions: dict[str, str], timeout: float) -> Any:
        msg_id = self._client.execute(code, silent=True, user_expressions=expressions)
        deadline = time.monotonic() + timeout
        while True:
            reply = self._client.get_shell_msg(timeout=max(0.1, deadline - time.monotonic()))
            if reply["parent_header"].get("msg_id") == msg_id:
                return reply["content"]


def kernel_pids(root: Path) -> list[int]:
    """Pids of kernels whose command line names a connection file under ``root``."""
    marker = str(root / ".runtime").encode()
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if marker in (proc / "cmdline").read_bytes():
                pids.append(int(proc.name))
    return pids


def _stop(lab: JupyterLab) -> None:
    """Shut the server down politely, then make sure it and its kernels are gone."""
    with contextlib.suppress(OSError, urllib.error.URLError):
        lab.api("shutdown", method="POST")
    try:
        lab.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(lab.process.pid, signal.SIGKILL)
        lab.process.wait(timeout=5)
    # Kernels run in sessions of their own (jupyter_client starts them so): kill leftovers by pid.
    for pid in kernel_pids(lab.root):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


#: The Jupyter applications this harness starts: module to run, and its traitlets class.
APPS = {"lab": ("jupyterlab", "LabApp"), "notebook": ("notebook", "JupyterNotebookApp")}


def _command(root: Path, port: int, token: str, app: str) -> list[str]:
    module, cls = APPS[app]
    command = [
        sys.executable,
        "-m",
        module,
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        f"--{cls}.user_settings_dir={root / '.settings'}",
        f"--{cls}.workspaces_dir={root / '.workspaces'}",
        f"--{cls}.expose_app_in_browser=True",
    ]
    if app == "lab":
        command += [
            "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ]
    if os.geteuid() == 0:
        command.append("--ServerApp.allow_root=True")
    return command


@contextlib.contextmanager
def running_jupyterlab(
    root: Path,
    settings: dict[str, dict[str, Any]] | None = None,
    startup_timeout: float = 60,
    app: str = "lab",
) -> Iterator[JupyterLab]:
    """Run JupyterLab (or Notebook 7: ``app="notebook"``, the same server and settings) with
    its root, settings, runtime and config dirs all in ``root``."""
    write_settings(root / ".settings", DEFAULT_SETTINGS if settings is None else settings)
    env = {
        **os.environ,
        "JUPYTER_RUNTIME_DIR": str(root / ".runtime"),
        "JUPYTER_CONFIG_DIR": str(root / ".config"),
        "IPYTHONDIR": str(root / ".ipython"),
        # The machine is shared: one torch thread per kernel, as the server does.
        "OMP_NUM_THREADS": "1",
    }
    port, token = free_port(), secrets.token_hex(16)
    log = (root / "jupyterlab.log").open("wb")
    process = subprocess.Popen(
        _command(root, port, token, app),
        cwd=root,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    lab = JupyterLab(root=root, port=port, token=token, process=process)
    try:
        wait_until(lambda: _answers(lab), startup_timeout, "JupyterLab to answer /api/status")
        yield lab
    finally:
        _stop(lab)
        log.close()


def _answers(lab: JupyterLab) -> bool:
    if lab.process.poll() is not None:
        log = (lab.root / "jupyterlab.log").read_text(errors="replace")
        raise RuntimeError(f"JupyterLab exited with {lab.process.returncode}:\n{log}")
    try:
        lab.api("status")
    except (OSError, urllib.error.URLError):
        return False
    return True


@contextlib.contextmanager
def server_process(
    command: list[str], root: Path, env: dict[str, str], log_name: str
) -> Iterator[subprocess.Popen[bytes]]:
    """Run a server (marimo, Voila) in ``root`` in a session of its own, its output in
    ``root/log_name``; on exit stop it (SIGTERM, SIGKILL after 15 s) and any kernel it left."""
    with (root / log_name).open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=root,
            env={**os.environ, "OMP_NUM_THREADS": "1", **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield process
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(5)
            for pid in kernel_pids(root):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)


def still_running(process: subprocess.Popen[bytes], root: Path, log_name: str) -> None:
    """Fail with the server's log if it exited (while a test waits for it to answer)."""
    if process.poll() is not None:
        log = (root / log_name).read_text(errors="replace")
        raise RuntimeError(f"{log_name}: the server exited with {process.returncode}:\n{log}")
