"""nnvisu: an interactive neural-network playground that trains a real PyTorch model.

The public surface is small: :class:`NNVisu` (the Jupyter widget), :func:`handle_message`
(the one protocol dispatcher both hosts use), :mod:`nnvisu.datasets` and ``__version__``.
"""

from importlib.metadata import PackageNotFoundError, version

from nnvisu import datasets
from nnvisu.dispatch import handle_message
from nnvisu.widget import NNVisu

try:
    __version__ = version("nnvisu")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

__all__ = ["NNVisu", "__version__", "datasets", "handle_message"]
