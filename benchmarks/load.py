"""Load and fault benchmark for the standalone server (loopback only; prints JSON).

Starts ``python -m nnvisu.server --port 0 --workers W`` as a subprocess, then for each client
count runs that many concurrent WebSocket clients for T seconds. Each client runs the
frontend's training loop: a train_step with a short time budget, the reply's network and
optimizer state fed into the next request, ``busy`` answered by a 250 ms pause (as the widget
does). Reported per run: aggregate optimizer steps/s and requests/s, p50/p99 round-trip
latency, errors by code, and the server's RSS (all its processes) before and after.

``--classroom`` (classroom.py) runs a class instead: N learners (``--learners 1,8,32``) each
running the page's own loop (link.py's PageLoop: packed points and network, the pacer's time
budgets, step caps and snapshot intervals, ``busy`` retried after 250 ms, permessage-deflate)
on TensorFlow Playground's default setup (x, y -> 4 -> 2 tanh, circle of 500 points, half
test, batch 10, SGD 0.03) against ``--workers 2``. Per class size: each learner's delivered
epochs/s (min, median, max), fairness (min / median), and efficiency: the aggregate steps/s
over the aggregate of one learner per worker process (that run is added when missing).

``--faults`` (attacks.py) runs every attack the server must withstand (unbounded replies,
connections looping the largest request, slow and stalled readers, invalid packed strings,
unfinished fragmented messages, 1,000 idle WebSockets from one address, idle connections past
the descriptor limit, DNS rebinding, bad input, oversize messages, slowloris, clients leaving
mid-step), each against a fresh server while a normal learner trains: the learner's p50/p99
and replies/s during the attack, the server's RSS before/peak/after and its health after.

    python benchmarks/load.py --workers 1 --clients 1,8,32,64 --seconds 5 --faults
    python benchmarks/load.py --classroom [--learners 1,8,32] [--seconds 20] [--warmup 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections import Counter
from typing import Any

from tornado.websocket import WebSocketClientConnection

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from attacks import FAULT_SECONDS, faults  # noqa: E402
from classroom import run_classroom  # noqa: E402
from serverclient import (  # noqa: E402
    BUSY_PAUSE_S,
    MAX_REQUESTS_PER_CLIENT,
    NETWORK_ERRORS,
    ServerProcess,
    ask,
    ask_until_served,
    healthz,
    open_ws,
    percentile,
)

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
        except NETWORK_ERRORS as exc:
            tally.errors[f"connection: {type(exc).__name__}"] += 1
        finally:
            self.conn.close()


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


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    report: dict[str, Any] = {"cpus": os.cpu_count(), "load_average_before": os.getloadavg()}
    if args.classroom:
        workers = args.workers or 2
        server = ServerProcess(workers, args.max_in_flight)
        report["classroom"] = {"server": {"workers": workers, "url": server.url}}
        try:
            report["classroom"].update(
                await run_classroom(server, args.learners, workers, args.warmup, args.seconds)
            )
        finally:
            report["classroom"]["server"]["exit_code"] = server.stop()
    if args.classroom and not args.clients_given and not args.faults:
        report["load_average_after"] = os.getloadavg()
        return report
    workers = args.workers or 1
    server = ServerProcess(workers, args.max_in_flight)
    report["server"] = {"workers": workers, "url": server.url, "cpus": os.cpu_count()}
    report["settings"] = {"seconds": args.seconds, "time_budget_ms": args.budget_ms}
    report["runs"] = []
    try:
        report["server"]["rss_mb_idle"] = server.rss_mb()
        if not args.classroom or args.clients_given:
            for clients in args.clients:
                run = await load_run(server, clients, args.seconds, args.budget_ms)
                report["runs"].append(run)
    finally:
        report["server"]["exit_code"] = server.stop()
    if args.faults:
        report["faults"] = await faults(
            workers, args.max_in_flight, args.fault_seconds, args.attacks
        )
    report["load_average_after"] = os.getloadavg()
    return report


def counts(text: str) -> list[int]:
    return [int(c) for c in text.split(",")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="server processes (default 2 for --classroom, else 1)",
    )
    parser.add_argument(
        "--clients", type=counts, default=None, help="comma-separated client counts"
    )
    parser.add_argument("--seconds", type=float, default=None, help="duration of each run")
    parser.add_argument("--budget-ms", type=int, default=20, help="time_budget_ms per request")
    parser.add_argument("--max-in-flight", type=int, default=None)
    parser.add_argument("--faults", action="store_true", help="also run the fault scenarios")
    parser.add_argument(
        "--fault-seconds", type=float, default=FAULT_SECONDS, help="duration of each attack"
    )
    parser.add_argument(
        "--attacks", default=None, help="with --faults: only attacks whose name contains this"
    )
    parser.add_argument(
        "--classroom", action="store_true", help="learners running the page's loop (see above)"
    )
    parser.add_argument("--learners", type=counts, default=[1, 8, 32], help="class sizes")
    parser.add_argument(
        "--warmup", type=float, default=2.0, help="classroom: seconds before timing"
    )
    args = parser.parse_args(argv)
    args.clients_given = args.clients is not None
    args.clients = args.clients or [1, 8, 32, 64]
    args.seconds = args.seconds or (20.0 if args.classroom else 5.0)
    sizes = args.clients + args.learners
    if not 0 < args.seconds <= 600 or not 0 <= args.warmup <= 60:
        parser.error("--seconds must be in (0, 600] and --warmup in [0, 60]")
    if any(c < 1 or c > 1000 for c in sizes) or (args.workers or 1) < 1:
        parser.error("client and learner counts must be in 1..1000, --workers at least 1")
    report = asyncio.run(main_async(args))
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
