"""The ``Host`` check against DNS rebinding.

A page on ``evil.example`` whose name is re-pointed at 127.0.0.1 is same-origin with itself,
so the Origin check lets it talk to a server bound to loopback. Its requests still carry
``Host: evil.example``: a server bound to a loopback address therefore accepts only loopback
names (``127.0.0.1``, ``localhost``, ``[::1]``, any port) plus the names given with
``--allow-host`` (e.g. the public name a reverse proxy forwards). A server bound to another
address serves whatever names reach it, unless ``--allow-host`` lists them.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable

from nnvisu.server.errors import ConfigError

_HOST_RE = re.compile(
    r"(?P<name>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~!$&'()*+,;=%-]+)(?::(?P<port>\d{1,5}))?"
)


def split_host(value: str) -> tuple[str, int | None] | None:
    """``("name", port)`` of a Host header (``[::1]:8765`` -> ``("::1", 8765)``), or None."""
    match = _HOST_RE.fullmatch(value.strip())
    if match is None:
        return None
    name = match["name"].lower()
    name = name[1:-1] if name.startswith("[") else name.rstrip(".")
    return name, None if match["port"] is None else int(match["port"])


def is_loopback(name: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


class HostPolicy:
    """Which ``Host`` headers a server accepts.

    Args:
        bind: the address the server listens on.
        allowed: extra names (``--allow-host``), each ``name`` or ``name:port``.

    Raises:
        ConfigError: an entry is not a host name.
    """

    def __init__(self, bind: str, allowed: Iterable[str] = ()) -> None:
        self._allowed: set[tuple[str, int | None]] = set()
        for value in allowed:
            parsed = split_host(value)
            if parsed is None:
                raise ConfigError(f"--allow-host takes a host name or name:port, got {value!r}")
            self._allowed.add(parsed)
        self.checked = is_loopback(bind.strip("[]")) or bool(self._allowed)

    def check(self, header: str | None) -> str | None:
        """None to accept a request with this ``Host``, else why it is refused."""
        if not self.checked:
            return None
        parsed = split_host(header or "")
        if parsed is None:
            return f"Host {str(header)[:100]!r} is not a host name"
        name, port = parsed
        if is_loopback(name) or (name, port) in self._allowed or (name, None) in self._allowed:
            return None
        return (
            f"Host {name!r} is not served here (DNS rebinding protection); a reverse proxy's "
            "public name must be given with --allow-host"
        )
