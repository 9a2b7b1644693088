"""The private torch operators the engine calls, all here (an underscore means no promise).

Each one is what autograd or ``torch.optim`` itself calls, used so that the hand-written
backward stays bit for bit autograd's and the gradient is written in one dispatch.
tests/test_private_ops.py states what nnvisu relies on (each one's signature, and that it
equals its public equivalent): a torch release that changes one fails there first.
"""

from __future__ import annotations

import torch
from torch import Tensor


def log_softmax_backward(grad: Tensor, log_p: Tensor) -> Tensor:
    """dL/dlogits from dL/dlog_p, where ``log_p = log_softmax(logits, 1)``: autograd's kernel."""
    out: Tensor = torch.ops.aten._log_softmax_backward_data(grad, log_p, 1, log_p.dtype)
    return out


def copy_all(targets: list[Tensor], sources: list[Tensor]) -> None:
    """``targets[i].copy_(sources[i])`` for every i, in one dispatch (torch.optim's foreach)."""
    torch._foreach_copy_(targets, sources)
