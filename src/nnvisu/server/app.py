"""The Tornado application and a listening server with graceful shutdown."""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
from collections.abc import Callable, Iterable
from typing import Any

import tornado.httpserver
import tornado.netutil
import tornado.web

from nnvisu import __version__
from nnvisu.dispatch import handle_json
from nnvisu.server.accept import Acceptor
from nnvisu.server.assets import load_assets
from nnvisu.server.errors import StartupError
from nnvisu.server.handlers import (
    GOING_AWAY,
    AssetHandler,
    HealthHandler,
    ProtocolSocket,
    ServerState,
)
from nnvisu.server.hosts import HostPolicy
from nnvisu.server.limits import Limits
from nnvisu.server.origin import OriginPolicy
from nnvisu.server.preset import inject
from nnvisu.server.worker import Fairness, Handler, TorchWorker

log = logging.getLogger("nnvisu.server")


def make_state(
    limits: Limits | None = None,
    allow_origins: Iterable[str] = (),
    handler: Handler = handle_json,
    preset: dict[str, Any] | None = None,
    *,
    hosts: HostPolicy | None = None,
    frame_ancestors: str | None = None,
    behind_proxy: bool = False,
) -> ServerState:
    """Build what one process's handlers share (worker thread, limits, origin policy, assets).

    ``preset``: a classroom setup (server/preset.py) the page starts every new visitor from.
    ``hosts``: the Host check (default: loopback names only, as for a loopback bind).
    ``frame_ancestors``: who may frame the page (CSP sources; default: anyone).
    ``behind_proxy``: trust X-Forwarded-For/-Proto and X-Real-Ip (set only behind a proxy
    that sets them: otherwise any client could claim any address).
    """
    limits = limits or Limits()
    state = ServerState(
        limits=limits,
        policy=OriginPolicy(allow_origins),
        worker=TorchWorker(handler, limits.max_in_flight, fairness(limits)),
        assets=inject(load_assets(), preset),
        version=__version__,
        hosts=hosts,
        frame_ancestors=frame_ancestors,
    )
    state.behind_proxy = behind_proxy
    return state


def fairness(limits: Limits) -> Fairness:
    """How the worker shares its thread, from the limits."""
    return Fairness(
        round_s=limits.fair_round_s,
        min_slice_s=limits.min_slice_s,
        queue_timeout_s=limits.request_deadline_s,
        max_queued_per_connection=limits.max_queued_per_connection,
        max_queued_bytes=limits.max_queued_bytes,
    )


def make_app(state: ServerState) -> tornado.web.Application:
    """The routes. Every URL is relative to the page, so a reverse proxy may mount it anywhere."""
    limits = state.limits
    return tornado.web.Application(
        [
            (r"/", AssetHandler, {"state": state, "name": "index.html"}),
            (r"/(index\.html|host\.js|widget\.js|widget\.css)", AssetHandler, {"state": state}),
            (r"/ws", ProtocolSocket, {"state": state}),
            (r"/healthz", HealthHandler, {"state": state}),
        ],
        websocket_max_message_size=limits.max_message_bytes,
        websocket_ping_interval=limits.ping_interval_s,
        websocket_ping_timeout=limits.ping_timeout_s,
    )


def http_server_options(limits: Limits, behind_proxy: bool = False) -> dict[str, object]:
    """HTTPServer keyword arguments: slowloris-proof timeouts and small HTTP bounds."""
    return {
        # Behind a proxy: X-Forwarded-Proto gives the page's real scheme to the same-origin
        # check, X-Forwarded-For / X-Real-Ip the client's address to the per-address cap.
        # Without one, any client could claim any address: those headers are then ignored.
        "xheaders": behind_proxy,
        "idle_connection_timeout": limits.idle_connection_timeout_s,  # also the header timeout
        "body_timeout": limits.body_timeout_s,
        "max_body_size": limits.max_body_bytes,
        "max_header_size": limits.max_header_bytes,
    }


class Server:
    """One process's listening server.

    Args:
        state: from :func:`make_state`.
        host: address to bind (loopback by default; "0.0.0.0" to serve a network).
        port: 0 picks a free port; :attr:`port` tells which.
        reuse_port: bind with SO_REUSEPORT so several processes share the port.
    """

    def __init__(
        self,
        state: ServerState,
        host: str = "127.0.0.1",
        port: int = 8765,
        reuse_port: bool = False,
    ) -> None:
        self.state = state
        self.host = host
        self._requested_port = port
        self._reuse_port = reuse_port
        self._http: tornado.httpserver.HTTPServer | None = None
        self._sockets: list[socket.socket] = []
        self._acceptors: list[Acceptor] = []
        self._bound: int | None = None

    def start(self) -> None:
        """Bind and start accepting; call with the event loop running."""
        try:
            self._sockets = tornado.netutil.bind_sockets(
                self._requested_port, self.host, reuse_port=self._reuse_port
            )
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise StartupError(
                    f"port {self._requested_port} on {self.host} is in use; "
                    "pick another with --port (0 = any free port)"
                ) from exc
            raise StartupError(
                f"cannot listen on {self.host}:{self._requested_port}: {exc}"
            ) from exc
        self._bound = int(self._sockets[0].getsockname()[1])
        app = make_app(self.state)
        options = http_server_options(self.state.limits, self.state.behind_proxy)
        http = self._http = tornado.httpserver.HTTPServer(app, **options)
        for sock in self._sockets:
            self._acceptors.append(
                Acceptor(sock, http._handle_connection, self._paused)  # noqa: SLF001
            )

    def _paused(self, paused: bool) -> None:
        self.state.accept_paused = paused

    @property
    def port(self) -> int:
        """The port actually bound (meaningful after :meth:`start`)."""
        if self._bound is None and self._sockets:
            self._bound = int(self._sockets[0].getsockname()[1])
        return self._requested_port if self._bound is None else self._bound

    @property
    def url(self) -> str:
        """The page's URL."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    async def shutdown(self) -> None:
        """Stop accepting, answer every request, close sockets with 1001: within the grace.

        Queued requests are answered ``busy`` (going away) unrun; the running one stops
        training at its next chunk and is answered normally. All of it, the closing
        handshakes included, takes at most ``limits.shutdown_grace_s``.
        """
        state = self.state
        loop = asyncio.get_running_loop()
        end = loop.time() + state.limits.shutdown_grace_s
        state.shutting_down = True
        for acceptor in self._acceptors:
            acceptor.stop()  # closes the listening sockets: new connections are refused
        state.worker.shutdown()  # queued requests get `busy` now, the running one is cut short
        for ws in list(state.sockets):
            if not ws.busy:  # busy ones close after sending their reply (ProtocolSocket)
                ws.close(GOING_AWAY, "server shutting down")
        # Most of the grace for the step that runs (it stops at its next chunk), the rest
        # for the replies and the closing handshakes.
        if not await state.worker.drain(max(0.0, end - loop.time() - 2.0)):
            log.warning("shutdown: a step was still running at the end of the grace period")
        await _until(lambda: not any(ws.busy for ws in state.sockets), end - 1.5)
        for ws in list(state.sockets):
            ws.close(GOING_AWAY, "server shutting down")
        # Give clients a moment to answer our close frame, so they see 1001, not a reset.
        await _until(lambda: not state.sockets, end - 0.5)
        for ws in list(state.sockets):
            ws.abort()  # e.g. a client that stopped reading: its unsent data goes with it
        if self._http is not None:
            try:
                await asyncio.wait_for(
                    self._http.close_all_connections(), max(0.01, end - loop.time())
                )
            except asyncio.TimeoutError:
                log.warning("shutdown: some HTTP connections did not close in time")
        # Wait for the thread only if it is done: a step still running would hold the exit.
        state.worker.close(wait=state.worker.in_flight == 0)


async def _until(done: Callable[[], bool], end: float) -> None:
    """Wait until ``done()`` or the loop time ``end``."""
    loop = asyncio.get_running_loop()
    while not done() and loop.time() < end:
        await asyncio.sleep(0.02)
