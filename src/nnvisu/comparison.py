"""Compare two setups from Python: both runs on the same points, from the same seed, in lockstep.

``NNVisu.compare(optimizer="adam")`` returns a :class:`Comparison`. Its :meth:`~Comparison.train`
sends ``compare_step`` requests through the one dispatcher, so each run's weights equal a solo
run of its own setup bit for bit, and the two runs always stand at the same step.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol

from nnvisu import export
from nnvisu.dispatch import handle_message
from nnvisu.training import (
    CHUNK_MS,
    TrainingError,
    append_history,
    metrics_from_reply,
    one_torch_thread,
    steps_per_epoch,
)

if TYPE_CHECKING:
    from torch import nn

#: Config keys both runs must share: the points (problem, classes) and the seed are common;
#: ``steps`` and ``time_budget_ms`` pace a request, not a run.
SHARED_KEYS = ("problem", "num_classes", "seed", "steps", "time_budget_ms")
#: Most steps one ``Comparison.train`` call takes.
MAX_TRAIN_STEPS = 10**9


class Shown(Protocol):
    """Where a comparison is shown: a value to read and to replace (a widget's trait)."""

    def get(self) -> dict[str, Any]:
        """The shown comparison."""

    def set(self, value: dict[str, Any]) -> None:
        """Show ``value``."""


_RUN_KEYS = ("config", "network", "optimizer_state", "metrics", "history")


@dataclass(frozen=True)
class Run:
    """One side of a comparison: its setup, state, latest metrics and loss/accuracy history."""

    config: dict[str, Any]
    network: dict[str, Any]
    optimizer_state: dict[str, Any]
    metrics: dict[str, Any]
    history: list[dict[str, Any]] = field(default_factory=list)

    def to_torch(self) -> nn.Sequential:
        """This run's network as a ``torch.nn.Sequential`` (see ``NNVisu.to_torch``)."""
        return export.to_torch(self.config, self.network)


class Comparison:
    """Two runs of the same points from the same seed; :meth:`train` advances both in lockstep.

    Attributes:
        runs: ``(a, b)``: the widget's setup and the changed one (:class:`Run` each).
        changes: the settings run b changed.
        steps: steps both runs have trained.
    """

    def __init__(
        self,
        data: list[dict[str, Any]],
        config: dict[str, Any],
        changes: dict[str, Any],
        shown: Shown | None = None,
    ) -> None:
        """Start both runs fresh from ``config["seed"]``; run b is ``config`` with ``changes``.

        Args:
            data: the points both runs train on.
            config: run a's setup.
            changes: run b's settings that differ.
            shown: where the runs are shown (a widget's ``comparison`` trait): it is written
                after every change, and read back, so training in the views counts too.

        Raises:
            TypeError: a change that is not a config key.
            ValueError: a change both runs must share, or a value out of range.
        """
        unknown = sorted(set(changes) - set(config))
        if unknown:
            raise TypeError(
                f"compare() got unexpected keyword argument(s) {', '.join(unknown)}; "
                f"config keys are: {', '.join(k for k in config if k not in SHARED_KEYS)}"
            )
        shared = sorted(set(changes) & set(SHARED_KEYS))
        if shared:
            raise ValueError(
                f"compare() cannot change {', '.join(shared)}: both runs train on the same "
                "points from the same seed"
            )
        if not any(not point.get("test", False) for point in data):
            raise ValueError("compare() needs training points: add some first")
        self.data = data
        self.changes = dict(changes)
        self.steps = 0
        self._shown = shown
        self._runs = (_fresh(config, data), _fresh({**config, **changes}, data))
        self._publish()

    @property
    def runs(self) -> tuple[Run, Run]:
        """``(a, b)``: the widget's setup and the changed one, as they stand now."""
        if self._shown is not None:
            value = self._shown.get()
            if value.get("active") and len(value.get("runs", [])) == 2:
                a, b = (Run(**{key: run[key] for key in _RUN_KEYS}) for run in value["runs"])
                self._runs = (a, b)
        return self._runs

    def _publish(self, playing: bool = False) -> None:
        if self._shown is not None:
            runs = [{key: getattr(run, key) for key in _RUN_KEYS} for run in self._runs]
            self._shown.set({"active": True, "playing": playing, "runs": runs})

    @property
    def metrics(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """Both runs' latest metrics (train/test loss and accuracy, global_step, epoch)."""
        return self.runs[0].metrics, self.runs[1].metrics

    def to_torch(self) -> tuple[nn.Sequential, nn.Sequential]:
        """Both runs' networks as ``torch.nn.Sequential`` modules (copies, eval mode)."""
        return self.runs[0].to_torch(), self.runs[1].to_torch()

    def train(self, steps: int | None = None, *, epochs: float | None = None) -> Comparison:
        """Train both runs by ``steps`` steps (or ``epochs`` of run a's batches); return self.

        Raises:
            ValueError: neither or both of steps/epochs, or a bad value.
            TrainingError: a run failed (e.g. diverged; the message names it); both runs keep
                their last good state.
        """
        total = self._total_steps(steps, epochs)
        done = 0
        while done < total:
            request = {
                "type": "compare_step", "id": "python", "data": self.data,
                "steps": total - done, "time_budget_ms": CHUNK_MS,
                "runs": [{"config": run.config, "network": run.network,
                          "optimizer_state": run.optimizer_state} for run in self.runs],
            }  # fmt: skip
            with one_torch_thread():
                reply = handle_message(request)
            if reply["type"] == "error":
                raise TrainingError(f"{reply['code']}: {reply['message']}")
            a, b = (
                _advance(run, result) for run, result in zip(self.runs, reply["runs"], strict=True)
            )
            self._runs = (a, b)
            self._publish()
            done += int(reply["steps"])
        self.steps += done
        return self

    def verdict(self) -> str:
        """One line: which run reached the lower test loss, by how much, and from when."""
        return verdict(self.runs[0].history, self.runs[1].history, self.changes)

    def __repr__(self) -> str:
        return f"<Comparison after {self.steps} steps: {self.verdict()}>"

    def _total_steps(self, steps: int | None, epochs: float | None) -> int:
        if (steps is None) == (epochs is None):
            raise ValueError("give exactly one of steps=N or epochs=E")
        if steps is not None:
            if isinstance(steps, bool) or not isinstance(steps, numbers.Integral):
                raise ValueError(
                    f"steps must be an integer in [1, {MAX_TRAIN_STEPS}], got {steps!r}"
                )
            if not 1 <= int(steps) <= MAX_TRAIN_STEPS:
                raise ValueError(f"steps={steps} is out of range: allowed [1, {MAX_TRAIN_STEPS}]")
            return int(steps)
        if not isinstance(epochs, numbers.Real) or not 0 < float(epochs) <= MAX_TRAIN_STEPS:
            raise ValueError(f"epochs must be a positive number, got {epochs!r}")
        per_epoch = steps_per_epoch(self.runs[0].config, self.data)
        return min(MAX_TRAIN_STEPS, max(1, math.ceil(float(epochs) * per_epoch)))


def _fresh(config: dict[str, Any], data: list[dict[str, Any]]) -> Run:
    """A run of ``config`` at its seeded initial network, scored on ``data``."""
    init = handle_message({"type": "init_network", "config": config})
    if init["type"] == "error":
        raise ValueError(init["message"])
    network = init["network"]
    scored = handle_message(
        {"type": "evaluate", "config": config, "network": network, "data": data}
    )
    if scored["type"] == "error":
        raise ValueError(scored["message"])
    metrics = {key: scored[key] for key in ("train_loss", "test_loss", "accuracy", "test_accuracy")}
    metrics |= {"global_step": 0, "epoch": 0.0}
    history = append_history([], {**metrics, "global_step": 0})
    return Run(config, network, init["optimizer_state"], metrics, history)


def _advance(run: Run, reply: dict[str, Any]) -> Run:
    return replace(
        run,
        network=reply["network"],
        optimizer_state=reply["optimizer_state"],
        metrics=metrics_from_reply(reply),
        history=append_history(run.history, reply),
    )


def verdict(
    history_a: list[dict[str, Any]], history_b: list[dict[str, Any]], changes: dict[str, Any]
) -> str:
    """Which run reached the lower test loss, by how much, and from which step on it led.

    "By when": the first step at which the winner's loss went below the loser's lowest.
    Runs without test points are judged on the training loss.
    """
    key = "test_loss" if _lowest(history_a, "test_loss") is not None else "train_loss"
    best_a, best_b = _lowest(history_a, key), _lowest(history_b, key)
    label = key.replace("_", " ")
    if best_a is None or best_b is None:
        return f"no {label} yet: train both runs first"
    name_b = "b (" + ", ".join(f"{k}={v!r}" for k, v in changes.items()) + ")" if changes else "b"
    if best_a == best_b:
        return f"a and {name_b} reached the same lowest {label}, {best_a:.4g}"
    winner, loser, history, bar = (("a", name_b, history_a, best_b) if best_a < best_b
                                   else (name_b, "a", history_b, best_a))  # fmt: skip
    when = next(r["step"] for r in history if r[key] is not None and r[key] < bar)
    return (
        f"{winner} reached the lower {label}: {min(best_a, best_b):.4g} against "
        f"{max(best_a, best_b):.4g} for {loser}, below {loser}'s best from step {when} on"
    )


def _lowest(history: list[dict[str, Any]], key: str) -> float | None:
    values = [record[key] for record in history if record.get(key) is not None]
    return min(values) if values else None
