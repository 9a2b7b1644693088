"""The standalone server, for real: a Tornado server on a loopback port (in a thread, or as a
subprocess for the CLI and signals) and real WebSocket clients (websocket-client, raw sockets).
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import tornado.httpclient
import tornado.websocket
import websocket  # websocket-client

import nnvisu
from nnvisu.dispatch import handle_json
from nnvisu.protocol import MAX_MESSAGE_BYTES
from nnvisu.server import Limits, Server, make_state
from nnvisu.server.handlers import ServerState
from nnvisu.server.hosts import HostPolicy

# --------------------------------------------------------------------------------------------
# Harness


class RunningServer:
    """A real server on 127.0.0.1:<free port>, on its own event loop in a thread."""

    def __init__(
        self,
        limits: Limits | None = None,
        allow_origins: tuple[str, ...] = (),
        handler: Callable[..., bytes] = handle_json,
        **state_options: Any,
    ) -> None:
        self._args = (limits or Limits(), allow_origins, handler)
        self._options = state_options
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.state: ServerState
        self.server: Server
        self._stop: asyncio.Event
        self._thread = threading.Thread(target=self._run, name="test-server", daemon=True)
        self._thread.start()
        if not self._ready.wait(30):
            raise RuntimeError("server did not start")
        if self._error:
            raise self._error

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # report start-up failures to the test thread
            self._error = exc
            self._ready.set()

    async def _main(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.state = make_state(*self._args, **self._options)
        self.server = Server(self.state, "127.0.0.1", 0)
        self.server.start()
        self._stop = asyncio.Event()
        self._ready.set()
        await self._stop.wait()
        await self.server.shutdown()

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + "ws"

    @property
    def origin(self) -> str:
        return self.url.rstrip("/")

    def stop(self) -> None:
        assert self.loop is not None
        if not self._thread.is_alive():
            return
        self.loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)
        assert not self._thread.is_alive(), "server thread did not stop"


@pytest.fixture
def server_factory() -> Iterator[Callable[..., RunningServer]]:
    started: list[RunningServer] = []

    def start(**kwargs: Any) -> RunningServer:
        srv = RunningServer(**kwargs)
        started.append(srv)
        return srv

    yield start
    for srv in started:
        srv.stop()


@pytest.fixture
def server(server_factory: Callable[..., RunningServer]) -> RunningServer:
    return server_factory()


@pytest.fixture(autouse=True)
def no_unexpected_errors(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Fail a test if the server logged an error it did not expect."""
    caplog.set_level(logging.WARNING)
    yield
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]


def connect(srv: RunningServer, **kwargs: Any) -> websocket.WebSocket:
    kwargs.setdefault("timeout", 30)
    return websocket.create_connection(srv.ws_url, **kwargs)


def ask(ws: websocket.WebSocket, message: dict[str, Any] | str | bytes) -> dict[str, Any]:
    if isinstance(message, dict):
        message = json.dumps(message)
    if isinstance(message, bytes):
        ws.send_binary(message)
    else:
        ws.send(message)
    reply: dict[str, Any] = json.loads(ws.recv())
    return reply


def close_code(ws: websocket.WebSocket, timeout: float = 15) -> int | None:
    """Read until the server's close frame; return its status code."""
    ws.settimeout(timeout)
    while True:
        try:
            opcode, data = ws.recv_data(control_frame=True)
        except websocket.WebSocketConnectionClosedException:
            return None
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            return int(struct.unpack("!H", data[:2])[0]) if len(data) >= 2 else None


POINTS = [
    {"x": 0.5, "y": 0.5, "label": 0},
    {"x": -0.5, "y": -0.5, "label": 0},
    {"x": 0.5, "y": -0.5, "label": 1},
    {"x": -0.5, "y": 0.5, "label": 1},
]


def fresh_network(ws: websocket.WebSocket, **config: Any) -> dict[str, Any]:
    reply = ask(ws, {"type": "init_network", "config": config})
    assert reply["type"] == "network", reply
    network: dict[str, Any] = reply["network"]
    return network


def slow_step(network: dict[str, Any], ms: int, request_id: str) -> dict[str, Any]:
    return {
        "type": "train_step",
        "id": request_id,
        "config": {"steps": 100_000, "time_budget_ms": ms},
        "network": network,
        "data": POINTS,
    }


def health(srv: RunningServer) -> dict[str, Any]:
    with urllib.request.urlopen(srv.url + "healthz", timeout=10) as response:
        body: dict[str, Any] = json.loads(response.read())
        return body


def wait_until(predicate: Callable[[], bool], timeout: float = 15) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError("condition not reached in time")
        time.sleep(0.02)


def http_status(srv: RunningServer, path: str, host: str, method: str = "GET") -> int:
    """Status of a raw HTTP request with the given Host header."""
    with socket.create_connection(("127.0.0.1", srv.server.port), timeout=10) as sock:
        sock.sendall(
            f"{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode()
        )
        status_line = sock.makefile("rb").readline().decode()
    return int(status_line.split()[1])


def handshake(srv: RunningServer, origin: str | None, host: str | None = None) -> int:
    """Status of a raw WebSocket handshake with the given Origin (101 accepted, 403 rejected)."""
    port = srv.server.port
    headers = [
        "GET /ws HTTP/1.1",
        f"Host: {host or f'127.0.0.1:{port}'}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}",
        "Sec-WebSocket-Version: 13",
    ]
    if origin is not None:
        headers.append(f"Origin: {origin}")
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(("\r\n".join(headers) + "\r\n\r\n").encode())
        status_line = sock.makefile("rb").readline().decode()
    return int(status_line.split()[1])


# --------------------------------------------------------------------------------------------
# HTTP: page, bundle, health


def test_index_page_is_served_with_csp(server: RunningServer) -> None:
    with urllib.request.urlopen(server.url, timeout=10) as response:
        body = response.read().decode()
        assert response.headers["Content-Type"] == "text/html; charset=utf-8"
        csp = response.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp
        # WebAssembly (the grid maps' kernel) may compile; scripts may not eval.
        script_src = re.search(r"script-src ([^;]*)", csp)
        assert script_src is not None and "'wasm-unsafe-eval'" in script_src.group(1).split()
        assert "'unsafe-eval'" not in csp
        assert f"ws://127.0.0.1:{server.server.port} " in csp  # the page's own socket only
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert re.search(r"<title>[^<]*nnvisu[^<]*</title>", body)
    # Relative URLs only: the page must work behind a proxy at a sub-path.
    assert 'src="host.js"' in body and 'href="widget.css"' in body
    assert 'src="/' not in body and 'href="/' not in body


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("index.html", "text/html; charset=utf-8"),
        ("host.js", "text/javascript; charset=utf-8"),
        ("widget.js", "text/javascript; charset=utf-8"),
        ("widget.css", "text/css; charset=utf-8"),
    ],
)
def test_bundle_files_have_their_content_types(
    server: RunningServer, name: str, content_type: str
) -> None:
    with urllib.request.urlopen(server.url + name, timeout=10) as response:
        assert response.headers["Content-Type"] == content_type
        etag = response.headers["Etag"]
        assert len(response.read()) > 0
    request = urllib.request.Request(server.url + name, headers={"If-None-Match": etag})
    with pytest.raises(urllib.error.HTTPError) as not_modified:
        urllib.request.urlopen(request, timeout=10)
    assert not_modified.value.code == 304


@pytest.mark.parametrize(
    "path", ["static/../pyproject.toml", "server/app.py", "%2e%2e/x", "nope.js"]
)
def test_nothing_else_is_served(server: RunningServer, path: str) -> None:
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(server.url + path, timeout=10)
    assert err.value.code == 404


def test_healthz(server: RunningServer) -> None:
    body = health(server)
    assert body["ok"] is True
    assert body["in_flight"] == 0
    assert body["version"] == nnvisu.__version__


# --------------------------------------------------------------------------------------------
# The protocol over the WebSocket


def test_seed_shape_round_trip(server: RunningServer) -> None:
    ws = connect(server)
    network = fresh_network(ws)
    reply = ask(
        ws,
        {
            "type": "train_step",
            "config": {"learning_rate": 0.03},
            "network": network,
            "data": POINTS,
        },
    )
    assert reply["type"] == "train_step_result"
    assert isinstance(reply["loss"], float)
    assert [len(w) for w in reply["network"]["weights"]] == [len(w) for w in network["weights"]]
    assert reply["network"] != network
    ws.close()


def test_replies_echo_ids_and_match_the_protocol(server: RunningServer) -> None:
    ws = connect(server)
    network = fresh_network(ws, seed=3)
    request = {
        "type": "train_step",
        "id": "view:7",
        "config": {"seed": 3, "steps": 5},
        "network": network,
        "data": POINTS,
    }
    reply = ask(ws, request)
    direct = json.loads(handle_json(json.dumps(request)))
    assert reply["id"] == "view:7"
    assert reply["network"] == direct["network"]  # same bytes in, same weights out
    ws.close()


def test_two_clients_train_independently(server: RunningServer) -> None:
    a, b = connect(server), connect(server)
    net_a, net_b = fresh_network(a, seed=1), fresh_network(b, seed=2)
    data_b = [{**p, "label": 1 - p["label"]} for p in POINTS]
    req_a = {
        "type": "train_step",
        "config": {"seed": 1, "steps": 3},
        "network": net_a,
        "data": POINTS,
    }
    req_b = {
        "type": "train_step",
        "config": {"seed": 2, "steps": 3},
        "network": net_b,
        "data": data_b,
    }
    for _ in range(3):  # interleaved on the wire, answered in any order per process
        a.send(json.dumps(req_a))
        b.send(json.dumps(req_b))
        reply_a, reply_b = json.loads(a.recv()), json.loads(b.recv())
        assert reply_a["network"] == json.loads(handle_json(json.dumps(req_a)))["network"]
        assert reply_b["network"] == json.loads(handle_json(json.dumps(req_b)))["network"]
        req_a = {
            **req_a,
            "network": reply_a["network"],
            "optimizer_state": reply_a["optimizer_state"],
        }
        req_b = {
            **req_b,
            "network": reply_b["network"],
            "optimizer_state": reply_b["optimizer_state"],
        }
    assert reply_a["network"] != reply_b["network"]
    a.close()
    b.close()


def _bad_inputs(network: dict[str, Any]) -> list[tuple[str, str, str]]:
    good = {"type": "train_step", "id": 5, "config": {}, "network": network, "data": POINTS}
    shapes = {**network, "weights": [network["weights"][0][:1], *network["weights"][1:]]}
    return [
        ("malformed JSON", '{"type": "train_step", ', "JSON"),
        ("not an object", "[1, 2, 3]", "object"),
        ("NaN literal", json.dumps({**good, "config": {"learning_rate": float("nan")}}), "JSON"),
        # JSON.stringify turns NaN into null: that must be named too.
        (
            "NaN from a browser",
            json.dumps({**good, "config": {"learning_rate": None}}),
            "learning_rate",
        ),
        ("Infinity", json.dumps(good).replace('"x": 0.5', '"x": 1e999', 1), "data[0].x"),
        ("wrong shapes", json.dumps({**good, "network": shapes}), "network.weights"),
        ("unknown type", json.dumps({**good, "type": "train_faster"}), "train_faster"),
        ("bad label", json.dumps({**good, "data": [{"x": 0, "y": 0, "label": 7}]}), "label"),
        ("typo", json.dumps({**good, "config": {"learnig_rate": 0.1}}), "learnig_rate"),
    ]


def test_bad_inputs_get_clear_errors_and_the_connection_stays_usable(
    server: RunningServer,
) -> None:
    ws = connect(server)
    network = fresh_network(ws)
    for label, text, mentions in _bad_inputs(network):
        reply = ask(ws, text)
        assert reply["type"] == "error", label
        assert reply["code"] in {"invalid", "unknown_type"}, (label, reply)
        assert mentions in reply["message"] + str(reply.get("field")), (label, reply)
        again = ask(ws, {"type": "info", "id": label})
        assert again["type"] == "info_result" and again["id"] == label
    ws.close()


def test_binary_frames_are_requests_too(server: RunningServer) -> None:
    ws = connect(server)
    reply = ask(ws, json.dumps({"type": "info", "id": 1}).encode())
    assert reply["type"] == "info_result"
    ws.close()


# --------------------------------------------------------------------------------------------
# Origin checks (cross-site WebSocket hijacking)


def test_same_origin_and_missing_origin_are_accepted(server: RunningServer) -> None:
    assert handshake(server, server.origin) == 101
    assert handshake(server, None) == 101  # non-browser clients send no Origin
    ws = connect(server, origin=server.origin)
    assert ask(ws, {"type": "info"})["type"] == "info_result"
    ws.close()


@pytest.mark.parametrize(
    "origin",
    [
        "http://evil.example",
        "http://127.0.0.1:{port}.evil.example",  # prefix trick
        "http://127.0.0.1:{port}@evil.example",  # userinfo trick
        "http://evil.example@127.0.0.1:{port}",  # userinfo the other way round
        "null",  # sandboxed iframes, file:// pages
        "https://127.0.0.1:{port}",  # same host, other scheme
        "http://127.0.0.1:{other}",  # same host, other port
        "http://localhost:{port}",  # another name for the same machine is another origin
        "http://127.0.0.1:{port}/",  # not an origin (has a path)
        "http://127.0.0.1:{port}, http://evil.example",
        "",
    ],
)
def test_origin_attacks_get_403(server: RunningServer, origin: str) -> None:
    port = server.server.port
    assert handshake(server, origin.format(port=port, other=port + 1)) == 403


def test_allowed_origins_match_exactly(server_factory: Callable[..., RunningServer]) -> None:
    srv = server_factory(allow_origins=("https://class.example.org",))
    assert handshake(srv, "https://class.example.org") == 101
    assert handshake(srv, "https://CLASS.example.org:443") == 101  # same origin, normalised
    assert handshake(srv, "https://class.example.org.evil.example") == 403
    assert handshake(srv, "http://class.example.org") == 403
    assert handshake(srv, "https://evil.class.example.org") == 403


def test_origin_must_match_the_host_header(server_factory: Callable[..., RunningServer]) -> None:
    # A name the server serves (--allow-host); the origin must equal it exactly.
    server = server_factory(hosts=HostPolicy("127.0.0.1", ["rebind.example"]))
    assert handshake(server, "http://rebind.example:8", host="rebind.example:8") == 101
    assert handshake(server, "http://rebind.example:8", host="rebind.example:9") == 403


def test_dns_rebinding_is_refused_on_loopback(server: RunningServer) -> None:
    # A page on a rebinding domain is same-origin with itself: its Host gives it away.
    assert handshake(server, "http://evil.example:8", host="evil.example:8") == 403
    port = server.server.port
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}", "localhost"):
        origin = f"http://{host}"
        assert handshake(server, origin, host=host) == 101, host
    assert http_status(server, "/", host="evil.example") == 403
    assert http_status(server, "/", host=f"localhost:{port}") == 200
    assert http_status(server, "/healthz", host="pod-10-0-0-7:8765") == 200  # probes by any name


# --------------------------------------------------------------------------------------------
# Limits


def test_oversized_message_closes_1009(server: RunningServer) -> None:
    # Announce a frame one byte over the cap: the server refuses it from the header alone.
    client = RawClient(server)
    client.sock.sendall(bytes([0x81, 0x80 | 127]) + struct.pack("!Q", MAX_MESSAGE_BYTES + 1))
    client.sock.sendall(os.urandom(4) + b"{")
    assert client.read_close_code() == 1009
    client.close()


def test_compressed_messages_are_answered_and_capped_after_inflating(
    server: RunningServer,
) -> None:
    async def session() -> tuple[str, list[dict[str, Any]], int | None]:
        request = tornado.httpclient.HTTPRequest(server.ws_url, headers={"Origin": server.origin})
        ws = await tornado.websocket.websocket_connect(request, compression_options={})
        extensions = ws.headers.get("Sec-WebSocket-Extensions", "")
        replies = []
        for i in range(2):
            await ws.write_message(json.dumps({"type": "info", "id": i}))
            replies.append(json.loads(await ws.read_message()))
        # A few KB on the wire, over the cap once inflated: refused like any oversized one.
        await ws.write_message('{"type": "info", "pad": "' + "x" * MAX_MESSAGE_BYTES + '"}')
        while await ws.read_message() is not None:
            pass
        return extensions, replies, ws.close_code

    # On the server's own loop: this thread may already run one (Playwright's sync API does).
    assert server.loop is not None
    extensions, replies, code = asyncio.run_coroutine_threadsafe(session(), server.loop).result(60)
    assert "permessage-deflate" in extensions
    assert [r["id"] for r in replies] == [0, 1]
    assert all(r["type"] == "info_result" for r in replies)
    assert code == 1009


def test_oversized_message_does_not_harm_others(server: RunningServer) -> None:
    bystander = connect(server)
    big = connect(server)
    try:
        big.send('{"type": "info", "pad": "' + "x" * MAX_MESSAGE_BYTES + '"}')
        code = close_code(big)
    except (ConnectionResetError, BrokenPipeError):
        code = None  # the server hung up while we were still sending: also fine
    assert code in (1009, None)
    assert ask(bystander, {"type": "info", "id": 1})["id"] == 1
    newcomer = connect(server)
    assert ask(newcomer, {"type": "info", "id": 2})["id"] == 2
    wait_until(lambda: len(server.state.sockets) == 2)
    bystander.close()
    newcomer.close()


def test_a_message_just_under_the_cap_is_read(server: RunningServer) -> None:
    ws = connect(server)
    reply = ask(ws, '{"type": "info", "id": 1, "pad": "' + "x" * (MAX_MESSAGE_BYTES - 100) + '"}')
    assert reply["type"] == "error" and reply["id"] == 1 and "pad" in reply["message"]
    ws.close()


def test_client_leaving_mid_step_harms_no_one(server: RunningServer) -> None:
    leaver, stayer = connect(server), connect(server)
    network = fresh_network(stayer)
    leaver.send(json.dumps(slow_step(network, 800, "gone")))
    wait_until(lambda: server.state.worker.in_flight == 1)
    leaver.close()
    reply = ask(stayer, {"type": "info", "id": "still here"})
    assert reply["id"] == "still here"
    wait_until(lambda: server.state.worker.in_flight == 0)
    assert health(server)["ok"] is True
    stayer.close()


def test_queued_work_of_a_departed_client_is_dropped(server: RunningServer) -> None:
    running, queued = connect(server), connect(server)
    network = fresh_network(running)
    running.send(json.dumps(slow_step(network, 1500, "running")))
    wait_until(lambda: server.state.worker.stalled_for() > 0)
    queued.send(json.dumps(slow_step(network, 1500, "queued")))
    wait_until(lambda: server.state.worker.in_flight == 2)
    queued.close()
    # Freed at once, long before the running step ends: nobody trains for a client that left.
    wait_until(lambda: server.state.worker.in_flight == 1, timeout=1.0)
    assert json.loads(running.recv())["id"] == "running"
    running.close()


def test_process_in_flight_cap_answers_busy(server_factory: Callable[..., RunningServer]) -> None:
    srv = server_factory(limits=Limits(max_in_flight=1))
    first, second = connect(srv), connect(srv)
    network = fresh_network(first)
    first.send(json.dumps(slow_step(network, 1000, "long")))
    wait_until(lambda: srv.state.worker.in_flight == 1)
    busy = ask(second, {"type": "info", "id": "next"})
    assert busy == {
        "type": "error",
        "id": "next",
        "code": "busy",
        "message": busy["message"],
        "field": None,
    }
    assert "busy" in busy["message"]
    assert json.loads(first.recv())["id"] == "long"
    assert ask(second, {"type": "info", "id": "later"})["type"] == "info_result"
    first.close()
    second.close()


def test_pipelined_requests_are_answered_in_order(server: RunningServer) -> None:
    ws = connect(server)
    network = fresh_network(ws)
    ws.send(json.dumps(slow_step(network, 300, "first")))
    ws.send(json.dumps({"type": "info", "id": "pipelined"}))
    first, second = json.loads(ws.recv()), json.loads(ws.recv())
    assert first["id"] == "first" and first["type"] == "train_step_result"
    assert second["id"] == "pipelined" and second["type"] == "info_result"
    ws.close()


def test_a_connection_queue_is_bounded(server_factory: Callable[..., RunningServer]) -> None:
    srv = server_factory(limits=Limits(max_queued_per_connection=1))
    ws = connect(srv)
    network = fresh_network(ws)
    ws.send(json.dumps(slow_step(network, 400, "running")))
    wait_until(lambda: srv.state.worker.stalled_for() > 0)
    ws.send(json.dumps({"type": "info", "id": "queued"}))
    ws.send(json.dumps({"type": "info", "id": "one too many"}))
    replies = [json.loads(ws.recv()) for _ in range(3)]
    assert replies[0]["id"] == "one too many" and replies[0]["code"] == "busy"
    assert "waiting" in replies[0]["message"]
    assert [r["id"] for r in replies[1:]] == ["running", "queued"]
    ws.close()


def test_a_stuck_step_is_answered_late_and_queued_work_gets_busy_unrun(
    server_factory: Callable[..., RunningServer],
) -> None:
    release = threading.Event()
    calls: list[str | bytes] = []

    def stuck(message: str | bytes) -> bytes:
        calls.append(message)
        release.wait(10)
        return handle_json(message)

    srv = server_factory(limits=Limits(request_deadline_s=0.5), handler=stuck)
    running, queued = connect(srv), connect(srv)
    try:
        running.send(json.dumps({"type": "info", "id": "running"}))
        wait_until(lambda: srv.state.worker.stalled_for() > 0)
        queued.send(json.dumps({"type": "info", "id": "queued"}))
        # The one behind the stuck one: busy after the queue timeout, and dropped unrun.
        assert json.loads(queued.recv())["code"] == "busy"
        wait_until(lambda: srv.state.worker.in_flight == 1)
        wait_until(lambda: srv.state.worker.stalled_for() > 0.5)
        assert health_status(srv) == 503  # a stuck worker makes the process unhealthy
    finally:
        release.set()
    # Work that ran is never thrown away: the stuck one gets its real answer.
    assert json.loads(running.recv())["type"] == "info_result"
    wait_until(lambda: srv.state.worker.in_flight == 0)
    assert len(calls) == 1
    assert health(srv)["ok"] is True
    running.close()
    queued.close()


def health_status(srv: RunningServer) -> int:
    try:
        with urllib.request.urlopen(srv.url + "healthz", timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as err:
        return err.code


class RawClient:
    """A hand-made WebSocket client: sends what it is told, reads only when asked."""

    def __init__(self, srv: RunningServer, rcvbuf: int | None = None) -> None:
        self.sock = socket.socket()
        if rcvbuf is not None:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(15)
        self.sock.connect(("127.0.0.1", srv.server.port))
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{srv.server.port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        self.sock.sendall(request.encode())
        head = b""
        while b"\r\n\r\n" not in head:
            head += self.sock.recv(1)  # only the handshake is read, byte by byte
        assert head.startswith(b"HTTP/1.1 101")

    def send_text(self, text: str) -> None:
        payload = text.encode()
        mask = os.urandom(4)
        header = bytes([0x81, 0x80 | 127]) + struct.pack("!Q", len(payload))
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def read_close_code(self) -> int | None:
        """Read frames until a close frame; its status code."""
        reader = self.sock.makefile("rb")
        while True:
            head = reader.read(2)
            if len(head) < 2:
                return None
            length = head[1] & 0x7F
            if length == 126:
                length = struct.unpack("!H", reader.read(2))[0]
            elif length == 127:
                length = struct.unpack("!Q", reader.read(8))[0]
            body = reader.read(length)
            if head[0] & 0x0F == 0x8:
                return int(struct.unpack("!H", body[:2])[0]) if len(body) >= 2 else None

    def close(self) -> None:
        self.sock.close()


@pytest.mark.slow
def test_stalled_reader_is_dropped_and_memory_stays_bounded(
    server_factory: Callable[..., RunningServer],
) -> None:
    cap = 64 * 1024
    srv = server_factory(limits=Limits(write_buffer_bytes=cap))
    helper = connect(srv)
    network = fresh_network(helper, hidden_layers=[64, 64], optimizer="adam")
    stalled = RawClient(srv, rcvbuf=4096)  # sends, never reads
    request = json.dumps(
        {
            "type": "train_step",
            "config": {"hidden_layers": [64, 64], "optimizer": "adam"},
            "network": network,
            "data": POINTS,
        }
    )
    reply_size = len(handle_json(request))
    peak = 0
    for _ in range(200):  # bounded: with a 64 KiB cap the server gives up after a few replies
        if srv.state.dropped_slow_clients:
            break
        try:
            stalled.send_text(request)
        except OSError:
            break  # the server already closed us
        wait_until(lambda: srv.state.worker.in_flight == 0)
        peak = max([peak, *(ws.unflushed_bytes for ws in list(srv.state.sockets))])
    assert srv.state.dropped_slow_clients == 1
    assert peak <= max(cap, reply_size) + 100  # (replies differ by a few digits of elapsed_ms)
    wait_until(lambda: len(srv.state.sockets) == 1)  # only the helper is left
    assert ask(helper, {"type": "info", "id": "fine"})["id"] == "fine"
    stalled.close()
    helper.close()


def test_limits_are_validated() -> None:
    from nnvisu.server.errors import ConfigError

    with pytest.raises(ConfigError, match="max_in_flight"):
        Limits(max_in_flight=0)
    with pytest.raises(ConfigError, match="ping_timeout_s"):
        Limits(ping_interval_s=5, ping_timeout_s=10)


def test_idle_http_connections_are_closed(server_factory: Callable[..., RunningServer]) -> None:
    srv = server_factory(limits=Limits(idle_connection_timeout_s=0.5))
    with socket.create_connection(("127.0.0.1", srv.server.port), timeout=10) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")  # slowloris: headers never finish
        started = time.monotonic()
        assert sock.recv(1) == b""  # closed by the server
        assert time.monotonic() - started < 5


def test_shutdown_closes_websockets_with_1001(server_factory: Callable[..., RunningServer]) -> None:
    srv = server_factory()
    idle = connect(srv)
    working = connect(srv)
    network = fresh_network(working)
    working.send(json.dumps(slow_step(network, 600, "finish me")))
    wait_until(lambda: srv.state.worker.in_flight == 1)
    threading.Thread(target=srv.stop, daemon=True).start()
    assert close_code(idle) == 1001
    # The running step finishes and is delivered before its socket closes.
    assert json.loads(working.recv())["id"] == "finish me"
    assert close_code(working) == 1001


# --------------------------------------------------------------------------------------------
# The command line (subprocesses)


@contextmanager
def cli(*args: str, module: str = "nnvisu.server") -> Iterator[tuple[subprocess.Popen[str], str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", module, "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        match = re.search(r"http://\S+", line)
        assert match, f"no URL in {line!r}; stderr: {proc.stderr.read() if proc.stderr else ''}"
        yield proc, match.group(0)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(30)
        for stream in (proc.stdout, proc.stderr):
            if stream:
                stream.close()


@pytest.mark.slow
def test_cli_prints_the_real_url_and_sigterm_closes_sockets_with_1001() -> None:
    with cli() as (proc, url):
        port = int(url.rsplit(":", 1)[1].strip("/"))
        assert url == f"http://127.0.0.1:{port}/" and port != 0
        ws = websocket.create_connection(url.replace("http", "ws") + "ws", timeout=30)
        assert ask(ws, {"type": "info"})["type"] == "info_result"
        proc.send_signal(signal.SIGTERM)
        assert close_code(ws) == 1001
        assert proc.wait(30) == 0


@pytest.mark.slow
def test_python_dash_m_nnvisu_with_workers_shares_one_port() -> None:
    with cli("--workers", "2", module="nnvisu") as (proc, url):
        pids = set()
        for _ in range(200):  # SO_REUSEPORT spreads connections by hash: a few tries suffice
            with urllib.request.urlopen(url + "healthz", timeout=10) as response:
                pids.add(json.loads(response.read())["pid"])
            if len(pids) == 2:
                break
        assert len(pids) == 2
        ws = websocket.create_connection(url.replace("http", "ws") + "ws", timeout=30)
        proc.send_signal(signal.SIGINT)  # Ctrl-C: forwarded to the workers as SIGTERM
        assert close_code(ws) == 1001
        assert proc.wait(30) == 0
        for pid in pids:
            with pytest.raises(ProcessLookupError):
                os.kill(pid, 0)


@pytest.mark.slow
def test_cli_open_launches_a_browser_at_the_url(tmp_path: Path) -> None:
    opened = tmp_path / "opened.txt"
    fake_browser = tmp_path / "browser.py"
    fake_browser.write_text(f"import sys; open({str(opened)!r}, 'w').write(sys.argv[1])")
    env = {**os.environ, "BROWSER": f"{sys.executable} {fake_browser} %s"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "nnvisu.server", "--port", "0", "--open"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        url = re.search(r"http://\S+", proc.stdout.readline())
        assert url
        wait_until(opened.exists, timeout=30)
        wait_until(lambda: opened.read_text() == url.group(0), timeout=5)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(30)
        if proc.stdout:
            proc.stdout.close()


@pytest.mark.slow
def test_cli_rejects_a_bad_allow_origin() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "nnvisu.server", "--allow-origin", "https://x.example/path"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "x.example/path" in proc.stderr


@pytest.mark.slow
def test_cli_reports_a_port_in_use() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.run(
            [sys.executable, "-m", "nnvisu.server", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert proc.returncode == 1
    assert f"port {port}" in proc.stderr and "in use" in proc.stderr
