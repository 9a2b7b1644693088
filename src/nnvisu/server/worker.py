"""The process's one torch thread, with admission control and a per-request deadline.

Torch work never runs on the event loop: a blocked loop would stop pings, closes and every
other client. One thread per process (and ``torch.set_num_threads(1)``) because on a few
shared cores extra threads only add tail latency; more throughput comes from more
processes (``--workers``), not more threads.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

import torch

from nnvisu.server.errors import ServerError

Handler = Callable[[str | bytes], bytes]


class RequestTimeout(ServerError):
    """No answer within the request deadline.

    ``started`` tells whether the thread had begun the request (it then runs to its end) or
    the request was still queued (it is then dropped unrun).
    """

    def __init__(self, message: str, started: bool) -> None:
        super().__init__(message)
        self.started = started


def _one_torch_thread() -> None:
    torch.set_num_threads(1)


class TorchWorker:
    """Runs protocol requests one at a time on a dedicated thread.

    Args:
        handler: ``bytes -> bytes``, normally :func:`nnvisu.dispatch.handle_json`
            (never raises); injectable so tests can make a step slow on purpose.
        max_in_flight: requests admitted at once (running + queued); beyond it the
            caller answers ``busy`` instead of queueing without bound.
    """

    def __init__(self, handler: Handler, max_in_flight: int) -> None:
        self._handler = handler
        self._max_in_flight = max_in_flight
        self._in_flight = 0
        self._running_since: float | None = None
        self._idle = asyncio.Event()
        self._idle.set()
        self._executor = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="nnvisu-torch", initializer=_one_torch_thread
        )

    @property
    def in_flight(self) -> int:
        """Requests admitted and not yet finished by the thread (running or queued)."""
        return self._in_flight

    @property
    def max_in_flight(self) -> int:
        """The admission cap."""
        return self._max_in_flight

    def stalled_for(self) -> float:
        """Seconds the current request has been running (0 when the thread is idle)."""
        started = self._running_since
        return 0.0 if started is None else time.monotonic() - started

    def try_acquire(self) -> bool:
        """Admit one request if under the cap. Call on the event loop thread only."""
        if self._in_flight >= self._max_in_flight:
            return False
        self._in_flight += 1
        self._idle.clear()
        return True

    async def run(self, payload: str | bytes, deadline_s: float) -> bytes:
        """Run an admitted request; the slot is freed when the thread is done with it.

        Raises :class:`RequestTimeout` after ``deadline_s``; the thread then still owns
        the slot until the handler returns, so the cap keeps counting real work. Cancelling
        the caller (its client left) drops the request if the thread has not started it.
        """
        loop = asyncio.get_running_loop()
        future: Future[bytes] = self._executor.submit(self._timed, payload)
        future.add_done_callback(lambda _: loop.call_soon_threadsafe(self._release))
        try:
            return await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(future)), deadline_s)
        except asyncio.TimeoutError as exc:
            started = not future.cancel()  # still queued: dropped; running: runs to its end
            raise RequestTimeout(
                f"no reply within {deadline_s:g} s" + ("" if started else " (still queued)"),
                started,
            ) from exc
        except asyncio.CancelledError:
            future.cancel()  # only succeeds while still queued; a running step just finishes
            raise

    def _timed(self, payload: str | bytes) -> bytes:
        self._running_since = time.monotonic()
        try:
            return self._handler(payload)
        finally:
            self._running_since = None

    def _release(self) -> None:
        self._in_flight -= 1
        if self._in_flight == 0:
            self._idle.set()

    async def drain(self, timeout_s: float) -> bool:
        """Wait until nothing is in flight; return False if ``timeout_s`` passed first."""
        try:
            await asyncio.wait_for(self._idle.wait(), timeout_s)
        except asyncio.TimeoutError:
            return False
        return True

    def close(self) -> None:
        """Stop the thread once its current request ends; queued work is dropped."""
        self._executor.shutdown(wait=False, cancel_futures=True)
