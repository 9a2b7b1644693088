"""The server's exceptions: one base class, one subclass per way things go wrong."""

from __future__ import annotations


class ServerError(Exception):
    """Base class of every error the standalone server raises on purpose."""


class ConfigError(ServerError):
    """A setting (CLI flag or :class:`~nnvisu.server.limits.Limits` field) is invalid."""


class BadOrigin(ServerError):
    """An ``Origin`` (or ``Host``) header is not a plain ``scheme://host[:port]``."""


class StartupError(ServerError):
    """The server could not start, e.g. the port is taken or a worker did not come up."""
