"""Training and evaluation: a pure function from (network, optimizer state, data) to new ones.

Nothing is kept between calls. Randomness is counter-based: the minibatch order of epoch e
comes from a generator seeded with ``stream_seed(seed, BATCH_STREAM, e)`` and the dropout masks
of global step s from ``stream_seed(seed, DROPOUT_STREAM, s)``, so (seed, global_step) is the
whole RNG state and N calls of k steps equal one call of N·k steps.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor

from nnvisu.engine.network import (
    ACTIVATIONS,
    NetSpec,
    Network,
    forward,
    layer_views,
    loss_and_grad,
    make_features,
    num_params,
)
from nnvisu.engine.optim import make_update

BATCH_STREAM = 1
DROPOUT_STREAM = 2
_MASK64 = (1 << 64) - 1
#: Steps between two cheap divergence checks inside the loop (stops a NaN run early).
_CHECK_EVERY = 256


def _splitmix64(z: int) -> int:
    z = (z + 0x9E3779B97F4A7C15) & _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return z ^ (z >> 31)


def stream_seed(seed: int, stream: int, counter: int) -> int:
    """The torch.Generator seed of draw ``counter`` of random stream ``stream`` (0..255)."""
    key = _splitmix64((seed << 8) | stream)
    return _splitmix64((key + counter) & _MASK64)


@dataclass(frozen=True)
class TrainOptions:
    """How to train: optimizer and its hyperparameters, regularisation, batching, duration."""

    optimizer: str = "sgd"
    learning_rate: float = 0.03
    momentum: float = 0.0
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    alpha: float = 0.99
    weight_decay: float = 0.01  # AdamW only
    l1: float = 0.0
    l2: float = 0.0
    dropout: float = 0.0
    batch_size: int | None = None  # None (or >= the training points): full batch
    steps: int = 1
    time_budget_ms: float | None = None  # stop when this much time has passed (>= 1 step)
    seed: int = 0


@dataclass
class OptimizerState:
    """What the optimizer carries between steps; ``buffers`` are flat, network-shaped."""

    optimizer: str
    step: int = 0  # the optimizer's own count (Adam's bias correction); 0 = fresh buffers
    global_step: int = 0  # every step ever trained: drives minibatch order and dropout
    buffers: dict[str, Tensor] = field(default_factory=dict)

    def restart(self, optimizer: str) -> OptimizerState:
        """Fresh buffers for another optimizer; the global step (the RNG position) goes on."""
        return OptimizerState(optimizer, 0, self.global_step, {})


@dataclass(frozen=True)
class Data:
    """Points: ``xy`` (n×2 float32), ``target`` (int64 labels or float32 values), ``test`` flags."""

    xy: Tensor
    target: Tensor
    test: Tensor


@dataclass(frozen=True)
class Metrics:
    """Losses (without penalties) and accuracies, eval mode; None when nothing to score."""

    train_loss: float | None
    test_loss: float | None
    accuracy: float | None
    test_accuracy: float | None

    def finite(self) -> bool:
        """True when no metric is NaN or infinite."""
        values = (self.train_loss, self.test_loss, self.accuracy, self.test_accuracy)
        return all(v is None or math.isfinite(v) for v in values)


@dataclass
class TrainResult:
    """The outcome of :func:`train`."""

    network: Network
    state: OptimizerState
    metrics: Metrics
    steps: int  # steps run by this call
    batch_size: int  # the effective minibatch size (the training points for full batch)
    train_points: int


class DivergedError(ArithmeticError):
    """The loss, the weights or the optimizer's buffers became NaN or infinite."""

    def __init__(self, steps: int) -> None:
        super().__init__(f"training diverged after {steps} steps")
        self.steps = steps


class _Batches:
    """The minibatch of each global step; one randperm per epoch, cached while it lasts."""

    def __init__(self, inputs: Tensor, target: Tensor, batch_size: int | None, seed: int) -> None:
        n = inputs.shape[0]
        self.full = batch_size is None or batch_size >= n
        self.size = n if batch_size is None or self.full else batch_size
        self.per_epoch = math.ceil(n / self.size)
        self.inputs, self.target, self.seed = inputs, target, seed
        self.epoch = -1
        self.shuffled = (inputs, target)
        # Batch sizes as float32 scalars for the loss gradient: the size, and the last batch's.
        last = n - (self.per_epoch - 1) * self.size
        self.counts = {size: torch.tensor(float(size)) for size in {self.size, last}}

    def __call__(self, global_step: int) -> tuple[Tensor, Tensor]:
        if self.full:  # every point, in the given order: no shuffling needed
            return self.inputs, self.target
        epoch, k = divmod(global_step, self.per_epoch)
        if epoch != self.epoch:
            gen = torch.Generator().manual_seed(stream_seed(self.seed, BATCH_STREAM, epoch))
            order = torch.randperm(self.inputs.shape[0], generator=gen)
            self.epoch, self.shuffled = epoch, (self.inputs[order], self.target[order])
        lo = k * self.size  # slices of the shuffled copy are views: no copy per step
        return self.shuffled[0][lo : lo + self.size], self.shuffled[1][lo : lo + self.size]


def penalty_grad(weights: Tensor, l1: float, l2: float) -> Tensor:
    """d/dw of the penalty l1·Σ|w| + l2·½·Σw² (weight matrices only; biases are not penalised).

    Rounded as autograd rounds it (2·(½l2·w) + l1·sign w, then added to the loss gradient), so
    the gradient stays bit for bit autograd's.
    """
    if not l2:
        return torch.sign(weights).mul_(l1)
    half = (weights * (0.5 * l2)).mul_(2.0)
    return half.add_(torch.sign(weights).mul_(l1)) if l1 else half


def dropout_masks(
    seed: int, global_step: int, rows: int, widths: tuple[int, ...], p: float
) -> list[Tensor]:
    """Inverted-dropout masks of one step: 0 (dropped) or 1/(1-p), one (rows × width) per layer."""
    gen = torch.Generator().manual_seed(stream_seed(seed, DROPOUT_STREAM, global_step))
    scale = 1.0 / (1.0 - p)
    return [(torch.rand(rows, w, generator=gen) >= p).float().mul_(scale) for w in widths]


def train(
    spec: NetSpec,
    opts: TrainOptions,
    net: Network,
    state: OptimizerState,
    data: Data,
    deadline: float | None = None,
) -> TrainResult:
    """Train ``opts.steps`` steps (fewer if the time budget or ``deadline`` runs out).

    Args:
        spec: the architecture; ``net.sizes`` must equal ``spec.sizes``.
        opts: optimizer, regularisation, batching and duration.
        net: the starting parameters (not modified).
        state: the optimizer state for ``opts.optimizer`` (not modified).
        data: at least one training point (``test`` False).
        deadline: a ``time.perf_counter()`` value after which no new step starts.

    Returns:
        The new network and optimizer state, metrics after training, and the step count.

    Raises:
        DivergedError: the run produced NaN or infinite values.
        ValueError: the network does not fit the spec or there is no training point.
    """
    if net.sizes != spec.sizes:
        raise ValueError(f"network sizes {net.sizes} != architecture {spec.sizes}")
    started = time.perf_counter()
    stop_at = math.inf if deadline is None else deadline
    if opts.time_budget_ms is not None:
        stop_at = min(stop_at, started + opts.time_budget_ms / 1000)

    inputs = make_features(spec.features, data.xy)
    x_train, y_train = inputs, data.target
    if bool(data.test.any()):
        x_train, y_train = inputs[~data.test], data.target[~data.test]
    if x_train.shape[0] == 0:
        raise ValueError("no training points")
    grad_target = y_train.view(-1, 1) if spec.regression else y_train  # MSE wants a column
    batches = _Batches(x_train, grad_target, opts.batch_size, opts.seed)

    params = net.flat.clone()
    grad = torch.zeros_like(params)
    weights, biases = layer_views(params, net.sizes)
    grad_weights, grad_biases = layer_views(grad, net.sizes)
    n_weights = num_params(net.sizes)[0]
    weights_flat, grad_weights_flat = params[:n_weights], grad[:n_weights]
    buffers = {name: buf.clone() for name, buf in state.buffers.items()}
    update = make_update(
        opts.optimizer, params, grad, buffers, lr=opts.learning_rate, momentum=opts.momentum,
        beta1=opts.beta1, beta2=opts.beta2, eps=opts.eps, alpha=opts.alpha,
        weight_decay=opts.weight_decay,
    )  # fmt: skip
    act = ACTIVATIONS[spec.activation]
    step, global_step, ran = state.step, state.global_step, 0
    while ran < opts.steps:
        if ran and time.perf_counter() >= stop_at:
            break
        x, target = batches(global_step)
        masks = None
        if opts.dropout > 0 and spec.hidden_layers:
            masks = dropout_masks(
                opts.seed, global_step, x.shape[0], spec.hidden_layers, opts.dropout
            )
        loss_and_grad(act, weights, biases, grad_weights, grad_biases, x, target,
                      spec.regression, masks, batches.counts.get(x.shape[0]))  # fmt: skip
        if opts.l1 or opts.l2:
            grad_weights_flat.add_(penalty_grad(weights_flat, opts.l1, opts.l2))
        step += 1
        update(step)
        global_step += 1
        ran += 1
        if ran % _CHECK_EVERY == 0 and not bool(torch.isfinite(params).all()):
            break  # diverged: no point in going on, reported below

    new_net = Network(net.sizes, params)
    with torch.no_grad():
        metrics = _metrics(spec, forward(spec, new_net, inputs), data)
    if not (metrics.finite() and _all_finite(params, *buffers.values())):
        raise DivergedError(ran)
    return TrainResult(
        network=new_net,
        state=OptimizerState(opts.optimizer, step, global_step, buffers),
        metrics=metrics,
        steps=ran,
        batch_size=batches.size,
        train_points=x_train.shape[0],
    )


def _all_finite(*tensors: Tensor) -> bool:
    return all(bool(torch.isfinite(t).all()) for t in tensors)


def _score(spec: NetSpec, outputs: Tensor, target: Tensor) -> list[Tensor]:
    """[loss] (regression) or [loss, accuracy] (classification) of raw outputs."""
    if spec.regression:
        return [F.mse_loss(outputs[:, 0], target)]
    correct = (outputs.argmax(dim=1) == target).float().mean()
    return [F.cross_entropy(outputs, target), correct]


def _metrics(spec: NetSpec, outputs: Tensor, data: Data) -> Metrics:
    """Metrics of the training and the test points from the outputs of all points."""
    test = data.test
    if not bool(test.any()):  # no test points: no indexing
        train_scores = _score(spec, outputs, data.target) if outputs.shape[0] else []
        test_scores = []
    else:
        train = ~test
        has_train = bool(train.any())
        train_scores = _score(spec, outputs[train], data.target[train]) if has_train else []
        test_scores = _score(spec, outputs[test], data.target[test])
    (train_loss, accuracy), (test_loss, test_accuracy) = map(_floats, (train_scores, test_scores))
    return Metrics(train_loss, test_loss, accuracy, test_accuracy)


def _floats(scores: list[Tensor]) -> list[float | None]:
    """[loss, accuracy] as floats, None for what was not computed."""
    values: list[float | None] = torch.stack(scores).tolist() if scores else []
    return values + [None] * (2 - len(values))


@dataclass(frozen=True)
class Evaluation:
    """Metrics plus per-point predictions (softmax probabilities n×C, or values n)."""

    metrics: Metrics
    predictions: Tensor


@torch.no_grad()
def evaluate(spec: NetSpec, net: Network, data: Data) -> Evaluation:
    """Score a network on points (eval mode) and predict every point.

    Raises:
        DivergedError: the outputs are NaN or infinite.
    """
    if net.sizes != spec.sizes:
        raise ValueError(f"network sizes {net.sizes} != architecture {spec.sizes}")
    outputs = forward(spec, net, make_features(spec.features, data.xy))
    metrics = _metrics(spec, outputs, data)
    predictions = outputs[:, 0] if spec.regression else torch.softmax(outputs, dim=1)
    if not (metrics.finite() and _all_finite(predictions)):
        raise DivergedError(0)
    return Evaluation(metrics, predictions)
