"""The page behind a real nginx, configured as docs/deploy.md says, losing an upstream.

nginx (Debian's package) runs unprivileged on loopback with every path under a temporary
directory; its ``upstream``/``server`` configuration is the fenced ``nginx`` block of
docs/deploy.md with only the addresses substituted, so the documentation stays true. Two
``python -m nnvisu.server`` processes are the upstreams. The page, under the /nnvisu/
sub-path, trains in Debian's Chromium; the upstream that holds its WebSocket is killed
(SIGKILL) mid-training and the page must go on by itself, from where it was.

The Kubernetes example (docs/k8s/nnvisu.yaml) cannot run here: it is checked for what it
must say (valid YAML, health probes on /healthz, the proxy's WebSocket timeouts).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import free_port
from playwright.sync_api import Browser, ConsoleMessage, expect

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "docs" / "deploy.md"
K8S = ROOT / "docs" / "k8s" / "nnvisu.yaml"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
SUB_PATH = "/nnvisu/"
MAP = "Data and decision map"

# Injected before the page's scripts: every reply the page's WebSocket receives, with the
# wall-clock time it arrived (Date.now(), comparable with this process's time.time()).
RECORD_REPLIES = r"""
(() => {
  const log = { replies: [], opened: 0, closed: [] };
  window.__proxyTest = log;
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener("open", () => { log.opened += 1; });
      this.addEventListener("close", (ev) => { log.closed.push([Date.now(), ev.code]); });
      this.addEventListener("message", (ev) => {
        const m = JSON.parse(ev.data);
        if (m.type === "train_step_result") {
          log.replies.push([Date.now(), m.global_step, m.steps]);
        } else if (m.type === "error") {
          log.replies.push([Date.now(), m.code, m.message]);
        }
      });
    }
  };
})();
"""


# ------------------------------------------------------------------------------------------
# The nginx configuration, from the documentation


def documented_nginx_block() -> str:
    """The one fenced ``nginx`` block of docs/deploy.md."""
    blocks = re.findall(r"```nginx\n(.*?)```", DEPLOY.read_text(encoding="utf-8"), re.S)
    assert len(blocks) == 1, f"docs/deploy.md should have exactly one nginx block, not {blocks}"
    return str(blocks[0])


def nginx_config(workdir: Path, listen_port: int, upstream_ports: list[int]) -> str:
    """A whole nginx.conf around the documented block: only addresses and paths change.

    The documented upstream lists example machines: they become this test's upstreams, with
    the documented parameters kept. TLS is not part of what is tested: ``listen 443 ssl``
    becomes a plain loopback listener.
    """
    block = documented_nginx_block()
    servers = re.findall(r"^(\s*)server\s+\S+:\d+(.*);$", block, re.M)
    assert servers, "the documented upstream block lists no servers"
    indent, params = servers[0]
    ours = "".join(f"{indent}server 127.0.0.1:{port}{params};\n" for port in upstream_ports)
    block, count = re.subn(r"(?:^\s*server\s+\S+:\d+.*;\n)+", ours, block, count=1, flags=re.M)
    assert count == 1
    block, count = re.subn(r"listen\s+443\s+ssl;", f"listen 127.0.0.1:{listen_port};", block)
    assert count == 1, "the documented server block should listen on 443 ssl"
    assert f"location {SUB_PATH}" in block, f"the documented config should serve {SUB_PATH}"
    temp = "\n".join(
        f"    {kind}_temp_path {workdir / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    # Running as root (CI), nginx's workers would switch to "nobody", who cannot enter the
    # private temporary directory: they stay root instead.
    user = "user root;\n" if os.geteuid() == 0 else ""
    return (
        f"{user}worker_processes 1;\n"
        f"error_log {workdir / 'error.log'} info;\n"
        "events { worker_connections 256; }\n"
        "http {\n"
        f"    access_log {workdir / 'access.log'};\n"
        f"{temp}\n"
        f"{block}"
        "}\n"
    )


# ------------------------------------------------------------------------------------------
# Processes: two upstream servers and nginx


def get(url: str, timeout: float = 5) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return int(response.status), bytes(response.read())
    except urllib.error.HTTPError as err:
        return int(err.code), bytes(err.read())


class Upstream:
    """``python -m nnvisu.server`` on a loopback port, behind the proxy as documented."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "nnvisu.server", "--port", str(port), "--behind-proxy"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert f"127.0.0.1:{port}/" in line, line

    def connections(self) -> int:
        status, body = get(f"http://127.0.0.1:{self.port}/healthz")
        return int(json.loads(body)["connections"]) if status == 200 else 0

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        assert self.proc.stdout is not None
        self.proc.stdout.close()


class Nginx:
    """nginx in the foreground, unprivileged paths, everything under ``workdir``."""

    def __init__(self, workdir: Path, port: int, upstream_ports: list[int]) -> None:
        self.workdir, self.port = workdir, port
        self.url = f"http://127.0.0.1:{port}"
        conf = workdir / "nginx.conf"
        conf.write_text(nginx_config(workdir, port, upstream_ports), encoding="utf-8")
        self.proc = subprocess.Popen(
            [
                NGINX,
                "-p",
                str(workdir),
                "-c",
                str(conf),
                "-e",
                str(workdir / "error.log"),
                "-g",
                f"daemon off; pid {workdir / 'nginx.pid'};",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(100):  # bounded: nginx starts in well under a second
            if self.proc.poll() is not None:
                raise AssertionError(f"nginx exited: {self.proc.communicate()[1]}")
            try:
                if get(f"{self.url}{SUB_PATH}healthz", timeout=1)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"nginx did not answer on {self.url}: {self.log()}")

    def log(self) -> str:
        path = self.workdir / "error.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGQUIT)  # graceful: finish what is in progress
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        assert self.proc.stderr is not None
        self.proc.stderr.close()


@pytest.fixture
def proxied(tmp_path: Path) -> Iterator[tuple[Nginx, list[Upstream]]]:
    upstreams: list[Upstream] = []
    nginx: Nginx | None = None
    try:
        upstreams = [Upstream(free_port()) for _ in range(2)]
        nginx = Nginx(tmp_path, free_port(), [u.port for u in upstreams])
        yield nginx, upstreams
    finally:
        if nginx is not None:
            nginx.stop()
        for upstream in upstreams:
            upstream.stop()


# ------------------------------------------------------------------------------------------


def stored(page: Any, part: str) -> dict[str, Any]:
    text = page.evaluate(f"() => localStorage.getItem('nnvisu:{part}')")
    assert text, f"nnvisu:{part} is not in localStorage"
    values: dict[str, Any] = json.loads(text)["values"]
    return values


def replies(page: Any) -> list[list[Any]]:
    return list(page.evaluate("() => window.__proxyTest.replies"))


@pytest.mark.browser
def test_page_trains_through_nginx_and_survives_losing_an_upstream(
    proxied: tuple[Nginx, list[Upstream]], browser: Browser, record_property: Any
) -> None:
    nginx, upstreams = proxied
    # The documented redirect adds the trailing slash the page's relative URLs need.
    with pytest.raises(urllib.error.HTTPError) as redirect:
        urllib.request.build_opener(NoRedirect).open(f"{nginx.url}/nnvisu", timeout=5)
    assert redirect.value.code == 301
    assert redirect.value.headers["Location"].endswith(SUB_PATH)

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        context.add_init_script(RECORD_REPLIES)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))

        def on_console(msg: ConsoleMessage) -> None:
            if msg.type == "error" and "WebSocket connection" not in msg.text:
                errors.append(f"console: {msg.text}")

        page.on("console", on_console)
        page.goto(nginx.url + SUB_PATH)
        expect(page.get_by_role("application", name=MAP)).to_be_visible(timeout=30_000)
        points = stored(page, "data")["data"]
        assert points, "the page got no dataset through the proxy"

        page.get_by_role("button", name="Play").click()
        page.wait_for_function("() => window.__proxyTest.replies.length >= 10", timeout=60_000)

        # The upstream holding the page's WebSocket (the other one holds none).
        held = [u for u in upstreams if u.connections() > 0]
        assert len(held) == 1, [u.connections() for u in upstreams]
        victim = held[0]
        before = len(replies(page))
        killed_at = time.time()
        victim.kill()

        # By itself: nobody touches the page. Training resumes on the other upstream.
        page.wait_for_function(
            "n => window.__proxyTest.replies.length >= n", arg=before + 10, timeout=30_000
        )
        log = replies(page)
        after_kill = [r for r in log if r[0] / 1000 > killed_at]
        first = next(r for r in after_kill if isinstance(r[1], int))
        recovery_s = first[0] / 1000 - killed_at
        record_property("recovery_s", round(recovery_s, 3))
        print(f"\nnginx: training resumed {recovery_s:.3f} s after SIGKILL of an upstream")
        assert recovery_s < 15, f"the page took {recovery_s:.1f} s to train again"
        assert [u.connections() for u in upstreams if u is not victim] == [1]

        # Every reply continues the previous one: no step lost or repeated across the kill.
        results = [r for r in log if isinstance(r[1], int)]
        assert [r for r in log if not isinstance(r[1], int)] == [], log
        for previous, current in zip(results, results[1:], strict=False):
            assert current[1] - current[2] == previous[1], (previous, current)

        expect(page.get_by_role("button", name="Pause")).to_be_visible()  # still playing
        page.get_by_role("button", name="Pause").click()
        expect(page.get_by_role("button", name="Play")).to_be_visible()
        page.evaluate("() => window.dispatchEvent(new Event('pagehide'))")  # flush the store
        assert stored(page, "data")["data"] == points, "points were lost"
        progress = stored(page, "progress")["metrics"]["global_step"]
        assert progress >= results[-1][1]
        assert errors == []
    finally:
        context.close()
    assert "[emerg]" not in nginx.log()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def test_documented_upstreams_trust_the_proxy() -> None:
    """The page reaches the servers through nginx: the docs tell them to trust its headers."""
    text = DEPLOY.read_text(encoding="utf-8")
    section = text[text.index("## Several machines behind nginx") :]
    assert "--behind-proxy" in section.split("```nginx")[0]


def test_nginx_config_is_the_documented_one(tmp_path: Path) -> None:
    """nginx itself accepts the documented block (``nginx -t``), as this test rewrites it."""
    conf = tmp_path / "nginx.conf"
    conf.write_text(nginx_config(tmp_path, free_port(), [free_port(), free_port()]))
    done = subprocess.run(
        [NGINX, "-t", "-p", str(tmp_path), "-c", str(conf), "-e", str(tmp_path / "error.log")]
        + ["-g", f"pid {tmp_path / 'nginx.pid'};"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    block = documented_nginx_block()
    for directive in ("proxy_http_version 1.1", "proxy_read_timeout", "$connection_upgrade"):
        assert directive in block


def test_kubernetes_example_parses_and_probes_healthz() -> None:
    documents = [d for d in yaml.safe_load_all(K8S.read_text(encoding="utf-8")) if d]
    by_kind = {d["kind"]: d for d in documents}
    assert set(by_kind) >= {"Deployment", "Service", "Ingress"}, list(by_kind)

    pod = by_kind["Deployment"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["path"] == "/healthz", probe
    port = container["ports"][0]["containerPort"]
    command = " ".join(container["command"] + container.get("args", []))
    assert str(port) in command and "--behind-proxy" in command  # pods sit behind the Ingress
    assert pod["terminationGracePeriodSeconds"] >= 15  # the server's shutdown grace

    service = by_kind["Service"]
    assert service["spec"]["selector"] == by_kind["Deployment"]["spec"]["selector"]["matchLabels"]
    annotations = by_kind["Ingress"]["metadata"]["annotations"]
    for timeout in ("proxy-read-timeout", "proxy-send-timeout"):
        assert int(annotations[f"nginx.ingress.kubernetes.io/{timeout}"]) > 20  # > ping interval
    backend = by_kind["Ingress"]["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] == service["metadata"]["name"]
    assert "k8s/nnvisu.yaml" in DEPLOY.read_text(encoding="utf-8")
