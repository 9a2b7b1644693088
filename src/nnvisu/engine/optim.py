"""Optimizer updates on the flat parameter vector, op for op as torch.optim does them.

:func:`update` applies one in-place step given the 1-based step count (Adam's bias
correction needs it); it takes plain arguments so TorchScript can compile it (steps.py). The
formulas copy torch.optim's single-tensor implementations (the ones torch uses on CPU), so a
request-by-request run matches a stateful ``torch.optim`` loop; tests/test_stateless.py checks
that. Buffers (flat, network-shaped) are named as torch.optim names them; a missing buffer
starts at zeros, which for SGD's momentum is the same as torch's ``clone(grad)`` on the first
step.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from nnvisu.tables import BUFFER_NAMES, OPTIMIZER_CODES, Opt

#: Buffer names each optimizer keeps, as in ``torch.optim.<Optimizer>.state`` (nnvisu.tables).
BUFFERS: dict[str, tuple[str, ...]] = BUFFER_NAMES
OPTIMIZERS = tuple(BUFFERS)


@dataclass(frozen=True)
class Hyper:
    """Optimizer hyperparameters (torch.optim's names); ``weight_decay`` is AdamW's only."""

    lr: float
    momentum: float = 0.0
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    alpha: float = 0.99
    weight_decay: float = 0.0

    def as_list(self) -> list[float]:
        """The order :func:`update` reads them in."""
        return [self.lr, self.momentum, self.beta1, self.beta2, self.eps, self.alpha,
                self.weight_decay]  # fmt: skip


def plan(
    optimizer: str, params: Tensor, buffers: dict[str, Tensor], hyper: Hyper
) -> tuple[int, list[Tensor], Hyper]:
    """How to update: the code, the buffers and the hyperparameters :func:`update` takes.

    Buffers the optimizer uses but ``buffers`` lacks are added to it as zeros;
    ``weight_decay`` is zeroed unless AdamW.

    Raises:
        ValueError: ``optimizer`` is not in nnvisu.tables.OPTIMIZERS.
    """

    def buffer(name: str) -> Tensor:
        return buffers.setdefault(name, torch.zeros_like(params))

    if optimizer == "sgd":
        if hyper.momentum == 0:
            return Opt.SGD.value, [], hyper  # no buffer: plain SGD
        return Opt.SGD.value, [buffer("momentum_buffer")], hyper
    if optimizer in ("adam", "adamw"):
        decay = hyper.weight_decay if optimizer == "adamw" else 0.0
        hyper = Hyper(**{**vars(hyper), "weight_decay": decay})
        return OPTIMIZER_CODES[optimizer], [buffer("exp_avg"), buffer("exp_avg_sq")], hyper
    if optimizer == "rmsprop":
        used = [buffer("square_avg")]
        if hyper.momentum > 0:
            used.append(buffer("momentum_buffer"))
        return Opt.RMSPROP.value, used, hyper
    raise ValueError(f"unknown optimizer {optimizer!r}")


def update(
    p: Tensor, g: Tensor, optimizer: int, hyper: list[float], buffers: list[Tensor], step: int
) -> None:
    """One in-place step of ``optimizer`` (a :func:`plan` code) at 1-based optimizer ``step``.

    ``hyper`` is :meth:`Hyper.as_list`; ``buffers`` as :func:`plan` returns them.

    Raises:
        ValueError: (RuntimeError once compiled) ``optimizer`` is no optimizer's code.
    """
    lr = hyper[0]
    if optimizer == Opt.SGD.value:
        if len(buffers) == 0:
            p.add_(g, alpha=-lr)
        else:
            buf = buffers[0]
            buf.mul_(hyper[1]).add_(g)  # dampening 0, no Nesterov: torch.optim.SGD defaults
            p.add_(buf, alpha=-lr)
    elif optimizer == Opt.ADAM.value or optimizer == Opt.ADAMW.value:  # plan(): decay for AdamW
        beta1, beta2, eps, decay = hyper[2], hyper[3], hyper[4], hyper[6]
        exp_avg, exp_avg_sq = buffers[0], buffers[1]
        if decay != 0.0:
            p.mul_(1 - lr * decay)  # AdamW: decoupled weight decay, before the moments
        exp_avg.lerp_(g, 1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(g, g, value=1 - beta2)
        bias_correction1 = 1 - beta1**step
        bias_correction2 = 1 - beta2**step
        denom = (exp_avg_sq.sqrt() / bias_correction2**0.5).add_(eps)
        p.addcdiv_(exp_avg, denom, value=-(lr / bias_correction1))
    elif optimizer == Opt.RMSPROP.value:
        alpha, eps = hyper[5], hyper[4]
        square_avg = buffers[0]
        square_avg.mul_(alpha).addcmul_(g, g, value=1 - alpha)
        avg = square_avg.sqrt().add_(eps)
        if len(buffers) > 1:
            buf = buffers[1]
            buf.mul_(hyper[1]).addcdiv_(g, avg)
            p.add_(buf, alpha=-lr)
        else:
            p.addcdiv_(g, avg, value=-lr)
    else:
        raise ValueError("unknown optimizer code " + str(optimizer))
