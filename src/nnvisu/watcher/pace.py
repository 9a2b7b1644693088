"""When a watch view evaluates: rate-limited, and adaptive to what an evaluation costs.

An update evaluates only when the previous evaluation is far enough behind: at least
``min_gap`` seconds (the page cannot show more anyway), and long enough that evaluations
take at most ``share`` of the wall time however slow the model is. Snapshots for the
timeline are taken at most every ``snapshot_gap`` seconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Pace:
    """The adaptive schedule (a clock is injectable for tests)."""

    share: float = 0.04
    min_gap: float = 0.1
    max_gap: float = 10.0
    snapshot_gap: float = 1.0
    clock: Callable[[], float] = time.perf_counter
    next_at: float = float("-inf")
    next_snapshot_at: float = float("-inf")
    last_cost: float = field(default=0.0)

    def due(self) -> bool:
        """True when an update should evaluate now."""
        return self.clock() >= self.next_at

    def snapshot_due(self) -> bool:
        """True when the evaluation now running should also go on the timeline."""
        return self.clock() >= self.next_snapshot_at

    def finished(self, started: float, snapshot: bool) -> None:
        """Schedule the next evaluation after one that began at ``started``."""
        now = self.clock()
        self.last_cost = now - started
        gap = min(self.max_gap, max(self.min_gap, self.last_cost * (1 / self.share - 1)))
        self.next_at = now + gap
        if snapshot:
            self.next_snapshot_at = now + max(self.snapshot_gap, gap)
