"""The square of the plane a watch view draws, and its grid of points.

The view's map is an n×n grid over a square around the data (10 % margin), cell index
``row * n + col`` with row 0 at the top (largest y) and column 0 at the left (smallest x),
the layout the page's map painter takes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

#: Margin around the data, as a fraction of its extent.
MARGIN = 0.1


@dataclass(frozen=True)
class Square:
    """The drawn square: centre (cx, cy) and half its side."""

    cx: float
    cy: float
    half: float

    @classmethod
    def around(cls, points: npt.NDArray[np.float64]) -> Square:
        """The smallest centred square holding every point, plus the margin."""
        lo, hi = points.min(axis=0), points.max(axis=0)
        centre = (lo + hi) / 2
        half = float(max(hi - lo) / 2) * (1 + 2 * MARGIN)
        return cls(float(centre[0]), float(centre[1]), half if half > 0 else 1.0)

    def bounds(self) -> list[float]:
        """``[x_min, x_max, y_min, y_max]``."""
        return [self.cx - self.half, self.cx + self.half, self.cy - self.half, self.cy + self.half]

    def grid(self, n: int) -> npt.NDArray[np.float32]:
        """The n×n grid's points, shape (n*n, 2), in the page's cell order; both edges included."""
        steps = np.linspace(-1.0, 1.0, n) if n > 1 else np.zeros(1)
        xs = self.cx + self.half * steps
        ys = self.cy - self.half * steps  # row 0 is the top
        gx, gy = np.meshgrid(xs, ys)
        return np.stack([gx.ravel(), gy.ravel()], axis=1).astype(np.float32)
