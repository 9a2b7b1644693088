"""Training and evaluation: a pure function from (network, optimizer state, data) to new ones.

Nothing is kept between calls (only a cache of the features derived from a ``Data`` object,
keyed by its identity: a training loop sends the same points again and again). Steps run in
chunks of a few milliseconds through :func:`nnvisu.engine.steps.runner`, checking the time
budget between chunks; how steps are chunked changes nothing.

Randomness is counter-based: the minibatch order of epoch e comes from a generator seeded
with ``stream_seed(seed, BATCH_STREAM, e)`` and the dropout masks of global step s from
``stream_seed(seed, DROPOUT_STREAM, s)``, so (seed, global_step) is the whole RNG state and
N calls of k steps equal one call of N·k steps.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor

from nnvisu.engine.activations import ACTIVATIONS
from nnvisu.engine.network import (
    NetSpec,
    Network,
    forward,
    layer_views,
    make_features,
    num_params,
)
from nnvisu.engine.optim import Hyper, plan
from nnvisu.engine.steps import runner

BATCH_STREAM = 1
DROPOUT_STREAM = 2
_MASK64 = (1 << 64) - 1
#: Steps between two cheap divergence checks inside the loop (stops a NaN run early).
_CHECK_EVERY = 256
#: Seconds of training per compiled chunk (the time budget is checked between chunks)...
_CHUNK_S = 0.003
#: ...and at most this many steps per chunk.
_MAX_CHUNK = 1024


def _splitmix64(z: int) -> int:
    z = (z + 0x9E3779B97F4A7C15) & _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return z ^ (z >> 31)


def stream_seed(seed: int, stream: int, counter: int) -> int:
    """The torch.Generator seed of draw ``counter`` of random stream ``stream`` (0..255)."""
    key = _splitmix64((seed << 8) | stream)
    return _splitmix64((key + counter) & _MASK64)


class Deadline:
    """A ``time.perf_counter()`` value after which no new step starts.

    Another thread may bring it forward (:meth:`cut`) while :func:`train` runs (a server
    shortens a request this way when other learners start waiting); it is read between chunks.
    """

    __slots__ = ("at",)

    def __init__(self, at: float = math.inf) -> None:
        self.at = at

    def cut(self, at: float) -> None:
        """Bring the deadline forward to ``at`` (never later)."""
        self.at = min(self.at, at)


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
    """Points: ``xy`` (n×2 float32), ``target`` (int64 labels or float32 values), ``test`` flags.

    The tensors are treated as immutable: what the engine derives from them (features, the
    train/test split) is cached by the identity of this object.
    """

    xy: Tensor
    target: Tensor
    test: Tensor


@dataclass(frozen=True)
class _Prepared:
    """What every call on the same points and features derives first."""

    x_train: Tensor  # features of the training points, in data order
    y_train: Tensor  # their targets (a column for regression: MSE's gradient wants one)
    scored: Tensor  # features of every point, the training points first, then the test points
    scored_target: Tensor
    n_train: int


_prepared_lock = threading.Lock()
_prepared: OrderedDict[tuple[int, tuple[str, ...], bool], tuple[Data, _Prepared]] = OrderedDict()
#: Data objects whose derived tensors are kept (a cache: results never depend on it).
_PREPARED_SIZE = 8


def _prepare(data: Data, features: tuple[str, ...], regression: bool) -> _Prepared:
    key = (id(data), features, regression)
    with _prepared_lock:
        hit = _prepared.get(key)
        if hit is not None and hit[0] is data:
            _prepared.move_to_end(key)
            return hit[1]
    inputs = make_features(features, data.xy)
    x_train, y_train, scored, scored_target = inputs, data.target, inputs, data.target
    if bool(data.test.any()):
        train = ~data.test
        x_train, y_train = inputs[train], data.target[train]
        scored = torch.cat([x_train, inputs[data.test]])
        scored_target = torch.cat([y_train, data.target[data.test]])
    prepared = _Prepared(
        x_train, y_train.view(-1, 1) if regression else y_train, scored, scored_target,
        x_train.shape[0],
    )  # fmt: skip
    with _prepared_lock:
        _prepared[key] = (data, prepared)
        while len(_prepared) > _PREPARED_SIZE:
            _prepared.popitem(last=False)
    return prepared


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


@dataclass(frozen=True)
class Snapshot:
    """The parameters part-way through a :func:`train` call, and their metrics."""

    global_step: int
    at_s: float  # seconds after the call started
    flat: Tensor
    metrics: Metrics


@dataclass
class TrainResult:
    """The outcome of :func:`train`."""

    network: Network
    state: OptimizerState
    metrics: Metrics
    steps: int  # steps run by this call
    batch_size: int  # the effective minibatch size (the training points for full batch)
    train_points: int
    snapshots: list[Snapshot] = field(default_factory=list)


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
        self.totals = [torch.tensor(float(self.size)), torch.tensor(float(last))]

    def __call__(self, global_step: int) -> tuple[Tensor, Tensor]:
        """The minibatch (inputs, target) of ``global_step``."""
        xs, ys, k = self.epoch_of(global_step)
        lo = k * self.size  # slices of the shuffled copy are views: no copy per step
        return xs[lo : lo + self.size], ys[lo : lo + self.size]

    def epoch_of(self, global_step: int) -> tuple[Tensor, Tensor, int]:
        """The epoch's shuffled copy (inputs, target) and the step's batch index in it."""
        if self.full:  # every point, in the given order: no shuffling needed
            return self.inputs, self.target, 0
        epoch, k = divmod(global_step, self.per_epoch)
        if epoch != self.epoch:
            self.epoch, self.shuffled = epoch, self._shuffled(epoch)
        return self.shuffled[0], self.shuffled[1], k

    def span(self, global_step: int, count: int) -> tuple[list[Tensor], list[Tensor], int]:
        """Shuffled copies of the epochs steps [global_step, +count) touch; the first's index.

        The index is the batch of ``global_step`` within the first of those epochs.
        """
        xs, ys, k = self.epoch_of(global_step)
        if self.full:
            return [xs], [ys], 0
        epochs_x, epochs_y = [xs], [ys]
        first = global_step // self.per_epoch
        for epoch in range(first + 1, (global_step + count - 1) // self.per_epoch + 1):
            self.epoch, self.shuffled = epoch, self._shuffled(epoch)
            epochs_x.append(self.shuffled[0])
            epochs_y.append(self.shuffled[1])
        return epochs_x, epochs_y, k

    def _shuffled(self, epoch: int) -> tuple[Tensor, Tensor]:
        gen = torch.Generator().manual_seed(stream_seed(self.seed, BATCH_STREAM, epoch))
        order = torch.randperm(self.inputs.shape[0], generator=gen)
        return self.inputs[order], self.target[order]

    def rows(self, global_step: int) -> int:
        """The batch size of ``global_step`` (an epoch's last batch may be shorter)."""
        if self.full:
            return self.size
        k = global_step % self.per_epoch
        return min(self.size, self.inputs.shape[0] - k * self.size)


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
    deadline: float | Deadline | None = None,
    snapshot_s: float | None = None,
    max_snapshots: int | None = None,
    reserve_s: float = 0.0,
    snapshot_steps: int | None = None,
) -> TrainResult:
    """Train ``opts.steps`` steps (fewer if the time budget or ``deadline`` runs out).

    Args:
        spec: the architecture; ``net.sizes`` must equal ``spec.sizes``.
        opts: optimizer, regularisation, batching and duration.
        net: the starting parameters (not modified).
        state: the optimizer state for ``opts.optimizer`` (not modified).
        data: at least one training point (``test`` False).
        deadline: a ``time.perf_counter()`` value (or a :class:`Deadline`, which may move)
            after which no new step starts.
        snapshot_s: also record the parameters (and metrics) every this many seconds of
            training (the final state is the result itself, never a snapshot).
        max_snapshots: record at most this many snapshots.
        reserve_s: stop this long before ``deadline`` or the end of the time budget (the
            caller's time to build its reply, which the budget covers).
        snapshot_steps: record them after every this many steps instead (``snapshot_s`` is
            then not used).

    Returns:
        The new network and optimizer state, metrics after training, the step count and
        the snapshots.

    Raises:
        DivergedError: the run produced NaN or infinite values.
        ValueError: the network does not fit the spec or there is no training point.
    """
    if net.sizes != spec.sizes:
        raise ValueError(f"network sizes {net.sizes} != architecture {spec.sizes}")
    started = time.perf_counter()
    limit = (
        deadline
        if isinstance(deadline, Deadline)
        else Deadline(math.inf if deadline is None else deadline)
    )
    budget_at = math.inf
    if opts.time_budget_ms is not None:
        budget_at = started + opts.time_budget_ms / 1000
    most_snapshots = math.inf if max_snapshots is None else max_snapshots

    prepared = _prepare(data, spec.features, spec.regression)
    if prepared.n_train == 0:
        raise ValueError("no training points")
    batches = _Batches(prepared.x_train, prepared.y_train, opts.batch_size, opts.seed)

    params = net.flat.clone()
    grad = torch.zeros_like(params)
    weights, biases = layer_views(params, net.sizes)
    grad_weights, grad_biases = layer_views(grad, net.sizes)
    buffers = {name: buf.clone() for name, buf in state.buffers.items()}
    hyper = Hyper(lr=opts.learning_rate, momentum=opts.momentum, beta1=opts.beta1,
                  beta2=opts.beta2, eps=opts.eps, alpha=opts.alpha,
                  weight_decay=opts.weight_decay)  # fmt: skip
    code, used_buffers, hyper = plan(opts.optimizer, params, buffers, hyper)
    run = runner()
    # The arguments every chunk shares (positional: a compiled call parses kwargs slowly).
    views = (params, grad, weights, [w.t() for w in weights], biases, grad_weights + grad_biases)
    act, one, n_weights = (
        ACTIVATIONS[spec.activation].code,
        torch.ones(()),
        num_params(net.sizes)[0],
    )
    hyper_list = hyper.as_list()
    dropout = opts.dropout > 0 and bool(spec.hidden_layers)
    step, global_step, ran = state.step, state.global_step, 0
    per_step = 0.0  # seconds per step, measured: sizes the chunks
    snapshots: list[Snapshot] = []
    next_snapshot = math.inf if snapshot_s is None else started + snapshot_s
    snapshot_cost = 0.0  # seconds the last snapshot took: none starts that won't end in time
    while ran < opts.steps:
        now = time.perf_counter()
        stop_at = min(budget_at, limit.at) - reserve_s
        if ran and now >= stop_at:
            break
        # A chunk lasts about _CHUNK_S: the time budget is checked between chunks. How the
        # steps are chunked changes nothing numerically.
        count = 1  # the first chunk measures the step time
        if per_step:
            if ran and now + per_step > stop_at:
                break  # the next step would end past the deadline
            left = min(_CHUNK_S, stop_at - now)
            count = max(1, min(opts.steps - ran, _MAX_CHUNK, int(left / per_step)))
        if snapshot_steps is not None:  # a chunk ends where a snapshot is due
            count = min(count, snapshot_steps - ran % snapshot_steps)
        epochs_x, epochs_y, first_batch = batches.span(global_step, count)
        masks = []
        if dropout:
            masks = [
                dropout_masks(opts.seed, global_step + s, batches.rows(global_step + s),
                              spec.hidden_layers, opts.dropout)
                for s in range(count)
            ]  # fmt: skip
        run(*views, epochs_x, epochs_y, batches.size, batches.per_epoch, first_batch, count,
            batches.totals, one, act, spec.regression, masks, n_weights, opts.l1, opts.l2, code,
            hyper_list, used_buffers, step + 1)  # fmt: skip
        took = (time.perf_counter() - now) / count
        per_step = took if not per_step else 0.5 * (per_step + took)
        before = ran
        step += count
        global_step += count
        ran += count
        if ran // _CHECK_EVERY > before // _CHECK_EVERY and not bool(torch.isfinite(params).all()):
            break  # diverged: no point in going on, reported below
        done = time.perf_counter()
        room = ran < opts.steps and done + snapshot_cost < stop_at
        room = room and len(snapshots) < most_snapshots
        due = done >= next_snapshot if snapshot_steps is None else ran % snapshot_steps == 0
        if room and due:
            snap = _snapshot(spec, net.sizes, params, prepared, global_step, done - started)
            if snap is not None:
                snapshots.append(snap)
            snapshot_cost = time.perf_counter() - done
            if snapshot_s is not None:
                next_snapshot = max(next_snapshot + snapshot_s, done + snapshot_s / 2)

    if snapshots and snapshots[-1].global_step == global_step:
        # Time ran out right after a snapshot: the final state is the result, not a snapshot.
        snapshots.pop()
    new_net = Network(net.sizes, params)
    with torch.no_grad():
        metrics = _metrics(spec, new_net, prepared)
    if not (metrics.finite() and _all_finite(params, *buffers.values())):
        raise DivergedError(ran)
    return TrainResult(
        network=new_net,
        state=OptimizerState(opts.optimizer, step, global_step, buffers),
        metrics=metrics,
        steps=ran,
        batch_size=batches.size,
        train_points=prepared.n_train,
        snapshots=snapshots,
    )


@torch.no_grad()
def _snapshot(
    spec: NetSpec, sizes: tuple[int, ...], params: Tensor, prepared: _Prepared,
    global_step: int, at_s: float,
) -> Snapshot | None:  # fmt: skip
    """The current parameters and their metrics; None if anything is not finite."""
    flat = params.clone()
    metrics = _metrics(spec, Network(sizes, flat), prepared)
    if not (metrics.finite() and bool(torch.isfinite(flat).all())):
        return None
    return Snapshot(global_step, at_s, flat, metrics)


def _all_finite(*tensors: Tensor) -> bool:
    return all(bool(torch.isfinite(t).all()) for t in tensors)


def _score(spec: NetSpec, outputs: Tensor, target: Tensor) -> list[Tensor]:
    """[loss] (regression) or [loss, accuracy] (classification) of raw outputs."""
    if spec.regression:
        return [F.mse_loss(outputs[:, 0], target)]
    correct = (outputs.argmax(dim=1) == target).float().mean()
    return [F.cross_entropy(outputs, target), correct]


def _metrics(spec: NetSpec, net: Network, prepared: _Prepared) -> Metrics:
    """Metrics of the training and the test points (one forward pass over all of them)."""
    return _split_metrics(spec, forward(spec, net, prepared.scored), prepared)


def _split_metrics(spec: NetSpec, outputs: Tensor, prepared: _Prepared) -> Metrics:
    """Metrics from the outputs of ``prepared.scored`` (training points first)."""
    n, target = prepared.n_train, prepared.scored_target
    train_scores = _score(spec, outputs[:n], target[:n]) if n else []
    test_scores = _score(spec, outputs[n:], target[n:]) if n < outputs.shape[0] else []
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
    prepared = _prepare(data, spec.features, spec.regression)
    metrics = _split_metrics(spec, forward(spec, net, prepared.scored), prepared)
    predictions = outputs[:, 0] if spec.regression else torch.softmax(outputs, dim=1)
    if not (metrics.finite() and _all_finite(predictions)):
        raise DivergedError(0)
    return Evaluation(metrics, predictions)
