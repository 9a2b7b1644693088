"""Requests decoded into arrays, replies encoded from them: the one place that knows both forms.

Points, networks and optimizer buffers travel as JSON lists or packed base64 (:mod:`.packed`).
:func:`decode` turns each of them into numpy arrays once, whatever the form: the arrays the
engine takes. It also checks what only the decoded values show (finite, in range, class
labels within the class count, squared averages >= 0); :func:`.checks.check` has already
checked the shapes. :func:`network_data` and :func:`state_data` encode results back in the
form the request asked for.
"""

from __future__ import annotations

import functools
import operator
from dataclasses import dataclass
from itertools import chain, pairwise
from typing import Any

import numpy as np
import numpy.typing as npt

from nnvisu.protocol import packed
from nnvisu.protocol.checks import solo_step
from nnvisu.protocol.errors import ProtocolError, in_run, invalid
from nnvisu.protocol.messages import (
    COORD_LIMIT,
    Buffers,
    CompareStep,
    Config,
    Evaluate,
    GenerateData,
    Info,
    InitNetwork,
    NetworkData,
    OptimizerState,
    PackedPoints,
    Point,
    Request,
    TrainStep,
)

Array = npt.NDArray[Any]
#: Buffers holding running averages of squared gradients: never negative.
SQUARED = ("exp_avg_sq", "square_avg")


@dataclass(frozen=True, eq=False)
class Points:
    """``xy`` (n×2 float32), ``target`` (int64 class indices or float32 values), ``test`` (bool).

    Compared and hashed by identity: the same packed strings give the same object (a cache),
    so whoever derives something from a Points may cache it by identity too.
    """

    xy: Array
    target: Array
    test: Array


@dataclass(frozen=True)
class Params:
    """A network or a network-shaped buffer: layer widths and one flat float32 vector.

    The vector holds every weight matrix (out×in, row-major, layer by layer), then every bias.
    """

    sizes: tuple[int, ...]
    flat: Array


@dataclass(frozen=True)
class State:
    """An optimizer state with its buffers as flat float32 vectors."""

    optimizer: str
    step: int
    global_step: int
    buffers: dict[str, Array]


@dataclass(frozen=True)
class TrainArrays:
    """A train_step request with its arrays decoded."""

    request: TrainStep
    network: Params | None
    state: State | None
    data: Points


@dataclass(frozen=True)
class InitArrays:
    """An init_network request with its previous network decoded."""

    request: InitNetwork
    network: Params | None


@dataclass(frozen=True)
class EvaluateArrays:
    """An evaluate request with its arrays decoded."""

    request: Evaluate
    network: Params
    data: Points


@dataclass(frozen=True)
class CompareArrays:
    """A compare_step request: each run decoded as the train_step a solo run would send."""

    request: CompareStep
    runs: tuple[TrainArrays, ...]


#: A request ready for the engine (generate_data and info carry no arrays).
Decoded = TrainArrays | CompareArrays | InitArrays | EvaluateArrays | GenerateData | Info


def decode(request: Request) -> Decoded:
    """Decode every array of a checked request (:func:`.checks.check`) once.

    Raises:
        ProtocolError: a decoded value is not allowed (it names the field and the index).
    """
    if isinstance(request, TrainStep):
        data = points(request.data, request.config)
        if not bool((~data.test).any()):
            n = data.test.shape[0]
            got = f"{n} point(s), all with test true" if n else "no points"
            raise invalid("data", f"data must hold a training point (test false), got {got}")
        return TrainArrays(
            request,
            None if request.network is None else params(request.network, "network"),
            None if request.optimizer_state is None else state(request.optimizer_state),
            data,
        )
    if isinstance(request, CompareStep):
        runs = []
        for index in range(len(request.runs)):
            try:
                run = decode(solo_step(request, index))
            except ProtocolError as error:
                raise in_run(error, index) from None
            assert isinstance(run, TrainArrays)
            runs.append(run)
        return CompareArrays(request, tuple(runs))
    if isinstance(request, InitNetwork):
        net = None if request.network is None else params(request.network, "network")
        return InitArrays(request, net)
    if isinstance(request, Evaluate):
        return EvaluateArrays(
            request, params(request.network, "network"), points(request.data, request.config)
        )
    return request


def num_params(sizes: tuple[int, ...] | list[int]) -> int:
    """Weights and biases of an MLP with these layer widths."""
    return sum(a * b + b for a, b in pairwise(sizes))


# Points.
_FIELDS = operator.attrgetter("x", "y", "label", "test")


def points(data: list[Point] | PackedPoints, config: Config) -> Points:
    """The points of a request as arrays (the labels as the problem reads them)."""
    regression = config.problem == "regression"
    if isinstance(data, PackedPoints):
        classes = 0 if regression else config.num_classes
        return _packed_points(data.count, data.x, data.y, data.label, data.test, classes)
    # One pass and one array: float64 keeps every wire value exact until the float32 cast.
    flat = chain.from_iterable(map(_FIELDS, data))
    rows = np.fromiter(flat, np.float64, 4 * len(data)).reshape(-1, 4)
    target = rows[:, 2].astype(np.float32 if regression else np.int64)
    return Points(rows[:, :2].astype(np.float32), target, rows[:, 3].astype(bool))


@functools.lru_cache(maxsize=16)
def _packed_points(
    count: int, x: str, y: str, label: str, test: str | None, classes: int
) -> Points:
    """Packed points, checked (``classes`` 0: regression values).

    A cache, not state: a training loop sends the same strings in every request; the arrays
    are only read.
    """
    xs = packed.f32(x, count, "data.x", COORD_LIMIT)
    xy = np.stack([xs, packed.f32(y, count, "data.y", COORD_LIMIT)], axis=1)
    if classes:
        labels = packed.u8(label, count, "data.label")
        bad = np.flatnonzero(labels >= classes)
        if bad.size:
            i = int(bad[0])
            raise invalid("data.label", f"data.label holds {int(labels[i])} at index {i}; class "
                          f"indices must be in 0..{classes - 1} (config.num_classes is "
                          f"{classes})")  # fmt: skip
        target = labels.astype(np.int64)
    else:
        target = packed.f32(label, count, "data.label", COORD_LIMIT).copy()
    flags = (packed.bits(test, count, "data.test").copy() if test is not None
             else np.zeros(count, dtype=bool))  # fmt: skip
    return Points(xy, target, flags)


# Networks and optimizer buffers.
def params(net: NetworkData, where: str) -> Params:
    """A network (or buffer) in either form as widths and a flat, writable float32 vector."""
    if net.f32 is not None:
        assert net.sizes is not None  # check() saw to it
        sizes = tuple(net.sizes)
        return Params(sizes, packed.f32(net.f32, num_params(sizes), f"{where}.f32").copy())
    assert net.weights is not None and net.biases is not None
    sizes = (len(net.weights[0][0]), *(len(w) for w in net.weights))
    rows = chain(chain.from_iterable(net.weights), net.biases)  # the flat layout, row by row
    return Params(sizes, np.fromiter(chain.from_iterable(rows), np.float32))


def state(data: OptimizerState) -> State:
    """An optimizer state with its buffers decoded (squared averages checked to be >= 0)."""
    buffers = {}
    for name, buf in data.buffers.items():
        where = f"optimizer_state.buffers.{name}"
        flat = params(buf, where).flat
        if buf.f32 is not None and name in SQUARED:
            negative = np.flatnonzero(flat < 0)
            if negative.size:
                i = int(negative[0])
                raise invalid(f"{where}.f32", f"{where}.f32 must be >= 0 everywhere, got "
                              f"{float(flat[i]):g} at index {i}")  # fmt: skip
        buffers[name] = flat
    return State(data.optimizer, data.step, data.global_step, buffers)


def network_data(sizes: tuple[int, ...], flat: Array, packed_form: bool) -> NetworkData:
    """A flat float32 vector as the wire's network: packed, or lists of layers."""
    if packed_form:
        return NetworkData(sizes=list(sizes), f32=packed.encode_f32(flat))
    weights, biases = [], []
    w_at, b_at = 0, sum(a * b for a, b in pairwise(sizes))
    for fan_in, fan_out in pairwise(sizes):
        weights.append(flat[w_at : w_at + fan_out * fan_in].reshape(fan_out, fan_in).tolist())
        biases.append(flat[b_at : b_at + fan_out].tolist())
        w_at += fan_out * fan_in
        b_at += fan_out
    return NetworkData(weights=weights, biases=biases)


def state_data(
    optimizer: Any, step: int, global_step: int, buffers: dict[str, Array],
    sizes: tuple[int, ...], packed_form: bool,
) -> OptimizerState:  # fmt: skip
    """An optimizer state for the wire, its buffers in the form the request asked for."""
    encoded = {name: network_data(sizes, flat, packed_form) for name, flat in buffers.items()}
    return OptimizerState(optimizer=optimizer, step=step, global_step=global_step,
                          buffers=Buffers(**encoded))  # fmt: skip
