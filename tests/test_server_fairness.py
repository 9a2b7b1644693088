"""Learners share a server process fairly, and shutdown answers everyone.

Real servers on 127.0.0.1 and real WebSocket clients (the harness of test_server.py); no
timing targets (those are in benchmarks/load.py), only orders, counts and codes.
"""

from __future__ import annotations

import json
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

import websocket
from test_server import (
    POINTS,
    RunningServer,
    cli,
    close_code,
    connect,
    fresh_network,
    server_factory,  # noqa: F401 (a fixture)
    slow_step,
    wait_until,
)

from nnvisu.dispatch import handle_json
from nnvisu.engine import Deadline
from nnvisu.server import Limits


def request_id(message: str | bytes) -> str:
    return str(json.loads(message).get("id"))


def test_connections_are_served_round_robin_not_in_arrival_order(
    server_factory: Callable[..., RunningServer],  # noqa: F811
) -> None:
    release = threading.Event()
    order: list[str] = []

    def recording(message: str | bytes) -> bytes:
        order.append(request_id(message))
        if order[-1] == "blocker":
            release.wait(30)
        return handle_json(message)

    srv = server_factory(handler=recording)
    blocker, a, b = connect(srv), connect(srv), connect(srv)
    blocker.send(json.dumps({"type": "info", "id": "blocker"}))
    wait_until(lambda: order == ["blocker"])
    for name in ("a1", "a2", "a3"):  # a's three requests arrive first...
        a.send(json.dumps({"type": "info", "id": name}))
    wait_until(lambda: srv.state.worker.waiting == 3)
    for name in ("b1", "b2", "b3"):  # ...then b's
        b.send(json.dumps({"type": "info", "id": name}))
    wait_until(lambda: srv.state.worker.waiting == 6)
    release.set()
    assert [json.loads(a.recv())["id"] for _ in range(3)] == ["a1", "a2", "a3"]
    assert [json.loads(b.recv())["id"] for _ in range(3)] == ["b1", "b2", "b3"]
    assert order == ["blocker", "a1", "b1", "a2", "b2", "a3", "b3"]
    for ws in (blocker, a, b):
        ws.close()


def test_a_long_request_is_cut_to_a_fair_slice_when_someone_starts_waiting(
    server_factory: Callable[..., RunningServer],  # noqa: F811
) -> None:
    limits = Limits(fair_round_s=0.4, min_slice_s=0.02)
    entered: dict[str, tuple[float, Deadline]] = {}

    def recording(message: str | bytes, deadline: Deadline) -> bytes:
        entered[request_id(message)] = (time.perf_counter(), deadline)
        return handle_json(message, deadline)

    srv = server_factory(limits=limits, handler=recording)
    long, short = connect(srv), connect(srv)
    network = fresh_network(long)
    long.send(json.dumps(slow_step(network, 5000, "long")))
    wait_until(lambda: "long" in entered)
    short.send(json.dumps({"type": "info", "id": "short"}))
    assert json.loads(short.recv())["id"] == "short"
    reply = json.loads(long.recv())
    assert reply["type"] == "train_step_result" and reply["steps"] >= 1
    started, deadline = entered["long"]
    # Two connections share the thread: the running request keeps 0.4 s / 2 from its start.
    assert deadline.at <= started + limits.fair_round_s / 2
    assert reply["elapsed_ms"] < 5000  # it stopped long before its own 5 s budget
    long.close()
    short.close()


def test_a_request_started_while_others_wait_gets_a_slice_from_the_start(
    server_factory: Callable[..., RunningServer],  # noqa: F811
) -> None:
    release = threading.Event()
    entered: dict[str, tuple[float, Deadline]] = {}

    def recording(message: str | bytes, deadline: Deadline) -> bytes:
        name = request_id(message)
        entered[name] = (time.perf_counter(), deadline)
        if name == "blocker":
            release.wait(30)
        return handle_json(message, deadline)

    limits = Limits(fair_round_s=0.3, min_slice_s=0.02)
    srv = server_factory(limits=limits, handler=recording)
    blocker, first, second = connect(srv), connect(srv), connect(srv)
    network = fresh_network(first)
    blocker.send(json.dumps({"type": "info", "id": "blocker"}))
    wait_until(lambda: "blocker" in entered)
    first.send(json.dumps(slow_step(network, 5000, "first")))
    second.send(json.dumps(slow_step(network, 5000, "second")))
    wait_until(lambda: srv.state.worker.waiting == 2)
    release.set()
    for ws, name in ((first, "first"), (second, "second")):
        assert json.loads(ws.recv())["id"] == name
    # Whichever ran first, the other was waiting: it got a slice from its start.
    started, deadline = min(entered["first"], entered["second"], key=lambda e: e[0])
    assert deadline.at <= started + limits.fair_round_s / 2
    for ws in (blocker, first, second):
        ws.close()


BIGGEST = {
    "features": ["x", "y", "x2", "y2", "xy", "sinx", "siny"],
    "hidden_layers": [64] * 8,
    "optimizer": "adam",
    "steps": 100_000,
    "time_budget_ms": 5000,
}


def test_heavy_loops_never_starve_a_normal_learner_and_nothing_is_thrown_away(
    server_factory: Callable[..., RunningServer],  # noqa: F811
) -> None:
    srv = server_factory()
    points = [
        {"x": (i % 100) / 10 - 5, "y": (i // 100) / 10 - 5, "label": i % 2} for i in range(10_000)
    ]
    heavy_request = json.dumps({"type": "train_step", "config": BIGGEST, "data": points})
    stop = threading.Event()
    codes: list[str] = []

    def loop_heavy() -> None:
        ws = connect(srv)
        try:
            while not stop.is_set():
                ws.send(heavy_request)
                reply = json.loads(ws.recv())
                codes.append(reply.get("code", reply["type"]))
        finally:
            ws.close()

    heavies = [threading.Thread(target=loop_heavy, daemon=True) for _ in range(4)]
    for thread in heavies:
        thread.start()
    learner = connect(srv)
    network = fresh_network(learner)
    wait_until(lambda: srv.state.worker.waiting >= 2, timeout=60)
    replies = []
    for i in range(5):
        learner.send(json.dumps(slow_step(network, 20, f"normal {i}")))
        replies.append(json.loads(learner.recv()))
    stop.set()
    for thread in heavies:
        thread.join(60)
    assert [r["type"] for r in replies] == ["train_step_result"] * 5
    assert codes and set(codes) == {"train_step_result"}  # no busy, no internal
    learner.close()


def test_shutdown_answers_queued_requests_busy_and_cuts_the_running_one(
    server_factory: Callable[..., RunningServer],  # noqa: F811
) -> None:
    srv = server_factory(limits=Limits(shutdown_grace_s=5))
    running, queued = connect(srv), connect(srv)
    network = fresh_network(running)
    running.send(json.dumps(slow_step(network, 5000, "running")))
    wait_until(lambda: srv.state.worker.stalled_for() > 0)
    queued.send(json.dumps(slow_step(network, 5000, "queued")))
    queued.send(json.dumps({"type": "info", "id": "queued too"}))
    wait_until(lambda: srv.state.worker.waiting == 2)
    stopper = threading.Thread(target=srv.stop, daemon=True)
    stopper.start()
    answers = [json.loads(queued.recv()) for _ in range(2)]
    assert [(a["id"], a["code"]) for a in answers] == [("queued", "busy"), ("queued too", "busy")]
    assert "shutting down" in answers[0]["message"]
    assert close_code(queued) == 1001
    reply = json.loads(running.recv())
    assert reply["id"] == "running" and reply["type"] == "train_step_result"
    assert reply["elapsed_ms"] < 5000  # cut short, not run to its budget
    assert close_code(running) == 1001
    stopper.join(30)
    assert not stopper.is_alive()


def test_sigterm_during_work_exits_cleanly_without_tracebacks() -> None:
    with cli() as (proc, url):
        ws_url = url.replace("http://", "ws://") + "ws"
        running = websocket.create_connection(ws_url, timeout=30)
        queued = websocket.create_connection(ws_url, timeout=30)
        init = {"type": "init_network", "config": {}}
        running.send(json.dumps(init))
        network: dict[str, Any] = json.loads(running.recv())["network"]
        running.send(json.dumps(slow_step(network, 5000, "running")))
        queued.send(json.dumps({"type": "train_step", "id": "q", "data": POINTS}))
        proc.send_signal(signal.SIGTERM)
        assert json.loads(running.recv())["id"] == "running"
        assert close_code(running) == 1001
        first = json.loads(queued.recv())
        assert first["id"] == "q" and first["type"] in ("train_step_result", "error")
        assert proc.wait(30) == 0
        assert proc.stderr is not None
        errors = proc.stderr.read()
        assert "Traceback" not in errors and "Event loop is closed" not in errors, errors
        running.close()
        queued.close()
