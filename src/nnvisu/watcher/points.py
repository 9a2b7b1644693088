"""The points a watch view scores and draws: training and optional test points, checked."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from nnvisu import datasets
from nnvisu.protocol.messages import MAX_POINTS


@dataclass(frozen=True)
class Points:
    """``x`` (n, 2) float32 and ``y`` (n,) int64 classes or float32 targets; the same for test."""

    x: npt.NDArray[np.float32]
    y: npt.NDArray[Any]
    x_test: npt.NDArray[np.float32]
    y_test: npt.NDArray[Any]

    @classmethod
    def of(cls, X: Any, y: Any, X_test: Any = None, y_test: Any = None) -> Points:
        """Check and convert numpy/torch/pandas/list inputs.

        Raises:
            ValueError: bad shapes or values, test points without labels (or the reverse),
                or train and test labels of different kinds.
        """
        x, labels = _pair(X, y, "X", "y")
        if len(x) == 0:
            raise ValueError("X holds no points: watch needs at least one training point")
        if (X_test is None) != (y_test is None):
            raise ValueError("give both X_test and y_test, or neither")
        if X_test is None:
            x_test, labels_test = np.zeros((0, 2), np.float32), labels[:0]
        else:
            x_test, labels_test = _pair(X_test, y_test, "X_test", "y_test")
            if (labels.dtype.kind == "f") != (labels_test.dtype.kind == "f"):
                raise ValueError("y and y_test must both be class labels or both float targets")
        if labels.dtype.kind != "f" and min(labels.min(), labels_test.min(initial=0)) < 0:
            raise ValueError("class labels must be non-negative integers")
        return cls(x, labels, x_test, labels_test)

    def all_xy(self) -> npt.NDArray[np.float64]:
        """Every point's coordinates (train then test)."""
        return np.concatenate([self.x, self.x_test]).astype(np.float64)


def _pair(X: Any, y: Any, x_name: str, y_name: str) -> tuple[npt.NDArray[np.float32], Any]:
    try:
        x, labels = datasets._check_xy(_numpy(X), _numpy(y))
    except ValueError as error:
        raise ValueError(f"{x_name}, {y_name}: {error}") from None
    if labels.dtype.kind == "f":
        return x.astype(np.float32), labels.astype(np.float32)
    return x.astype(np.float32), labels


def _numpy(values: Any) -> Any:
    """Tensors (any device) and DataFrames/Series as numpy arrays."""
    if hasattr(values, "detach"):
        return values.detach().cpu().numpy()
    if hasattr(values, "to_numpy"):
        return values.to_numpy()
    return values


def page_points(points: Points) -> list[dict[str, Any]]:
    """The points the page draws: all of them, or an even sample of MAX_POINTS."""
    xy = points.all_xy()
    labels = np.concatenate([points.y, points.y_test]).tolist()
    test = [False] * len(points.x) + [True] * len(points.x_test)
    keep = range(len(xy))
    if len(xy) > MAX_POINTS:
        keep = np.linspace(0, len(xy) - 1, MAX_POINTS).astype(int).tolist()
    return [
        {"x": float(xy[i, 0]), "y": float(xy[i, 1]), "label": labels[i], "test": test[i]}
        for i in keep
    ]
