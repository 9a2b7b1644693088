"""A chunk of training steps as ONE TorchScript function: the same kernels, less overhead.

A playground network is tiny, so a step costs what dispatching its ~25-50 tensor operations
costs, not what they compute: from Python each op pays ~2-3 µs of interpreter, argument
parsing and dispatch; inside a TorchScript function about 1 µs. :func:`run_steps` runs
``count`` steps of :func:`~nnvisu.engine.network.backprop`, the penalties and
:func:`~nnvisu.engine.optim.update`: the aten kernels the eager code calls, in the same order,
so the compiled function is bit for bit the eager one. tests/test_engine.py checks that, and
:func:`runner` checks it once more (every optimizer, dropout, penalties) before trusting it.

TorchScript is deprecated upstream. Without it (or if the self-check ever fails) :func:`runner`
returns the plain Python :func:`run_steps`, slower (about 2.5x on small networks) with the
same numbers, and logs a warning once. ``NNVISU_ENGINE=eager`` asks for that path outright;
``NNVISU_ENGINE=torchscript`` (or unset) for the compiled one.
"""

from __future__ import annotations

import logging
import os
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

log = logging.getLogger(__name__)

#: The environment variable that picks the engine, and the values it takes.
ENGINE_VARIABLE = "NNVISU_ENGINE"
ENGINES = ("torchscript", "eager")

_lock = threading.Lock()
#: The runner of each engine, made once per process (a cache: both give the same numbers).
_runners: dict[str, Runner] = {}


def engine_choice() -> str:
    """The engine ``NNVISU_ENGINE`` asks for: "torchscript" (also when unset) or "eager".

    Raises:
        ValueError: any other value (the message names the variable, the value and the choices).
    """
    raw = os.environ.get(ENGINE_VARIABLE, "")
    value = raw.strip().lower() or "torchscript"
    if value not in ENGINES:
        raise ValueError(f"{ENGINE_VARIABLE} must be 'torchscript' (the default) or 'eager', "
                         f"got {raw!r}")  # fmt: skip
    return value


def runner() -> Runner:
    """The step function of the engine :func:`engine_choice` names.

    "torchscript": :func:`run_steps` compiled, or the plain function if TorchScript fails or
    is not exact here (logged once, as a warning). "eager": the plain function.

    Raises:
        ValueError: ``NNVISU_ENGINE`` holds an unknown value.
    """
    choice = engine_choice()
    with _lock:
        if choice not in _runners:
            _runners[choice] = run_steps if choice == "eager" else _compile() or run_steps
        return _runners[choice]


def _compile() -> Runner | None:
    try:
        with warnings.catch_warnings():
            # torch.jit.script warns that it is deprecated on every call. nnvisu depends on it
            # knowingly (bit-exact with the eager code, about 2.5x faster, and checked below),
            # and a learner can do nothing about it; the eager path needs no TorchScript.
            warnings.filterwarnings("ignore", message=r"`torch\.jit\.script` is deprecated",
                                    category=DeprecationWarning)  # fmt: skip
            compiled: Any = torch.jit.script(run_steps)
    except Exception as error:  # no TorchScript here (removed, no sources, ...)
        log.warning("nnvisu: TorchScript cannot compile the training steps (%s: %s); training "
                    "runs in eager PyTorch instead: the same numbers, about 2.5x slower. Set "
                    "%s=eager to choose that path and skip this attempt.",
                    type(error).__name__, error, ENGINE_VARIABLE)  # fmt: skip
        return None
    if not _same_as_eager(compiled):
        log.warning(
            "nnvisu: TorchScript's training steps differ from eager PyTorch's in "
            "this torch; training runs in eager PyTorch instead: about 2.5x slower."
        )
        return None
    result: Runner = compiled
    return result


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
