"""Bounded memory and connections, the Host check, health and the supervisor, for real.

Real servers on 127.0.0.1 (in a thread, or as a subprocess where descriptor limits are
involved) and hand-made clients that misbehave on purpose; bounded loops, no sleeps.
"""

from __future__ import annotations

import json
import os
import resource
import socket
import struct
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest
from test_server import (
    RawClient,
    RunningServer,
    connect,
    handshake,
    health,
    health_status,
    http_status,
    server_factory,  # noqa: F401 (a fixture)
    wait_until,
)

from nnvisu.dispatch import handle_json
from nnvisu.protocol import packed
from nnvisu.server import Limits
from nnvisu.server.errors import ConfigError
from nnvisu.server.handlers import check_frame_ancestors, page_csp
from nnvisu.server.hosts import HostPolicy
from nnvisu.server.supervisor import Supervisor

# --------------------------------------------------------------------------------------------
# Host check, proxies, framing


def test_host_policy_follows_the_bind_address_and_allow_host() -> None:
    loopback = HostPolicy("127.0.0.1")
    for host in ("127.0.0.1:8765", "localhost:1", "LOCALHOST", "[::1]:8765", "127.3.2.1"):
        assert loopback.check(host) is None, host
    for host in ("evil.example:8765", "evil.example", "127.0.0.1.evil.example", "", None, "a b"):
        assert loopback.check(host) is not None, host
    allowed = HostPolicy("::1", ["class.example.org", "other.example:8443"])
    assert allowed.check("class.example.org:443") is None
    assert allowed.check("other.example:8443") is None
    assert allowed.check("other.example:9999") is not None
    assert HostPolicy("0.0.0.0").check("anything.example:1") is None  # serves a network
    assert HostPolicy("0.0.0.0", ["a.example"]).check("b.example") is not None
    with pytest.raises(ConfigError, match="--allow-host"):
        HostPolicy("127.0.0.1", ["not a host/"])


def test_allow_host_lets_a_proxy_name_through(
    server_factory: Callable[..., RunningServer],  # noqa: F811
) -> None:
    srv = server_factory(hosts=HostPolicy("127.0.0.1", ["class.example.org"]))
    assert http_status(srv, "/", host="class.example.org") == 200
    assert http_status(srv, "/", host="evil.example") == 403
    assert handshake(srv, "http://class.example.org", host="class.example.org") == 101


def test_head_healthz_answers(server: RunningServer) -> None:  # noqa: F811
    assert http_status(server, "/healthz", host="127.0.0.1", method="HEAD") == 200


@pytest.fixture
def server(server_factory: Callable[..., RunningServer]) -> RunningServer:  # noqa: F811
    return server_factory()


def test_framing_is_allowed_by_default_and_restricted_by_the_flag(
    server_factory: Callable[..., RunningServer],  # noqa: F811
) -> None:
    assert "frame-ancestors" not in page_csp("127.0.0.1:1")
    srv = server_factory(frame_ancestors="'self' https://lms.example.org")
    with urllib.request.urlopen(srv.url, timeout=10) as response:
        csp = response.headers["Content-Security-Policy"]
        assert response.headers.get("X-Frame-Options") is None
    assert csp.endswith("; frame-ancestors 'self' https://lms.example.org")
    for bad in ("'self'; script-src *", "a,b", ""):
        with pytest.raises(ConfigError, match="frame-ancestors"):
            check_frame_ancestors(bad)


def raw_handshake(srv: RunningServer, headers: dict[str, str]) -> tuple[int, socket.socket]:
    """A WebSocket handshake kept open; (status, socket)."""
    import base64

    port = srv.server.port
    lines = [
        "GET /ws HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}",
        "Sec-WebSocket-Version: 13",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(1)
        if not chunk:
            break
        head += chunk
    return int(head.split()[1]), sock


def test_per_address_cap_and_forwarded_addresses_only_behind_a_proxy(
    server_factory: Callable[..., RunningServer],  # noqa: F811
) -> None:
    limits = Limits(max_connections_per_address=2)
    direct = server_factory(limits=limits)
    held = [raw_handshake(direct, {}) for _ in range(2)]
    assert [status for status, _ in held] == [101, 101]
    # A third from the same address is refused; a forged X-Real-Ip does not get around it.
    assert raw_handshake(direct, {})[0] == 429
    assert raw_handshake(direct, {"X-Real-Ip": "10.9.8.7"})[0] == 429
    assert health(direct)["ok"] is True  # other addresses are still welcome
    held[0][1].close()
    wait_until(lambda: len(direct.state.sockets) == 1)
    assert raw_handshake(direct, {})[0] == 101

    proxied = server_factory(limits=limits, behind_proxy=True)
    kept = [raw_handshake(proxied, {"X-Real-Ip": "10.0.0.1"}) for _ in range(2)]
    assert [status for status, _ in kept] == [101, 101]
    assert raw_handshake(proxied, {"X-Real-Ip": "10.0.0.1"})[0] == 429
    assert raw_handshake(proxied, {"X-Real-Ip": "10.0.0.2"})[0] == 101
    for _, sock in held + kept:
        sock.close()


def test_healthz_is_503_when_new_users_would_be_refused(
    server_factory: Callable[..., RunningServer],  # noqa: F811
) -> None:
    srv = server_factory(limits=Limits(max_connections=2))
    first, second = connect(srv), connect(srv)
    assert health_status(srv) == 503
    assert http_status(srv, "/healthz", host="127.0.0.1", method="HEAD") == 503
    assert raw_handshake(srv, {})[0] == 503
    second.close()
    wait_until(lambda: health_status(srv) == 200)
    srv.state.accept_paused = True  # what the acceptor sets when out of descriptors
    assert health_status(srv) == 503
    srv.state.accept_paused = False
    first.close()


# --------------------------------------------------------------------------------------------
# Memory a client can pin


def test_a_client_that_stops_reading_is_dropped_and_its_unsent_bytes_stay_bounded(
    server_factory: Callable[..., RunningServer],  # noqa: F811
) -> None:
    limits = Limits(write_buffer_bytes=64 * 1024, slow_reader_timeout_s=0.3)
    srv = server_factory(limits=limits)
    helper = connect(srv)
    config = {
        "features": ["x", "y", "x2", "y2", "xy", "sinx", "siny"],
        "hidden_layers": [64] * 8,
        "optimizer": "adam",
        "steps": 2,
    }
    request = json.dumps(
        {"type": "train_step", "config": config, "data": [{"x": 0.1, "y": 0.2, "label": 1}]}
    )
    reply_size = len(handle_json(request))
    assert reply_size > 1_000_000
    stalled = RawClient(srv, rcvbuf=4096)
    peak = 0
    for _ in range(4):  # pipelined, never read: more than the kernel's buffers can take
        stalled.send_text(request)

    def dropped() -> bool:
        nonlocal peak
        peak = max([peak, *(ws.unsent_bytes for ws in list(srv.state.sockets))])
        return srv.state.dropped_slow_clients == 1

    wait_until(dropped, timeout=60)
    assert peak <= limits.write_buffer_bytes + reply_size
    wait_until(lambda: len(srv.state.sockets) == 1)  # only the helper is left
    assert json.loads(handle_json(json.dumps({"type": "info"})))["type"] == "info_result"
    stalled.close()
    helper.close()


def fragment(payload: bytes, final: bool, first: bool) -> bytes:
    mask = os.urandom(4)
    opcode = 0x1 if first else 0x0
    header = bytes([(0x80 if final else 0) | opcode, 0x80 | 127]) + struct.pack("!Q", len(payload))
    return header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def closed_by_server(sock: socket.socket) -> bool:
    """Read until EOF (True) or a timeout (False)."""
    sock.settimeout(15)
    try:
        while sock.recv(65536):
            pass
    except TimeoutError:
        return False
    except OSError:
        return True
    return True


def test_unfinished_fragmented_messages_time_out(
    server_factory: Callable[..., RunningServer],  # noqa: F811
) -> None:
    srv = server_factory(limits=Limits(partial_timeout_s=0.3))
    client = RawClient(srv)
    client.sock.sendall(fragment(b'{"type": "info", "pad": "' + b"x" * 50_000, False, True))
    wait_until(lambda: srv.state.partial.used > 50_000)
    assert closed_by_server(client.sock)
    wait_until(lambda: srv.state.partial.used == 0)
    assert health(srv)["ok"] is True
    client.close()


def test_unfinished_fragmented_messages_are_bounded_per_process(
    server_factory: Callable[..., RunningServer],  # noqa: F811
) -> None:
    srv = server_factory(limits=Limits(max_partial_bytes=150_000))
    first, second = RawClient(srv), RawClient(srv)
    first.sock.sendall(
        fragment(b'{"type": "info", "id": "a", "pad": "' + b"x" * 100_000, False, True)
    )
    wait_until(lambda: srv.state.partial.used > 100_000)
    second.sock.sendall(fragment(b'{"pad": "' + b"x" * 100_000, False, True))
    assert closed_by_server(second.sock)  # over the process's budget: closed
    wait_until(lambda: srv.state.partial.used < 150_000)
    first.sock.sendall(fragment(b'"}', True, False))  # the first completes normally
    first.sock.settimeout(15)
    assert b"not a known field" in first.sock.recv(65536)
    wait_until(lambda: srv.state.partial.used == 0)
    first.close()
    second.close()


def test_the_decode_cache_keeps_only_valid_strings_and_is_bounded_in_bytes() -> None:
    import base64

    import numpy as np

    cache = packed._cache
    before = cache.used
    for i in range(200):  # invalid strings of every kind: none is kept
        for text in ("!" * (1000 + i), base64.b64encode(b"\x00\x00\xc0\x7f" * (100 + i)).decode()):
            with pytest.raises(packed.ProtocolError):
                packed.f32(text, 100 + i, "x")
    wrong_count = base64.b64encode(np.zeros(10, "<f4").tobytes()).decode()
    with pytest.raises(packed.ProtocolError):
        packed.f32(wrong_count, 11, "x")
    assert cache.used == before
    big = 200_000
    for i in range(200):  # ~800 KB each once decoded: far more than the cache holds
        text = base64.b64encode(np.full(big, i, "<f4").tobytes()).decode()
        assert packed.f32(text, big, "x")[0] == i
        assert cache.used <= cache.max_bytes


# --------------------------------------------------------------------------------------------
# Descriptors (a subprocess with its own limit)


def start_with_descriptor_limit(limit: int) -> tuple[subprocess.Popen[str], int, list[str]]:
    def lower() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))

    proc = subprocess.Popen(
        [sys.executable, "-m", "nnvisu.server", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lower,  # noqa: PLW1509 (only sets a limit)
    )
    assert proc.stdout is not None and proc.stderr is not None
    line = proc.stdout.readline()
    port = int(line.rsplit(":", 1)[1].strip().rstrip("/"))
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stderr), daemon=True)  # type: ignore[arg-type]
    reader.start()
    return proc, port, lines


def get_health(port: int) -> dict[str, Any]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as response:
            body: dict[str, Any] = json.loads(response.read())
    except urllib.error.HTTPError as err:
        body = json.loads(err.read())
    return body


def test_out_of_descriptors_the_server_backs_off_logs_once_and_recovers() -> None:
    proc, port, lines = start_with_descriptor_limit(160)
    idle: list[socket.socket] = []
    try:
        assert get_health(port)["max_connections"] <= 160 - 32
        for _ in range(230):  # more than the limit: accept runs out of descriptors
            sock = socket.create_connection(("127.0.0.1", port), timeout=10)
            idle.append(sock)
        wait_until(lambda: any("cannot accept connections" in line for line in lines), 30)
        for sock in idle:
            sock.close()
        idle.clear()
        wait_until(lambda: any("accepting connections again" in line for line in lines), 30)
        assert get_health(port)["ok"] is True
        assert sum("cannot accept connections" in line for line in lines) == 1
        assert not any("Traceback" in line for line in lines), lines
    finally:
        for sock in idle:
            sock.close()
        proc.terminate()
        proc.wait(30)


# --------------------------------------------------------------------------------------------
# The supervisor


def test_the_supervisor_restarts_crashing_workers_with_backoff_and_does_not_give_up() -> None:
    crash = "import os, sys; os.write(int(sys.argv[1]), b'ready\\n'); sys.exit(3)"

    def command(ready_fd: int) -> list[str]:
        return [sys.executable, "-c", crash, str(ready_fd)]

    supervisor = Supervisor(
        1, command, start_timeout_s=30, stop_timeout_s=5, backoff_s=(0.01, 0.05)
    )
    announced = threading.Event()
    watcher_done = threading.Event()

    def stop_after_many_restarts() -> None:
        announced.wait(60)
        wait_until(lambda: supervisor.restarts >= 8, timeout=120)  # the old code gave up at 5
        supervisor.request_stop()
        watcher_done.set()

    threading.Thread(target=stop_after_many_restarts, daemon=True).start()
    supervisor.run(announced.set)  # in the main thread: it installs signal handlers
    assert watcher_done.is_set()
    assert supervisor.restarts >= 8
