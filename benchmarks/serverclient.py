"""The standalone server as the load benchmarks see it: a subprocess, and a client's helpers.

``ServerProcess`` starts ``python -m nnvisu.server --port 0`` (and reads its RSS and CPU
time from /proc); ``open_ws``/``ask``/``healthz`` talk to it over loopback.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import resource
import signal
import statistics
import subprocess
import sys
import time
from typing import Any

import msgspec
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest
from tornado.iostream import StreamClosedError
from tornado.websocket import (
    WebSocketClientConnection,
    WebSocketClosedError,
    websocket_connect,
)

REQUEST_TIMEOUT_S = 30.0
# A connection refused, dropped or timed out (reported, never fatal to the benchmark).
NETWORK_ERRORS = (
    OSError,
    ConnectionError,
    asyncio.TimeoutError,
    HTTPClientError,
    WebSocketClosedError,
    StreamClosedError,
)
BUSY_PAUSE_S = 0.25  # what the widget's loop waits after a busy answer
MAX_REQUESTS_PER_CLIENT = 100_000


# ------------------------------------------------------------------------------------------
# The server under test


class Endpoint:
    """Where a server listens."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.url = f"http://{host}:{port}/"
        self.ws_url = f"ws://{host}:{port}/ws"


class ServerProcess(Endpoint):
    """``python -m nnvisu.server`` on a free loopback port, stopped with SIGTERM."""

    def __init__(
        self,
        workers: int,
        max_in_flight: int | None,
        max_files: int | None = None,
        log: Any = None,
    ) -> None:
        """``max_files``: the server's descriptor limit; ``log``: a file for its stderr."""
        args = [sys.executable, "-m", "nnvisu.server", "--port", "0", "--workers", str(workers)]
        args += ["--log-level", "error"]
        if max_in_flight is not None:
            args += ["--max-in-flight", str(max_in_flight)]

        def limit_files() -> None:
            if max_files is not None:
                resource.setrlimit(resource.RLIMIT_NOFILE, (max_files, max_files))

        self.proc = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=log, text=True, preexec_fn=limit_files
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        match = re.search(r"http://(\S+?):(\d+)/", line)
        if not match:
            self.proc.kill()
            raise SystemExit(f"server did not start: {line!r}")
        super().__init__(match.group(1), int(match.group(2)))
        self.terminating = False

    def pids(self) -> list[int]:
        """The server's processes: the main one and (with --workers > 1) its children."""
        pids = [self.proc.pid]
        try:
            with open(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children") as f:
                pids += [int(p) for p in f.read().split()]
        except OSError:
            pass
        return pids

    def rss_mb(self) -> float:
        total_kb = 0
        for pid in self.pids():
            try:
                with open(f"/proc/{pid}/status") as f:
                    for line in f:
                        if line.startswith("VmRSS:"):
                            total_kb += int(line.split()[1])
            except OSError:
                continue
        return round(total_kb / 1024, 1)

    def cpu_s(self) -> float:
        """CPU time (user + system) the server's processes have used so far."""
        ticks = 0
        for pid in self.pids():
            try:
                with open(f"/proc/{pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                ticks += int(fields[11]) + int(fields[12])
            except (OSError, IndexError, ValueError):
                continue
        return ticks / os.sysconf("SC_CLK_TCK")

    def terminate(self) -> None:
        """Ask it to stop (SIGTERM, once); :meth:`stop` waits for it."""
        if self.proc.returncode is None and not self.terminating:
            self.proc.send_signal(signal.SIGTERM)
            self.terminating = True

    def stop(self) -> int:
        self.terminate()
        try:
            return self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()


async def open_ws(
    server: Endpoint,
    compress: bool = False,
    source_ip: str | None = None,
    max_message_size: int = 10 * 1024 * 1024,
) -> WebSocketClientConnection:
    """A WebSocket to the server; ``compress`` negotiates permessage-deflate, as browsers do.

    ``source_ip``: connect from this loopback address (127.0.0.0/8 is all the machine's), to
    play another computer of the class.
    """
    request = HTTPRequest(server.ws_url, network_interface=source_ip)
    conn = await asyncio.wait_for(
        websocket_connect(
            request,
            compression_options={} if compress else None,
            max_message_size=max_message_size,
        ),
        REQUEST_TIMEOUT_S,
    )
    conn.protocol.set_nodelay(True)  # type: ignore[union-attr]  # request/reply: no Nagle
    return conn


ENCODE = msgspec.json.Encoder()
DECODE = msgspec.json.Decoder()


async def ask(conn: WebSocketClientConnection, message: dict[str, Any] | str) -> dict[str, Any]:
    text = message if isinstance(message, str) else ENCODE.encode(message).decode()
    await asyncio.wait_for(conn.write_message(text), REQUEST_TIMEOUT_S)
    reply = await asyncio.wait_for(conn.read_message(), REQUEST_TIMEOUT_S)
    if reply is None:
        raise ConnectionError(f"closed by the server (code {conn.close_code})")
    result: dict[str, Any] = DECODE.decode(reply)
    return result


async def ask_until_served(
    conn: WebSocketClientConnection, message: dict[str, Any]
) -> dict[str, Any]:
    """Like :func:`ask`, but waits out ``busy`` answers (bounded), as the page does."""
    for _ in range(int(REQUEST_TIMEOUT_S / BUSY_PAUSE_S)):
        reply = await ask(conn, message)
        if reply.get("code") != "busy":
            return reply
        await asyncio.sleep(BUSY_PAUSE_S)
    raise ConnectionError("the server stayed busy")


async def healthz(server: Endpoint) -> dict[str, Any]:
    response = await AsyncHTTPClient().fetch(server.url + "healthz", raise_error=False)
    body: dict[str, Any] = json.loads(response.body) if response.body else {}
    return {"status": response.code, **body}


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return round(values[0], 2)
    return round(statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1], 2)


async def healthy(server: Endpoint, source_ip: str | None = None) -> dict[str, Any]:
    """/healthz says ok and a request on a fresh connection is served (``busy`` retried)."""
    started = time.perf_counter()
    try:
        health = await asyncio.wait_for(healthz(server), REQUEST_TIMEOUT_S)
    except NETWORK_ERRORS:
        health = {}
    try:
        conn = await open_ws(server, source_ip=source_ip)
        reply = await ask_until_served(conn, {"type": "info", "id": "health"})
        conn.close()
        works = reply.get("type") == "info_result"
    except NETWORK_ERRORS:
        works = False
    return {
        "healthy_after": health.get("ok") is True and works,
        "health_check_ms": round((time.perf_counter() - started) * 1000, 1),
    }
