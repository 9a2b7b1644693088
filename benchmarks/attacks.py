"""Attacks on the standalone server, each measured by a normal learner training meanwhile.

Used by ``load.py --faults``. Every attack runs against a fresh server (so none inherits
another's queue or memory) while a normal learner (classroom.Learner, the page's loop, from
another loopback address and in a process of its own) trains; reported per attack: what the
attack got, the learner's replies/s, longest wait and p50/p99 round trip in the attack's
window, the server's RSS before/peak/after, its log output and whether it is healthy after.
Every loop is bounded in count and time; everything stays on 127.0.0.0/8.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import faulthandler
import json
import math
import multiprocessing
import os
import random
import signal
import socket
import struct
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from multiprocessing.connection import Connection
from typing import Any

import numpy as np
from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from tornado.websocket import WebSocketClientConnection

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import link  # noqa: E402  (the page's loop: requests and pacing)
from classroom import TFP, Learner  # noqa: E402
from serverclient import (  # noqa: E402
    DECODE,
    ENCODE,
    NETWORK_ERRORS,
    REQUEST_TIMEOUT_S,
    Endpoint,
    ServerProcess,
    ask,
    ask_until_served,
    healthy,
    healthz,
    open_ws,
    percentile,
)

from nnvisu.protocol import MAX_MESSAGE_BYTES  # noqa: E402

FAULT_SECONDS = 6.0
NORMAL_LEARNER_IP = "127.0.0.2"  # another computer of the class than the attacker's
ATTACK_REPLY_BYTES = 64 * 1024 * 1024  # an attacker reading replies stops at this size
BIG = {"hidden_layers": [64] * 8, "activation": "tanh", "optimizer": "adam"}


class Attack:
    """What an attack gets: the server, ``ready`` to set once it is in place, ``stop``."""

    def __init__(self, server: ServerProcess) -> None:
        self.server = server
        self.ready = asyncio.Event()
        self.stop = asyncio.Event()

    def stopped(self) -> bool:
        return self.stop.is_set()


async def init_packed(server: ServerProcess, config: dict[str, Any]) -> dict[str, Any]:
    conn = await open_ws(server)
    try:
        return await ask_until_served(
            conn, {"type": "init_network", "config": config, "packed": True}
        )
    finally:
        conn.close()


def random_points(count: int, seed: int = 0) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [
        {"x": rng.uniform(-6, 6), "y": rng.uniform(-6, 6), "label": i % 2, "test": False}
        for i in range(count)
    ]


async def read_unless_stopped(attack: Attack, conn: WebSocketClientConnection) -> Any:
    """The next message, or ``attack.stop`` if the attack is stopped first (then the reply
    still on its way is abandoned: the caller closes the connection)."""
    read = asyncio.ensure_future(conn.read_message())
    stop = asyncio.ensure_future(attack.stop.wait())
    done, _ = await asyncio.wait({read, stop}, timeout=60, return_when=asyncio.FIRST_COMPLETED)
    stop.cancel()
    if read in done:
        return read.result()
    read.cancel()
    if stop in done:
        return attack.stop
    raise asyncio.TimeoutError


async def loop_requests(
    attack: Attack, conn: WebSocketClientConnection, text: str, tally: Counter[str]
) -> None:
    """Send ``text``, read its reply, again, until stopped (bounded by count)."""
    for _ in range(10_000):
        if attack.stopped():
            return
        try:
            await conn.write_message(text)
            reply = await read_unless_stopped(attack, conn)
        except NETWORK_ERRORS as exc:
            tally[f"connection: {type(exc).__name__}"] += 1
            return
        if reply is attack.stop:
            return
        if reply is None:  # code None: this client gave up on a reply over its 64 MiB cap
            tally[f"connection closed (code {conn.close_code})"] += 1
            return
        size = len(reply)
        tally["reply bytes max"] = max(tally["reply bytes max"], size)
        head = DECODE.decode(reply) if size < 1_000_000 else {"type": "(large reply)"}
        tally[str(head.get("code") or head.get("type"))] += 1


# --- the attacks ------------------------------------------------------------------------------


async def attack_none(attack: Attack) -> str:
    attack.ready.set()
    await attack.stop.wait()
    return "nothing: the normal learner alone (the reference for the others)"


async def attack_snapshot_every_ms(attack: Attack) -> str:
    """Snapshots every millisecond of a 5 s step of 8 layers of 64: an unbounded reply."""
    init = await init_packed(attack.server, BIG)
    request = {
        "type": "train_step",
        "config": {**BIG, "steps": 100_000, "time_budget_ms": 5000},
        "network": init["network"],
        "optimizer_state": init["optimizer_state"],
        "data": link.pack_points(random_points(1), False),
        "packed": True,
        "snapshot_ms": 1,
    }
    conn = await open_ws(attack.server, max_message_size=ATTACK_REPLY_BYTES)
    tally: Counter[str] = Counter()
    attack.ready.set()
    await loop_requests(attack, conn, ENCODE.encode(request).decode(), tally)
    conn.close()
    return f"replies: {dict(tally)}"


async def attack_largest_requests(attack: Attack, connections: int = 16) -> str:
    """Connections looping the largest valid request: 8x64, 10,000 points, 5 s budget."""
    init = await init_packed(attack.server, BIG)
    request = {
        "type": "train_step",
        "config": {**BIG, "steps": 100_000, "time_budget_ms": 5000},
        "network": init["network"],
        "optimizer_state": init["optimizer_state"],
        "data": link.pack_points(random_points(10_000), False),
        "packed": True,
    }
    text = ENCODE.encode(request).decode()
    conns = [await open_ws(attack.server) for _ in range(connections)]
    tally: Counter[str] = Counter()
    attack.ready.set()
    await asyncio.gather(*(loop_requests(attack, c, text, tally) for c in conns))
    for conn in conns:
        conn.close()
    return f"{connections} connections, {len(text) // 1024} KiB requests; replies: {dict(tally)}"


def ws_frame(payload: bytes | str, opcode: int = 1, fin: bool = True) -> bytes:
    """A masked client frame."""
    data = payload.encode() if isinstance(payload, str) else payload
    mask = os.urandom(4)
    masked = np.frombuffer(data, np.uint8) ^ np.resize(np.frombuffer(mask, np.uint8), len(data))
    head = bytes([(0x80 if fin else 0) | opcode])
    if len(data) < 126:
        head += bytes([0x80 | len(data)])
    elif len(data) < 65536:
        head += bytes([0x80 | 126]) + struct.pack("!H", len(data))
    else:
        head += bytes([0x80 | 127]) + struct.pack("!Q", len(data))
    return head + mask + masked.tobytes()


def server_frame(buf: bytearray) -> tuple[int, bytes] | None:
    """Pop one (unmasked) server frame off ``buf``: (opcode, payload), or None if incomplete."""
    if len(buf) < 2:
        return None
    opcode, length, at = buf[0] & 0x0F, buf[1] & 0x7F, 2
    if length == 126:
        if len(buf) < 4:
            return None
        length, at = struct.unpack("!H", buf[2:4])[0], 4
    elif length == 127:
        if len(buf) < 10:
            return None
        length, at = struct.unpack("!Q", buf[2:10])[0], 10
    if len(buf) < at + length:
        return None
    payload = bytes(buf[at : at + length])
    del buf[: at + length]
    return opcode, payload


async def raw_connect(
    server: ServerProcess, source_ip: str | None = None, rcvbuf: int | None = None
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf is not None:  # before connecting: the window is agreed in the handshake
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    if source_ip is not None:
        sock.bind((source_ip, 0))
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, (server.host, server.port))
    return await asyncio.open_connection(sock=sock)


async def raw_ws(
    server: ServerProcess,
    host: str | None = None,
    origin: str | None = None,
    source_ip: str | None = None,
    rcvbuf: int | None = None,
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, str]:
    """A WebSocket handshake by hand; returns the status line too (101 when accepted)."""
    reader, writer = await raw_connect(server, source_ip, rcvbuf)
    key = base64.b64encode(os.urandom(16)).decode()
    handshake = (
        f"GET /ws HTTP/1.1\r\nHost: {host or f'{server.host}:{server.port}'}\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        + (f"Origin: {origin}\r\n" if origin else "")
        + "\r\n"
    )
    writer.write(handshake.encode())
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), REQUEST_TIMEOUT_S)
    except (asyncio.IncompleteReadError, ConnectionError) as exc:
        return reader, writer, f"no answer ({type(exc).__name__})"
    return reader, writer, head.split(b"\r\n", 1)[0].decode(errors="replace")


async def answer_pings(
    attack: Attack,
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    read_bytes: int,
    every_s: float,
) -> tuple[bool, int]:
    """Read ``read_bytes`` every ``every_s`` and answer the pings in it, until stopped.

    Returns (dropped by the server, bytes read).
    """
    buf = bytearray()
    got = 0
    for _ in range(100_000):
        if attack.stopped():
            return False, got
        try:
            data = await asyncio.wait_for(reader.read(read_bytes), every_s + 1)
        except asyncio.TimeoutError:
            data = b"-"  # nothing to read: still connected
        except OSError:
            return True, got
        if not data:
            return True, got
        if data != b"-":
            got += len(data)
            buf += data
            while (frame := server_frame(buf)) is not None:
                if frame[0] == 0x9:  # ping: pong, as a live browser does
                    writer.write(ws_frame(frame[1], opcode=0xA))
                elif frame[0] == 0x8:
                    return True, got
        await asyncio.sleep(every_s)
    return False, got


async def attack_slow_readers(attack: Attack, count: int = 4) -> str:
    """Clients that read a trickle (1 KB every 100 ms) but answer pings, after asking for big
    replies (8x64 network, snapshots every millisecond)."""
    init = await init_packed(attack.server, BIG)
    request = ws_frame(
        ENCODE.encode(
            {
                "type": "train_step",
                "config": {**BIG, "steps": 100_000, "time_budget_ms": 5000},
                "network": init["network"],
                "optimizer_state": init["optimizer_state"],
                "data": link.pack_points(random_points(1), False),
                "packed": True,
                "snapshot_ms": 1,
            }
        )
    )
    peers = []
    for _ in range(count):
        reader, writer, status = await raw_ws(attack.server, rcvbuf=4096)
        writer.write(request)
        peers.append((reader, writer))
    attack.ready.set()
    results = await asyncio.gather(
        *(answer_pings(attack, r, w, 1024, 0.1) for r, w in peers), return_exceptions=True
    )
    for _, writer in peers:
        writer.close()
    dropped = sum(1 for r in results if isinstance(r, tuple) and r[0])
    read = [r[1] for r in results if isinstance(r, tuple)]
    return f"{count} slow readers; dropped by the server: {dropped}; bytes each read: {read}"


async def attack_stalled_reader(attack: Attack) -> str:
    """A client that sends requests and never reads at all: it must be dropped."""
    init = await init_packed(attack.server, {"hidden_layers": [64, 64, 64], "optimizer": "adam"})
    points = random_points(100)
    request = ws_frame(
        ENCODE.encode(
            {
                "type": "train_step",
                "config": {"hidden_layers": [64, 64, 64], "optimizer": "adam"},
                "network": init["network"],
                "optimizer_state": init["optimizer_state"],
                "data": link.pack_points(points, False),
                "packed": True,
            }
        )
    )
    reader, writer, _ = await raw_ws(attack.server, rcvbuf=4096)  # never reads
    attack.ready.set()
    sent, dropped = 0, False
    for _ in range(400):  # bounded: the server should give up long before
        if attack.stopped():
            break
        try:
            writer.write(request)
            await asyncio.wait_for(writer.drain(), 5)
        except (OSError, asyncio.TimeoutError):
            dropped = True
            break
        sent += 1
        await asyncio.sleep(0.05)
    writer.close()
    return f"sent {sent} requests without reading; dropped: {dropped}"


async def attack_decode_cache(attack: Attack) -> str:
    """Requests whose packed strings are each new and invalid (3 MB, compressed to little)."""
    init = await init_packed(attack.server, {**TFP, "hidden_layers": [4, 2]})
    conn = await open_ws(attack.server, compress=True)
    tally: Counter[str] = Counter()
    attack.ready.set()
    sent = 0
    for i in range(300):  # bounded
        if attack.stopped():
            break
        bad = f"{i:08d}" + "A" * 3_000_000 + ("!" if i % 2 else "")  # wrong length or not base64
        request = {
            "type": "train_step",
            "config": {**TFP, "steps": 1},
            "network": init["network"],
            "data": {"count": 1, "x": bad, "y": "AAAAAA==", "label": "AA=="},
            "packed": True,
        }
        try:
            reply = await ask(conn, request)
        except NETWORK_ERRORS as exc:
            tally[f"connection: {type(exc).__name__}"] += 1
            break
        sent += 1
        tally[str(reply.get("code") or reply.get("type"))] += 1
    conn.close()
    return f"{sent} requests of 3 MB (compressed on the wire); replies: {dict(tally)}"


async def attack_unfinished_fragments(attack: Attack, count: int = 16) -> str:
    """Connections that send 3.9 MiB of a message in fragments, never the last one, and keep
    answering pings."""
    chunk = b"x" * (1024 * 1024)
    peers = []
    for _ in range(count):
        reader, writer, _ = await raw_ws(attack.server)
        writer.write(ws_frame(b'{"pad": "' + chunk, opcode=1, fin=False))
        for size in (1024 * 1024, 1024 * 1024, 900 * 1024):
            writer.write(ws_frame(chunk[:size], opcode=0, fin=False))
        with contextlib.suppress(OSError, asyncio.TimeoutError):
            await asyncio.wait_for(writer.drain(), 10)
        peers.append((reader, writer))
    attack.ready.set()
    results = await asyncio.gather(
        *(answer_pings(attack, r, w, 65536, 0.2) for r, w in peers), return_exceptions=True
    )
    for _, writer in peers:
        writer.close()
    dropped = sum(1 for r in results if isinstance(r, tuple) and r[0])
    return f"{count} unfinished 3.9 MiB messages; connections dropped by the server: {dropped}"


async def attack_idle_websockets(attack: Attack, count: int = 1000) -> str:
    """Idle WebSockets from one address (the normal learner comes from another)."""
    statuses: Counter[str] = Counter()
    writers = []

    async def one() -> None:
        try:
            _, writer, status = await raw_ws(attack.server, source_ip="127.0.0.1")
        except OSError as exc:
            statuses[f"connect: {type(exc).__name__}"] += 1
            return
        statuses[" ".join(status.split()[1:2]) or status] += 1
        writers.append(writer)

    for start in range(0, count, 50):
        await asyncio.gather(*(one() for _ in range(min(50, count - start))))
    others = await healthy(attack.server, source_ip="127.0.0.3")
    health = await healthz(attack.server)
    attack.ready.set()
    await attack.stop.wait()
    for writer in writers:
        writer.close()
    return (
        f"{count} handshakes from 127.0.0.1: {dict(statuses)}; meanwhile /healthz "
        f"{health.get('status')} ok={health.get('ok')}, a new user from 127.0.0.3 served: "
        f"{others['healthy_after']}"
    )


async def attack_descriptors(attack: Attack, count: int = 1100) -> str:
    """Idle TCP connections past the server's descriptor limit (it runs with 1,024), from 22
    addresses; reported: the server's CPU and log output meanwhile."""
    log_path = attack.server.log_path  # type: ignore[attr-defined]
    log_before = os.path.getsize(log_path)
    cpu_before, started = attack.server.cpu_s(), time.monotonic()
    writers, failed = [], 0
    for i in range(count):
        try:
            _, writer = await asyncio.wait_for(
                raw_connect(attack.server, source_ip=f"127.0.0.{10 + i // 50}"), 5
            )
            writers.append(writer)
        except (OSError, asyncio.TimeoutError):
            failed += 1
    attack.ready.set()
    await attack.stop.wait()
    cpu = (attack.server.cpu_s() - cpu_before) / (time.monotonic() - started)
    log_bytes = os.path.getsize(log_path) - log_before
    for writer in writers:
        writer.close()
    return (
        f"{len(writers)} idle connections open ({failed} failed); server CPU meanwhile "
        f"{cpu:.0%}; its log grew {log_bytes} bytes"
    )


async def attack_dns_rebinding(attack: Attack) -> str:
    """A page on a rebinding domain: Host and Origin name evil.example, at the server's port."""
    port = attack.server.port
    statuses: Counter[str] = Counter()
    attack.ready.set()
    for _ in range(200):  # bounded
        if attack.stopped():
            break
        host = f"evil.example:{port}"
        _, writer, status = await raw_ws(attack.server, host=host, origin=f"http://{host}")
        writer.close()
        statuses[f"WebSocket: {status}"] += 1
        response = await AsyncHTTPClient().fetch(
            HTTPRequest(attack.server.url, headers={"Host": host}), raise_error=False
        )
        statuses[f"GET /: {response.code}"] += 1
        await asyncio.sleep(0.05)
    return f"answers: {dict(statuses)}"


def bad_inputs(network: dict[str, Any]) -> dict[str, str]:
    """Requests that must each get a clear error (never ``internal``)."""
    good = {
        "type": "train_step",
        "config": {},
        "network": network,
        "data": [{"x": 0.1, "y": 0.2, "label": 0}],
    }
    shapes = {**network, "weights": [network["weights"][0][:1], *network["weights"][1:]]}
    regression = {**good, "config": {"problem": "regression"}}
    return {
        "malformed JSON": '{"type": "train_step", ',
        "NaN": json.dumps({**good, "config": {"learning_rate": float("nan")}}),
        "null learning rate": json.dumps({**good, "config": {"learning_rate": None}}),
        "wrong shapes": json.dumps({**good, "network": shapes}),
        "regression label 5000 (list form)": json.dumps(
            {**regression, "data": [{"x": 0, "y": 0, "label": 5000}]}
        ),
        "401-digit label": json.dumps(
            {**regression, "data": [{"x": 0, "y": 0, "label": 1}]}
        ).replace('"label": 1', '"label": 1' + "0" * 400),
        "JSON nested 1,000 deep": '{"type": "train_step", "config": '
        + "[" * 1000
        + "]" * 1000
        + "}",
        "lone surrogate id and an unknown type": '{"type": "nope", "id": "\\ud800"}',
        "lone surrogate key": '{"type": "train_step", "config": {"\\ud800": 1}, "data": []}',
        "step counters at 2^53-1": json.dumps(
            {
                **good,
                "config": {"optimizer": "sgd"},
                "optimizer_state": {
                    "optimizer": "sgd",
                    "step": 2**53 - 1,
                    "global_step": 2**53 - 1,
                },
            }
        ),
    }


async def attack_bad_input(attack: Attack) -> str:
    """The fuzz cases that used to get ``internal``, and the classic bad messages, looped."""
    conn = await open_ws(attack.server)
    network = (await ask(conn, {"type": "init_network", "config": {}}))["network"]
    cases = bad_inputs(network)
    answers: dict[str, Counter[str]] = {name: Counter() for name in cases}
    attack.ready.set()
    for _ in range(200):  # bounded
        if attack.stopped():
            break
        for name, text in cases.items():
            try:
                reply = await ask(conn, text)
            except NETWORK_ERRORS as exc:
                answers[name][f"connection: {type(exc).__name__}"] += 1
                conn = await open_ws(attack.server)
                continue
            code = reply.get("code") or reply.get("type")
            if reply.get("type") == "train_step_result":
                code += f" (global_step {reply['global_step']})"
            answers[name][str(code)] += 1
    conn.close()
    return "; ".join(f"{name}: {', '.join(sorted(c))}" for name, c in answers.items())


async def attack_oversize(attack: Attack) -> str:
    """Messages over the 4 MiB cap, one after another."""
    closes: Counter[str] = Counter()
    attack.ready.set()
    for _ in range(20):  # bounded
        if attack.stopped():
            break
        conn = await open_ws(attack.server)
        try:
            await conn.write_message('{"pad": "' + "x" * MAX_MESSAGE_BYTES + '"}')
            await asyncio.wait_for(conn.read_message(), REQUEST_TIMEOUT_S)
            closes[f"closed with {conn.close_code}"] += 1
        except Exception as exc:  # the server may hang up mid-send; that's the point
            closes[f"dropped while sending ({type(exc).__name__})"] += 1
    return f"oversize messages: {dict(closes)}"


async def attack_slowloris(attack: Attack, count: int = 50) -> str:
    """Connections that trickle their headers, one line a second."""
    writers = []
    for _ in range(count):
        _, writer = await raw_connect(attack.server)
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n")
        writers.append(writer)
    attack.ready.set()
    for i in range(60):  # bounded
        if attack.stopped():
            break
        for writer in writers:
            writer.write(f"X-Slow-{i}: 1\r\n".encode())
        await asyncio.sleep(1)
    for writer in writers:
        writer.close()
    return f"{count} connections trickling headers"


async def attack_leave_mid_step(attack: Attack) -> str:
    """Clients that send a 500 ms step and leave at once, over and over."""
    init = await init_packed(attack.server, {})
    text = ENCODE.encode(
        {
            "type": "train_step",
            "config": {"steps": 100_000, "time_budget_ms": 500},
            "network": init["network"],
            "data": [{"x": 0.5, "y": 0.5, "label": 0}, {"x": -0.5, "y": -0.5, "label": 1}],
            "packed": True,
        }
    ).decode()
    attack.ready.set()
    left = 0
    for _ in range(500):  # bounded
        if attack.stopped():
            break
        leaver = await open_ws(attack.server)
        await leaver.write_message(text)
        leaver.close()
        left += 1
        await asyncio.sleep(0.02)
    return f"{left} clients sent 500 ms steps and left at once"


ATTACKS: dict[str, Callable[[Attack], Awaitable[str]]] = {
    "none (reference)": attack_none,
    "unbounded replies: snapshot_ms 1, 8x64, one point": attack_snapshot_every_ms,
    "16 connections looping the largest request": attack_largest_requests,
    "slow readers that answer pings": attack_slow_readers,
    "a reader that stopped reading": attack_stalled_reader,
    "invalid packed strings (decode cache)": attack_decode_cache,
    "unfinished fragmented messages": attack_unfinished_fragments,
    "1,000 idle WebSockets from one address": attack_idle_websockets,
    "idle TCP connections past the descriptor limit": attack_descriptors,
    "DNS rebinding (Host: evil.example)": attack_dns_rebinding,
    "bad input (fuzz cases)": attack_bad_input,
    "oversize messages": attack_oversize,
    "slowloris": attack_slowloris,
    "clients leaving mid-step": attack_leave_mid_step,
}


def normal_learner_process(
    host: str, port: int, source_ip: str, stop: Any, pipe: Connection
) -> None:
    """A learner in a process of its own, so the attacks' client work never delays it.

    Joins, says "joined", trains until ``stop`` (a multiprocessing Event) is set, then sends
    back its replies (monotonic times: the same clock in every process), busy answers and
    errors. SIGUSR1 dumps its stacks (when it does not answer).
    """
    faulthandler.register(signal.SIGUSR1, all_threads=True)

    async def go() -> None:
        try:
            await train()
        except BaseException as exc:  # the parent reports it
            pipe.send(f"the normal learner failed: {type(exc).__name__}: {exc}")
            raise

    async def train() -> None:
        learner = await Learner.join(Endpoint(host, port), seed=7, source_ip=source_ip)
        pipe.send("joined")
        training = asyncio.ensure_future(learner.run(math.inf))
        for _ in range(100_000):  # bounded: the parent stops it after one attack
            if stop.is_set() or training.done():
                break
            await asyncio.sleep(0.02)
        learner.until = time.monotonic()  # even if the cancel below lands as a request ends
        training.cancel()  # a reply still on its way is not waited for (its wait is counted)
        with contextlib.suppress(asyncio.CancelledError, asyncio.TimeoutError):
            await asyncio.wait_for(training, 10)
        pipe.send((learner.replies, learner.busy, dict(learner.errors)))

    asyncio.run(go())


async def under_attack(
    server: ServerProcess, name: str, run: Callable[[Attack], Awaitable[str]], seconds: float
) -> dict[str, Any]:
    """Run one attack while a normal learner trains; its latency in the attack's window."""
    rss_before = server.rss_mb()
    # A fork server that has imported this module forks each learner ready to run.
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    ours, theirs = context.Pipe()
    stop = context.Event()
    learner = context.Process(
        target=normal_learner_process,
        args=(server.host, server.port, NORMAL_LEARNER_IP, stop, theirs),
        daemon=True,
    )
    learner.start()
    try:
        if not await asyncio.to_thread(ours.poll, 60) or ours.recv() != "joined":
            raise SystemExit(f"{name}: the normal learner could not join")
        await asyncio.sleep(min(1.0, seconds))  # its pacer settles, unloaded
        attack = Attack(server)
        attacking = asyncio.ensure_future(run(attack))
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(attack.ready.wait(), 120)
        t0 = time.monotonic()
        peak = rss_before
        while time.monotonic() - t0 < seconds:
            peak = max(peak, server.rss_mb())
            await asyncio.sleep(0.25)
        t1 = time.monotonic()
        stop.set()
        attack.stop.set()
        try:
            outcome = await asyncio.wait_for(attacking, 90)
        except Exception as exc:  # report, then check health anyway
            outcome = f"the attack failed: {type(exc).__name__}: {exc}"
        if await asyncio.to_thread(ours.poll, 60):
            answer = ours.recv()
        else:
            if learner.pid is not None:
                os.kill(learner.pid, signal.SIGUSR1)  # its stacks, on stderr
            answer = "the normal learner did not stop within 60 s"
        if isinstance(answer, str):
            answer = ([], 0, {answer: 1})
        replies, busy, errors = answer
    finally:
        learner.join(10)
        if learner.is_alive():
            learner.kill()
    window = [(s, r) for s, r, _ in replies if r >= t0 and s <= t1]
    arrivals = [t0] + [r for _, r in window if r <= t1] + [t1]
    latencies = [(r - s) * 1000 for s, r in window]
    gaps = [b - a for a, b in zip(arrivals, arrivals[1:], strict=False)]
    return {
        "attack": name,
        "outcome": outcome,
        "normal_learner": {
            "replies_per_s": round(len(window) / (t1 - t0), 1),
            "longest_wait_s": round(max(gaps), 2),
            "p50_ms": percentile(latencies, 50),
            "p99_ms": percentile(latencies, 99),
            "busy": busy,
            "errors": errors,
        },
        "rss_mb": {"before": rss_before, "peak": peak, "after": server.rss_mb()},
        **(await healthy(server, source_ip="127.0.0.4")),
    }


async def faults(
    workers: int, max_in_flight: int | None, seconds: float, only: str | None = None
) -> list[dict[str, Any]]:
    """Every attack in turn, each against a fresh server (so no attack inherits another's
    queue or memory); the descriptor one against a server limited to 1,024 files.

    Each server is told to stop (SIGTERM) as soon as its attack is measured, and waited for
    at the end: its graceful shutdown overlaps the next attack's start.
    """
    results = []
    stopping: list[tuple[dict[str, Any], ServerProcess, Any]] = []
    try:
        for name, run in ATTACKS.items():
            if only is not None and only.lower() not in name.lower():
                continue
            log = tempfile.NamedTemporaryFile(prefix="nnvisu-load-", suffix=".log")  # noqa: SIM115
            max_files = 1024 if run is attack_descriptors else None
            server = ServerProcess(workers, max_in_flight, max_files=max_files, log=log)
            server.log_path = log.name  # type: ignore[attr-defined]
            result: dict[str, Any] = {"attack": name}
            try:
                result = await under_attack(server, name, run, seconds)
            finally:
                server.terminate()
                stopping.append((result, server, log))
            results.append(result)
    finally:
        for result, server, log in stopping:
            result["server_exit_code"] = server.stop()
            result["server_log_bytes"] = os.path.getsize(log.name)
            log.close()
    return results
