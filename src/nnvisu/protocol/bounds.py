"""Upper bounds on a reply's size, so that no reply outgrows :data:`MAX_MESSAGE_BYTES`.

Snapshots are the only part of a reply whose count a request chooses (``snapshot_ms``), so
they are capped by count and by bytes: a reply holds at most as many as fit in the message
cap next to its final network and optimizer buffers. The bounds are worst cases per number,
so they hold whatever the values.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

from nnvisu.protocol.messages import MAX_MESSAGE_BYTES

#: Snapshots one reply may carry at most (a 5 s request at a frame each 12 ms is ~420).
MAX_SNAPSHOTS = 500
#: A float32 number in a JSON list: "-1.2345678901234567e-05," plus its share of brackets.
_LIST_NUMBER_BYTES = 26
#: Everything in a reply or a snapshot besides its numbers (names, metrics, counters, id).
_FIXED_BYTES = 1024
#: The most network-shaped buffers an optimizer carries (Adam's two, RMSprop's two).
_MAX_BUFFERS = 2
#: Seconds per reply byte reserved inside the request's time to build the reply: about 4x
#: the measured cost of converting and encoding one, so a loaded machine still fits.
BUILD_S_PER_BYTE = 2e-8
#: Seconds per (point x parameter) reserved to score the points: ~2 flops at 5 GFLOP/s.
SCORE_S_PER_PARAM = 4e-10


def num_params(sizes: Sequence[int]) -> int:
    """Weights and biases of a network of these widths."""
    return sum(a * b + b for a, b in pairwise(sizes))


def network_bytes(sizes: Sequence[int], packed_form: bool) -> int:
    """The most bytes a network (or buffer) of these widths takes in a reply."""
    count = num_params(sizes)
    if packed_form:
        return 4 * ((4 * count + 2) // 3) + 64
    return _LIST_NUMBER_BYTES * count + 64


def reply_bytes(sizes: Sequence[int], packed_form: bool, runs: int = 1) -> int:
    """The most bytes a train reply without snapshots takes (``runs`` runs of these widths)."""
    per_run = (1 + _MAX_BUFFERS) * network_bytes(sizes, packed_form) + _FIXED_BYTES
    return runs * per_run + _FIXED_BYTES


def snapshot_allowance(sizes: Sequence[int], packed_form: bool, runs: int = 1) -> int:
    """How many snapshots (per run) a reply may carry and stay within the message cap."""
    left = MAX_MESSAGE_BYTES - reply_bytes(sizes, packed_form, runs)
    each = runs * (network_bytes(sizes, packed_form) + _FIXED_BYTES)
    return max(0, min(MAX_SNAPSHOTS, left // each))


def build_seconds(
    sizes: Sequence[int], packed_form: bool, snapshots: int, points: int, runs: int = 1
) -> float:
    """Time reserved to build a reply of this shape (kept out of the training time).

    Scoring every point once (the final metrics) and converting and encoding the reply.
    """
    size = reply_bytes(sizes, packed_form, runs)
    size += snapshots * runs * (network_bytes(sizes, packed_form) + _FIXED_BYTES)
    return size * BUILD_S_PER_BYTE + runs * points * num_params(sizes) * SCORE_S_PER_PARAM


def snapshot_plan(
    snapshot_ms: float | None, budget_ms: float, sizes: Sequence[int], packed_form: bool,
    runs: int = 1,
) -> tuple[float | None, int]:  # fmt: skip
    """The snapshot interval (s) and the most snapshots a reply can hold (and the budget fit).

    When the interval asked for would give more snapshots than fit in the message cap, they
    are spread over the whole budget instead.
    """
    if snapshot_ms is None:
        return None, 0
    most = snapshot_allowance(sizes, packed_form, runs)
    if most == 0:
        return None, 0
    interval_ms = max(snapshot_ms, budget_ms / most)
    return interval_ms / 1000, min(most, int(budget_ms / interval_ms))
