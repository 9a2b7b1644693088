"""One forward pass of a user's model that leaves no trace on it.

Eval mode and ``torch.no_grad()`` for the pass; afterwards every module's own training flag
is put back and the RNG streams are where they were, so the user's training loop goes on
exactly as it would have without the view.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from nnvisu.watcher.capture import Capture, Layer


def device_of(model: nn.Module) -> tuple[torch.device, torch.dtype]:
    """Where the model's parameters live and their floating dtype (CPU float32 without any)."""
    for tensor in (*model.parameters(), *model.buffers()):
        if tensor.is_floating_point():
            return tensor.device, tensor.dtype
    return torch.device("cpu"), torch.float32


def forward_quietly(model: nn.Module, inputs: Tensor, rows: slice) -> tuple[Tensor, list[Layer]]:
    """``model(inputs)`` in eval mode without gradients, and its layers' values on ``rows``.

    Raises:
        Exception: whatever the model raises; TypeError if it returns no tensor.
    """
    modes = [(module, module.training) for module in model.modules()]
    devices = [inputs.device.index or 0] if inputs.device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices), torch.no_grad():
        try:
            model.eval()
            with Capture(model, rows) as capture:
                outputs = model(inputs)
        finally:
            for module, mode in modes:
                module.training = mode
    if not isinstance(outputs, Tensor):
        raise TypeError(f"the model returned a {type(outputs).__name__}; watch needs a tensor "
                        "of (N, C) logits or an (N, 1) regression output")  # fmt: skip
    return outputs.detach(), capture.layers
