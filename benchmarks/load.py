"""Load and fault benchmark for the standalone server (loopback only; prints JSON).

Starts ``python -m nnvisu.server --port 0 --workers W`` as a subprocess, then for each client
count runs that many concurrent WebSocket clients for T seconds. Each client runs the
frontend's training loop: a train_step with a short time budget, the reply's network and
optimizer state fed into the next request, ``busy`` answered by a 250 ms pause (as the widget
does). Reported per run: aggregate optimizer steps/s and requests/s, p50/p99 round-trip
latency, errors by code, and the server's RSS (all its processes) before and after.

``--faults`` then throws bad traffic at the server (malformed JSON, NaN, wrong shapes, an
oversized message, slowloris connections, a client that stops reading, clients leaving
mid-step) and after each one checks that /healthz says ok and a normal request succeeds.

    python benchmarks/load.py --workers 1 --clients 1,8,32,64 --seconds 5 --faults
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import re
import signal
import statistics
import struct
import subprocess
import sys
import time
from collections import Counter
from typing import Any

from tornado.httpclient import AsyncHTTPClient
from tornado.websocket import WebSocketClientConnection, websocket_connect

from nnvisu.protocol import MAX_MESSAGE_BYTES

REQUEST_TIMEOUT_S = 30.0
BUSY_PAUSE_S = 0.25  # what the widget's loop waits after a busy answer
MAX_REQUESTS_PER_CLIENT = 100_000


# ------------------------------------------------------------------------------------------
# The server under test


class ServerProcess:
    """``python -m nnvisu.server`` on a free loopback port, stopped with SIGTERM."""

    def __init__(self, workers: int, max_in_flight: int | None) -> None:
        args = [sys.executable, "-m", "nnvisu.server", "--port", "0", "--workers", str(workers)]
        args += ["--log-level", "error"]
        if max_in_flight is not None:
            args += ["--max-in-flight", str(max_in_flight)]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        match = re.search(r"http://(\S+?):(\d+)/", line)
        if not match:
            self.proc.kill()
            raise SystemExit(f"server did not start: {line!r}")
        self.host, self.port = match.group(1), int(match.group(2))
        self.url = f"http://{self.host}:{self.port}/"
        self.ws_url = f"ws://{self.host}:{self.port}/ws"

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

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()


async def open_ws(server: ServerProcess) -> WebSocketClientConnection:
    conn = await asyncio.wait_for(websocket_connect(server.ws_url), REQUEST_TIMEOUT_S)
    conn.protocol.set_nodelay(True)  # type: ignore[union-attr]  # request/reply: no Nagle
    return conn


async def ask(conn: WebSocketClientConnection, message: dict[str, Any] | str) -> dict[str, Any]:
    text = message if isinstance(message, str) else json.dumps(message)
    await conn.write_message(text)
    reply = await asyncio.wait_for(conn.read_message(), REQUEST_TIMEOUT_S)
    if reply is None:
        raise ConnectionError(f"closed by the server (code {conn.close_code})")
    result: dict[str, Any] = json.loads(reply)
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


async def healthz(server: ServerProcess) -> dict[str, Any]:
    response = await AsyncHTTPClient().fetch(server.url + "healthz", raise_error=False)
    body: dict[str, Any] = json.loads(response.body) if response.body else {}
    return {"status": response.code, **body}


# ------------------------------------------------------------------------------------------
# Load: the frontend's training loop, many times over


class Tally:
    def __init__(self) -> None:
        self.latencies_ms: list[float] = []
        self.steps = 0
        self.requests = 0
        self.errors: Counter[str] = Counter()


class Client:
    """One simulated learner: a connection, a dataset, a network and its optimizer state."""

    def __init__(self, conn: WebSocketClientConnection, seed: int) -> None:
        self.conn = conn
        self.seed = seed
        self.config = {"hidden_layers": [8, 8], "optimizer": "adam", "seed": seed}
        self.data: list[dict[str, Any]] = []
        self.network: dict[str, Any] = {}
        self.optimizer_state: dict[str, Any] = {}

    @classmethod
    async def start(cls, server: ServerProcess, seed: int) -> Client:
        client = cls(await open_ws(server), seed)
        generate = {"type": "generate_data", "dataset": "spiral", "seed": seed}
        client.data = (await ask_until_served(client.conn, generate))["data"]
        init = await ask_until_served(
            client.conn, {"type": "init_network", "config": client.config}
        )
        client.network, client.optimizer_state = init["network"], init["optimizer_state"]
        return client

    async def train(self, deadline: float, budget_ms: int, tally: Tally) -> None:
        """The page's loop: request, reply, next request with the state fed back."""
        try:
            for n in range(MAX_REQUESTS_PER_CLIENT):
                if time.monotonic() >= deadline:
                    break
                request = {
                    "type": "train_step",
                    "id": f"{self.seed}:{n}",
                    "config": {**self.config, "steps": 100_000, "time_budget_ms": budget_ms},
                    "network": self.network,
                    "optimizer_state": self.optimizer_state,
                    "data": self.data,
                }
                started = time.perf_counter()
                reply = await ask(self.conn, request)
                if reply["type"] == "train_step_result":
                    tally.latencies_ms.append((time.perf_counter() - started) * 1000)
                    tally.requests += 1
                    tally.steps += reply["steps"]
                    self.network = reply["network"]
                    self.optimizer_state = reply["optimizer_state"]
                else:
                    tally.errors[reply.get("code", "?")] += 1
                    if reply.get("code") == "busy":
                        await asyncio.sleep(BUSY_PAUSE_S)
        except (OSError, ConnectionError, asyncio.TimeoutError) as exc:
            tally.errors[f"connection: {type(exc).__name__}"] += 1
        finally:
            self.conn.close()


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return round(values[0], 2)
    return round(statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1], 2)


async def load_run(
    server: ServerProcess, count: int, seconds: float, budget_ms: int
) -> dict[str, Any]:
    rss_before = server.rss_mb()
    tally = Tally()
    # Connect and fetch data and networks first: the timed part is training only.
    clients = await asyncio.gather(*(Client.start(server, seed) for seed in range(count)))
    started = time.monotonic()
    deadline = started + seconds
    await asyncio.gather(*(client.train(deadline, budget_ms, tally) for client in clients))
    elapsed = time.monotonic() - started
    health = await healthz(server)
    return {
        "clients": count,
        "seconds": round(elapsed, 2),
        "steps_per_s": round(tally.steps / elapsed, 1),
        "requests_per_s": round(tally.requests / elapsed, 1),
        "p50_ms": percentile(tally.latencies_ms, 50),
        "p99_ms": percentile(tally.latencies_ms, 99),
        "errors": dict(tally.errors),
        "rss_mb_before": rss_before,
        "rss_mb_after": server.rss_mb(),
        "healthy_after": health.get("ok") is True,
    }


# ------------------------------------------------------------------------------------------
# Faults: each followed by a health check


async def healthy(server: ServerProcess) -> dict[str, Any]:
    """/healthz says ok and a normal request on a fresh connection succeeds."""
    started = time.perf_counter()
    health = await healthz(server)
    try:
        conn = await open_ws(server)
        reply = await ask(conn, {"type": "info", "id": "health"})
        conn.close()
        works = reply.get("type") == "info_result"
    except (OSError, ConnectionError, asyncio.TimeoutError):
        works = False
    return {
        "healthy_after": health.get("ok") is True and works,
        "health_check_ms": round((time.perf_counter() - started) * 1000, 1),
    }


async def fault_bad_message(server: ServerProcess, text: str) -> str:
    conn = await open_ws(server)
    reply = await ask(conn, text)
    again = await ask(conn, {"type": "info"})  # the same connection must stay usable
    conn.close()
    said = f"{reply.get('code')}: {str(reply.get('message'))[:80]}"
    return f"{said}; same connection then: {again['type']}"


async def fault_oversize(server: ServerProcess) -> str:
    conn = await open_ws(server)
    try:
        await conn.write_message('{"pad": "' + "x" * MAX_MESSAGE_BYTES + '"}')
    except Exception as exc:  # the server may hang up mid-send; that's the point
        return f"connection dropped while sending ({type(exc).__name__})"
    await asyncio.wait_for(conn.read_message(), REQUEST_TIMEOUT_S)
    return f"closed with code {conn.close_code}"


async def raw_connect(server: ServerProcess) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection(server.host, server.port)


async def raw_ws(server: ServerProcess) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await raw_connect(server)
    key = base64.b64encode(os.urandom(16)).decode()
    handshake = (
        f"GET /ws HTTP/1.1\r\nHost: {server.host}:{server.port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    writer.write(handshake.encode())
    await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), REQUEST_TIMEOUT_S)
    return reader, writer


def ws_frame(text: str) -> bytes:
    payload = text.encode()
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return bytes([0x81, 0x80 | 127]) + struct.pack("!Q", len(payload)) + mask + masked


async def fault_slowloris(server: ServerProcess, count: int = 50) -> str:
    """Connections that trickle their headers; the server must keep serving meanwhile."""
    writers = []
    for _ in range(count):
        _, writer = await raw_connect(server)
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n")
        writers.append(writer)
    for i in range(3):  # trickle one header line a second, briefly
        for writer in writers:
            writer.write(f"X-Slow-{i}: 1\r\n".encode())
        await asyncio.sleep(1)
    during = await healthy(server)
    for writer in writers:
        writer.close()
    return (
        f"{count} connections trickling headers; served others meanwhile: {during['healthy_after']}"
    )


async def fault_stalled_reader(server: ServerProcess) -> str:
    """A client that sends requests and never reads: it must be dropped, memory bounded."""
    rss_before = server.rss_mb()
    helper = await open_ws(server)
    config = {"hidden_layers": [64, 64, 64], "optimizer": "adam"}
    init = await ask(helper, {"type": "init_network", "config": config})
    helper.close()
    points = [{"x": i / 100, "y": -i / 100, "label": i % 2} for i in range(100)]
    request = ws_frame(
        json.dumps(
            {
                "type": "train_step",
                "config": config,
                "network": init["network"],
                "optimizer_state": init["optimizer_state"],
                "data": points,
            }
        )
    )
    reader, writer = await raw_ws(server)  # never reads after the handshake
    sent = 0
    dropped = False
    for _ in range(200):  # bounded: the server should give up long before
        try:
            writer.write(request)
            await asyncio.wait_for(writer.drain(), 5)
        except (OSError, asyncio.TimeoutError):
            dropped = True
            break
        sent += 1
        await asyncio.sleep(0.05)
        health = await healthz(server)
        if health.get("dropped_slow_clients", 0) > 0:
            dropped = True
            break
    writer.close()
    return (
        f"sent {sent} requests ({len(request) // 1024} KiB each) without reading; "
        f"dropped: {dropped}; server RSS {rss_before} -> {server.rss_mb()} MB"
    )


async def fault_leave_mid_step(server: ServerProcess, count: int = 8) -> str:
    conn = await open_ws(server)
    init = await ask(conn, {"type": "init_network", "config": {}})
    conn.close()
    points = [{"x": 0.5, "y": 0.5, "label": 0}, {"x": -0.5, "y": -0.5, "label": 1}]
    for _ in range(count):
        leaver = await open_ws(server)
        await leaver.write_message(
            json.dumps(
                {
                    "type": "train_step",
                    "config": {"steps": 100_000, "time_budget_ms": 500},
                    "network": init["network"],
                    "data": points,
                }
            )
        )
        leaver.close()
    await asyncio.sleep(0.2)
    return f"{count} clients sent 500 ms steps and left at once"


async def faults(server: ServerProcess) -> list[dict[str, Any]]:
    conn = await open_ws(server)
    network = (await ask(conn, {"type": "init_network", "config": {}}))["network"]
    conn.close()
    good = {
        "type": "train_step",
        "config": {},
        "network": network,
        "data": [{"x": 0.1, "y": 0.2, "label": 0}],
    }
    shapes = {**network, "weights": [network["weights"][0][:1], *network["weights"][1:]]}
    cases: list[tuple[str, Any]] = [
        ("malformed JSON", fault_bad_message(server, '{"type": "train_step", ')),
        (
            "NaN",
            fault_bad_message(
                server, json.dumps({**good, "config": {"learning_rate": float("nan")}})
            ),
        ),
        (
            "NaN as null",
            fault_bad_message(server, json.dumps({**good, "config": {"learning_rate": None}})),
        ),
        ("wrong shapes", fault_bad_message(server, json.dumps({**good, "network": shapes}))),
        ("oversize", fault_oversize(server)),
        ("slowloris", fault_slowloris(server)),
        ("stalled reader", fault_stalled_reader(server)),
        ("disconnect mid-step", fault_leave_mid_step(server)),
    ]
    results = []
    for name, run in cases:
        try:
            outcome = await asyncio.wait_for(run, 120)
        except Exception as exc:  # report, then check health anyway
            outcome = f"fault run failed: {type(exc).__name__}: {exc}"
        results.append({"fault": name, "outcome": outcome, **(await healthy(server))})
    return results


# ------------------------------------------------------------------------------------------


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    server = ServerProcess(args.workers, args.max_in_flight)
    report: dict[str, Any] = {
        "server": {"workers": args.workers, "url": server.url, "cpus": os.cpu_count()},
        "settings": {"seconds": args.seconds, "time_budget_ms": args.budget_ms},
        "runs": [],
    }
    try:
        report["server"]["rss_mb_idle"] = server.rss_mb()
        for clients in args.clients:
            report["runs"].append(await load_run(server, clients, args.seconds, args.budget_ms))
        if args.faults:
            report["faults"] = await faults(server)
    finally:
        report["server"]["exit_code"] = server.stop()
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--clients", default="1,8,32,64", help="comma-separated client counts")
    parser.add_argument("--seconds", type=float, default=5.0, help="duration of each run")
    parser.add_argument("--budget-ms", type=int, default=20, help="time_budget_ms per request")
    parser.add_argument("--max-in-flight", type=int, default=None)
    parser.add_argument("--faults", action="store_true", help="also run the fault scenarios")
    args = parser.parse_args(argv)
    args.clients = [int(c) for c in args.clients.split(",")]
    if args.seconds <= 0 or args.seconds > 600 or any(c < 1 or c > 1000 for c in args.clients):
        parser.error("--seconds must be in (0, 600] and client counts in 1..1000")
    report = asyncio.run(main_async(args))
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
