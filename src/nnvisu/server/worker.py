"""The process's one torch thread, shared fairly between connections.

Torch work never runs on the event loop: a blocked loop would stop pings, closes and every
other client. One thread per process (and ``torch.set_num_threads(1)``) because on a few
shared cores extra threads only add tail latency; more throughput comes from more
processes (``--workers``), not more threads.

Fairness: each connection has its own queue, and the thread serves the queues round-robin,
not in arrival order. A request counts as many rounds as fair slices it took (at least one);
the next request comes from the connection that has used the fewest rounds, ties going
round-robin (start-time fair queueing in rounds). Equal requests thus alternate strictly,
while a connection whose requests run long sits out rounds until the others caught up; a
connection that was idle joins at the current round, so it cannot bank turns.

While others wait, a request's training is cut to a fair slice: the protocol is
time-budgeted and stateless, so a shorter request loses nothing, its learner just sends the
next one. Work is never run and then thrown away: a request is either refused (``busy``)
before it runs, or answered.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field

import torch

from nnvisu.engine import Deadline
from nnvisu.engine.steps import runner
from nnvisu.server.errors import ServerError

Handler = Callable[[str | bytes, Deadline], bytes]


class Busy(ServerError):
    """The request was not run: the server is overloaded or shutting down (answer ``busy``)."""


def _one_torch_thread() -> None:
    torch.set_num_threads(1)
    runner()  # compile the engine now rather than inside the first learner's request


@dataclass(eq=False)
class Job:
    """One admitted request: its payload, the deadline its training must keep, its answer."""

    owner: Hashable
    payload: str | bytes
    answer: asyncio.Future[bytes]
    deadline: Deadline = field(default_factory=Deadline)
    started: float | None = None  # time.monotonic() when the thread began it
    cost: float = 0.0  # seconds the thread spent on it (measured in the thread)
    expiry: asyncio.TimerHandle | None = None


@dataclass(frozen=True)
class Fairness:
    """How the thread is shared.

    Attributes:
        round_s: target length of a round over every waiting connection; a request's slice
            while others wait is this divided by the connections sharing the thread...
        min_slice_s: ...but never less than this (a step or two of a big network).
        queue_timeout_s: a request still queued after this is answered ``busy``, unrun.
        max_queued_per_connection: requests one connection may have waiting (pipelined).
        max_queued_bytes: bytes of requests waiting, all connections together.
    """

    round_s: float = 0.5
    min_slice_s: float = 0.02
    queue_timeout_s: float = 15.0
    max_queued_per_connection: int = 4
    max_queued_bytes: int = 64 * 1024 * 1024


class TorchWorker:
    """Runs protocol requests one at a time on a dedicated thread, round-robin by connection.

    The thread picks its next request itself (under a lock shared with the event loop), so
    it never waits for a busy event loop between two requests; replies go back to the loop.

    Args:
        handler: ``(message, deadline) -> reply bytes``, normally
            :func:`nnvisu.dispatch.handle_json` (never raises); a one-argument handler is
            accepted too (tests make steps slow on purpose with one).
        max_in_flight: requests admitted at once (running + queued, all connections);
            beyond it :meth:`submit` refuses with :class:`Busy`.
        fairness: slicing and queue bounds.
    """

    def __init__(
        self, handler: Callable[..., bytes], max_in_flight: int, fairness: Fairness | None = None
    ) -> None:
        self._handler = _with_deadline(handler)
        self._max_in_flight = max_in_flight
        self._fair = fairness or Fairness()
        # Shared with the thread, under _lock: the queues, the ring, the rounds, _running.
        self._lock = threading.Condition()
        self._queues: dict[Hashable, deque[Job]] = {}
        self._ring: deque[Hashable] = deque()  # connections with queued work, in serving order
        self._rounds: dict[Hashable, int] = {}  # rounds each connection has used
        self._round = 0  # the round of the request that started last
        self._running: Job | None = None
        self._closing = False
        # The event loop's own.
        self._loop: asyncio.AbstractEventLoop | None = None
        self._in_flight = 0
        self._queued_bytes = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._thread = threading.Thread(target=self._serve, name="nnvisu-torch", daemon=True)
        self._thread.start()

    @property
    def in_flight(self) -> int:
        """Requests admitted and not yet answered (running or queued)."""
        return self._in_flight

    @property
    def max_in_flight(self) -> int:
        """The admission cap."""
        return self._max_in_flight

    @property
    def waiting(self) -> int:
        """Requests queued, not running."""
        with self._lock:
            return sum(len(queue) for queue in self._queues.values())

    def stalled_for(self) -> float:
        """Seconds the current request has been running (0 when the thread is idle)."""
        job = self._running
        return 0.0 if job is None or job.started is None else time.monotonic() - job.started

    def submit(self, owner: Hashable, payload: str | bytes) -> asyncio.Future[bytes]:
        """Queue a request of connection ``owner``; its reply comes through the future.

        Call on the event loop thread. Raises :class:`Busy` when it cannot be admitted; the
        future may also end in :class:`Busy` (queued too long, or shutdown) without running.
        """
        if self._closing:
            raise Busy("the server is shutting down")
        if self._in_flight >= self._max_in_flight:
            raise Busy(f"the server is busy ({self._in_flight} requests in flight); retry shortly")
        if self._queued_bytes + len(payload) > self._fair.max_queued_bytes:
            raise Busy(f"the server is busy ({self._queued_bytes} bytes of requests waiting); "
                       "retry shortly")  # fmt: skip
        loop = self._loop = asyncio.get_running_loop()
        job = Job(owner, payload, loop.create_future())
        with self._lock:
            queue = self._queues.setdefault(owner, deque())
            if len(queue) >= self._fair.max_queued_per_connection:
                raise Busy(
                    f"{len(queue)} requests of this connection are already waiting; "
                    "wait for their replies"
                )
            if not queue:
                self._ring.append(owner)
                self._rounds[owner] = max(self._rounds.get(owner, 0), self._round)
            queue.append(job)
            running = self._running
            if running is not None and running.started is not None and running.owner != owner:
                # Someone waits now: the running request keeps only a fair slice.
                running.deadline.cut(_perf(running.started) + self._slice())
            self._lock.notify()
        job.expiry = loop.call_later(self._fair.queue_timeout_s, self._expire, job)
        self._queued_bytes += len(payload)
        self._in_flight += 1
        self._idle.clear()
        return job.answer

    def forget(self, owner: Hashable) -> None:
        """Connection ``owner`` left: drop its queued requests unrun (a running one finishes)."""
        with self._lock:
            dropped = self._queues.pop(owner, ())
            if owner in self._ring:
                self._ring.remove(owner)
            self._rounds.pop(owner, None)
        for job in dropped:
            self._finish(job, None)

    def _slice(self) -> float:
        sharing = len(self._ring) + (self._running is not None)
        return max(self._fair.min_slice_s, self._fair.round_s / max(1, sharing))

    def _expire(self, job: Job) -> None:
        with self._lock:
            queue = self._queues.get(job.owner)
            if queue is None or job not in queue:
                return  # started meanwhile
            queue.remove(job)
            if not queue:
                self._unqueue(job.owner)
        self._finish(job, Busy(f"the server is overloaded: not started within "
                               f"{self._fair.queue_timeout_s:g} s; retry shortly"))  # fmt: skip

    def _finish(self, job: Job, error: BaseException | None, result: bytes = b"") -> None:
        """On the loop: a job is done (ran, or never will); answer it and count it out."""
        if job.expiry is not None:
            job.expiry.cancel()
        self._queued_bytes -= len(job.payload)
        self._in_flight -= 1
        if self._in_flight == 0:
            self._idle.set()
        if job.answer.done():
            return
        if error is not None:
            job.answer.set_exception(error)
        elif job.started is None:
            job.answer.cancel()  # dropped unrun: its client left
        else:
            job.answer.set_result(result)

    def _unqueue(self, owner: Hashable) -> None:
        self._queues.pop(owner, None)
        if owner in self._ring:
            self._ring.remove(owner)

    def _pick(self) -> Job | None:
        """The next job: from the connection with the fewest rounds used, round-robin on ties."""
        if not self._ring:
            return None
        owner = min(self._ring, key=lambda o: self._rounds.get(o, 0))  # the first of the least
        self._ring.remove(owner)
        queue = self._queues[owner]
        job = queue.popleft()
        if queue:
            self._ring.append(owner)  # behind everyone else with as few rounds
        else:
            del self._queues[owner]
        self._round = max(self._round, self._rounds.get(owner, 0))
        return job

    def _serve(self) -> None:
        """The thread: pick a job, run it, hand its reply to the loop; until closed."""
        _one_torch_thread()
        while True:
            with self._lock:
                job = self._pick()
                while job is None and not self._closing:
                    self._lock.wait()
                    job = self._pick()
                if job is None:
                    return
                self._running = job
                job.started = time.monotonic()
                quantum = self._slice()
                if self._ring:  # others are waiting already: a fair slice from the start
                    job.deadline.cut(time.perf_counter() + quantum)
                if self._closing:
                    job.deadline.cut(0.0)
            began = time.perf_counter()
            result, error = b"", None
            try:
                result = self._handler(job.payload, job.deadline)
            except BaseException as exc:  # reported to the connection, which answers
                error = exc
            cost = time.perf_counter() - began
            with self._lock:
                self._running = None
                if job.owner in self._rounds:  # a long request counts as the slices it took
                    self._rounds[job.owner] += max(1, math.ceil(cost / quantum - 1e-9))
            self._deliver(job, error, result)

    def _deliver(self, job: Job, error: BaseException | None, result: bytes) -> None:
        loop = self._loop
        if loop is None:
            return
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody is left to answer
            loop.call_soon_threadsafe(self._finish, job, error, result)

    def shutdown(self) -> None:
        """Refuse new requests, answer queued ones ``busy`` unrun, end the running one soon.

        The running request stops training at its next chunk and is answered normally.
        """
        self._closing = True
        with self._lock:
            queued = [job for queue in self._queues.values() for job in queue]
            self._queues.clear()
            self._ring.clear()
            if self._running is not None:
                self._running.deadline.cut(0.0)
            self._lock.notify()
        for job in queued:
            self._finish(job, Busy("the server is shutting down"))

    async def drain(self, timeout_s: float) -> bool:
        """Wait until nothing is in flight; return False if ``timeout_s`` passed first."""
        try:
            await asyncio.wait_for(self._idle.wait(), timeout_s)
        except asyncio.TimeoutError:
            return False
        return True

    def close(self, wait: bool = True) -> None:
        """Stop the thread (waiting for it unless ``wait`` is False); queued work is dropped."""
        self._closing = True
        with self._lock:
            self._queues.clear()
            self._ring.clear()
            self._lock.notify()
        if wait:
            self._thread.join(30)


def _perf(monotonic_time: float) -> float:
    """A ``time.monotonic()`` instant on the ``time.perf_counter()`` clock deadlines use."""
    return time.perf_counter() - (time.monotonic() - monotonic_time)


def _with_deadline(handler: Callable[..., bytes]) -> Handler:
    try:
        takes = len(inspect.signature(handler).parameters)
    except (TypeError, ValueError):
        takes = 2
    if takes >= 2:
        return handler
    return lambda payload, deadline: handler(payload)
