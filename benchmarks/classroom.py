"""A class of learners, each running the page's own training loop against one server.

Used by ``load.py --classroom``: each learner opens the page's WebSocket (permessage-deflate),
gets its dataset and network as a first visit does, then trains with link.py's PageLoop
(packed points and network, the pacer's time budgets, step caps and snapshot intervals,
``busy`` retried after 250 ms) on TensorFlow Playground's default setup.
"""

from __future__ import annotations

import asyncio
import math
import os
import statistics
import sys
import time
from collections import Counter
from typing import Any

from tornado.websocket import WebSocketClientConnection

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import browser  # noqa: E402  (the setups and dataset the page benchmarks use)
import link  # noqa: E402  (the page's loop: requests and pacing)
from serverclient import (  # noqa: E402
    BUSY_PAUSE_S,
    ENCODE,
    MAX_REQUESTS_PER_CLIENT,
    NETWORK_ERRORS,
    Endpoint,
    ServerProcess,
    ask,
    ask_until_served,
    healthz,
    open_ws,
    percentile,
)

TFP = {**browser.COMMON, **browser.SETUPS["tfp"]}
TFP_DATA = {k: v for k, v in browser.DATASET.items() if k not in ("name", "seed")}


class Learner:
    """One browser tab: its own points and network, trained by the page's loop over a socket."""

    def __init__(self, conn: WebSocketClientConnection, loop: link.PageLoop, epoch: float):
        self.conn, self.loop, self.steps_per_epoch = conn, loop, epoch
        self.replies: list[tuple[float, float, int]] = []  # (sent, received, steps)
        self.busy = 0
        self.errors: Counter[str] = Counter()
        self.until = math.inf
        self.worker: int | None = None  # the server process (pid) serving this learner

    @classmethod
    async def join(cls, server: Endpoint, seed: int, source_ip: str | None = None) -> Learner:
        """Open the page: a dataset and a network from the server, as a first visit does."""
        conn = await open_ws(server, compress=True, source_ip=source_ip)
        generate = {"type": "generate_data", "dataset": "circle", **TFP_DATA, "seed": seed}
        points = (await ask_until_served(conn, generate))["data"]
        config = {**link.FULL_CONFIG, **TFP, "seed": seed}
        init = await ask_until_served(
            conn, {"type": "init_network", "config": config, "packed": True}
        )
        train_points = sum(1 for p in points if not p.get("test"))
        return cls(conn, link.PageLoop(config, points, init), train_points / TFP["batch_size"])

    async def run(self, until: float) -> None:
        """Request, reply, next request at once (the page's loop while playing).

        Stops at ``until`` or, when that is ``inf``, once :attr:`until` is set.
        """
        self.until = until
        try:
            for _ in range(MAX_REQUESTS_PER_CLIENT):
                if time.monotonic() >= self.until:
                    break
                text = ENCODE.encode(self.loop.request()).decode()
                sent = time.monotonic()
                reply = await ask(self.conn, text)
                received = time.monotonic()
                if reply["type"] == "train_step_result":
                    steps = self.loop.take(reply, (received - sent) * 1000)
                    self.replies.append((sent, received, steps))
                elif reply.get("code") == "busy":
                    self.busy += 1
                    await asyncio.sleep(BUSY_PAUSE_S)
                else:  # the page stops and shows the error
                    self.errors[str(reply.get("code"))] += 1
                    break
        except NETWORK_ERRORS as exc:
            self.errors[f"connection: {type(exc).__name__}"] += 1
        finally:
            self.conn.close()

    def steps_between(self, t0: float, t1: float) -> float:
        """Steps trained in [t0, t1]: each request's steps spread evenly over its round trip."""
        total = 0.0
        for sent, received, steps in self.replies:
            overlap = min(received, t1) - max(sent, t0)
            if overlap > 0:
                total += steps * overlap / max(received - sent, 1e-9)
        return total

    def latencies_ms(self, t0: float, t1: float) -> list[float]:
        return [(r - s) * 1000 for s, r, _ in self.replies if t0 <= s and r <= t1]


async def connections_by_worker(server: ServerProcess, workers: int) -> dict[int, int]:
    """Open WebSockets per worker process (pid), read from /healthz: each answer comes from
    one process, chosen by the kernel, so ask until every process has answered (bounded)."""
    seen: dict[int, int] = {}
    for _ in range(40 * workers):
        health = await healthz(server)
        if "pid" in health:
            seen[int(health["pid"])] = int(health.get("connections", 0))
        if len(seen) >= workers:
            break
    return seen


async def join_class(server: ServerProcess, count: int, workers: int) -> list[Learner]:
    """Learners join one after the other; each one's worker process is noted (the process
    whose connection count went up), so fairness can be told apart from the kernel's spread.

    The efficiency reference is one learner per worker process, but the kernel spreads
    connections over the processes at random: for it, learners join again until it is so.
    """
    for _ in range(20):  # bounded
        before = await connections_by_worker(server, workers)
        learners = []
        for seed in range(count):
            learners.append(await Learner.join(server, seed))
            after = await connections_by_worker(server, workers)
            grew = [pid for pid, n in after.items() if n == before.get(pid, 0) + 1]
            learners[-1].worker = grew[0] if len(grew) == 1 else None
            before = after
        spread = Counter(learner.worker for learner in learners)
        if count != workers or (None not in spread and sorted(spread.values()) == [1] * workers):
            return learners
        for learner in learners:
            learner.conn.close()
        await asyncio.sleep(0.2)
    return learners


async def classroom_run(
    server: ServerProcess, count: int, workers: int, warmup: float, seconds: float
) -> dict[str, Any]:
    rss_before = server.rss_mb()
    learners = await join_class(server, count, workers)
    cpu0 = time.process_time()
    started = time.monotonic()
    t0, t1 = started + warmup, started + warmup + seconds
    await asyncio.gather(*(learner.run(t1) for learner in learners))
    client_cpu = time.process_time() - cpu0
    steps = [learner.steps_between(t0, t1) for learner in learners]
    epochs = sorted(
        s / learner.steps_per_epoch / seconds for s, learner in zip(steps, learners, strict=True)
    )
    median = statistics.median(epochs)
    by_worker: dict[int | None, list[float]] = {}
    for s, learner in zip(steps, learners, strict=True):
        by_worker.setdefault(learner.worker, []).append(s / learner.steps_per_epoch / seconds)
    groups = sorted((sorted(g) for g in by_worker.values()), key=len, reverse=True)
    latencies = [ms for learner in learners for ms in learner.latencies_ms(t0, t1)]
    errors: Counter[str] = Counter()
    for learner in learners:
        errors.update(learner.errors)
    return {
        "learners": count,
        "learners_per_worker": [len(g) for g in groups],
        "epochs_per_s": {
            "min": round(epochs[0], 1),
            "median": round(median, 1),
            "max": round(epochs[-1], 1),
        },
        "fairness": round(epochs[0] / median, 3) if median > 0 else 0.0,
        # The scheduler's own fairness: within each worker process (the spread of learners
        # over the processes is the kernel's, SO_REUSEPORT).
        "fairness_within_worker": round(
            min(g[0] / statistics.median(g) if statistics.median(g) > 0 else 0.0 for g in groups),
            3,
        ),
        "each_learner_epochs_per_s_by_worker": [[round(e, 1) for e in g] for g in groups],
        "steps_per_s": round(sum(steps) / seconds, 1),
        "requests_per_s": round(
            sum(sum(1 for s, r, _ in lr.replies if t0 <= s and r <= t1) for lr in learners)
            / seconds,
            1,
        ),
        "p50_ms": percentile(latencies, 50),
        "p99_ms": percentile(latencies, 99),
        "busy": sum(learner.busy for learner in learners),
        "errors": dict(errors),
        "benchmark_cpu_share": round(client_cpu / (time.monotonic() - started), 2),
        "rss_mb_before": rss_before,
        "rss_mb_after": server.rss_mb(),
    }


async def run_classroom(
    server: ServerProcess, counts: list[int], workers: int, warmup: float, seconds: float
) -> dict[str, Any]:
    """Each class size in turn, plus one learner per worker: the efficiency reference."""
    runs = {}
    for count in sorted({*counts, workers}):
        runs[count] = await classroom_run(server, count, workers, warmup, seconds)
    reference = runs[workers]["steps_per_s"]
    for run in runs.values():
        run["efficiency"] = round(run["steps_per_s"] / reference, 3) if reference else 0.0
    return {
        "setup": "tfp: x, y -> 4 -> 2 tanh, circle 500 points, half test, batch 10, SGD 0.03",
        "reference": f"{workers} learners (one per worker process)",
        "targets_at_32": {"fairness": 0.8, "efficiency": 0.9},
        "runs": [runs[c] for c in sorted(runs) if c in counts or c == workers],
    }
