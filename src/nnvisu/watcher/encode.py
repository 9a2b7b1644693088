"""Grids as compact bytes for the page: uint8 probabilities, float16 values, uint8 neuron maps.

Every map is node-major (node k's value at cell c is at ``k * cells + c``), the layout the
page's map painters take. Probabilities and neuron values are quantised to one byte over the
range the page's colours span ([0, 1]; neurons [-1, 1], where the colour scale saturates).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import torch
import torch.nn.functional as F
from torch import Tensor

#: float16's largest finite value: regression values beyond it are clamped.
FLOAT16_MAX = 65504.0


def probabilities(values: Tensor) -> bytes:
    """(cells, C) probabilities → C×cells bytes, p·255 rounded."""
    scaled = values.t().clamp(0, 1).mul(255).round()
    return bytes(scaled.to(torch.uint8).contiguous().numpy().tobytes())


def shrink(values: Tensor, n: int, size: int) -> Tensor:
    """(n*n, C) grid values → (size*size, C) on the same square (corners kept), bilinear."""
    if size == n:
        return values
    grid = values.t().reshape(1, -1, n, n)
    small = F.interpolate(grid, size=(size, size), mode="bilinear", align_corners=True)
    return small.reshape(-1, size * size).t()


def regression(values: Tensor) -> bytes:
    """(cells, 1) values → cells little-endian float16."""
    clamped = values.reshape(-1).clamp(-FLOAT16_MAX, FLOAT16_MAX).numpy()
    return clamped.astype("<f2").tobytes()


def neurons(values: Tensor) -> bytes:
    """(cells, units) values → units×cells bytes over [-1, 1]: (v + 1)·127.5 rounded."""
    scaled = values.t().clamp(-1, 1).add(1).mul(127.5).round()
    return bytes(scaled.to(torch.uint8).contiguous().numpy().tobytes())


def decode_probabilities(data: bytes, classes: int) -> npt.NDArray[Any]:
    """The page's reading of :func:`probabilities`: (cells, C) float probabilities."""
    values: npt.NDArray[Any] = np.frombuffer(data, np.uint8).reshape(classes, -1).T / 255.0
    return values
