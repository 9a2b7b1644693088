"""What a watched model predicts: class logits, one binary logit, or a regression value.

Decided once from the labels and the model's first output; then turns raw outputs into the
map's values (class probabilities, or the value) and scores points (loss, accuracy).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy.typing as npt
import torch
import torch.nn.functional as F
from torch import Tensor

from nnvisu.protocol.messages import MAX_CLASSES


class OutputMismatch(ValueError):
    """The model's outputs cannot be compared with the labels (the message says why)."""


@dataclass(frozen=True)
class Task:
    """``kind``: "classes" ((N, C) logits), "binary" ((N, 1) logit of class 1) or "regression"."""

    kind: str
    classes: int

    @property
    def problem(self) -> str:
        """The playground's name of the problem."""
        return "regression" if self.kind == "regression" else "classification"

    @classmethod
    def from_labels(cls, labels: npt.NDArray[Any]) -> Task:
        """The task the labels suggest, before the model has answered (shown until it has)."""
        if labels.dtype.kind == "f":
            return cls("regression", 1)
        return cls("classes", max(2, int(labels.max()) + 1 if labels.size else 2))

    @classmethod
    def infer(cls, labels: Tensor, outputs: Tensor) -> Task:
        """The task of a model whose outputs on some points are ``outputs``.

        Raises:
            OutputMismatch: outputs the labels cannot be compared with.
        """
        if outputs.ndim not in (1, 2):
            raise OutputMismatch(shape_message(outputs))
        width = outputs.shape[1] if outputs.ndim == 2 else None
        if labels.is_floating_point():
            if width not in (None, 1):
                raise OutputMismatch(
                    f"y holds float targets (regression) but the model outputs {width} values "
                    "a point; a regression model outputs (N, 1)"
                )
            return cls("regression", 1)
        needed = int(labels.max()) + 1 if labels.numel() else 2
        if width is None or width == 1:
            if needed > 2:
                raise OutputMismatch(
                    f"y holds {needed} classes but the model outputs one value a point; give "
                    f"(N, {needed}) logits"
                )
            return cls("binary", 2)
        if width < needed:
            raise OutputMismatch(
                f"y holds {needed} classes but the model outputs {width} logits a point"
            )
        if width > MAX_CLASSES:
            raise OutputMismatch(f"the model outputs {width} logits; the view draws at most "
                             f"{MAX_CLASSES} classes")  # fmt: skip
        return cls("classes", width)

    def values(self, outputs: Tensor) -> Tensor:
        """What the map draws: (N, C) class probabilities, or (N, 1) values."""
        if self.kind == "classes":
            return torch.softmax(outputs.float(), dim=1)
        column = outputs.float().reshape(-1, 1)
        if self.kind == "binary":
            p = torch.sigmoid(column)
            return torch.cat([1 - p, p], dim=1)
        return column

    def score(self, outputs: Tensor, labels: Tensor) -> tuple[float, float | None]:
        """(mean loss, accuracy or None) of raw ``outputs`` against ``labels``."""
        outputs = outputs.float()
        if self.kind == "regression":
            return float(F.mse_loss(outputs.reshape(-1), labels.float())), None
        if self.kind == "binary":
            logit = outputs.reshape(-1)
            loss = F.binary_cross_entropy_with_logits(logit, labels.float())
            hits = (logit > 0).long() == labels
        else:
            loss = F.cross_entropy(outputs, labels)
            hits = outputs.argmax(dim=1) == labels
        return float(loss), float(hits.float().mean())


def shape_message(outputs: Tensor) -> str:
    """Why outputs of this shape cannot be drawn."""
    return (
        f"the model's output has shape {tuple(outputs.shape)}; watch needs (N, C) class logits "
        "or an (N, 1) regression output for (N, 2) inputs"
    )
