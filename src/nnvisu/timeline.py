"""The ``timeline`` trait's rules, for runs trained from Python.

A port of js/src/history.ts, which the views use for their own runs: the same snapshot rule,
capacity and thinning, so the timeline looks the same whoever trained. Snapshots hold weights;
views redraw maps from them. A branch's first snapshot names the snapshot it forked from
(``parent``, an index); a run whose global_step goes back (a reset) starts a new root branch.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, overload

MAX_SNAPSHOTS = 256
#: Numbers (weights + biases) all snapshots may hold together: wide networks keep fewer.
SNAPSHOT_BUDGET = 65_536
MIN_SNAPSHOTS = 8

Timeline = dict[str, Any]
#: A snapshot as the trait holds it: {"step", "branch", "parent", "network", "train_loss", ...}.
RawSnapshot = dict[str, Any]


def empty_timeline() -> Timeline:
    """A timeline without snapshots."""
    return {"interval": 1, "branch": 0, "snapshots": []}


def capacity(network: dict[str, Any]) -> int:
    """How many snapshots of ``network`` fit: 256 for small networks, fewer for wide ones."""
    count = sum(len(row) for matrix in network["weights"] for row in matrix)
    count += sum(len(bias) for bias in network["biases"])
    return max(MIN_SNAPSHOTS, min(MAX_SNAPSHOTS, SNAPSHOT_BUDGET // max(1, count)))


def record_snapshot(timeline: Timeline, reply: dict[str, Any]) -> Timeline:
    """Record a ``train_step_result``: a snapshot when global_step >= last step + interval.

    Returns the same object when no snapshot is due.
    """
    snaps = timeline["snapshots"]
    last = _last_of_branch(snaps, timeline["branch"])
    branch = timeline["branch"]
    step = reply["global_step"]
    if last >= 0:
        if step < snaps[last]["step"]:
            branch = _next_branch(timeline)
        elif step < snaps[last]["step"] + timeline["interval"]:
            return timeline
    snapshot = {"step": step, "branch": branch, "parent": None, "network": reply["network"],
                "train_loss": reply["train_loss"], "test_loss": reply["test_loss"]}  # fmt: skip
    return _append({**timeline, "branch": branch}, snapshot)


class Resumed(NamedTuple):
    """Where "resume from snapshot i" leaves a run (history.ts ``Resumed``)."""

    timeline: Timeline
    network: dict[str, Any]
    global_step: int


def resume_from(timeline: Timeline, index: int) -> Resumed:
    """Branch the run at snapshot ``index``: a new branch starts with a copy of that snapshot.

    Raises:
        IndexError: ``index`` is not in ``0 .. len(snapshots) - 1``.
    """
    snaps = timeline["snapshots"]
    if not 0 <= index < len(snaps):
        raise IndexError(f"no snapshot {index}: the timeline has {_count(len(snaps))}")
    branch = _next_branch(timeline)
    start = {**snaps[index], "branch": branch, "parent": index}
    resumed = _append({**timeline, "branch": branch}, start)
    return Resumed(resumed, snaps[index]["network"], snaps[index]["step"])


def check_architecture(snapshot: RawSnapshot, config: dict[str, Any]) -> None:
    """Check that a snapshot's network has exactly the layer sizes ``config`` describes.

    Raises:
        ValueError: it does not (it was taken before the inputs, layers or classes changed).
    """
    weights, biases = snapshot["network"]["weights"], snapshot["network"]["biases"]
    outputs = config["num_classes"] if config["problem"] == "classification" else 1
    want = [len(config["features"]), *config["hidden_layers"], outputs]
    layers = list(itertools.pairwise(want))
    fits = len(weights) == len(biases) == len(layers) and all(
        len(w) == out == len(b) and all(len(row) == inp for row in w)
        for w, b, (inp, out) in zip(weights, biases, layers, strict=True)
    )
    if not fits:
        have = [len(weights[0][0]), *(len(w) for w in weights)]
        raise ValueError(
            f"the snapshot at step {snapshot['step']} has layers {_arrow(have)} but the "
            f"architecture is now {_arrow(want)}: change it back to restore this snapshot"
        )


def _arrow(sizes: list[int]) -> str:
    return " -> ".join(map(str, sizes))


@dataclass(frozen=True)
class Snapshot:
    """One saved point of a run: the weights at ``step`` and the losses then.

    Attributes:
        step: the run's global_step when it was taken.
        branch: the run it belongs to; resuming from a snapshot starts a new branch.
        parent: on a branch's first snapshot, the index of the snapshot it forked from
            (None for the first run and after a reset).
        train_loss: loss on the training points then (None without any).
        test_loss: loss on the test points then (None without any).
        network: ``{"weights", "biases"}`` as in the ``network`` trait (a copy).
    """

    step: int
    branch: int
    parent: int | None
    train_loss: float | None
    test_loss: float | None
    network: dict[str, Any] = field(repr=False)


class Snapshots(Sequence[Snapshot]):
    """A read-only view of one ``timeline`` value's snapshots, oldest first.

    The trait is replaced, never changed in place, so a view stays consistent while training
    goes on; read ``NNVisu.snapshots`` again for newer snapshots.
    """

    def __init__(self, timeline: Timeline) -> None:
        self._snaps: list[dict[str, Any]] = timeline["snapshots"]

    def __len__(self) -> int:
        return len(self._snaps)

    @overload
    def __getitem__(self, index: int) -> Snapshot: ...
    @overload
    def __getitem__(self, index: slice) -> list[Snapshot]: ...
    def __getitem__(self, index: int | slice) -> Snapshot | list[Snapshot]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        return _snapshot(self._snaps[self.position(index)])

    def __iter__(self) -> Iterator[Snapshot]:
        return (_snapshot(s) for s in self._snaps)

    def position(self, index: int) -> int:
        """The index ``index`` stands for (negative ones count from the end).

        Raises:
            IndexError: there is no such snapshot.
        """
        n = len(self._snaps)
        if not -n <= index < n:
            raise IndexError(f"no snapshot {index}: the timeline has {_count(n)}")
        return index % n

    def __repr__(self) -> str:
        if not self._snaps:
            return "<Snapshots: none yet>"
        steps = [s["step"] for s in self._snaps]
        branches = len({s["branch"] for s in self._snaps})
        return f"<Snapshots: {len(steps)}, steps {min(steps)}..{max(steps)}, {branches} branch(es)>"


def _snapshot(snap: dict[str, Any]) -> Snapshot:
    network = snap["network"]
    copied = {"weights": [[list(row) for row in w] for w in network["weights"]],
              "biases": [list(b) for b in network["biases"]]}  # fmt: skip
    keys = ("step", "branch", "parent", "train_loss", "test_loss")
    return Snapshot(**{key: snap[key] for key in keys}, network=copied)


def _count(n: int) -> str:
    return "no snapshots" if n == 0 else f"{n} snapshot{'s' if n > 1 else ''} (0..{n - 1})"


def _append(timeline: Timeline, snapshot: RawSnapshot) -> Timeline:
    """Append, first thinning the list (and doubling the interval) while it is full."""
    cap = capacity(snapshot["network"])
    snaps, interval, parent = timeline["snapshots"], timeline["interval"], snapshot["parent"]
    while len(snaps) + 1 > cap:
        snaps, ancestor = _decimate(snaps)
        parent = None if parent is None else ancestor(parent)
        interval *= 2
    return {**timeline, "interval": interval, "snapshots": [*snaps, {**snapshot, "parent": parent}]}


def _decimate(snaps: list[RawSnapshot]) -> tuple[list[RawSnapshot], Callable[[int], int | None]]:
    """Drop every second snapshot (keeping the first and the newest); re-point forks.

    Returns the kept snapshots and ``ancestor(old_index)``: the new index of the nearest kept
    snapshot in that old snapshot's lineage (None if none is left).
    """
    n = len(snaps)
    kept = [i for i in range(n) if i % 2 == 0 or i == n - 1]
    new_index = {old: new for new, old in enumerate(kept)}

    def ancestor(old: int) -> int | None:
        index: int | None = old
        while index is not None and index not in new_index:
            index = _previous_or_fork(snaps, index)
        return None if index is None else new_index[index]

    out: list[RawSnapshot] = []
    seen: set[int] = set()
    for i in kept:
        first = snaps[i]["branch"] not in seen
        seen.add(snaps[i]["branch"])
        # The first kept snapshot of a branch carries the branch's fork, re-pointed.
        fork = _branch_fork(snaps, i) if first else None
        out.append({**snaps[i], "parent": None if fork is None else ancestor(fork)})
    return out, ancestor


def _last_of_branch(snaps: list[RawSnapshot], branch: int) -> int:
    return next((i for i in range(len(snaps) - 1, -1, -1) if snaps[i]["branch"] == branch), -1)


def _next_branch(timeline: Timeline) -> int:
    branches: list[int] = [timeline["branch"], *(s["branch"] for s in timeline["snapshots"])]
    return 1 + max(branches)


def _previous_in_branch(snaps: list[RawSnapshot], i: int) -> int:
    branch = snaps[i]["branch"]
    return next((j for j in range(i - 1, -1, -1) if snaps[j]["branch"] == branch), -1)


def _previous_or_fork(snaps: list[RawSnapshot], i: int) -> int | None:
    previous = _previous_in_branch(snaps, i)
    parent: int | None = snaps[i]["parent"]
    return previous if previous >= 0 else parent


def _branch_fork(snaps: list[RawSnapshot], i: int) -> int | None:
    first = next(j for j in range(i + 1) if snaps[j]["branch"] == snaps[i]["branch"])
    parent: int | None = snaps[first]["parent"]
    return parent
