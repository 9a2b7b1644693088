"""``WatchView``: a live view of the user's own model, trained in the user's own loop.

The kernel evaluates the model on the map's grid now and then (see :mod:`.pace`) and sends
the results to the page as bytes; the page draws them with the playground's map, chart,
diagram and timeline code. The model is never trained or changed here.
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
from typing import TYPE_CHECKING, Any

import anywidget
import numpy as np
import numpy.typing as npt
import torch
import traitlets
from torch import Tensor, nn

from nnvisu.training import append_history
from nnvisu.watcher import encode
from nnvisu.watcher.evaluate import device_of, forward_quietly
from nnvisu.watcher.grid import Square
from nnvisu.watcher.pace import Pace
from nnvisu.watcher.points import Points, page_points
from nnvisu.watcher.task import OutputMismatch, Task, shape_message
from nnvisu.widget import NNVisu

if TYPE_CHECKING:
    from torch.utils.hooks import RemovableHandle

log = logging.getLogger(__name__)

#: The one line the page shows where the playground's training controls would be.
WHERE = (
    "Training runs in your own Python loop: this view only watches it "
    "(view.update(loss=..., step=...) after a step, or view.attach(optimizer))."
)
#: Timeline snapshots kept; a full timeline drops every other one (the first and newest stay).
MAX_SNAPSHOTS = 48
#: Cells a side of a snapshot's map (the whole timeline is sent again when a snapshot is added).
SNAPSHOT_RESOLUTION = 32
METRIC_KEYS = ("train_loss", "test_loss", "accuracy", "test_accuracy")


class WatchView(anywidget.AnyWidget):
    """A live view of an ``nn.Module`` mapping (N, 2) points to (N, C) logits or (N, 1) values.

    Made by :func:`nnvisu.watch`. Call :meth:`update` after each training step, or
    :meth:`attach` an optimizer. Evaluations are rate-limited and adapt to their cost;
    :meth:`refresh` evaluates at once. The traits below are what the page draws.
    """

    _esm = NNVisu._esm  # one bundle: the page picks the watch view from the ``watch`` trait
    _css = NNVisu._css

    watch = traitlets.Dict(
        help='What is watched: {"problem", "classes", "bounds": [x0, x1, y0, y1], '
        '"resolution", "neuron_resolution", "snapshot_resolution", "model", "where"}.'
    ).tag(sync=True)
    data = traitlets.List(
        traitlets.Dict(), help='The points {"x", "y", "label", "test"} (at most 10,000 drawn).'
    ).tag(sync=True)
    frame = traitlets.Dict(
        help='The latest evaluation: {"step", "map" (bytes: uint8 C×n×n probabilities, or '
        'float16 n×n values), "layers": [{"name", "type", "units", "reason"}], "maps" (bytes a '
        'layer: uint8 units×m×m over [-1, 1], or None), "error"}.'
    ).tag(sync=True)
    snapshots = traitlets.List(
        traitlets.Dict(),
        help='Timeline: [{"step", "train_loss", "test_loss", "map"}] (map bytes as in frame, '
        "at snapshot_resolution).",
    ).tag(sync=True)
    history = traitlets.List(
        traitlets.Dict(), help="Loss/accuracy records by step (the playground's format)."
    ).tag(sync=True)
    metrics = traitlets.Dict(help="Latest train/test loss and accuracy, global_step.").tag(
        sync=True
    )
    status = traitlets.Dict(
        {"state": "idle", "message": ""},
        help='{"state": "idle" | "watching" | "error", "message"}.',
    ).tag(sync=True)

    def __init__(
        self,
        model: nn.Module,
        points: Points,
        *,
        resolution: int = 64,
        neuron_resolution: int = 16,
        pace: Pace | None = None,
    ) -> None:
        """Watch ``model`` on ``points``; see :func:`nnvisu.watch`."""
        if not isinstance(model, nn.Module):
            raise TypeError(f"watch needs a torch.nn.Module, got {type(model).__name__}")
        self._model = model
        self._points = points
        self._lock = threading.RLock()
        self._pace = pace or Pace()
        self._square = Square.around(points.all_xy())
        self._n, self._m = resolution, neuron_resolution
        self._grid: npt.NDArray[np.float32] = self._square.grid(resolution)
        device, dtype = device_of(model)
        self._device, self._dtype = device, dtype
        batch = [self._grid, self._square.grid(neuron_resolution), points.x, points.x_test]
        self._inputs = torch.from_numpy(np.concatenate(batch)).to(device, dtype)
        self._labels = torch.from_numpy(np.concatenate([points.y, points.y_test])).to(device)
        self._task: Task | None = None
        self._step = 0
        self._losses: list[Tensor | float] = []
        self._handles: list[RemovableHandle] = []
        self._flush_scheduled = False
        self._no_event_loop = False
        self._outputs: npt.NDArray[np.float32] | None = None
        self._failed = False
        super().__init__(
            watch=self._description(Task.from_labels(points.y)),
            data=page_points(points),
            frame={"step": 0, "map": None, "layers": [], "maps": [], "error": None},
            metrics={**dict.fromkeys(METRIC_KEYS), "global_step": 0},
            status={"state": "idle", "message": "waiting for the first update"},
        )
        self.refresh()

    # The user's side.
    def update(self, loss: float | Tensor | None = None, step: int | None = None) -> None:
        """Record a training step (its loss, if given) and evaluate when the pace allows.

        Cheap on most calls (a loss tensor is kept as is, without a device sync); never raises
        because of the model: an evaluation that fails shows its error in the view.

        Args:
            loss: the step's training loss (a number or a scalar tensor); None: the view shows
                the loss it evaluates itself.
            step: the step number; None counts steps (with an attached optimizer, its steps).
        """
        with self._lock:
            if step is not None:
                if isinstance(step, bool) or not isinstance(step, int) or step < 0:
                    raise ValueError(f"step must be a non-negative integer, got {step!r}")
                self._step = step
            elif not self._handles:
                self._step += 1
            if loss is not None:
                self._losses.append(_loss_value(loss))
            if self._pace.due():
                self._evaluate()
            else:
                self._flush_later()

    def attach(self, optimizer: torch.optim.Optimizer) -> RemovableHandle:
        """Update after every ``optimizer.step()``: an unchanged training loop drives the view.

        Returns the hook's handle (``handle.remove()`` detaches it; so does :meth:`detach`).
        """
        if not isinstance(optimizer, torch.optim.Optimizer):
            raise TypeError(f"attach needs a torch.optim.Optimizer, got {type(optimizer).__name__}")

        def stepped(*_: Any) -> None:
            with self._lock:
                self._step += 1
            self.update()

        handle = optimizer.register_step_post_hook(stepped)
        self._handles.append(handle)
        return handle

    def detach(self) -> None:
        """Remove every optimizer hook :meth:`attach` added."""
        for handle in self._handles:
            handle.remove()
        self._handles.clear()

    def close(self) -> None:
        """Detach from the optimizer and close the view's comm."""
        if hasattr(self, "_handles"):  # not when __init__ refused its arguments
            self.detach()
        super().close()

    def refresh(self) -> None:
        """Evaluate and show the model now, whatever the pace."""
        with self._lock:
            self._evaluate()

    # What the view last computed (for checks from Python).
    @property
    def grid_points(self) -> npt.NDArray[np.float32]:
        """The map's grid, (n*n, 2): row 0 is the top (largest y), column 0 the left."""
        grid: npt.NDArray[np.float32] = self._grid.copy()
        return grid

    @property
    def grid_outputs(self) -> npt.NDArray[np.float32] | None:
        """The model's raw outputs on :attr:`grid_points` at the last evaluation (float32)."""
        outputs = self._outputs
        return None if outputs is None else outputs.copy()

    @property
    def step(self) -> int:
        """The step of the latest update."""
        return self._step

    # Internals.
    def _description(self, task: Task) -> dict[str, Any]:
        return {
            "problem": task.problem,
            "classes": task.classes,
            "bounds": self._square.bounds(),
            "resolution": self._n,
            "neuron_resolution": self._m,
            "snapshot_resolution": min(SNAPSHOT_RESOLUTION, self._n),
            "model": type(self._model).__name__,
            "where": WHERE,
        }

    def _evaluate(self) -> None:
        """One evaluation, published; a model that raises is reported in the view."""
        started = self._pace.clock()
        snapshot = self._pace.snapshot_due()
        try:
            frame, metrics, values = self._frame()
        except Exception as error:  # the user's model: anything may go wrong, the view stays
            self._report(error)
        else:
            self._publish(frame, metrics, values if snapshot else None)
        self._pace.finished(started, snapshot)

    def _frame(self) -> tuple[dict[str, Any], dict[str, Any], Tensor]:
        cells, grid_end = self._n * self._n, self._n * self._n + self._m * self._m
        outputs, layers = forward_quietly(self._model, self._inputs, slice(cells, grid_end))
        if outputs.ndim == 0 or outputs.shape[0] != len(self._inputs):
            raise OutputMismatch(shape_message(outputs))
        train_end = grid_end + len(self._points.x)
        if self._task is None:
            self._task = Task.infer(
                self._labels[: len(self._points.x)], outputs[grid_end:train_end]
            )
            self.watch = self._description(self._task)
        task = self._task
        grid = outputs[:cells].float().cpu()
        if not torch.isfinite(grid).all():
            raise OutputMismatch("its outputs on the map's grid are not finite (nan or inf)")
        self._outputs = grid.numpy().reshape(cells, -1).copy()
        values = task.values(grid)
        train = task.score(outputs[grid_end:train_end], self._labels[: len(self._points.x)])
        test: tuple[float | None, float | None] = (None, None)
        if len(self._points.x_test):
            test = task.score(outputs[train_end:], self._labels[len(self._points.x) :])
        metrics = {"train_loss": train[0], "accuracy": train[1],
                   "test_loss": test[0], "test_accuracy": test[1]}  # fmt: skip
        encoded = (
            encode.regression(values) if task.kind == "regression" else encode.probabilities(values)
        )
        frame = {
            "step": self._step,
            "map": encoded,
            "layers": [layer.describe() for layer in layers],
            "maps": [None if x.values is None else encode.neurons(x.values) for x in layers],
            "error": None,
        }
        return frame, metrics, values

    def _publish(
        self, frame: dict[str, Any], evaluated: dict[str, Any], snapshot: Tensor | None
    ) -> None:
        """Send an evaluation; ``snapshot``: its map values, to go on the timeline too."""
        reported = self._reported_loss()
        metrics = {**evaluated, "global_step": self._step}
        if reported is not None:
            metrics["train_loss"] = reported
        metrics = {key: _finite(value) for key, value in metrics.items()}
        with self.hold_sync():
            self.frame = frame
            self.metrics = metrics
            last = self.history[-1]["step"] if self.history else None
            if last != self._step:
                self.history = append_history(self.history, metrics)
            if snapshot is not None:
                self.snapshots = self._with_snapshot(snapshot, metrics)
            self.status = {"state": "watching", "message": f"step {self._step}"}
        self._failed = False

    def _with_snapshot(self, values: Tensor, metrics: dict[str, Any]) -> list[dict[str, Any]]:
        small = encode.shrink(values, self._n, min(SNAPSHOT_RESOLUTION, self._n))
        regression = self._task is not None and self._task.kind == "regression"
        data = encode.regression(small) if regression else encode.probabilities(small)
        snap = {"step": self._step, "train_loss": metrics["train_loss"],
                "test_loss": metrics["test_loss"], "map": data}  # fmt: skip
        kept = [s for s in self.snapshots if s["step"] != self._step]
        updated = [*kept, snap]
        return updated[::2] if len(updated) > MAX_SNAPSHOTS else updated

    def _report(self, error: Exception) -> None:
        if isinstance(error, OutputMismatch):
            message = f"the model's outputs cannot be drawn: {error}"
        else:
            message = f"the model raised on the map's grid: {type(error).__name__}: {error}"
        if not self._failed:
            log.warning("nnvisu.watch: %s", message, exc_info=error)
        self._failed = True
        with self.hold_sync():
            self.frame = {**self.frame, "step": self._step, "error": message}
            self.status = {"state": "error", "message": message}

    def _reported_loss(self) -> float | None:
        """The mean of the losses reported since the last evaluation (one device sync)."""
        if not self._losses:
            return None
        tensors = [v for v in self._losses if isinstance(v, Tensor)]
        numbers = [float(v) for v in self._losses if not isinstance(v, Tensor)]
        if tensors:
            numbers += torch.stack([t.float().reshape(()) for t in tensors]).cpu().tolist()
        self._losses.clear()
        return sum(numbers) / len(numbers)

    def _flush_later(self) -> None:
        """Show the last steps once the cell that runs the loop ends (kernel's main thread only).

        A callback on the kernel's event loop runs when the loop is free again, i.e. after the
        cell, when no training step can be running in this thread.
        """
        if self._flush_scheduled or self._no_event_loop:
            return
        if threading.current_thread() is not threading.main_thread():
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # plain Python: no loop now, none later (checked once)
            self._no_event_loop = True
            return
        self._flush_scheduled = True
        loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        with self._lock:
            if self.frame.get("step") != self._step:
                self._evaluate()


def _loss_value(loss: float | Tensor) -> Tensor | float:
    if isinstance(loss, Tensor):
        if loss.numel() != 1:
            raise ValueError(f"loss must be a scalar, got a tensor of shape {tuple(loss.shape)}")
        return loss.detach()
    if isinstance(loss, bool) or not isinstance(loss, int | float):
        raise ValueError(f"loss must be a number or a scalar tensor, got {type(loss).__name__}")
    return float(loss)


def _finite(value: Any) -> Any:
    return None if isinstance(value, float) and not math.isfinite(value) else value
