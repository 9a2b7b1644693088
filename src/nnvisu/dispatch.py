"""The one dispatcher: a protocol message in, a reply out. Both hosts call it; it never raises.

``handle_message(dict) -> dict`` validates with :mod:`nnvisu.protocol`, runs the
:mod:`nnvisu.engine` and converts tensors back to the wire format. No state is kept between
calls: everything a request needs is in it.
"""

from __future__ import annotations

import functools
import logging
import operator
import time
from importlib.metadata import PackageNotFoundError, version
from itertools import chain
from typing import Any

import msgspec
import numpy as np
import torch

from nnvisu import datasets, engine
from nnvisu import protocol as p
from nnvisu.protocol import packed

log = logging.getLogger(__name__)

try:
    _VERSION = version("nnvisu")
except PackageNotFoundError:  # a source tree that was never installed
    _VERSION = "0.0.0"


def handle_message(message: dict[str, Any]) -> dict[str, Any]:
    """Answer one protocol request (a dict parsed from JSON). Never raises.

    Returns:
        The reply as plain JSON-ready Python objects: the result, or
        ``{"type": "error", "id", "code", "message", "field"}``.
    """
    started = time.perf_counter()
    try:
        try:
            request = p.decode_request(message)
        except p.ProtocolError as error:
            if error.request_id is None:
                error.request_id = p.request_id(message)
            return _builtins(error.reply())
        return _builtins(handle_request(request, started))
    except Exception:  # a bug: still answer, and keep the host alive
        log.exception("internal error while handling a message")
        return {"type": "error", "id": _safe_id(message), "code": "internal",
                "message": "internal error (logged on the server)", "field": None}  # fmt: skip


def _safe_id(message: Any) -> str | int | None:
    try:
        return p.request_id(message)
    except Exception:  # an exotic mapping whose .get() fails: answer without the id
        return None


def _builtins(reply: p.Reply) -> dict[str, Any]:
    out: dict[str, Any] = msgspec.to_builtins(reply)
    return out


def handle_request(request: p.Request, started: float | None = None) -> p.Reply:
    """Answer a decoded, validated request. Never raises.

    Args:
        request: from :func:`nnvisu.protocol.decode_request`.
        started: ``time.perf_counter()`` when the request arrived: the hard time cap
            (:data:`nnvisu.protocol.MAX_REQUEST_MS`) counts from there.
    """
    started = time.perf_counter() if started is None else started
    try:
        if isinstance(request, p.TrainStep):
            return _train_step(request, started)
        if isinstance(request, p.InitNetwork):
            return _init_network(request)
        if isinstance(request, p.Evaluate):
            return _evaluate(request)
        if isinstance(request, p.GenerateData):
            return _generate_data(request)
        return _info(request)
    except p.ProtocolError as error:
        error.request_id = request.id
        return error.reply()
    except engine.DivergedError as error:
        return p.ErrorReply(id=request.id, code="diverged", message=_diverged(request, error))
    except Exception:
        log.exception("internal error while handling %s", type(request).__name__)
        return p.ErrorReply(id=request.id, code="internal",
                            message="internal error (logged on the server)")  # fmt: skip


def _diverged(request: p.Request, error: engine.DivergedError) -> str:
    if isinstance(request, p.TrainStep):
        return (
            f"training diverged after {error.steps} steps: the loss or the weights became "
            "infinite or NaN. Lower the learning rate (config.learning_rate is "
            f"{request.config.learning_rate:g}) or reset the network."
        )
    return "the network's outputs are infinite or NaN: reset the network"


# Wire <-> engine conversions.
def _spec(config: p.Config) -> engine.NetSpec:
    return engine.NetSpec(
        features=tuple(config.features),
        hidden_layers=tuple(config.hidden_layers),
        activation=config.activation,
        outputs=config.outputs,
        regression=config.problem == "regression",
    )


def _options(config: p.Config) -> engine.TrainOptions:
    budget = config.time_budget_ms
    return engine.TrainOptions(
        optimizer=config.optimizer, learning_rate=config.learning_rate, momentum=config.momentum,
        beta1=config.beta1, beta2=config.beta2, eps=config.eps, alpha=config.alpha,
        weight_decay=config.weight_decay, l1=config.l1, l2=config.l2, dropout=config.dropout,
        batch_size=config.batch_size, steps=config.steps,
        time_budget_ms=p.MAX_REQUEST_MS if budget is None else min(budget, p.MAX_REQUEST_MS),
        seed=config.seed,
    )  # fmt: skip


_FIELDS = operator.attrgetter("x", "y", "label", "test")


def _data(points: list[p.Point] | p.PackedPoints, regression: bool) -> engine.Data:
    if isinstance(points, p.PackedPoints):
        return _packed_data(points.count, points.x, points.y, points.label, points.test,
                            regression)  # fmt: skip
    # One pass and one array: float64 keeps every wire value exact until the float32 cast.
    flat = chain.from_iterable(map(_FIELDS, points))
    rows = torch.from_numpy(np.fromiter(flat, np.float64, 4 * len(points))).view(-1, 4)
    target = rows[:, 2].float() if regression else rows[:, 2].long()
    return engine.Data(rows[:, :2].float(), target, rows[:, 3].bool())


@functools.lru_cache(maxsize=16)
def _packed_data(
    count: int, x: str, y: str, label: str, test: str | None, regression: bool
) -> engine.Data:
    """Tensors of packed points (validated by check()).

    A cache, not state: a training loop sends the same strings every request, and the
    tensors are only ever read.
    """
    xy = np.stack([packed.f32(x, count, "data.x"), packed.f32(y, count, "data.y")], axis=1)
    if regression:
        target = torch.from_numpy(packed.f32(label, count, "data.label").copy())
    else:
        target = torch.from_numpy(packed.u8(label, count, "data.label").astype(np.int64))
    flags = (packed.bits(test, count, "data.test") if test is not None
             else np.zeros(count, dtype=bool))  # fmt: skip
    return engine.Data(torch.from_numpy(xy), target, torch.from_numpy(flags.copy()))


def _network(data: p.NetworkData) -> engine.Network:
    if data.sizes is not None and data.f32 is not None:
        sizes = tuple(data.sizes)
        values = packed.f32(data.f32, engine.network.num_params(sizes)[1], "network.f32")
        return engine.Network(sizes, torch.from_numpy(values.copy()))
    assert data.weights is not None and data.biases is not None  # check() saw to it
    return engine.Network.from_lists(data.weights, data.biases)


def _network_data(net: engine.Network, packed_form: bool = False) -> p.NetworkData:
    if packed_form:
        return p.NetworkData(sizes=list(net.sizes), f32=packed.encode_f32(net.flat.numpy()))
    weights, biases = net.to_lists()
    return p.NetworkData(weights=weights, biases=biases)


def _state(state: p.OptimizerState) -> engine.OptimizerState:
    buffers = {name: _network(buf).flat for name, buf in state.buffers.items()}
    return engine.OptimizerState(state.optimizer, state.step, state.global_step, buffers)


def _state_data(
    state: engine.OptimizerState, sizes: tuple[int, ...], packed_form: bool = False
) -> p.OptimizerState:
    buffers = {
        name: _network_data(engine.Network(sizes, flat), packed_form)
        for name, flat in state.buffers.items()
    }
    return p.OptimizerState(
        optimizer=state.optimizer,  # type: ignore[arg-type]  # an OPTIMIZERS name
        step=state.step,
        global_step=state.global_step,
        buffers=p.Buffers(**buffers),
    )


# Handlers.
def _train_step(request: p.TrainStep, started: float) -> p.TrainStepResult:
    config = request.config
    spec = _spec(config)
    net = _network(request.network) if request.network else engine.init_network(spec, config.seed)
    state = engine.OptimizerState(config.optimizer)
    if request.optimizer_state is not None:
        state = _state(request.optimizer_state)
        if state.optimizer != config.optimizer:  # other optimizer: its buffers mean nothing here
            state = state.restart(config.optimizer)
    adapted = net.sizes[-1] != spec.outputs
    if adapted:  # class count changed: only the output layer (and its buffers) adapts
        net, buffers = engine.adapt_outputs(net, state.buffers, spec, config.seed)
        state.buffers = buffers
    deadline = started + p.MAX_REQUEST_MS / 1000
    snapshot_s = None if request.snapshot_ms is None else request.snapshot_ms / 1000
    data = _data(request.data, spec.regression)
    result = engine.train(spec, _options(config), net, state, data, deadline=deadline,
                          snapshot_s=snapshot_s)  # fmt: skip
    metrics = result.metrics
    assert metrics.train_loss is not None  # there is at least one training point
    epoch = result.batch_size / result.train_points
    snapshots = None
    if request.snapshot_ms is not None:
        snapshots = [_snapshot(s, spec.sizes, epoch, request.packed) for s in result.snapshots]
    return p.TrainStepResult(
        id=request.id,
        network=_network_data(result.network, request.packed),
        optimizer_state=_state_data(result.state, spec.sizes, request.packed),
        loss=metrics.train_loss,
        train_loss=metrics.train_loss,
        test_loss=metrics.test_loss,
        accuracy=metrics.accuracy,
        test_accuracy=metrics.test_accuracy,
        steps=result.steps,
        global_step=result.state.global_step,
        epoch=result.state.global_step * epoch,
        elapsed_ms=(time.perf_counter() - started) * 1000,
        adapted=adapted,
        snapshots=snapshots,
    )


def _snapshot(
    snap: engine.Snapshot, sizes: tuple[int, ...], epoch: float, packed_form: bool
) -> p.Snapshot:
    m = snap.metrics
    assert m.train_loss is not None
    return p.Snapshot(
        global_step=snap.global_step,
        epoch=snap.global_step * epoch,
        at_ms=round(snap.at_s * 1000, 3),
        network=_network_data(engine.Network(sizes, snap.flat), packed_form),
        train_loss=m.train_loss,
        test_loss=m.test_loss,
        accuracy=m.accuracy,
        test_accuracy=m.test_accuracy,
    )


def _init_network(request: p.InitNetwork) -> p.NetworkReply:
    config = request.config
    spec = _spec(config)
    if request.network is None:
        net = engine.init_network(spec, config.seed)
    else:
        net = engine.transfer(_network(request.network), request.previous_features, spec,
                              config.seed)  # fmt: skip
    state = engine.OptimizerState(config.optimizer)
    return p.NetworkReply(
        id=request.id,
        network=_network_data(net, request.packed),
        optimizer_state=_state_data(state, net.sizes, request.packed),
    )


def _evaluate(request: p.Evaluate) -> p.EvaluateResult:
    spec = _spec(request.config)
    result = engine.evaluate(spec, _network(request.network), _data(request.data, spec.regression))
    m = result.metrics
    return p.EvaluateResult(
        id=request.id,
        train_loss=m.train_loss,
        test_loss=m.test_loss,
        accuracy=m.accuracy,
        test_accuracy=m.test_accuracy,
        predictions=result.predictions.tolist(),
    )


def _generate_data(request: p.GenerateData) -> p.DataReply:
    info = datasets.DATASETS[request.dataset]
    regression = info.problem == "regression"
    # A dataset with a fixed class range gets the nearest class count it supports (the reply
    # says which); regression datasets ignore the class count.
    classes = request.num_classes
    if not regression:
        classes = min(max(classes, info.min_classes), info.max_classes)
    try:
        xs, ys = datasets.generate(request.dataset, request.n, request.noise, classes, request.seed)
        points = datasets.to_points(xs, ys, request.test_ratio, request.seed)
    except ValueError as error:
        raise p.ProtocolError("invalid", str(error), "dataset") from None
    return p.DataReply(
        id=request.id,
        data=[
            p.Point(
                x=float(q["x"]),
                y=float(q["y"]),
                label=float(q["label"]) if regression else int(q["label"]),
                test=bool(q["test"]),
            )  # fmt: skip
            for q in points
        ],
        problem=info.problem,
        num_classes=classes,
    )


def _info(request: p.Info) -> p.InfoResult:
    return p.InfoResult(
        id=request.id,
        version=_VERSION,
        datasets={
            name: p.DatasetSummary(
                problem=info.problem, min_classes=info.min_classes, max_classes=info.max_classes
            )
            for name, info in datasets.DATASETS.items()
        },
        activations=list(engine.ACTIVATIONS),
        optimizers=list(engine.OPTIMIZERS),
        features=list(engine.FEATURES),
        limits=dict(p.LIMITS),
    )
