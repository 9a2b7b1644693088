"""Train from Python: chunked ``train_step`` requests through the one dispatcher, in a thread.

The loop feeds each reply's network and optimizer state into the next request, exactly as the
frontend does, so a Python run and a frontend run of the same steps give the same weights.
Each request trains for at most :data:`CHUNK_MS` so that a stop request and the views' updates
never wait long.
"""

from __future__ import annotations

import contextlib
import logging
import math
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import torch

from nnvisu.dispatch import handle_message
from nnvisu.protocol import MAX_STEPS
from nnvisu.timeline import empty_timeline, record_snapshot

log = logging.getLogger(__name__)

#: Milliseconds of training per request: bounds the reaction time of stop() and of the views.
CHUNK_MS = 100
#: Seconds between two pushes of the training state to the widget's traits (views redraw then).
PUBLISH_INTERVAL_S = 0.2
#: Longest history kept; beyond it every other record is dropped (the curve's shape stays).
HISTORY_LIMIT = 2000


_threads_lock = threading.Lock()
_threads_users = 0
_threads_before = 1


@contextlib.contextmanager
def one_torch_thread() -> Iterator[None]:
    """Run torch on one intra-op thread inside the block, restoring the user's setting after.

    The playground's nets are tiny: a second thread only adds synchronisation, and on two
    shared cores a 1-step request took 120 ms instead of 12 ms. The kernel's torch setting is
    the user's, so it is changed only while nnvisu computes (counted: the message handler and a
    training thread may overlap).
    """
    global _threads_users, _threads_before
    with _threads_lock:
        if _threads_users == 0:
            _threads_before = torch.get_num_threads()
            torch.set_num_threads(1)
        _threads_users += 1
    try:
        yield
    finally:
        with _threads_lock:
            _threads_users -= 1
            if _threads_users == 0:
                torch.set_num_threads(_threads_before)


class TrainingError(RuntimeError):
    """A Python training run failed; the message is the protocol's error (e.g. diverged)."""


@dataclass(frozen=True)
class TrainState:
    """Everything a ``train_step`` needs and returns: a snapshot of the widget's traits."""

    config: dict[str, Any]
    data: list[dict[str, Any]]
    network: dict[str, Any]
    optimizer_state: dict[str, Any]
    metrics: dict[str, Any]
    history: list[dict[str, Any]] = field(default_factory=list)
    timeline: dict[str, Any] = field(default_factory=empty_timeline)


def metrics_from_reply(reply: dict[str, Any]) -> dict[str, Any]:
    """The widget's ``metrics`` trait from a ``train_step_result``."""
    keys = ("train_loss", "test_loss", "accuracy", "test_accuracy", "global_step", "epoch")
    return {key: reply[key] for key in keys}


def append_history(history: list[dict[str, Any]], reply: dict[str, Any]) -> list[dict[str, Any]]:
    """Return ``history`` plus a record of ``reply``, decimated to at most HISTORY_LIMIT."""
    record = {"step": reply["global_step"]}
    record.update({k: reply[k] for k in ("train_loss", "test_loss", "accuracy", "test_accuracy")})
    updated = [*history, record]
    # Halving keeps the first and (the length being odd then) the newest record.
    return updated[::2] if len(updated) > HISTORY_LIMIT else updated


def steps_per_epoch(config: dict[str, Any], data: list[dict[str, Any]]) -> int:
    """Minibatches in one pass over the training points (at least 1)."""
    n_train = sum(1 for point in data if not point.get("test", False))
    batch = config.get("batch_size") or n_train
    return max(1, math.ceil(n_train / batch)) if n_train else 1


def epoch_at(config: dict[str, Any], data: list[dict[str, Any]], global_step: int) -> float:
    """The protocol's ``epoch`` at ``global_step``: steps x batch size / training points."""
    n_train = sum(1 for point in data if not point.get("test", False))
    if not n_train:
        return 0.0
    return global_step * min(config.get("batch_size") or n_train, n_train) / n_train


def train_request(state: TrainState, steps: int) -> dict[str, Any]:
    """A ``train_step`` request continuing ``state`` for at most ``steps`` steps."""
    config = {
        **state.config,
        "steps": min(steps, MAX_STEPS),
        "time_budget_ms": CHUNK_MS,
    }
    return {
        "type": "train_step",
        "id": "python",
        "config": config,
        "network": state.network,
        "optimizer_state": state.optimizer_state,
        "data": state.data,
    }


def advance(state: TrainState, reply: dict[str, Any]) -> TrainState:
    """The state after a ``train_step_result``."""
    return replace(
        state,
        network=reply["network"],
        optimizer_state=reply["optimizer_state"],
        metrics=metrics_from_reply(reply),
        history=append_history(state.history, reply),
        timeline=record_snapshot(state.timeline, reply),
    )


@dataclass(frozen=True)
class Progress:
    """Where a run is: steps done of ``total``; ``finished`` once it ended (``error`` if failed)."""

    steps: int
    total: int
    finished: bool = False
    stopped: bool = False
    error: str | None = None

    def status(self) -> dict[str, str]:
        """The widget's ``status`` trait for this point of the run."""
        where = f"{self.steps}/{self.total} steps"
        if self.error is not None:
            return {"state": "error", "message": f"training failed after {where}: {self.error}"}
        if self.stopped:
            return {"state": "idle", "message": f"stopped after {where}"}
        if self.finished:
            return {"state": "idle", "message": f"trained {where}"}
        return {"state": "training", "message": f"training in Python: {where}"}


Publish = Callable[[TrainState, Progress], None]


class ProgressBar:
    """A progress bar with the step count and loss, shown under the cell that started a run."""

    def __init__(self, total: int) -> None:
        import ipywidgets  # type: ignore[import-untyped]
        from IPython.display import display

        self._bar = ipywidgets.IntProgress(value=0, min=0, max=total, description="Training")
        self._label = ipywidgets.Label(f"0/{total} steps")
        display(ipywidgets.HBox([self._bar, self._label]))  # type: ignore[no-untyped-call]

    def update(self, progress: Progress, metrics: dict[str, Any]) -> None:
        """Show ``progress`` and the latest training loss."""
        loss = metrics.get("train_loss")
        self._bar.value = progress.steps
        self._label.value = progress.status()["message"] + (
            f" · loss {loss:.4f}" if loss is not None else ""
        )
        if progress.finished:
            style = "danger" if progress.error else "warning" if progress.stopped else "success"
            self._bar.bar_style = style


class TrainingRun:
    """Handle of a Python training run (returned by ``NNVisu.train``).

    Attributes:
        total_steps: steps the run was asked for.
        steps: steps trained so far.
        error: the failure message once the run failed, else None.
    """

    def __init__(self, start: TrainState, total_steps: int, publish: Publish) -> None:
        self.total_steps = total_steps
        self.steps = 0
        self.error: str | None = None
        self._state = start
        self._publish = publish
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="nnvisu-training", daemon=True)

    @property
    def done(self) -> bool:
        """True once the run ended: all steps trained, stopped, or failed."""
        return self._thread.ident is not None and not self._thread.is_alive()

    @property
    def state(self) -> TrainState:
        """The latest training state (final once ``done``)."""
        return self._state

    def start(self) -> TrainingRun:
        """Start training in a background thread; return self."""
        self._thread.start()
        return self

    def stop(self, timeout: float | None = 10.0) -> None:
        """Ask the run to stop after its current request and wait up to ``timeout`` s for it."""
        self._stop.set()
        if self._thread.ident is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def request_stop(self) -> None:
        """Ask the run to stop after its current request, without waiting."""
        self._stop.set()

    def wait(self, timeout: float | None = None) -> dict[str, Any]:
        """Wait for the run to end; return the final metrics.

        Raises:
            TimeoutError: still running after ``timeout`` seconds.
            TrainingError: the run failed (e.g. the loss diverged); the widget keeps the
                last good state.
        """
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise TimeoutError(f"training still running after {timeout} s ({self})")
        if self.error is not None:
            raise TrainingError(self.error)
        return self._state.metrics

    def __repr__(self) -> str:
        status = "failed" if self.error else "done" if self.done else "running"
        return f"<TrainingRun {status}: {self.steps}/{self.total_steps} steps>"

    def _run(self) -> None:
        try:
            self._loop()
        except Exception as error:  # a thread has nobody to raise to: report through the handle
            log.exception("nnvisu: training from Python failed")
            self.error = f"{type(error).__name__}: {error}"
        stopped = self._stop.is_set() and self.error is None
        final = Progress(self.steps, self.total_steps, True, stopped, self.error)
        self._publish(self._state, final)

    def _loop(self) -> None:
        last_publish = time.monotonic()
        while self.steps < self.total_steps and not self._stop.is_set() and self.error is None:
            self._step()
            if time.monotonic() - last_publish >= PUBLISH_INTERVAL_S:
                self._publish(self._state, Progress(self.steps, self.total_steps))
                last_publish = time.monotonic()

    def _step(self) -> None:
        with one_torch_thread():
            reply = handle_message(train_request(self._state, self.total_steps - self.steps))
        if reply["type"] == "error":  # e.g. diverged: keep the last good state
            self.error = f"{reply['code']}: {reply['message']}"
            return
        self._state = advance(self._state, reply)
        self.steps += int(reply["steps"])
