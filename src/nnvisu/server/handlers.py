"""HTTP and WebSocket handlers. They hold no per-user state: each request carries its own."""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections import Counter
from functools import partial
from typing import Any

import tornado.web
import tornado.websocket
from tornado.iostream import IOStream
from tornado.websocket import _WebSocketParams

from nnvisu.server.assets import Asset
from nnvisu.server.errors import BadOrigin, ConfigError
from nnvisu.server.frames import BoundedProtocol, PartialBudget
from nnvisu.server.hosts import HostPolicy
from nnvisu.server.limits import Limits
from nnvisu.server.origin import OriginPolicy, host_origin
from nnvisu.server.replies import error_reply, peek_id
from nnvisu.server.worker import Busy, TorchWorker

log = logging.getLogger("nnvisu.server")

GOING_AWAY = 1001  # RFC 6455: the server is shutting down
POLICY_VIOLATION = 1008  # used for a client that stops reading its replies

# The page runs only our own bundle; blob: allows workers/modules the widget builds at runtime;
# 'wasm-unsafe-eval' lets it compile its own WebAssembly kernel (the grid maps), and no eval.
PAGE_CSP = (
    "default-src 'self'; script-src 'self' blob: 'wasm-unsafe-eval'; worker-src 'self' blob:; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'{ws}; "
    "object-src 'none'; base-uri 'none'; form-action 'none'"
)


def refuse_host(state: ServerState, host: str | None) -> None:
    """Raise 403 if the ``Host`` header names a host this server does not serve."""
    reason = state.hosts.check(host)
    if reason is not None:
        log.warning("refused a request: %s", reason)
        raise tornado.web.HTTPError(403, reason=_REASON_403)


_REASON_403 = "Forbidden host"


def page_csp(host_header: str | None, frame_ancestors: str | None = None) -> str:
    """The page's CSP, naming the WebSocket: not every browser lets 'self' match ws:.

    Framing is allowed by default (learning platforms embed the page in an iframe);
    ``frame_ancestors`` (``--frame-ancestors``) restricts who may.
    """
    try:
        host_origin("http", host_header or "")  # only a plain host[:port] goes into the header
    except BadOrigin:
        csp = PAGE_CSP.format(ws="")
    else:
        csp = PAGE_CSP.format(ws=f" ws://{host_header} wss://{host_header}")
    return csp if frame_ancestors is None else f"{csp}; frame-ancestors {frame_ancestors}"


def check_frame_ancestors(value: str) -> str:
    """``value`` if it is a list of CSP sources for frame-ancestors, else ConfigError."""
    if not value.strip() or any(c in value for c in ";,\r\n\0"):
        raise ConfigError(
            f"--frame-ancestors takes CSP sources separated by spaces (e.g. \"'self' "
            f'https://lms.example.org"), got {value!r}'
        )
    return value.strip()


def descriptor_budget() -> int | None:
    """WebSockets this process can hold: its descriptor limit minus a reserve, or None."""
    try:
        import resource
    except ImportError:  # not on Unix
        return None
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return None
    # Kept for page loads, the listening sockets, torch's files and the interpreter's own.
    return max(1, soft - max(32, soft // 8))


class ServerState:
    """What the handlers of one process share. One instance per application, never global."""

    def __init__(
        self,
        limits: Limits,
        policy: OriginPolicy,
        worker: TorchWorker,
        assets: dict[str, Asset],
        version: str,
        hosts: HostPolicy | None = None,
        frame_ancestors: str | None = None,
    ) -> None:
        self.limits = limits
        self.policy = policy
        self.worker = worker
        self.assets = assets
        self.version = version
        self.hosts = hosts or HostPolicy("127.0.0.1")
        self.frame_ancestors = frame_ancestors
        budget = descriptor_budget()
        #: ``limits.max_connections``, lowered to what the descriptor limit allows.
        self.max_connections = min(limits.max_connections, budget or limits.max_connections)
        self.sockets: set[ProtocolSocket] = set()
        self.per_address: Counter[str] = Counter()
        self.partial = PartialBudget(limits.max_partial_bytes, limits.partial_timeout_s)
        self.shutting_down = False
        self.accept_paused = False  # out of descriptors: new connections wait in the backlog
        self.behind_proxy = False  # X-Forwarded-* and X-Real-Ip trusted (make_state sets it)
        self.dropped_slow_clients = 0

    def refusing(self) -> str | None:
        """Why new users would be refused now, or None."""
        if self.shutting_down:
            return "shutting down"
        if self.accept_paused:
            return "out of file descriptors"
        if len(self.sockets) >= self.max_connections:
            return f"{len(self.sockets)} connections open (the most is {self.max_connections})"
        if self.worker.stalled_for() > self.limits.request_deadline_s:
            return "the torch thread is stuck"
        return None

    def health(self) -> dict[str, Any]:
        """The /healthz document: ``ok`` is false whenever new users would be refused."""
        refusing = self.refusing()
        return {
            "ok": refusing is None,
            "refusing": refusing,
            "in_flight": self.worker.in_flight,
            "max_in_flight": self.worker.max_in_flight,
            "connections": len(self.sockets),
            "max_connections": self.max_connections,
            "dropped_slow_clients": self.dropped_slow_clients,
            "version": self.version,
            "pid": os.getpid(),
        }


class _BaseHandler(tornado.web.RequestHandler):
    def initialize(self, state: ServerState) -> None:
        self.state = state

    def prepare(self) -> None:
        """Refuse a Host this server does not serve (DNS rebinding)."""
        refuse_host(self.state, self.request.headers.get("Host"))

    def set_default_headers(self) -> None:
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Referrer-Policy", "no-referrer")


class AssetHandler(_BaseHandler):
    """Serves the page and its bundle from memory, with ETags so reloads revalidate cheaply."""

    def initialize(self, state: ServerState, name: str | None = None) -> None:
        """Serve the fixed asset ``name`` (for "/"), or the one named in the URL."""
        super().initialize(state)
        self._fixed_name = name
        self._asset: Asset | None = None

    def _lookup(self, name: str | None) -> Asset:
        asset = self.state.assets.get(self._fixed_name or name or "")
        if asset is None:
            raise tornado.web.HTTPError(404)
        return asset

    def compute_etag(self) -> str | None:
        """The asset's content hash, so Tornado answers 304 to a matching If-None-Match."""
        return self._asset.etag if self._asset else None

    def get(self, name: str | None = None) -> None:
        """Send the asset with its content type (and the page's CSP)."""
        self._asset = asset = self._lookup(name)
        self.set_header("Content-Type", asset.content_type)
        self.set_header("Cache-Control", "no-cache")  # revalidate: file names are not hashed
        if asset.content_type.startswith("text/html"):
            csp = page_csp(self.request.headers.get("Host"), self.state.frame_ancestors)
            self.set_header("Content-Security-Policy", csp)
        self.write(asset.body)

    def head(self, name: str | None = None) -> None:
        """Same headers as GET (Tornado drops the body)."""
        self.get(name)


class HealthHandler(_BaseHandler):
    """``GET /healthz``: liveness for load balancers and the benchmark (HEAD works too).

    Not subject to the Host check: probes reach a pod or a port by whatever name they have.
    """

    def prepare(self) -> None:
        """No Host check here."""

    def head(self) -> None:
        """The same status and headers as GET."""
        self.get()

    def get(self) -> None:
        """Answer 200 with the health document, or 503 when not ok."""
        health = self.state.health()
        self.set_header("Content-Type", "application/json")
        self.set_header("Cache-Control", "no-store")
        if not health["ok"]:
            self.set_status(503)
        self.write(json.dumps(health))


class ProtocolSocket(tornado.websocket.WebSocketHandler):
    """``/ws``: each text (or binary) message is one protocol request, answered in order.

    Each connection has its own queue in the worker (a few requests deep); the worker serves
    connections round-robin. A full queue, the process-wide cap on requests in flight and
    shutdown answer ``busy`` without running the request.
    """

    def initialize(self, state: ServerState) -> None:
        """Per-connection bookkeeping; ``state`` is shared by the whole process."""
        self.state = state
        self._pending = 0
        self._unflushed = 0
        self._stream: IOStream | None = None
        self._protocol: BoundedProtocol | None = None

    def prepare(self) -> None:
        """Reject the handshake (403/503) before upgrading if it must not connect."""
        # Our exact check runs for every handshake. Tornado's own (check_origin below) skips
        # requests it thinks are same-origin, comparing host:port without the scheme.
        reason = self.state.policy.check(
            self.request.headers.get("Origin"),
            self.request.protocol,
            self.request.headers.get("Host"),
        )
        if reason is not None:
            log.warning("rejected WebSocket handshake: %s", reason)
            raise tornado.web.HTTPError(403)
        refuse_host(self.state, self.request.headers.get("Host"))
        if self.state.shutting_down:
            raise tornado.web.HTTPError(503)
        if len(self.state.sockets) >= self.state.max_connections:
            log.warning(
                "rejected WebSocket handshake: %d connections open", len(self.state.sockets)
            )
            raise tornado.web.HTTPError(503)
        address = self.request.remote_ip or ""
        if self.state.per_address[address] >= self.state.limits.max_connections_per_address:
            log.warning("rejected WebSocket handshake: %d connections from %s",
                        self.state.per_address[address], address)  # fmt: skip
            raise tornado.web.HTTPError(429)

    def get_websocket_protocol(self) -> BoundedProtocol | None:
        """Tornado's protocol, with unfinished fragmented messages bounded (frames.py)."""
        if self.request.headers.get("Sec-WebSocket-Version") != "13":
            return None
        params = _WebSocketParams(
            ping_interval=self.ping_interval,
            ping_timeout=self.ping_timeout,
            max_message_size=self.max_message_size,
            compression_options=self.get_compression_options(),
        )
        self._protocol = BoundedProtocol(self, params, self.state.partial)
        return self._protocol

    def get_compression_options(self) -> dict[str, Any]:
        """permessage-deflate, when the client offers it (browsers do).

        A stateless request carries every point each time; with the connection's compression
        context the points it repeats cost a few hundred bytes instead of ~13 KB per 1,000
        (a transport detail: each message still holds the whole state). Level 1 (the server's
        CPU trains) and a small hash table: ~100 KB of zlib state per connection.
        Decompressed messages are capped like plain ones (websocket_max_message_size).
        """
        return {"compression_level": 1, "mem_level": 5}

    def check_origin(self, origin: str) -> bool:
        """Same exact policy as :meth:`prepare` (Tornado calls this for cross-origin ones)."""
        return (
            self.state.policy.check(origin, self.request.protocol, self.request.headers.get("Host"))
            is None
        )

    def open(self, *args: str, **kwargs: str) -> None:
        """Register the connection; no per-user state beyond that."""
        self.set_nodelay(True)  # request/reply traffic: Nagle + delayed ACK would cap us at ~25/s
        self._stream = self.ws_connection.stream if self.ws_connection else None
        self.state.sockets.add(self)
        self._address = self.request.remote_ip or ""
        self.state.per_address[self._address] += 1

    def abort(self) -> None:
        """Drop the TCP connection now, without a closing handshake (shutdown's last resort)."""
        if self._stream is not None:
            self._stream.close()

    def on_close(self) -> None:
        """Forget the connection, and its requests the worker has not started yet."""
        # A step already running finishes (threads can't be interrupted); its reply is dropped.
        if self in self.state.sockets:
            self.state.sockets.discard(self)
            self.state.per_address[self._address] -= 1
            if self.state.per_address[self._address] <= 0:
                del self.state.per_address[self._address]
        self.state.worker.forget(self)
        if self._protocol is not None:
            self._protocol.release()

    def on_message(self, message: str | bytes) -> None:
        """Queue the request for the torch thread, or answer ``busy`` at once."""
        # Not a coroutine on purpose: Tornado keeps reading frames (pings, closes, pipelined
        # requests) while the step runs in the worker thread.
        try:
            answer = self.state.worker.submit(self, message)
        except Busy as exc:
            self.send_reply(error_reply("busy", str(exc), peek_id(message)))
            return
        self._pending += 1
        answer.add_done_callback(partial(self._answered, message))

    def _answered(self, message: str | bytes, answer: asyncio.Future[bytes]) -> None:
        self._pending -= 1
        if answer.cancelled():  # the client left before its request ran
            return
        error = answer.exception()
        if error is None:
            reply = answer.result()
        elif isinstance(error, Busy):  # refused before running: overload or shutdown
            reply = error_reply("busy", str(error), peek_id(message))
        else:  # the protocol never raises; if it ever does, answer and keep serving
            log.error("the protocol handler raised", exc_info=error)
            reply = error_reply("internal", "internal server error", peek_id(message))
        self.send_reply(reply)
        if self.state.shutting_down and not self._pending:
            self.close(GOING_AWAY, "server shutting down")

    def send_reply(self, data: bytes) -> None:
        """Send one reply unless the client is gone or has stopped reading."""
        if self.ws_connection is None or self.ws_connection.is_closing():
            return  # the client left mid-step: nobody to tell
        # A reply due while the last ones are still unsent beyond the bound: not reading.
        if self.unsent_bytes > self.state.limits.write_buffer_bytes:
            self._drop_slow_reader()
            return
        self._unflushed += len(data)
        self.write_message(data).add_done_callback(partial(self._flushed, len(data)))
        if self.unsent_bytes > self.state.limits.write_buffer_bytes:
            self._watch_unsent(self.unsent_bytes)

    @property
    def unsent_bytes(self) -> int:
        """Bytes handed to the connection that the kernel has not accepted yet."""
        buffer = getattr(self._stream, "_write_buffer", None)  # Tornado's, exact to the byte
        try:
            return len(buffer) if buffer is not None else self._unflushed
        except TypeError:  # another Tornado: whole replies not yet flushed
            return self._unflushed

    def _watch_unsent(self, before: int) -> None:
        """Drop the client if its unsent bytes stay over the bound without any progress."""

        def check() -> None:
            now = self.unsent_bytes
            if self.ws_connection is None or now <= self.state.limits.write_buffer_bytes:
                return
            if now >= before:
                self._drop_slow_reader()
            else:
                self._watch_unsent(now)

        timeout = self.state.limits.slow_reader_timeout_s
        asyncio.get_running_loop().call_later(timeout, check)

    def _drop_slow_reader(self) -> None:
        self.state.dropped_slow_clients += 1
        log.warning("dropping a client that stopped reading (%d bytes unsent)", self.unsent_bytes)
        self.abort()  # its unsent bytes go with the connection; a close frame would queue

    @property
    def unflushed_bytes(self) -> int:
        """Reply bytes handed to the socket and not yet accepted by the kernel."""
        return self._unflushed

    @property
    def busy(self) -> bool:
        """True while requests of this connection are queued or running in the worker."""
        return self._pending > 0

    def _flushed(self, size: int, future: asyncio.Future[None]) -> None:
        self._unflushed -= size
        if not future.cancelled():
            future.exception()  # a closed stream is expected here; mark it as seen
