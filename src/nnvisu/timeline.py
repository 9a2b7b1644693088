"""The ``timeline`` trait's rules (contract, Issue 4), for runs trained from Python.

A port of js/src/history.ts, which the views use for their own runs: the same snapshot rule,
capacity and thinning, so the timeline looks the same whoever trained. Snapshots hold weights;
views redraw maps from them. A branch's first snapshot names the snapshot it forked from
(``parent``, an index); a run whose global_step goes back (a reset) starts a new root branch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

MAX_SNAPSHOTS = 256
#: Numbers (weights + biases) all snapshots may hold together: wide networks keep fewer.
SNAPSHOT_BUDGET = 65_536
MIN_SNAPSHOTS = 8

Timeline = dict[str, Any]
Snapshot = dict[str, Any]


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


def _append(timeline: Timeline, snapshot: Snapshot) -> Timeline:
    """Append, first thinning the list (and doubling the interval) while it is full."""
    cap = capacity(snapshot["network"])
    snaps, interval, parent = timeline["snapshots"], timeline["interval"], snapshot["parent"]
    while len(snaps) + 1 > cap:
        snaps, ancestor = _decimate(snaps)
        parent = None if parent is None else ancestor(parent)
        interval *= 2
    return {**timeline, "interval": interval, "snapshots": [*snaps, {**snapshot, "parent": parent}]}


def _decimate(snaps: list[Snapshot]) -> tuple[list[Snapshot], Callable[[int], int | None]]:
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

    out: list[Snapshot] = []
    seen: set[int] = set()
    for i in kept:
        first = snaps[i]["branch"] not in seen
        seen.add(snaps[i]["branch"])
        # The first kept snapshot of a branch carries the branch's fork, re-pointed.
        fork = _branch_fork(snaps, i) if first else None
        out.append({**snaps[i], "parent": None if fork is None else ancestor(fork)})
    return out, ancestor


def _last_of_branch(snaps: list[Snapshot], branch: int) -> int:
    return next((i for i in range(len(snaps) - 1, -1, -1) if snaps[i]["branch"] == branch), -1)


def _next_branch(timeline: Timeline) -> int:
    branches: list[int] = [timeline["branch"], *(s["branch"] for s in timeline["snapshots"])]
    return 1 + max(branches)


def _previous_in_branch(snaps: list[Snapshot], i: int) -> int:
    branch = snaps[i]["branch"]
    return next((j for j in range(i - 1, -1, -1) if snaps[j]["branch"] == branch), -1)


def _previous_or_fork(snaps: list[Snapshot], i: int) -> int | None:
    previous = _previous_in_branch(snaps, i)
    parent: int | None = snaps[i]["parent"]
    return previous if previous >= 0 else parent


def _branch_fork(snaps: list[Snapshot], i: int) -> int | None:
    first = next(j for j in range(i + 1) if snaps[j]["branch"] == snaps[i]["branch"])
    parent: int | None = snaps[first]["parent"]
    return parent
