"""Accepting connections without spinning when the process runs out of descriptors.

Tornado's accept loop raises on EMFILE: the listening socket stays readable, so the loop
spins and logs a traceback per attempt. Here accepting pauses (the connections wait in the
kernel's backlog), retries with a growing backoff, and the episode is logged once; /healthz
answers 503 meanwhile.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import socket
from collections.abc import Callable

from tornado.ioloop import IOLoop

log = logging.getLogger("nnvisu.server")

#: Errors meaning "no resources for one more connection right now".
_OUT_OF = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}
_FIRST_BACKOFF_S = 0.05
_MAX_BACKOFF_S = 2.0
_BATCH = 128  # connections accepted per readiness event (Tornado's own figure)


class Acceptor:
    """Accepts connections on one listening socket and hands each to ``on_connection``.

    ``on_pause(True/False)`` reports when accepting stops and resumes.
    """

    def __init__(
        self,
        sock: socket.socket,
        on_connection: Callable[[socket.socket, object], None],
        on_pause: Callable[[bool], None],
    ) -> None:
        self._sock = sock
        self._on_connection = on_connection
        self._on_pause = on_pause
        self._loop = IOLoop.current()
        self._backoff = _FIRST_BACKOFF_S
        self._paused = False
        self._stopped = False
        self._loop.add_handler(sock, self._ready, IOLoop.READ)

    def _ready(self, fd: object, events: int) -> None:
        for _ in range(_BATCH):
            if self._stopped:
                return
            try:
                connection, address = self._sock.accept()
            except BlockingIOError:
                return
            except ConnectionAbortedError:  # the client gave up while waiting in the backlog
                continue
            except OSError as exc:
                if exc.errno not in _OUT_OF:
                    raise
                self._pause(exc)
                return
            if self._paused:
                self._paused = False
                self._backoff = _FIRST_BACKOFF_S
                log.warning("accepting connections again")
                self._on_pause(False)
            self._on_connection(connection, address)

    def _pause(self, exc: OSError) -> None:
        if not self._paused:
            self._paused = True
            log.warning(
                "cannot accept connections (%s): pausing and retrying until descriptors are "
                "free (raise the limit with `ulimit -n`; logged once per episode)",
                errno.errorcode.get(exc.errno or 0, exc),
            )
            self._on_pause(True)
        self._loop.remove_handler(self._sock)
        self._loop.call_later(self._backoff, self._resume)
        self._backoff = min(_MAX_BACKOFF_S, 2 * self._backoff)

    def _resume(self) -> None:
        if not self._stopped:
            self._loop.add_handler(self._sock, self._ready, IOLoop.READ)

    def stop(self) -> None:
        """Stop accepting and close the listening socket."""
        if self._stopped:
            return
        self._stopped = True
        with contextlib.suppress(KeyError, ValueError):
            self._loop.remove_handler(self._sock)
        self._sock.close()
