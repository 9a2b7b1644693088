"""Optimizer updates on the flat parameter vector, op for op as torch.optim does them.

Each ``make_*`` returns ``update(step)`` which applies one in-place step given the 1-based
step count (Adam's bias correction needs it). The formulas copy torch.optim's single-tensor
implementations (the ones torch uses on CPU), so a request-by-request run matches a stateful
``torch.optim`` loop; tests/test_stateless.py checks that. Buffers (flat, network-shaped) are
named as torch.optim names them; a missing buffer starts at zeros, which for SGD's momentum is
the same as torch's ``clone(grad)`` on the first step.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

#: Buffer names each optimizer keeps, as in ``torch.optim.<Optimizer>.state``.
BUFFERS: dict[str, tuple[str, ...]] = {
    "sgd": ("momentum_buffer",),
    "adam": ("exp_avg", "exp_avg_sq"),
    "adamw": ("exp_avg", "exp_avg_sq"),
    "rmsprop": ("square_avg", "momentum_buffer"),
}
OPTIMIZERS = tuple(BUFFERS)

Update = Callable[[int], None]


def make_update(
    optimizer: str,
    params: Tensor,
    grad: Tensor,
    buffers: dict[str, Tensor],
    *,
    lr: float,
    momentum: float = 0.0,
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-8,
    alpha: float = 0.99,
    weight_decay: float = 0.0,
) -> Update:
    """Return the in-place update of ``optimizer``; adds the buffers it needs (zeros).

    ``weight_decay`` is used by AdamW only (decoupled, torch.optim.AdamW semantics).
    """

    def buffer(name: str) -> Tensor:
        return buffers.setdefault(name, torch.zeros_like(params))

    if optimizer == "sgd":
        return _sgd(params, grad, lr, momentum, buffer)
    if optimizer in ("adam", "adamw"):
        decay = weight_decay if optimizer == "adamw" else 0.0
        return _adam(params, grad, lr, beta1, beta2, eps, decay, buffer)
    if optimizer == "rmsprop":
        return _rmsprop(params, grad, lr, alpha, eps, momentum, buffer)
    raise ValueError(f"unknown optimizer {optimizer!r}")


def _sgd(
    p: Tensor, g: Tensor, lr: float, momentum: float, buffer: Callable[[str], Tensor]
) -> Update:
    if momentum == 0:

        def plain(step: int) -> None:
            p.add_(g, alpha=-lr)

        return plain
    buf = buffer("momentum_buffer")

    def with_momentum(step: int) -> None:
        buf.mul_(momentum).add_(g)  # dampening 0, no Nesterov: torch.optim.SGD defaults
        p.add_(buf, alpha=-lr)

    return with_momentum


def _adam(
    p: Tensor,
    g: Tensor,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
    decay: float,
    buffer: Callable[[str], Tensor],
) -> Update:
    exp_avg, exp_avg_sq = buffer("exp_avg"), buffer("exp_avg_sq")

    def update(step: int) -> None:
        if decay != 0:
            p.mul_(1 - lr * decay)  # AdamW: decoupled weight decay, before the moments
        exp_avg.lerp_(g, 1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(g, g, value=1 - beta2)
        bias_correction1 = 1 - beta1**step
        bias_correction2 = 1 - beta2**step
        denom = (exp_avg_sq.sqrt() / bias_correction2**0.5).add_(eps)
        p.addcdiv_(exp_avg, denom, value=-(lr / bias_correction1))

    return update


def _rmsprop(
    p: Tensor,
    g: Tensor,
    lr: float,
    alpha: float,
    eps: float,
    momentum: float,
    buffer: Callable[[str], Tensor],
) -> Update:
    square_avg = buffer("square_avg")
    buf = buffer("momentum_buffer") if momentum > 0 else None

    def update(step: int) -> None:
        square_avg.mul_(alpha).addcmul_(g, g, value=1 - alpha)
        avg = square_avg.sqrt().add_(eps)
        if buf is not None:
            buf.mul_(momentum).addcdiv_(g, avg)
            p.add_(buf, alpha=-lr)
        else:
            p.addcdiv_(g, avg, value=-lr)

    return update
