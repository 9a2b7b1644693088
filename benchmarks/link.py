"""The page's training loop over a slow link: steps/s relative to the direct link, display lag.

Starts ``python -m nnvisu.server --port 0`` and, in this process, a loopback TCP proxy
(asyncio, in its own thread) in front of it that delays every byte by half the round trip
each way and serialises it at a limited bandwidth each way (default 50 ms RTT, 1 Mbit/s up
and down). The real standalone page is loaded THROUGH the proxy in Debian's Chromium, so
the requests are exactly the frontend's (sizes, time budgets, pacing). For comparison the
same page runs through a pass-through proxy (no delay, no bandwidth limit): the direct link.

Measured per link:

* steps/s delivered to the page (its Step counter, as in browser.py);
* display lag: at every 10 ms of the window, the age of the displayed state, i.e. how long
  ago the server had trained the step the page shows. The server's progress is read from
  the WebSocket frames the proxy relays: a request reaches the server (training starts),
  its reply leaves it (``global_step`` reached); progress is linear in between;
* WebSocket payload sizes (request and reply, mean and max) as they cross the proxy (on the
  wire: compressed when the server and browser negotiated permessage-deflate), and a
  request's size before compression.

``--points 1000`` also reports the size of a steady-state request with 1000 points.

    python benchmarks/link.py [--rtt-ms 50] [--mbit 1] [--seconds 10] [--setups tfp]

``InProcessLoop`` (used by browser.py) is the same frontend loop without any link: the
page's requests and pacing against ``nnvisu.dispatch.handle_json`` in this process.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import bisect
import json
import math
import os
import re
import socket
import struct
import sys
import threading
import time
import zlib
from typing import Any

import msgspec
import numpy as np

from nnvisu.dispatch import handle_json

# ---------------------------------------------------------------------------------------------
# The frontend's loop, in Python (mirrors js/src/loop.ts and js/src/payload.ts)

FRAME_MS = 1000 / 60
SNAPSHOT_MS = 0.7 * FRAME_MS
OVERHEAD_FACTOR = 9
MIN_BUDGET_MS = 20
MAX_BUDGET_MS = 1200
SNAPSHOT_BYTES_MS2 = 320_000
SPARSE_MS = 100
SMOOTHING = 0.3


class Pacer:
    """js/src/loop.ts's Pacer: budget = 9 x the link's overhead, step cap, snapshot interval."""

    def __init__(self) -> None:
        self.budget_ms = MIN_BUDGET_MS
        self.steps_cap = 1
        self.overhead_ms = 0.0
        self.ms_per_step: float | None = None

    def observe(self, round_trip_ms: float, steps: int, elapsed_ms: float) -> None:
        overhead = max(0.0, round_trip_ms - elapsed_ms)
        if self.ms_per_step is None:
            self.overhead_ms = overhead
        else:
            self.overhead_ms += SMOOTHING * (overhead - self.overhead_ms)
        budget = OVERHEAD_FACTOR * self.overhead_ms
        self.budget_ms = round(min(MAX_BUDGET_MS, max(MIN_BUDGET_MS, budget)))
        per_step = max(elapsed_ms, 0.01) / max(steps, 1)
        if self.ms_per_step is None:
            self.ms_per_step = per_step
        else:
            self.ms_per_step += SMOOTHING * (per_step - self.ms_per_step)
        self.steps_cap = min(100_000, max(1, math.ceil(1.5 * self.budget_ms / self.ms_per_step)))

    def snapshot_ms(self, parameters: int) -> float | None:
        size = 200 + 16 * parameters / 3
        allowed = self.budget_ms * SNAPSHOT_BYTES_MS2 / max(1.0, self.overhead_ms) ** 2
        most = max(1, int(allowed // size))
        interval = max(SNAPSHOT_MS, self.budget_ms / most)
        return None if interval > SPARSE_MS else interval


FULL_CONFIG = {
    "problem": "classification",
    "num_classes": 2,
    "features": ["x", "y"],
    "hidden_layers": [4, 4],
    "activation": "tanh",
    "optimizer": "sgd",
    "learning_rate": 0.03,
    "momentum": 0,
    "beta1": 0.9,
    "beta2": 0.999,
    "eps": 1e-8,
    "alpha": 0.99,
    "weight_decay": 0.01,
    "l1": 0,
    "l2": 0,
    "dropout": 0,
    "batch_size": None,
    "steps": 1,
    "time_budget_ms": None,
    "seed": 0,
}


def b64(values: Any, dtype: str) -> str:
    return base64.b64encode(np.asarray(values, dtype=dtype).tobytes()).decode("ascii")


def pack_points(points: list[dict[str, Any]], regression: bool) -> dict[str, Any]:
    """payload.ts packPoints: float32 x and y, uint8 labels (float32 for regression), test bits."""
    out = {
        "count": len(points),
        "x": b64([p["x"] for p in points], "<f4"),
        "y": b64([p["y"] for p in points], "<f4"),
        "label": b64([p["label"] for p in points], "<f4" if regression else "u1"),
    }
    tests = np.array([bool(p["test"]) for p in points])
    if tests.any():
        out["test"] = base64.b64encode(np.packbits(tests, bitorder="little").tobytes()).decode()
    return out


class PageLoop:
    """The page's requests and pacing (js/src/loop.ts), whatever carries them to a server.

    ``request()`` builds the next train_step exactly as the page does (packed points, the
    packed network and optimizer state the last reply sent, the pacer's step cap, time budget
    and snapshot interval); ``take()`` applies its reply and feeds the round trip to the pacer.
    """

    def __init__(
        self, config: dict[str, Any], points: list[dict[str, Any]], init: dict[str, Any]
    ) -> None:
        self.config = {**FULL_CONFIG, **config}
        self.data = pack_points(points, self.config["problem"] == "regression")
        self.network, self.optimizer_state = init["network"], init["optimizer_state"]
        sizes = self.network["sizes"]
        self.parameters = sum(a * b + b for a, b in zip(sizes, sizes[1:], strict=False))
        self.pacer = Pacer()
        self.counter = 0

    def request(self) -> dict[str, Any]:
        self.counter += 1
        budget = self.pacer.budget_ms
        config = {**self.config, "steps": self.pacer.steps_cap, "time_budget_ms": budget}
        request = {
            "type": "train_step",
            "config": config,
            "network": self.network,
            "data": self.data,
            "packed": True,
            "optimizer_state": self.optimizer_state,
            "id": f"bench:{self.counter}",
        }
        snapshot_ms = self.pacer.snapshot_ms(self.parameters)
        if snapshot_ms is not None:
            request["snapshot_ms"] = snapshot_ms
        return request

    def take(self, reply: dict[str, Any], round_trip_ms: float) -> int:
        """Continue from a train_step_result; returns the steps it trained."""
        assert reply["type"] == "train_step_result", reply
        self.network, self.optimizer_state = reply["network"], reply["optimizer_state"]
        self.pacer.observe(round_trip_ms, reply["steps"], reply["elapsed_ms"])
        return int(reply["steps"])


class InProcessLoop(PageLoop):
    """The page's loop against handle_json in this process: the page's requests, no link."""

    def __init__(self, config: dict[str, Any], points: list[dict[str, Any]]) -> None:
        full = {**FULL_CONFIG, **config}
        init = handle_json(json.dumps({"type": "init_network", "config": full, "packed": True}))
        super().__init__(full, points, json.loads(init))
        self.encoder, self.decoder = msgspec.json.Encoder(), msgspec.json.Decoder()

    def one(self) -> int:
        started = time.perf_counter()
        reply = self.decoder.decode(handle_json(self.encoder.encode(self.request())))
        return self.take(reply, (time.perf_counter() - started) * 1000)

    def run_steps(self, min_steps: int) -> int:
        done = 0
        while done < min_steps:
            done += self.one()
        return done


# ---------------------------------------------------------------------------------------------
# The link: an asyncio TCP proxy with delay and bandwidth, watching the WebSocket frames


class WsWatcher:
    """Parses one direction of a WebSocket connection (after the HTTP upgrade) into messages."""

    def __init__(self, on_message: Any) -> None:
        self.buf = bytearray()
        self.upgraded = False
        self.on_message = on_message
        self.fragments = bytearray()
        self.compressed = False  # RSV1 on a message's first frame: permessage-deflate
        self.inflater = zlib.decompressobj(-zlib.MAX_WBITS)  # one per direction (context takeover)

    def feed(self, data: bytes, t: float) -> None:
        self.buf += data
        if not self.upgraded:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buf[:end])
            del self.buf[: end + 4]
            if b"websocket" not in head.lower():
                self.buf.clear()  # plain HTTP (assets): ignore the rest of this connection
                self.on_message = None
                return
            self.upgraded = True
        while self.on_message is not None:
            frame = self._frame()
            if frame is None:
                return
            fin, rsv1, opcode, payload = frame
            if opcode in (1, 2):
                self.compressed = rsv1
            if opcode in (0, 1, 2):
                self.fragments += payload
                if fin:
                    wire = bytes(self.fragments)
                    self.fragments.clear()
                    # RFC 7692: the sender dropped the deflate block's empty tail.
                    text = (
                        self.inflater.decompress(wire + b"\x00\x00\xff\xff")
                        if self.compressed
                        else wire
                    )
                    self.on_message(text, len(wire), t)

    def _frame(self) -> tuple[bool, bool, int, bytes] | None:
        b = self.buf
        if len(b) < 2:
            return None
        fin, rsv1, opcode = bool(b[0] & 0x80), bool(b[0] & 0x40), b[0] & 0x0F
        masked, length, at = bool(b[1] & 0x80), b[1] & 0x7F, 2
        if length == 126:
            if len(b) < 4:
                return None
            length, at = struct.unpack(">H", b[2:4])[0], 4
        elif length == 127:
            if len(b) < 10:
                return None
            length, at = struct.unpack(">Q", b[2:10])[0], 10
        mask = b""
        if masked:
            if len(b) < at + 4:
                return None
            mask, at = bytes(b[at : at + 4]), at + 4
        if len(b) < at + length:
            return None
        payload = bytes(b[at : at + length])
        del b[: at + length]
        if masked:
            payload = bytes(c ^ mask[i % 4] for i, c in enumerate(payload))
        return fin, rsv1, opcode, payload


class LinkProxy:
    """127.0.0.1:<port> -> upstream, each direction delayed by rtt/2 and limited to ``bps``."""

    CHUNK = 1460  # one Ethernet MSS: serialisation time is accounted per chunk

    def __init__(self, upstream: tuple[str, int], rtt_s: float, bps: float | None) -> None:
        self.upstream, self.one_way, self.bps = upstream, rtt_s / 2, bps
        # (delivered to server, bytes on the wire, id, bytes of JSON text)
        self.requests: list[tuple[float, int, str, int]] = []
        self.replies: list[tuple[float, int, dict[str, Any]]] = []  # (left server, bytes, fields)
        self.loop = asyncio.new_event_loop()
        self.port = 0
        ready = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(ready,), daemon=True)
        self.thread.start()
        ready.wait(10)

    def _run(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)

        async def start() -> None:
            self.server = await asyncio.start_server(self._client, "127.0.0.1", 0)
            self.port = self.server.sockets[0].getsockname()[1]
            ready.set()

        self.loop.run_until_complete(start())
        self.loop.run_forever()

    def close(self) -> None:
        async def stop() -> None:
            self.server.close()
            tasks = [t for t in asyncio.all_tasks(self.loop) if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self.loop.stop()

        asyncio.run_coroutine_threadsafe(stop(), self.loop)
        self.thread.join(10)
        self.loop.close()

    async def _client(self, c_reader: asyncio.StreamReader, c_writer: asyncio.StreamWriter) -> None:
        s_reader, s_writer = await asyncio.open_connection(*self.upstream)
        for w in (c_writer, s_writer):
            sock = w.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        up = WsWatcher(self._on_request)
        down = WsWatcher(self._on_reply)
        await asyncio.gather(
            self._pipe(c_reader, s_writer, up, delivered=True),
            self._pipe(s_reader, c_writer, down, delivered=False),
            return_exceptions=True,
        )

    def _on_request(self, payload: bytes, wire: int, t: float) -> None:
        m = re.search(rb'"id":\s*"([^"]*)"', payload[-200:]) or re.search(
            rb'"id":\s*"([^"]*)"', payload
        )
        self.requests.append((t, wire, m.group(1).decode() if m else "", len(payload)))

    def _on_reply(self, payload: bytes, wire: int, t: float) -> None:
        fields: dict[str, Any] = {}
        for key in ("type", "global_step", "steps", "elapsed_ms", "id"):
            m = re.search(rb'"' + key.encode() + rb'":\s*("[^"]*"|[-0-9.e]+)', payload)
            if m:
                fields[key] = json.loads(m.group(1))
        self.replies.append((t, wire, fields))

    async def _pipe(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        watcher: WsWatcher,
        delivered: bool,
    ) -> None:
        queue: asyncio.Queue[tuple[float, bytes | None]] = asyncio.Queue()
        loop = asyncio.get_running_loop()
        offset = time.time() - loop.time()  # wall clock (the page's clock) from loop time

        async def deliver() -> None:
            while True:
                at, data = await queue.get()
                wait = at - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                if data is None:
                    writer.close()
                    return
                writer.write(data)
                if delivered:  # client -> server: the server has it now
                    watcher.feed(data, at + offset)
                await writer.drain()

        task = asyncio.ensure_future(deliver())
        link_free = 0.0
        try:
            while True:
                data = await reader.read(self.CHUNK)
                now = loop.time()
                if not delivered:  # server -> client: it left the server now
                    watcher.feed(data, now + offset)
                if not data:
                    queue.put_nowait((max(now, link_free) + self.one_way, None))
                    break
                start = max(now, link_free)
                link_free = start + (len(data) * 8 / self.bps if self.bps else 0.0)
                queue.put_nowait((link_free + self.one_way, data))
            await task
        finally:
            task.cancel()


# ---------------------------------------------------------------------------------------------
# Driving the page through the proxy


def server_progress(proxy: LinkProxy) -> tuple[list[float], list[float]]:
    """The server's trained step over wall-clock time: (times, steps), piecewise linear."""
    by_id = {rid: t for t, _, rid, _ in proxy.requests}
    times, steps = [], []
    for t_out, _, f in proxy.replies:
        if f.get("type") != "train_step_result" or f.get("id") not in by_id:
            continue
        t_in = by_id[f["id"]]
        g, s = int(f["global_step"]), int(f["steps"])
        times += [t_in, t_out]
        steps += [g - s, g]
    return times, steps


def display_lag(
    times: list[float], steps: list[float], shown: list[tuple[float, int]], t0: float, t1: float
) -> dict[str, float]:
    """Age of the displayed state, sampled every 10 ms in [t0, t1]: now - when it was trained."""
    lags = []
    t = t0
    shown_t = [s[0] for s in shown]
    while t <= t1:
        i = bisect.bisect_right(shown_t, t) - 1
        if i >= 0:
            d = shown[i][1]
            j = bisect.bisect_left(steps, d)  # first time the server had trained step d
            if j < len(steps):
                if j == 0 or steps[j] == steps[j - 1]:
                    when = times[j]
                else:
                    frac = (d - steps[j - 1]) / (steps[j] - steps[j - 1])
                    when = times[j - 1] + frac * (times[j] - times[j - 1])
                lags.append(max(0.0, t - when))
        t += 0.01
    lags.sort()
    if not lags:
        return {"mean_s": float("nan"), "p95_s": float("nan"), "max_s": float("nan")}
    return {
        "mean_s": round(sum(lags) / len(lags), 3),
        "p95_s": round(lags[int(0.95 * (len(lags) - 1))], 3),
        "max_s": round(lags[-1], 3),
    }


def run_page(
    browser: Any,
    url: str,
    proxy: LinkProxy,
    setup: dict[str, Any],
    dataset: dict[str, Any],
    warmup: float,
    seconds: float,
) -> dict[str, Any]:
    import browser as bench  # the page set-up and instrumentation

    context = bench_context = browser.new_context(viewport=bench.VIEWPORT)
    errors: list[str] = []
    try:
        context.add_init_script(bench.stored_state(setup, dataset))
        context.add_init_script(bench.INSTRUMENT)
        page = context.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.set_default_timeout(90_000)
        page.goto(url)
        page.get_by_role("button", name="Play", exact=True).wait_for()
        time.sleep(1.0)
        page.get_by_role("button", name="Play", exact=True).click()
        page.get_by_role("button", name="Pause").wait_for()
        time.sleep(warmup)
        n_req, n_rep = len(proxy.requests), len(proxy.replies)
        origin = page.evaluate("performance.timeOrigin") / 1000
        page.evaluate("window.__bench.start()")
        time.sleep(seconds)
        raw = page.evaluate("window.__bench.stop()")
        page.get_by_role("button", name="Pause").click()
        page.get_by_role("button", name="Play", exact=True).wait_for()
    finally:
        bench_context.close()
    summary = bench.summarise(raw, None)
    shown = [(origin + t / 1000, int(v)) for t, v in raw["steps"]]
    times, steps = server_progress(proxy)
    t0, t1 = origin + raw["t0"] / 1000, origin + raw["t1"] / 1000
    requests = [b for _, b, rid, _ in proxy.requests[n_req:] if rid]
    texts = [n for _, _, rid, n in proxy.requests[n_req:] if rid]
    replies = [b for _, b, f in proxy.replies[n_rep:] if f.get("type") == "train_step_result"]
    return {
        "steps_per_s": summary["steps_per_s"],
        "epochs_per_s": summary["epochs_per_s"],
        "map_frames_per_s": summary["map_frames_per_s"],
        "requests_per_s": round(len(requests) / seconds, 1),
        "display_lag": display_lag(times, steps, shown, t0, t1),
        "request_bytes": {
            "mean": round(sum(requests) / max(1, len(requests))),
            "max": max(requests, default=0),
            "uncompressed_max": max(texts, default=0),
        },
        "reply_bytes": {
            "mean": round(sum(replies) / max(1, len(replies))),
            "max": max(replies, default=0),
        },
        **({"page_errors": errors} if errors else {}),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rtt-ms", type=float, default=50.0)
    ap.add_argument("--mbit", type=float, default=1.0, help="bandwidth each way, Mbit/s")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--warmup", type=float, default=4.0)
    ap.add_argument("--setups", default="tfp")
    ap.add_argument(
        "--points",
        type=int,
        default=1000,
        help="also measure a request with this many points (0: skip)",
    )
    args = ap.parse_args()

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import browser as bench
    import chromium
    from playwright.sync_api import sync_playwright

    result: dict[str, Any] = {
        "benchmark": "link",
        "rtt_ms": args.rtt_ms,
        "mbit_per_s_each_way": args.mbit,
        "load_average_before": [round(v, 2) for v in os.getloadavg()],
    }
    with bench.standalone_server() as url, sync_playwright() as p:
        host, port = re.search(r"http://([^:/]+):(\d+)/", url).groups()  # type: ignore[union-attr]
        browser = chromium.launch(p)
        try:
            for name in args.setups.split(","):
                setup = {**bench.COMMON, **bench.SETUPS[name]}
                runs = {}
                for link, rtt, bps in [
                    ("direct", 0.0, None),
                    ("slow", args.rtt_ms / 1000, args.mbit * 1e6),
                ]:
                    proxy = LinkProxy((host, int(port)), rtt, bps)
                    try:
                        runs[link] = run_page(
                            browser,
                            f"http://127.0.0.1:{proxy.port}/",
                            proxy,
                            setup,
                            bench.DATASET,
                            args.warmup,
                            args.seconds,
                        )
                    finally:
                        proxy.close()
                runs["slow_over_direct_steps"] = round(
                    runs["slow"]["steps_per_s"] / max(1, runs["direct"]["steps_per_s"]), 2
                )
                result[name] = runs
            if args.points:
                proxy = LinkProxy((host, int(port)), 0.0, None)
                try:
                    big = {**bench.DATASET, "n": args.points}
                    run = run_page(
                        browser,
                        f"http://127.0.0.1:{proxy.port}/",
                        proxy,
                        {**bench.COMMON, **bench.SETUPS["tfp"]},
                        big,
                        1.0,
                        2.0,
                    )
                    result[f"request_bytes_{args.points}_points"] = run["request_bytes"]
                finally:
                    proxy.close()
        finally:
            browser.close()
    result["load_average_after"] = [round(v, 2) for v in os.getloadavg()]
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
