"""Every bound the server enforces, in one place, with the reason for each default."""

from __future__ import annotations

from dataclasses import dataclass, fields

from nnvisu.protocol import MAX_MESSAGE_BYTES, MAX_REQUEST_MS
from nnvisu.server.errors import ConfigError


@dataclass(frozen=True)
class Limits:
    """Per-process limits. All times in seconds, all sizes in bytes.

    Attributes:
        max_message_bytes: largest WebSocket message accepted (bigger: close 1009). Sized to
            the protocol's caps so a legal request always fits.
        max_in_flight: requests admitted per process (running + queued for the one torch
            thread); more get ``busy`` at once instead of waiting without bound. Sized for a
            class on one process: the round-robin keeps each learner's wait short.
        max_queued_bytes: bytes of requests admitted and not yet run, per process; more get
            ``busy`` (each request may be up to ``max_message_bytes``).
        max_queued_per_connection: requests one connection may have waiting (pipelined).
        fair_round_s / min_slice_s: while others wait, a request trains for at most
            ``fair_round_s`` divided by the connections sharing the thread (but at least
            ``min_slice_s``), so a normal learner waits about one round at worst.
        write_buffer_bytes: unsent reply bytes allowed per connection. A client is dropped
            when a reply is due while more than this is still unsent, or when more than this
            stays unsent without progress for ``slow_reader_timeout_s`` (its first reply too),
            so a client that stops reading cannot pin the server's memory.
        slow_reader_timeout_s: see ``write_buffer_bytes``.
        max_partial_bytes / partial_timeout_s: fragmented WebSocket messages not yet complete
            may hold this many bytes per process, and must complete within this time; the
            connection that goes past either is closed.
        request_deadline_s: a request still queued after this is answered ``busy`` unrun,
            and a request running longer makes /healthz report the process stuck (the
            protocol itself stops training at 5 s: the backstop for a bug).
        ping_interval_s / ping_timeout_s: WebSocket keep-alive; a peer that does not answer
            a ping in time (dead, or stuck mid-frame like a slowloris) is closed.
        idle_connection_timeout_s: how long an HTTP connection may sit idle or take to send
            its headers (Tornado's default is 3600 s, which invites slowloris).
        body_timeout_s / max_body_bytes / max_header_bytes: HTTP request bounds; nothing here
            takes a request body, so these are small.
        max_connections: open WebSockets per process; more get 503. Lowered at start to what
            the process's descriptor limit (RLIMIT_NOFILE) allows.
        max_connections_per_address: open WebSockets per client address (the proxy's
            forwarded one with ``--behind-proxy``); more get 429, so idle connections from
            one address cannot lock the others out. The default fits a class of 60 behind
            one NAT with a couple of tabs each.
        shutdown_grace_s: on SIGTERM, how long running steps may take to finish.
    """

    max_message_bytes: int = MAX_MESSAGE_BYTES
    max_in_flight: int = 64
    max_queued_bytes: int = 64 * 1024 * 1024
    max_queued_per_connection: int = 4
    fair_round_s: float = 0.5
    min_slice_s: float = 0.02
    write_buffer_bytes: int = 256 * 1024
    slow_reader_timeout_s: float = 10.0
    max_partial_bytes: int = 16 * 1024 * 1024
    partial_timeout_s: float = 10.0
    request_deadline_s: float = MAX_REQUEST_MS / 1000 + 10.0
    ping_interval_s: float = 20.0
    ping_timeout_s: float = 20.0
    idle_connection_timeout_s: float = 30.0
    body_timeout_s: float = 10.0
    max_body_bytes: int = 64 * 1024
    max_header_bytes: int = 16 * 1024
    max_connections: int = 10_000
    max_connections_per_address: int = 150
    shutdown_grace_s: float = 10.0

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise ConfigError(f"{field.name} must be a positive number, got {value!r}")
        if self.ping_timeout_s > self.ping_interval_s:
            raise ConfigError(
                f"ping_timeout_s ({self.ping_timeout_s}) must not exceed "
                f"ping_interval_s ({self.ping_interval_s}): Tornado would clamp it"
            )
