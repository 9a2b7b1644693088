"""The one dispatcher: a protocol message in, a reply out. Both hosts call it; it never raises.

``handle_message(dict) -> dict`` (the widget) and ``handle_json(text) -> bytes`` (the
server) decode with :mod:`nnvisu.protocol`, which hands over the request's points, network
and optimizer state as arrays whatever their wire form; the dispatcher runs the
:mod:`nnvisu.engine` on them and has the protocol encode the reply. No state is kept
between calls: everything a request needs is in it.
"""

from __future__ import annotations

import functools
import logging
import time
from typing import Any

import msgspec
import torch

from nnvisu import datasets, engine, lockstep
from nnvisu import protocol as p
from nnvisu._version import __version__
from nnvisu.protocol import bounds

log = logging.getLogger(__name__)


def handle_message(
    message: dict[str, Any], deadline: engine.Deadline | None = None
) -> dict[str, Any]:
    """Answer one protocol request (a dict parsed from JSON). Never raises.

    ``deadline``: when training must stop at the latest (see :func:`handle_request`).

    Returns:
        The reply as plain JSON-ready Python objects: the result, or
        ``{"type": "error", "id", "code", "message", "field"}``.
    """
    started = time.perf_counter()
    try:
        try:
            request = p.decode(message)
        except p.ProtocolError as error:
            if error.request_id is None:
                error.request_id = p.request_id(message)
            return _builtins(error.reply())
        return _builtins(handle_request(request, started, deadline))
    except Exception:  # a bug: still answer, and keep the host alive
        log.exception("internal error while handling a message")
        return {"type": "error", "id": _safe_id(message), "code": "internal",
                "message": "internal error (logged on the server)", "field": None}  # fmt: skip


_INTERNAL = (
    b'{"type":"error","id":null,"code":"internal","message":"internal error (logged on the '
    b'server)","field":null}'
)


def handle_json(text: p.Text, deadline: engine.Deadline | None = None) -> bytes:
    """Decode a JSON request, answer it, encode the reply. Never raises.

    ``deadline``: when training must stop at the latest (see :func:`handle_request`).

    Messages over :data:`nnvisu.protocol.MAX_MESSAGE_BYTES` get a ``too_large`` error (with
    the request's id when it can be read cheaply).
    """
    try:
        started = time.perf_counter()
        oversize = p.too_large(text)
        if oversize is not None:
            return p.encode(oversize)
        try:
            request = p.decode(text)
        except p.ProtocolError as error:
            return p.encode(error.reply())
        return p.encode(handle_request(request, started, deadline))
    except Exception:  # a bug: still answer, and keep the host's event loop alive
        log.exception("internal error while handling a JSON message")
        return _INTERNAL


def _safe_id(message: Any) -> str | int | None:
    try:
        return p.request_id(message)
    except Exception:  # an exotic mapping whose .get() fails: answer without the id
        log.warning("could not read the id of a message that failed", exc_info=True)
        return None


def _builtins(reply: p.Reply) -> dict[str, Any]:
    out: dict[str, Any] = msgspec.to_builtins(reply)
    return out


def handle_request(
    request: p.Request | p.Decoded,
    started: float | None = None,
    deadline: engine.Deadline | None = None,
) -> p.Reply:
    """Answer a decoded, validated request. Never raises.

    Args:
        request: from :func:`nnvisu.protocol.decode` (or a Struct from
            :func:`nnvisu.protocol.decode_request`, whose arrays are then decoded here).
        started: ``time.perf_counter()`` when the request arrived: the hard time cap
            (:data:`nnvisu.protocol.MAX_REQUEST_MS`) counts from there. It and the request's
            own time budget (from the start of training) include building the reply.
        deadline: a ``time.perf_counter()`` time training must stop by (another thread may
            bring it forward while it runs, e.g. a server sharing its thread fairly).
    """
    started = time.perf_counter() if started is None else started
    limit = engine.Deadline() if deadline is None else deadline
    limit.cut(started + p.MAX_REQUEST_MS / 1000)
    rid = request.request.id if isinstance(request, _WITH_ARRAYS) else request.id
    try:
        if not isinstance(request, (*_WITH_ARRAYS, p.GenerateData, p.Info)):
            request = p.decode_arrays(request)
        if isinstance(request, p.TrainArrays):
            return _train_step(request, started, limit)
        if isinstance(request, p.CompareArrays):
            return lockstep.compare_step(request, started, handle_request, limit)
        if isinstance(request, p.InitArrays):
            return _init_network(request)
        if isinstance(request, p.EvaluateArrays):
            return _evaluate(request)
        if isinstance(request, p.GenerateData):
            return _generate_data(request)
        return _info(request)
    except p.ProtocolError as error:
        error.request_id = rid
        return error.reply()
    except engine.DivergedError as error:
        return p.ErrorReply(id=rid, code="diverged", message=_diverged(request, error))
    except Exception:
        log.exception("internal error while handling %s", type(request).__name__)
        return p.ErrorReply(id=rid, code="internal",
                            message="internal error (logged on the server)")  # fmt: skip


_WITH_ARRAYS = (p.TrainArrays, p.CompareArrays, p.InitArrays, p.EvaluateArrays)


def _diverged(request: p.Request | p.Decoded, error: engine.DivergedError) -> str:
    if isinstance(request, p.TrainArrays):
        return (
            f"training diverged after {error.steps} steps: the loss or the weights became "
            "infinite or NaN. Lower the learning rate (config.learning_rate is "
            f"{request.request.config.learning_rate:g}) or reset the network."
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


@functools.lru_cache(maxsize=16)
def _data(points: p.Points) -> engine.Data:
    """The engine's tensors of decoded points (zero-copy).

    A cache by identity, not state: the protocol gives the same Points for the same packed
    strings, and the engine caches what it derives from a Data by identity in turn (features,
    the train/test split).
    """
    return engine.Data(torch.from_numpy(points.xy), torch.from_numpy(points.target),
                       torch.from_numpy(points.test))  # fmt: skip


def _network(params: p.Params) -> engine.Network:
    return engine.Network(params.sizes, torch.from_numpy(params.flat))


def _state(state: p.State) -> engine.OptimizerState:
    buffers = {name: torch.from_numpy(flat) for name, flat in state.buffers.items()}
    return engine.OptimizerState(state.optimizer, state.step, state.global_step, buffers)


def _network_data(net: engine.Network, packed_form: bool) -> p.NetworkData:
    return p.network_data(net.sizes, net.flat.numpy(), packed_form)


def _state_data(
    state: engine.OptimizerState, sizes: tuple[int, ...], packed_form: bool
) -> p.OptimizerState:
    buffers = {name: flat.numpy() for name, flat in state.buffers.items()}
    return p.state_data(state.optimizer, state.step, state.global_step, buffers, sizes,
                        packed_form)  # fmt: skip


# Handlers.
def _train_step(
    decoded: p.TrainArrays, started: float, limit: engine.Deadline
) -> p.TrainStepResult:
    request = decoded.request
    config = request.config
    spec = _spec(config)
    net = _network(decoded.network) if decoded.network else engine.init_network(spec, config.seed)
    state = engine.OptimizerState(config.optimizer)
    if decoded.state is not None:
        state = _state(decoded.state)
        if state.optimizer != config.optimizer:  # other optimizer: its buffers mean nothing here
            state = state.restart(config.optimizer)
    adapted = net.sizes[-1] != spec.outputs
    if adapted:  # class count changed: only the output layer (and its buffers) adapts
        net, buffers = engine.adapt_outputs(net, state.buffers, spec, config.seed)
        state.buffers = buffers
    # The time budget and the hard cap cover building the reply: training stops early enough
    # for that (bounded snapshots make the reply's size bounded too).
    budget_ms = p.MAX_REQUEST_MS if config.time_budget_ms is None else config.time_budget_ms
    snapshot_s, most = bounds.snapshot_plan(
        request.snapshot_ms, budget_ms, spec.sizes, request.packed
    )
    if request.snapshot_steps is not None:  # a paced page's frames: as many as fit the cap
        most = bounds.snapshot_allowance(spec.sizes, request.packed)
    reserve = bounds.build_seconds(spec.sizes, request.packed, most,
                                   decoded.data.xy.shape[0])  # fmt: skip
    result = engine.train(spec, _options(config), net, state, _data(decoded.data),
                          deadline=limit, snapshot_s=snapshot_s, max_snapshots=most,
                          reserve_s=reserve,
                          snapshot_steps=request.snapshot_steps)  # fmt: skip
    metrics = result.metrics
    assert metrics.train_loss is not None  # there is at least one training point
    epoch = result.batch_size / result.train_points
    snapshots = None
    if request.snapshot_ms is not None or request.snapshot_steps is not None:
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
        network=p.network_data(sizes, snap.flat.numpy(), packed_form),
        train_loss=m.train_loss,
        test_loss=m.test_loss,
        accuracy=m.accuracy,
        test_accuracy=m.test_accuracy,
    )


def _init_network(decoded: p.InitArrays) -> p.NetworkReply:
    request = decoded.request
    config = request.config
    spec = _spec(config)
    if decoded.network is None:
        net = engine.init_network(spec, config.seed)
    else:
        net = engine.transfer(_network(decoded.network), request.previous_features, spec,
                              config.seed)  # fmt: skip
    state = engine.OptimizerState(config.optimizer)
    return p.NetworkReply(
        id=request.id,
        network=_network_data(net, request.packed),
        optimizer_state=_state_data(state, net.sizes, request.packed),
    )


def _evaluate(decoded: p.EvaluateArrays) -> p.EvaluateResult:
    spec = _spec(decoded.request.config)
    result = engine.evaluate(spec, _network(decoded.network), _data(decoded.data))
    m = result.metrics
    return p.EvaluateResult(
        id=decoded.request.id,
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
        version=__version__,
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
