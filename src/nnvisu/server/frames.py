"""Tornado's WebSocket protocol with unfinished fragmented messages bounded.

A client may send a message in fragments; Tornado buffers them until the last one arrives.
Bounded only per message (by the message cap), a few hundred clients that never finish
theirs would pin gigabytes while still answering pings. Here the bytes of every unfinished
message of the process count against one budget, and each must complete within a timeout;
the connection that goes past either is closed (1008).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from tornado.websocket import WebSocketProtocol13

log = logging.getLogger("nnvisu.server")

POLICY_VIOLATION = 1008


class PartialBudget:
    """The bytes of unfinished fragmented messages, all connections of a process together."""

    def __init__(self, limit: int, timeout_s: float) -> None:
        self.limit = limit
        self.timeout_s = timeout_s
        self.used = 0


class BoundedProtocol(WebSocketProtocol13):
    """WebSocketProtocol13 whose unfinished fragmented message counts against a budget."""

    def __init__(self, handler: Any, params: Any, budget: PartialBudget) -> None:
        super().__init__(handler, False, params)
        self._budget = budget
        self._held = 0  # bytes of this connection's unfinished message
        self._timer: asyncio.TimerHandle | None = None

    async def _receive_frame(self) -> None:
        await super()._receive_frame()
        buffer = self._fragmented_message_buffer
        self._hold(0 if buffer is None else len(buffer))

    def _hold(self, size: int) -> None:
        self._budget.used += size - self._held
        self._held = size
        if size and self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(
                self._budget.timeout_s, self._expired
            )
        elif not size and self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if size and self._budget.used > self._budget.limit:
            self._give_up(
                f"unfinished fragmented messages hold {self._budget.used} bytes on this server "
                f"(the most is {self._budget.limit}); send whole messages"
            )

    def _expired(self) -> None:
        self._timer = None
        if self._held:
            self._give_up(
                f"a fragmented message did not complete within {self._budget.timeout_s:g} s"
            )

    def _give_up(self, reason: str) -> None:
        log.warning("closing a WebSocket: %s", reason)
        self.release()
        self.close(POLICY_VIOLATION, reason[:120])
        self._abort()

    def release(self) -> None:
        """Give the held bytes back (the connection closed)."""
        self._fragmented_message_buffer = None
        self._hold(0)
