"""The standalone multi-user server: the page, its bundle and a stateless protocol WebSocket.

``python -m nnvisu.server --help`` for the command line; :func:`make_state`,
:func:`make_app` and :class:`Server` to embed it.
"""

from nnvisu.server.app import Server, make_app, make_state
from nnvisu.server.cli import main
from nnvisu.server.limits import Limits

__all__ = ["Limits", "Server", "main", "make_app", "make_state"]
