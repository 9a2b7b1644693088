"""Write tests/fixtures/timeline.json: the timeline rule replayed by src/nnvisu/timeline.py.

The views keep the timeline with js/src/history.ts, Python runs with its port; both must give
the same snapshots, branches and forks. Each case is a list of operations (record the replies
of a range of global steps, or resume from a snapshot) with the timeline after each one.
tests/test_widget.py checks that Python still computes this file; js/test/history-fixture.test.ts
checks that history.ts computes it too, so a change on either side that the other lacks fails.

Run from the repository root: ``python tests/make_timeline_fixtures.py`` (deterministic), after
changing the rule on both sides.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from nnvisu import timeline

OUT = Path(__file__).resolve().parent / "fixtures" / "timeline.json"

# A record op trains through range(start, stop, every), one reply per step, on a 2-width-2
# network (width 128 keeps fewer snapshots: capacity 102). A resume op forks at that index.
CASES: list[dict[str, Any]] = [
    {"name": "a steady run thins at capacity", "ops": [
        {"record": [0, 300, 1], "width": 2},
        {"record": [300, 20_000, 7], "width": 2},
    ]},
    {"name": "a reset starts a new root branch", "ops": [
        {"record": [0, 60, 10], "width": 2},
        {"record": [0, 25, 1], "width": 2},
        {"record": [0, 5, 1], "width": 2},
    ]},
    {"name": "resuming forks; thinning re-points the forks", "ops": [
        {"record": [0, 41, 1], "width": 2},
        {"resume": 2},
        {"record": [3, 600, 1], "width": 2},
        {"resume": 5},
        {"record": [21, 2000, 3], "width": 2},
        {"resume": 120},
        {"record": [1582, 1700, 1], "width": 2},
        {"record": [0, 40, 1], "width": 2},
    ]},
    {"name": "resuming a full timeline from a snapshot the thinning drops", "ops": [
        {"record": [0, 256, 1], "width": 2},
        {"resume": 101},
        {"record": [102, 400, 1], "width": 2},
    ]},
    {"name": "a wide network keeps fewer snapshots", "ops": [
        {"record": [0, 500, 1], "width": 128},
        {"resume": 60},
        {"record": [0, 3, 1], "width": 128},
    ]},
]  # fmt: skip


def network(step: int, width: int) -> dict[str, Any]:
    """A 2-width-2 network tagged with its step (history.ts's replay builds the same)."""
    return {
        "weights": [[[float(step), 0.0] for _ in range(width)], [[0.0] * width for _ in range(2)]],
        "biases": [[0.0] * width, [0.0, 0.0]],
    }


def reply(step: int, width: int) -> dict[str, Any]:
    test_loss = None if step % 3 == 0 else step / 7
    return {"global_step": step, "network": network(step, width), "train_loss": 1 / (step + 1),
            "test_loss": test_loss}  # fmt: skip


def summary(tl: timeline.Timeline) -> dict[str, Any]:
    """The timeline without the networks (each snapshot's first weight is its step's tag)."""
    snaps = tl["snapshots"]
    return {
        "interval": tl["interval"],
        "branch": tl["branch"],
        "steps": [s["step"] for s in snaps],
        "branches": [s["branch"] for s in snaps],
        "parents": {str(i): s["parent"] for i, s in enumerate(snaps) if s["parent"] is not None},
        "tags": [s["network"]["weights"][0][0][0] for s in snaps],
    }


def replay(ops: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The timeline's summary after each op."""
    tl = timeline.empty_timeline()
    after = []
    for op in ops:
        if "resume" in op:
            resumed = timeline.resume_from(tl, op["resume"])
            tl = resumed.timeline
            extra = {"resumed_step": resumed.global_step,
                     "resumed_tag": resumed.network["weights"][0][0][0]}  # fmt: skip
        else:
            for step in range(*op["record"]):
                tl = timeline.record_snapshot(tl, reply(step, op["width"]))
            extra = {}
        after.append({**summary(tl), **extra})
    return after


def build() -> dict[str, Any]:
    cases = [{**case, "after": replay(case["ops"])} for case in CASES]
    return {"generator": "tests/make_timeline_fixtures.py", "cases": cases}


def main() -> None:
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(build(), separators=(",", ":")) + "\n")
    print(f"wrote {OUT} ({len(CASES)} cases)")


if __name__ == "__main__":
    main()
