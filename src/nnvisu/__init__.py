"""nnvisu: an interactive neural-network playground that trains a real PyTorch model.

The public surface is small: :class:`NNVisu` (the Jupyter widget), :func:`handle_message`
(the one protocol dispatcher both hosts use), :func:`watch` (a live view of your own model in
your own training loop), :mod:`nnvisu.datasets` and ``__version__``.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from nnvisu._version import __version__

if TYPE_CHECKING:
    from nnvisu import datasets
    from nnvisu.dispatch import handle_message
    from nnvisu.watcher import watch
    from nnvisu.widget import NNVisu

__all__ = ["NNVisu", "__version__", "datasets", "handle_message", "watch"]

# Imported on first use (PEP 562): the server's supervisor process and `--help` need neither
# torch nor anywidget, which cost ~250 MB and seconds to import.
_LAZY = {
    "NNVisu": "nnvisu.widget",
    "handle_message": "nnvisu.dispatch",
    "datasets": "nnvisu.datasets",
    "watch": "nnvisu.watcher",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module = import_module(_LAZY[name])
        value = module if name == "datasets" else getattr(module, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'nnvisu' has no attribute {name!r}")
