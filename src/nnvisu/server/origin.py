"""Exact-match Origin checking for the WebSocket handshake.

Browsers let any page open a WebSocket to any host, so the handshake's ``Origin`` header is
the only thing that stops a page on ``evil.example`` from driving a server on 127.0.0.1
(cross-site WebSocket hijacking; cf. CVE-2026-21883, CVE-2026-40110, CVE-2014-3429). The
rules here are deliberately strict:

* an origin must be exactly ``http(s)://host[:port]``: no path, no userinfo, no whitespace,
  no ``null``; anything else is rejected rather than "cleaned up";
* origins compare as ``(scheme, host, port)`` tuples with default ports filled in, never as
  string prefixes or suffixes (``http://127.0.0.1:8765.evil.example`` is not ours);
* by default only the page's own origin (the ``Host`` header with the request's scheme) is
  accepted, plus each origin the operator allowed explicitly.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from nnvisu.server.errors import BadOrigin

_DEFAULT_PORTS = {"http": 80, "https": 443}
# A DNS name or IPv4 address, or a bracketed IPv6 literal. No "@", no "/", nothing else.
_HOST = r"(?P<host>[a-z0-9_](?:[a-z0-9_.-]{0,251}[a-z0-9_])?|\[[0-9a-f:.]{2,45}\])"
_PORT = r"(?::(?P<port>[1-9][0-9]{0,4}))?"  # no leading zeros: browsers never send them
_ORIGIN_RE = re.compile(rf"(?P<scheme>https?)://{_HOST}{_PORT}", re.IGNORECASE)
_HOST_RE = re.compile(rf"{_HOST}{_PORT}", re.IGNORECASE)


@dataclass(frozen=True)
class Origin:
    """A normalised web origin: lower-case scheme and host, explicit port."""

    scheme: str
    host: str
    port: int

    def __str__(self) -> str:
        if _DEFAULT_PORTS[self.scheme] == self.port:
            return f"{self.scheme}://{self.host}"
        return f"{self.scheme}://{self.host}:{self.port}"


def _port(text: str | None, scheme: str, value: str) -> int:
    if text is None:
        return _DEFAULT_PORTS[scheme]
    port = int(text)
    if not 0 < port < 65536:
        raise BadOrigin(f"port out of range in {value!r}")
    return port


def parse_origin(value: str) -> Origin:
    """Parse an ``Origin`` header; raise :class:`BadOrigin` unless it is exactly one origin."""
    match = _ORIGIN_RE.fullmatch(value)
    if match is None:
        raise BadOrigin(f"not a scheme://host[:port] origin: {value[:200]!r}")
    scheme = match["scheme"].lower()
    return Origin(scheme, match["host"].lower(), _port(match["port"], scheme, value))


def host_origin(scheme: str, host_header: str) -> Origin:
    """The origin a page served for this request has: its scheme plus the ``Host`` header."""
    scheme = scheme.lower()
    match = _HOST_RE.fullmatch(host_header)
    if scheme not in _DEFAULT_PORTS or match is None:
        raise BadOrigin(f"cannot derive an origin from {scheme!r} and Host {host_header[:200]!r}")
    return Origin(scheme, match["host"].lower(), _port(match["port"], scheme, host_header))


class OriginPolicy:
    """Decides whether a WebSocket handshake's ``Origin`` may connect.

    Args:
        allowed: origins accepted in addition to the page's own (``--allow-origin``);
            each must parse with :func:`parse_origin`, else :class:`BadOrigin` is raised.
    """

    def __init__(self, allowed: Iterable[str] = ()) -> None:
        self._allowed = frozenset(parse_origin(value) for value in allowed)

    @property
    def allowed(self) -> frozenset[Origin]:
        """The explicitly allowed origins (the page's own origin is always allowed too)."""
        return self._allowed

    def check(self, origin: str | None, scheme: str, host_header: str | None) -> str | None:
        """Return ``None`` to accept the handshake, or the reason to reject it.

        A missing ``Origin`` is accepted: browsers always send one with a WebSocket
        handshake, so its absence means a non-browser client, which the header cannot
        constrain anyway.
        """
        if origin is None:
            return None
        try:
            parsed = parse_origin(origin)
        except BadOrigin as exc:
            return str(exc)
        if parsed in self._allowed:
            return None
        try:
            own = host_origin(scheme, host_header or "")
        except BadOrigin as exc:
            return str(exc)
        if parsed == own:
            return None
        return f"origin {origin!r} is neither this server's ({own}) nor an allowed origin"
