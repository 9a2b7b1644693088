"""The reference every speed is compared with: a plain stateful torch training loop."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn


def training_loop(
    model: nn.Module,
    opt: torch.optim.Optimizer,
    x: torch.Tensor,
    y: torch.Tensor,
    batch: int | None,
) -> Callable[[int], None]:
    """What a user writes (autograd, torch.optim, cross-entropy, a shuffled copy of the points
    per epoch, minibatches of ``batch``; None: full batch); returns run(steps)."""
    n = len(x)
    size = batch or n
    per_epoch = math.ceil(n / size)
    state = {"step": 0, "xs": x, "ys": y}

    def run(steps: int) -> None:
        for _ in range(steps):
            k = state["step"] % per_epoch
            if k == 0 and size < n:  # a new epoch: a fresh shuffled copy
                order = torch.randperm(n)
                state["xs"], state["ys"] = x[order], y[order]
            xb, yb = state["xs"][k * size : (k + 1) * size], state["ys"][k * size : (k + 1) * size]
            loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            state["step"] += 1

    return run
