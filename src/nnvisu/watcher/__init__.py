"""Watch your own PyTorch model train in your own loop: :func:`watch` returns a live view."""

from __future__ import annotations

from typing import Any

from torch import nn

from nnvisu.watcher.points import Points
from nnvisu.watcher.view import WatchView

__all__ = ["WatchView", "watch"]


def watch(
    model: nn.Module,
    X: Any,
    y: Any,
    X_test: Any = None,
    y_test: Any = None,
    *,
    resolution: int = 64,
    neuron_resolution: int = 16,
) -> WatchView:
    """A live view of ``model`` while your own loop trains it.

    ``model`` is any ``nn.Module`` mapping (N, 2) points to (N, C) class logits (an (N, 1)
    logit for two classes also works) or an (N, 1) regression output: BatchNorm, residual
    connections, LayerNorm, a custom ``forward`` are all fine. The view shows its decision
    map (class probabilities blended with the playground's colours), the points, the loss
    curves and accuracy, each layer's per-neuron maps and a timeline to scrub back through.

    Call ``view.update(loss=loss, step=step)`` after each step, or ``view.attach(optimizer)``
    once. Each evaluation runs in eval mode under ``torch.no_grad()`` and restores the
    model's training mode and RNG state, so your run is unchanged; it is rate-limited and
    adapts to its own cost.

    Args:
        model: the model (on any device; the grid goes where its parameters are).
        X: training points (N, 2): numpy, torch, pandas or lists.
        y: their labels: integer classes or float regression targets.
        X_test: optional test points, scored and drawn hollow.
        y_test: their labels.
        resolution: cells a side of the decision map (8..256).
        neuron_resolution: cells a side of each neuron's map (4..64).

    Raises:
        TypeError: ``model`` is not an ``nn.Module``.
        ValueError: bad points or resolutions (the message says which).
    """
    for name, value, lo, hi in (("resolution", resolution, 8, 256),
                                ("neuron_resolution", neuron_resolution, 4, 64)):  # fmt: skip
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            raise ValueError(f"{name} must be an integer in [{lo}, {hi}], got {value!r}")
    points = Points.of(X, y, X_test, y_test)
    return WatchView(model, points, resolution=resolution, neuron_resolution=neuron_resolution)
