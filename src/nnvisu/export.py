"""Export a network in the protocol's JSON form as an ordinary ``torch.nn.Module``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor, nn

from nnvisu.engine.activations import ACTIVATIONS as ENGINE_ACTIVATIONS
from nnvisu.engine.activations import Sine
from nnvisu.engine.network import FEATURES


class Features(nn.Module):
    """Expand points ``(..., 2)`` = (x, y) into the input features, in the configured order."""

    def __init__(self, features: Sequence[str]) -> None:
        super().__init__()
        unknown = [name for name in features if name not in FEATURES]
        if unknown:
            raise ValueError(f"unknown feature(s) {unknown}; known: {', '.join(FEATURES)}")
        self.features = tuple(features)

    def forward(self, points: Tensor) -> Tensor:
        """Return ``(..., len(features))`` features of ``(..., 2)`` points."""
        x, y = points[..., 0], points[..., 1]
        return torch.stack([FEATURES[name](x, y) for name in self.features], dim=-1)

    def extra_repr(self) -> str:
        """Show the feature names in the module's repr."""
        return ", ".join(self.features)


#: Hidden-layer activations as torch.nn modules, with the parameters the protocol defines.
ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    name: row.module for name, row in ENGINE_ACTIVATIONS.items()
}


def _linear(weight: list[list[float]], bias: list[float]) -> nn.Linear:
    w = torch.tensor(weight, dtype=torch.float32)
    layer = nn.Linear(w.shape[1], w.shape[0])
    with torch.no_grad():
        layer.weight.copy_(w)
        layer.bias.copy_(torch.tensor(bias, dtype=torch.float32))
    return layer


def to_torch(config: dict[str, Any], network: dict[str, Any]) -> nn.Sequential:
    """Build ``nn.Sequential(Features, Linear, activation, [Dropout], ..., Linear)`` in eval mode.

    The last layer outputs logits (classification: apply ``softmax`` for probabilities,
    ``cross_entropy`` for the loss) or the regression value. Dropout layers appear only when
    ``config["dropout"] > 0`` and, as in training, act only in train mode.
    """
    activation = ACTIVATIONS[config["activation"]]
    dropout = float(config.get("dropout", 0.0))
    layers: list[nn.Module] = [Features(config["features"])]
    pairs = list(zip(network["weights"], network["biases"], strict=True))
    for index, (weight, bias) in enumerate(pairs):
        layers.append(_linear(weight, bias))
        if index < len(pairs) - 1:
            layers.append(activation())
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers).eval()


__all__ = ["ACTIVATIONS", "Features", "Sine"]
