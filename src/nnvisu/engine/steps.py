"""A chunk of training steps as ONE TorchScript function: the same kernels, less overhead.

A playground network is tiny, so a step costs what dispatching its ~25-50 tensor operations
costs, not what they compute: from Python each op pays ~2-3 µs of interpreter, argument
parsing and dispatch; inside a TorchScript function about 1 µs. :func:`run_steps` runs
``count`` steps of :func:`~nnvisu.engine.network.backprop`, the penalties and
:func:`~nnvisu.engine.optim.update`: the aten kernels the eager code calls, in the same order,
so the compiled function is bit for bit the eager one. tests/test_engine.py checks that, and
:func:`runner` checks it once more (every optimizer, dropout, penalties) before trusting it.

TorchScript is in maintenance mode upstream. Without it (or if the self-check ever fails)
:func:`runner` returns the plain Python :func:`run_steps`: slower, the same numbers.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from nnvisu.engine.network import backprop, layer_views, num_params, penalty_grad
from nnvisu.engine.optim import update
from nnvisu.tables import Act, Opt


def run_steps(
    params: Tensor,
    grad: Tensor,
    weights: list[Tensor],
    weights_t: list[Tensor],
    biases: list[Tensor],
    grads: list[Tensor],
    epochs_x: list[Tensor],
    epochs_y: list[Tensor],
    size: int,
    per_epoch: int,
    first_batch: int,
    count: int,
    totals: list[Tensor],
    one: Tensor,
    act: int,
    regression: bool,
    masks: list[list[Tensor]],
    n_weights: int,
    l1: float,
    l2: float,
    optimizer: int,
    hyper: list[float],
    buffers: list[Tensor],
    first_step: int,
) -> None:
    """Run ``count`` optimizer steps, in place on ``params``, ``grad`` and ``buffers``.

    Minibatches: ``epochs_x``/``epochs_y`` are the shuffled copies of the epochs the chunk
    touches; step s trains on batch ``first_batch + s`` counted from the first one's start
    (``per_epoch`` batches of ``size`` rows each, an epoch's last batch may be shorter).
    Full batch (``per_epoch`` 1, ``size`` all the rows): every step trains on all of them.
    ``masks[s]`` are step s's dropout masks (``masks`` empty: no dropout); its optimizer step
    count is ``first_step + s`` (1-based). ``totals`` = [size, size of an epoch's last batch]
    as float32 scalars. ``weights``/``biases`` (``weights_t``: their transposes) are views into
    ``params``, ``grads`` views into ``grad`` (weights then biases), whose first
    ``n_weights`` entries are the weight matrices.
    """
    weights_flat = params[:n_weights]
    grad_weights_flat = grad[:n_weights]
    # Each epoch's batches as views, split once (two slices per step cost more).
    batches_x: list[list[Tensor]] = []
    batches_y: list[list[Tensor]] = []
    for e in range(len(epochs_x)):
        batches_x.append(list(torch.split(epochs_x[e], size)))
        batches_y.append(list(torch.split(epochs_y[e], size)))
    for s in range(count):
        e = (first_batch + s) // per_epoch if per_epoch > 1 else 0
        k = (first_batch + s) % per_epoch
        x = batches_x[e][k]
        target = batches_y[e][k]
        total = totals[0] if k < per_epoch - 1 else totals[1]
        step_masks = masks[s] if len(masks) > 0 else masks_none()
        backprop(act, weights, weights_t, biases, grads, x, target, regression, step_masks,
                 total, one)  # fmt: skip
        if l1 != 0.0 or l2 != 0.0:
            grad_weights_flat.add_(penalty_grad(weights_flat, l1, l2))
        update(params, grad, optimizer, hyper, buffers, first_step + s)


def masks_none() -> list[Tensor]:
    """No dropout masks (a typed empty list for TorchScript)."""
    empty: list[Tensor] = []
    return empty


Runner = Callable[..., None]

_lock = threading.Lock()
_runner: list[Runner] = []


def runner() -> Runner:
    """:func:`run_steps` compiled by TorchScript, or the plain function if that is not exact."""
    with _lock:
        if not _runner:
            _runner.append(_compile() or run_steps)
        return _runner[0]


def _compile() -> Runner | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch.jit.script's deprecation notice
            compiled: Any = torch.jit.script(run_steps)
        return compiled if _same_as_eager(compiled) else None
    except Exception:  # no TorchScript here (removed, no sources, ...): the eager path works
        return None


def _same_as_eager(compiled: Runner) -> bool:
    """A few chunks of every optimizer, with dropout and both penalties, both ways: equal?"""
    gen = torch.Generator().manual_seed(0)
    sizes = (3, 5, 4, 3)
    n_weights, total = num_params(sizes)
    xs = torch.rand(12, 3, generator=gen) * 2 - 1
    ys = torch.randint(0, 3, (12,), generator=gen)
    start = torch.rand(total, generator=gen) - 0.5
    masks = [[(torch.rand(n, w, generator=gen) > 0.3).float() / 0.7 for w in sizes[1:-1]]
             for n in (5, 2, 5)]  # fmt: skip
    hyper = [0.05, 0.5, 0.9, 0.999, 1e-8, 0.99, 0.01]
    for optimizer, n_buffers in ((Opt.SGD, 1), (Opt.ADAMW, 2), (Opt.RMSPROP, 2)):
        results = []
        for fn in (compiled, run_steps):
            params, grad = start.clone(), torch.zeros(total)
            buffers = [torch.zeros(total) for _ in range(n_buffers)]
            weights, biases = layer_views(params, sizes)
            grad_weights, grad_biases = layer_views(grad, sizes)
            for chunk in range(4):  # TorchScript's profiling executor optimises after a few runs
                fn(params, grad, weights, [w.t() for w in weights], biases,
                   grad_weights + grad_biases, [xs, xs.flip(0)], [ys, ys.flip(0)], 5, 3, 1, 3,
                   [torch.tensor(5.0), torch.tensor(2.0)], torch.ones(()),
                   Act.GELU.value, False, masks if chunk % 2 else [], n_weights, 0.001,
                   0.01, optimizer.value, hyper, buffers, 1 + 3 * chunk)  # fmt: skip
            results.append([params, *buffers])
        if not all(torch.equal(a, b) for a, b in zip(*results, strict=True)):
            return False
    return True
