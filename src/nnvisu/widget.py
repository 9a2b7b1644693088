"""``NNVisu``: the playground as a Jupyter widget whose trainer is the notebook's own kernel.

The view (``static/widget.js``) draws everything from the synced traits and sends protocol
requests as custom messages; the kernel answers each with ``nnvisu.handle_message``. The
Python API below drives the same dispatcher, so a notebook and a view train the same way.
"""

from __future__ import annotations

import logging
import math
import numbers
import operator
import sys
import threading
from collections.abc import Sequence
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import anywidget
import msgspec
import numpy as np
import traitlets

from nnvisu import datasets, export, protocol, setup_doc, timeline, widget_file, widget_traits
from nnvisu.classroom import CONTROLS, check_classroom, classroom_state
from nnvisu.comparison import Comparison
from nnvisu.dispatch import handle_message
from nnvisu.timeline import Snapshots, empty_timeline
from nnvisu.training import (
    Progress,
    ProgressBar,
    TrainingError,
    TrainingRun,
    TrainState,
    append_history,
    epoch_at,
    one_torch_thread,
    steps_per_epoch,
    train_request,
)

if TYPE_CHECKING:
    import numpy.typing as npt
    import pandas as pd
    from torch import nn

__all__ = ["NNVisu", "TrainingError", "TrainingRun"]

log = logging.getLogger(__name__)

_STATIC = files("nnvisu") / "static"

#: Every protocol config key with its default: the same defaults as the standalone page's.
CONFIG_DEFAULTS: dict[str, Any] = msgspec.to_builtins(protocol.Config())
DEFAULT_VIEW: dict[str, Any] = setup_doc.DEFAULT_VIEW
DEFAULT_CLASSROOM: dict[str, Any] = setup_doc.DEFAULT_CLASSROOM
IDLE: dict[str, str] = {"state": "idle", "message": ""}
_MAX_TRAIN_STEPS = 10**9


class NNVisu(anywidget.AnyWidget):
    """An interactive neural-network playground that trains a real PyTorch model in the kernel.

    Display it (last expression of a cell) to place points, pick an architecture and press
    Play; or drive it from Python with :meth:`set_data`, :meth:`train`, :meth:`stop`,
    :meth:`reset`, :meth:`restore`, :meth:`to_torch`, :meth:`save` and :meth:`load`. Every
    trait below is synced with the views and saved with the notebook.

    Example:
        >>> w = NNVisu("spiral", n=300, hidden_layers=[16, 16], activation="relu")
        >>> w.train(epochs=200).wait()["train_loss"] < 0.5
        True
    """

    # The traits a view's training loop streams (network, optimizer_state, metrics, history,
    # timeline) are tagged echo_update=False: ipywidgets would otherwise send each value a
    # view saves back to it, by then older than what the view shows. Without the echo, any
    # change a view sees to them is a real one (Python's, or another view's).

    #: Control names for ``hide=`` and the ``classroom`` trait (the views' control groups).
    CONTROLS: ClassVar[tuple[str, ...]] = CONTROLS

    _esm = Path(str(_STATIC / "widget.js"))
    _css = Path(str(_STATIC / "widget.css"))

    data = traitlets.List(
        traitlets.Dict(), help='Points [{"x", "y", "label", "test"}]: class or target value.'
    ).tag(sync=True)
    config = traitlets.Dict(
        help="The full protocol config: architecture, optimizer, regularization, seed."
    ).tag(sync=True)
    network = traitlets.Dict(
        help='{"weights", "biases"}: Linear layers in torch layout (weights out x in).'
    ).tag(sync=True, echo_update=False)
    optimizer_state = traitlets.Dict(
        help="Optimizer buffers, its step count and global_step (which also drives the RNG)."
    ).tag(sync=True, echo_update=False)
    metrics = traitlets.Dict(
        help="Latest train/test loss and accuracy (null when unknown), global_step, epoch."
    ).tag(sync=True, echo_update=False)
    history = traitlets.List(
        traitlets.Dict(),
        help="Loss/accuracy records by step, decimated to at most 2000 entries.",
    ).tag(sync=True, echo_update=False)
    status = traitlets.Dict(
        IDLE, help='{"state": "idle" | "training" | "error", "message"}: what the trainer does.'
    ).tag(sync=True)
    playing = traitlets.Bool(
        False, help="The view's training loop (Play/Pause); NNVisu.stop() sets it False."
    ).tag(sync=True)
    dataset = traitlets.Dict(
        help='Generator settings {"name", "n", "noise", "num_classes", "seed", "test_ratio"}.'
    ).tag(sync=True)
    view = traitlets.Dict(
        DEFAULT_VIEW, help="Display and tool settings: show_test, discretize, tool, class, ..."
    ).tag(sync=True)
    timeline = traitlets.Dict(
        help='Weight snapshots of the run(s) {"interval", "branch", "snapshots"} (seekable; '
        "read them with NNVisu.snapshots, resume with NNVisu.restore)."
    ).tag(sync=True, echo_update=False)
    comparison = traitlets.Dict(
        {"active": False, "playing": False, "runs": []},
        help='Two runs compared side by side {"active", "playing", "runs": [run a, run b]}, each '
        'run {"config", "network", "optimizer_state", "metrics", "history"} (NNVisu.compare).',
    ).tag(sync=True)
    classroom = traitlets.Dict(
        DEFAULT_CLASSROOM,
        help='Classroom mode {"hidden": [names from NNVisu.CONTROLS], "lock_data": bool}; '
        "live: assigning it changes the views at once.",
    ).tag(sync=True)
    pace = traitlets.Unicode(
        setup_doc.DEFAULT_PACE["rate"],
        help="How fast Play trains: 'step' (one optimizer step per display frame), 'epoch' "
        "(one epoch per frame, TensorFlow Playground's pace), '10_epochs', or 'max'.",
    ).tag(sync=True)
    step_size = traitlets.Unicode(
        setup_doc.DEFAULT_PACE["step_size"],
        help="What one press of Step trains: 'step', 'epoch' or '10_epochs'.",
    ).tag(sync=True)

    def __init__(
        self,
        dataset: str | None = "circle",
        *,
        n: int = 200,
        noise: float = 0.1,
        num_classes: int = 2,
        test_ratio: float = 0.5,
        seed: int = 0,
        hide: Sequence[str] = (),
        lock_data: bool = False,
        setup: str | Path | dict[str, Any] | None = None,
        **config: Any,
    ) -> None:
        """Generate a dataset and initialise a network (or open a setup).

        Args:
            dataset: a name from ``nnvisu.datasets.DATASETS`` ("moons", "spiral", ...) or
                None to start without points.
            n: number of points (1..10000).
            noise: the generator's noise (0..1; its meaning per dataset is in
                ``nnvisu.datasets.DATASETS[name].description``).
            num_classes: class count (2..8) for datasets that take one.
            test_ratio: fraction of the points held out as test points (0..0.9).
            seed: seeds the data, the test split and the network's initialisation.
            hide: classroom mode: control groups learners do not see, by name (see
                ``NNVisu.CONTROLS``), e.g. ``["optimizer", "learning_rate", "timeline"]``.
            lock_data: classroom mode: learners cannot add, erase, generate or re-split points.
            setup: open a setup instead: a share link from the page (``http://…#setup=…``),
                the path of a file exported from the page or written by :meth:`save`, or a
                setup document (a dict). It takes no other argument.
            **config: any protocol config key, e.g. ``hidden_layers=[8, 8]``,
                ``activation="relu"``, ``optimizer="adam"``, ``learning_rate=0.03``,
                ``batch_size=32``, ``features=["x", "y", "xy"]``, ``l2=0.001``.

        Raises:
            TypeError: an unknown keyword argument (the message names it), or ``setup`` with
                other arguments.
            ValueError: a value out of range (the message names the field and the range), or
                a bad setup link or file (the message says what is wrong).
        """
        if setup is not None:
            given = {"dataset": dataset != "circle", "n": n != 200, "noise": noise != 0.1,
                     "num_classes": num_classes != 2, "test_ratio": test_ratio != 0.5,
                     "seed": seed != 0, "hide": bool(hide), "lock_data": lock_data,
                     **{key: True for key in config}}  # fmt: skip
            others = [name for name, set_ in given.items() if set_]
            if others:
                raise TypeError(f"NNVisu(setup=...) takes no other argument, got {others}")
            document = setup_doc.parse(setup) if isinstance(setup, dict) else setup_doc.read(setup)
            self._open(_state_from_setup(document))
            return
        classroom = classroom_state(hide, lock_data, names=("hide", "lock_data"))
        state = _initial_state(dataset, n, noise, num_classes, test_ratio, seed, config)
        self._open({**state, "classroom": classroom})

    def _open(self, traits: dict[str, Any]) -> None:
        """Set up a widget with validated trait values (opens its comm in a kernel)."""
        self._lock = threading.RLock()
        self._run: TrainingRun | None = None
        super().__init__(**traits)
        self.on_msg(_on_custom_message)

    # Messages from the views.
    def _reply(self, content: object) -> dict[str, Any]:
        """Answer one request from a view; never raises."""
        if not isinstance(content, dict):
            kind = type(content).__name__
            return _error("invalid", f"a request must be a JSON object, got a {kind}")
        if content.get("type") == "train_step" and self.training:
            rid = protocol.request_id(content)
            return _error("busy", "training from Python: call w.stop() first", rid)
        with one_torch_thread():
            return handle_message(content)

    def set_state(self, sync_data: dict[str, Any]) -> None:
        """Apply a view's trait update, atomically with respect to the training thread.

        ``config``, ``network``, ``optimizer_state`` and ``data`` are validated like protocol
        messages first: an invalid one is refused (the views get the valid value back, the
        ``status`` trait says why) and the Python side keeps working.
        """
        with self._lock:
            current = {name: getattr(self, name) for name in widget_traits.CHECKED}
            problems = widget_traits.refused(current, sync_data)
            if problems:
                sync_data = {k: v for k, v in sync_data.items() if k not in problems}
            super().set_state(sync_data)
            if problems:
                message = "; ".join(problems.values())
                log.warning("nnvisu: refused a view's update: %s", message)
                self.send_state(list(problems))  # the views go back to the valid values
                self.status = {"state": "error", "message": f"refused a change: {message}"}

    def _notify_trait(self, name: str, old_value: Any, new_value: Any) -> None:
        # Every trait change (user code, views, the training thread) syncs through here: one
        # lock keeps ipywidgets' bookkeeping (hold_sync's pending keys) consistent.
        with self._lock:
            super()._notify_trait(name, old_value, new_value)

    @traitlets.validate("classroom")
    def _check_classroom(self, proposal: traitlets.Bunch) -> dict[str, Any]:
        return check_classroom(proposal["value"])

    @traitlets.validate("pace")
    def _check_pace(self, proposal: traitlets.Bunch) -> str:
        return setup_doc.check_pace(proposal["value"])

    @traitlets.validate("step_size")
    def _check_step_size(self, proposal: traitlets.Bunch) -> str:
        return setup_doc.check_step_size(proposal["value"])

    @traitlets.observe("playing")
    def _on_playing(self, change: dict[str, Any]) -> None:
        # Play in a view takes over from a Python run: one trainer at a time. Only signal
        # here (the thread publishes under the lock this observer may be running under).
        if change["new"] and self._run is not None:
            self._run.request_stop()

    # Data.
    def set_data(
        self,
        X: npt.ArrayLike | pd.DataFrame,
        y: npt.ArrayLike | None = None,
        *,
        test_ratio: float = 0.0,
        seed: int = 0,
    ) -> None:
        """Replace the points.

        Args:
            X: coordinates, shape (n, 2) (array or nested lists), or a DataFrame with columns
                ``x``, ``y``, ``label`` and optionally a boolean ``test`` column.
            y: labels: integers (classification: the class count grows to fit them) or
                floats (regression targets). Omit it when X is a DataFrame.
            test_ratio: fraction of points held out as test points (0 .. 1).
            seed: picks which points are test points.

        Raises:
            ValueError: bad shapes or values, or labels the network cannot take (e.g. more
                than 8 classes).
        """
        points = _points_from(X, y, test_ratio, seed)
        self._stop_run()
        config = _config_for_points(self.config, points)
        network, optimizer_state = self.network, self.optimizer_state
        if config != self.config:  # new problem or class count: adapt the output layer
            network, optimizer_state = _init_network(config, network)
        metrics = _evaluate(config, network, points, self.metrics)
        with self._lock, self.hold_sync():
            self.data, self.config, self.network = points, config, network
            self.optimizer_state, self.metrics = optimizer_state, metrics

    def data_as_numpy(self) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
        """Return ``(X, y)``: X float64 (n, 2); y int64 classes or float64 targets."""
        return datasets.from_points(self.data)

    def data_as_pandas(self) -> pd.DataFrame:
        """Return a DataFrame with columns ``x``, ``y``, ``label``, ``test`` (one row a point)."""
        frame = datasets.to_pandas(*self.data_as_numpy())
        frame["test"] = [bool(point.get("test", False)) for point in self.data]
        return frame

    # Training.
    @property
    def training(self) -> bool:
        """True while a Python training run (:meth:`train`) is active."""
        return self._run is not None and not self._run.done

    def train(
        self,
        steps: int | None = None,
        *,
        epochs: float | None = None,
        wait: bool | None = None,
        progress: bool | None = None,
    ) -> TrainingRun:
        """Train for ``steps`` optimizer steps or ``epochs`` passes over the training points.

        Training runs in a background thread that sends the state to the views about five
        times a second, so a notebook stays responsive (the kernel keeps answering the views)
        and they show it live. A view that was playing is paused first; a previous Python run
        is stopped and this one continues from where it got.

        Args:
            steps: number of optimizer steps (minibatches).
            epochs: alternatively, passes over the training points (may be fractional).
            wait: block until done. None: block only outside a Jupyter kernel.
            progress: show a progress bar under the cell. None: only inside a kernel.

        Returns:
            A :class:`~nnvisu.training.TrainingRun`: ``.done``, ``.wait(timeout)``, ``.stop()``.

        Raises:
            ValueError: neither or both of steps/epochs, or a bad value.
            TrainingError: ``wait`` and the run failed (e.g. diverged); the widget keeps the
                last good state.
        """
        total = self._total_steps(steps, epochs)
        self.stop()
        with self._lock:
            start = TrainState(
                self.config,
                self.data,
                self.network,
                self.optimizer_state,
                self.metrics,
                self.history,
                self.timeline,
            )
        protocol.decode_request(train_request(start, total))  # a bad state fails here, not later
        in_kernel = _in_kernel()
        bar = ProgressBar(total) if (in_kernel if progress is None else progress) else None
        self.status = {"state": "training", "message": f"training {total} steps in Python"}
        self._run = TrainingRun(start, total, lambda s, p: self._publish(s, p, bar)).start()
        if not in_kernel if wait is None else wait:
            self._wait_interruptibly(self._run)
        return self._run

    def stop(self) -> None:
        """Stop training: pause the views' loop (``playing = False``) and any Python run."""
        self.playing = False
        self._stop_run()

    def _stop_run(self) -> None:
        """Stop a Python run (if any) and wait for its last update; views keep playing."""
        if self._run is not None:
            self._run.stop()

    def reset(self, seed: int | None = None) -> None:
        """Re-initialise the weights and clear optimizer state, metrics and history.

        Args:
            seed: the new initialisation seed; None takes the next one (config seed + 1).
        """
        self.stop()
        new_seed = (int(self.config["seed"]) + 1) % 2**31 if seed is None else seed
        config = {**self.config, "seed": new_seed}
        network, optimizer_state = _init_network(config, None)
        metrics = _evaluate(config, network, self.data, None)
        with self._lock, self.hold_sync():
            self.config, self.network, self.optimizer_state = config, network, optimizer_state
            self.metrics, self.history, self.status = metrics, _first_history(metrics), dict(IDLE)

    # The timeline.
    @property
    def snapshots(self) -> Snapshots:
        """The timeline's snapshots, oldest first: a read-only sequence of ``Snapshot``.

        Each has ``step``, ``branch``, ``parent`` (the index a branch forked from, on its first
        snapshot), ``train_loss``, ``test_loss`` and ``network`` (a copy). Training takes them
        as it goes (at most 256; older ones are thinned out); :meth:`restore` resumes from one.
        """
        return Snapshots(self.timeline)

    def restore(self, index: int) -> None:
        """Resume from snapshot ``index`` of :attr:`snapshots`, as a view's "Resume from here".

        The network becomes the snapshot's; the optimizer restarts (fresh buffers) at the
        snapshot's step, which also puts the minibatch order and dropout back where they were;
        the timeline starts a new branch there; the history is cut back to that step and the
        metrics are re-evaluated. A Python run is stopped first; views that are playing go on
        training from the snapshot.

        Args:
            index: position in :attr:`snapshots` (negative counts from the end).

        Raises:
            IndexError: there is no snapshot ``index``.
            TypeError: ``index`` is not an integer.
            ValueError: the snapshot's network does not fit the current architecture (it was
                taken before the layers, inputs or classes changed).
        """
        index = operator.index(index)
        self._stop_run()
        with self._lock:
            config, data, history, current = self.config, self.data, self.history, self.timeline
        position = Snapshots(current).position(index)
        timeline.check_architecture(current["snapshots"][position], config)
        resumed = timeline.resume_from(current, position)
        step = resumed.global_step
        optimizer_state = {"optimizer": config["optimizer"], "step": 0, "global_step": step,
                           "buffers": {}}  # fmt: skip
        where = {"global_step": step, "epoch": epoch_at(config, data, step)}
        metrics = _evaluate(config, resumed.network, data, where)
        with self._lock, self.hold_sync():
            self.network, self.optimizer_state = resumed.network, optimizer_state
            self.timeline, self.metrics = resumed.timeline, metrics
            # The curves follow the branch: what came after the fork belongs to the other one.
            self.history = [record for record in history if record["step"] <= step]

    def compare(self, **changes: Any) -> Comparison:
        """Start a comparison: this setup against a copy with ``changes``, same points and seed.

        Both runs start fresh from ``config["seed"]`` (equal weights when the architecture
        matches) and :meth:`Comparison.train` advances them in lockstep; each ends exactly
        where a solo run of its own setup would. The views show both runs side by side (the
        ``comparison`` trait), where they can also be played and their settings changed; the
        handle reads the runs from there. The widget's own run is paused and left as it is.

        Example:
            >>> c = w.compare(optimizer="adam").train(steps=300)
            >>> c.metrics[1]["test_loss"] < c.metrics[0]["test_loss"]  # did Adam win?

        Args:
            **changes: config keys for the second run, e.g. ``optimizer="adam"``,
                ``learning_rate=0.1``, ``activation="relu"``, ``hidden_layers=[8]``,
                ``l2=0.01``, ``batch_size=10``, ``features=["x", "y", "xy"]``.

        Returns:
            A :class:`~nnvisu.comparison.Comparison`: ``.train(steps)``, ``.metrics``,
            ``.runs``, ``.verdict()``, ``.to_torch()``.

        Raises:
            TypeError: an unknown keyword argument.
            ValueError: a shared setting (seed, problem, class count) or a bad value.
        """
        with self._lock:
            data, config = self.data, self.config
        self.stop()
        return Comparison(data, config, changes, shown=_ComparisonTrait(self))

    def to_torch(self) -> nn.Sequential:
        """Return an equivalent ``torch.nn.Sequential`` (a copy; eval mode).

        Layers: a feature expansion taking (..., 2) points (x, y), then Linear layers with the
        activation between them (and Dropout if configured). It outputs **logits** for
        classification (``softmax`` gives the widget's class probabilities) and the value for
        regression.
        """
        return export.to_torch(self.config, self.network)

    @classmethod
    def from_torch(
        cls,
        model: nn.Module,
        X: npt.ArrayLike | pd.DataFrame | None = None,
        y: npt.ArrayLike | None = None,
        **config: Any,
    ) -> NNVisu:
        """Import an ``nn.Sequential`` MLP into the playground, weights exactly (float32).

        The model is Linear layers with one activation between them (ReLU, Tanh, Sigmoid,
        LeakyReLU(0.01), ELU(1.0), GELU(), SiLU, Identity or nnvisu's Sine), optionally
        Dropout after it, and may start with the ``Features`` module :meth:`to_torch` puts
        first; its last Linear gives class logits (2..8) or one regression value.
        ``NNVisu.from_torch(w.to_torch())`` has ``w``'s network bit for bit. The playground
        can then train and edit it. For any other model, use ``nnvisu.watch``.

        Args:
            model: the ``nn.Sequential`` to import (it is not changed).
            X: the points' coordinates (n, 2) as numpy, torch or lists, or a DataFrame
                with columns x, y, label; None: no points.
            y: their labels (class indices or regression targets); None with a DataFrame.
            **config: other protocol config keys (``learning_rate=0.01``, ...); ``features``
                names the inputs of a model without a Features module (default: 2 inputs are
                x, y; 7 are every feature).

        Raises:
            ValueError: a layer, shape or activation the playground cannot express (the
                message names the layer and lists what is supported), or bad points.
            TypeError: an unknown keyword argument.
        """
        from nnvisu.torch_import import widget_traits

        traits = widget_traits(model, X, y, config)
        widget = cls.__new__(cls)
        widget._open(traits)
        return widget

    # Setups and files.
    def to_setup(self, trained: bool = True) -> dict[str, Any]:
        """This playground as a setup document (the format of files, links and presets).

        Args:
            trained: include the trained network, optimizer state, metrics, history and
                timeline; without them the setup starts from the initial weights of
                ``config["seed"]``.
        """
        with self._lock:  # a consistent snapshot even while a run publishes
            state = {name: getattr(self, name) for name in (*widget_file.TRAITS, "pace",
                                                            "step_size")}  # fmt: skip
        return _setup_of(state, trained)

    def share_link(self, base_url: str = "http://127.0.0.1:8765/") -> str:
        """A link that opens this setup on the standalone page served at ``base_url``.

        The link carries the setup untrained: the same points and initial weights, settings,
        pace and classroom options (``python -m nnvisu.server`` serves the page).
        """
        return setup_doc.to_link(self.to_setup(trained=False), base_url)

    def save(self, path: str | Path) -> None:
        """Write the whole state to ``path`` as a setup file.

        Read it back with :meth:`load`; the standalone page's Import reads it too.

        The file holds config, dataset settings (and the points when they are not the
        generator's), view, pace and classroom settings, and the trained network with its
        optimizer state, metrics, history and timeline, with ``format`` and ``version``.
        """
        Path(path).write_text(setup_doc.dumps(self.to_setup(trained=True)), encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> NNVisu:
        """Return a widget with the state saved by :meth:`save` or exported from the page.

        Raises:
            ValueError: not an nnvisu file, a newer version, or a state that does not
                validate (the message says what is wrong).
        """
        if widget_file.is_widget_file(Path(path)):  # the format before setups
            state = widget_file.read(Path(path))
        else:
            state = _state_from_setup(setup_doc.read(Path(path)))
        widget = cls.__new__(cls)
        try:
            widget._open(state)
        except (traitlets.TraitError, ValueError) as error:  # e.g. history is not a list
            raise ValueError(f"{path}: {error}") from None
        return widget

    # Internals.
    def _total_steps(self, steps: int | None, epochs: float | None) -> int:
        if (steps is None) == (epochs is None):
            raise ValueError("give exactly one of steps=N or epochs=E")
        if steps is not None:
            return _check_int("steps", steps, 1, _MAX_TRAIN_STEPS)
        if not isinstance(epochs, numbers.Real) or not 0 < float(epochs) <= _MAX_TRAIN_STEPS:
            raise ValueError(f"epochs must be a positive number, got {epochs!r}")
        per_epoch = steps_per_epoch(self.config, self.data)
        return min(_MAX_TRAIN_STEPS, max(1, math.ceil(float(epochs) * per_epoch)))

    def _publish(self, state: TrainState, progress: Progress, bar: ProgressBar | None) -> None:
        """Push a training state to the traits (runs in the training thread)."""
        with self._lock, self.hold_sync():
            self.network, self.optimizer_state = state.network, state.optimizer_state
            self.metrics, self.history = state.metrics, state.history
            self.timeline = state.timeline
            if not self.playing:  # else a view took over (Play) and owns the status line
                self.status = progress.status()
        if bar is not None:
            bar.update(progress, state.metrics)

    @staticmethod
    def _wait_interruptibly(run: TrainingRun) -> None:
        try:
            run.wait()
        except KeyboardInterrupt:
            run.stop()
            raise


class _ComparisonTrait:
    """A widget's ``comparison`` trait, where a :class:`Comparison` shows its runs."""

    def __init__(self, widget: NNVisu) -> None:
        self._widget = widget

    def get(self) -> dict[str, Any]:
        value: dict[str, Any] = self._widget.comparison
        return value

    def set(self, value: dict[str, Any]) -> None:
        with self._widget._lock:
            self._widget.comparison = value


def _on_custom_message(widget: NNVisu, content: object, buffers: Sequence[bytes]) -> None:
    """Reply to a view's request with ``widget.send``; no exception escapes a handler."""
    try:
        reply = widget._reply(content)
    except Exception as error:  # a bug must not silence the reply the view waits for
        log.exception("nnvisu: request failed")
        message = protocol.errors.text(f"{type(error).__name__}: {error}")
        reply = _error("internal", message, protocol.request_id(content))
    try:
        widget.send(reply)
    except Exception:  # e.g. the comm closed meanwhile: nobody is left to answer
        log.exception("nnvisu: could not send a reply")


def _error(code: str, message: str, request_id: object = None) -> dict[str, Any]:
    return {"type": "error", "id": request_id, "code": code, "message": message, "field": None}


def _call(request: dict[str, Any]) -> dict[str, Any]:
    """Dispatch a request from Python; a protocol error becomes a ValueError."""
    reply = handle_message(request)
    if reply["type"] == "error":
        raise ValueError(reply["message"])
    return reply


def _check_int(name: str, value: object, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer in [{lo}, {hi}], got {value!r}")
    if not lo <= int(value) <= hi:
        raise ValueError(f"{name}={value} is out of range: allowed [{lo}, {hi}]")
    return int(value)


def _initial_state(
    name: str | None,
    n: int,
    noise: float,
    num_classes: int,
    test_ratio: float,
    seed: int,
    config: dict[str, Any],
) -> dict[str, Any]:
    """All trait values of a new widget, validated before any comm opens."""
    unknown = sorted(set(config) - set(CONFIG_DEFAULTS))
    if unknown:
        raise TypeError(
            f"NNVisu() got unexpected keyword argument(s) {', '.join(unknown)}; "
            f"config keys are: {', '.join(CONFIG_DEFAULTS)}"
        )
    settings = {"name": name, "n": n, "noise": noise, "num_classes": num_classes,
                "seed": seed, "test_ratio": test_ratio}  # fmt: skip
    points, problem, classes = _generate(settings, config.get("problem", "classification"))
    full = {**CONFIG_DEFAULTS, "problem": problem, "num_classes": classes,
            "seed": seed, **config}  # fmt: skip
    if full["problem"] != problem:
        raise ValueError(f"problem={full['problem']!r} does not fit dataset {name!r} ({problem})")
    network, optimizer_state = _init_network(full, None)
    metrics = _evaluate(full, network, points, None)
    return {
        "data": points,
        "config": full,
        "network": network,
        "optimizer_state": optimizer_state,
        "metrics": metrics,
        "history": _first_history(metrics),
        "timeline": empty_timeline(),
        "dataset": settings if name is not None else {**settings, "name": "circle"},
    }


def _state_from_setup(document: dict[str, Any]) -> dict[str, Any]:
    """All trait values of a widget opening a (complete, validated) setup document."""
    config, settings, trained = document["config"], document["dataset"], document["trained"]
    if document["points"] is not None:
        points = [{"test": False, **point} for point in document["points"]]
    else:
        points, _, _ = _generate(settings, config["problem"])
    if trained is not None:
        network, optimizer_state = trained["network"], trained["optimizer_state"]
        metrics, history = trained["metrics"], trained["history"]
        snapshots = trained["timeline"]
    else:
        network, optimizer_state = _init_network(config, None)
        metrics = _evaluate(config, network, points, None)
        history, snapshots = _first_history(metrics), empty_timeline()
    return {
        "data": points, "config": config, "network": network,
        "optimizer_state": optimizer_state, "metrics": metrics, "history": history,
        "timeline": snapshots, "dataset": settings, "view": document["view"],
        "classroom": document["classroom"], "pace": document["pace"]["rate"],
        "step_size": document["pace"]["step_size"],
    }  # fmt: skip


def _setup_of(state: dict[str, Any], trained: bool) -> dict[str, Any]:
    """The setup document of the widget traits in ``state``."""
    settings, config, points = state["dataset"], state["config"], state["data"]
    if settings.get("name") in datasets.DATASETS:
        generated, _, _ = _generate(settings, config["problem"])
        if generated == points:  # the generator's own points: the link carries its settings
            points = None
    document = {
        "format": setup_doc.FORMAT, "version": setup_doc.VERSION, "config": config,
        "dataset": settings, "points": points, "view": {**DEFAULT_VIEW, **state["view"]},
        "pace": {"rate": state["pace"], "step_size": state["step_size"]},
        "classroom": state["classroom"],
        "trained": {name: state[name] for name in setup_doc.TRAINED_KEYS} if trained else None,
    }  # fmt: skip
    return setup_doc.parse(document)


def _generate(settings: dict[str, Any], problem: str) -> tuple[list[dict[str, Any]], str, int]:
    """Points, problem and class count of the generator ``settings`` (no points: no name)."""
    if settings["name"] is None:
        return [], problem, settings["num_classes"]
    name = settings["name"]
    request = {"type": "generate_data", **{k: v for k, v in settings.items() if k != "name"}}
    reply = _call({**request, "dataset": name})
    if reply["problem"] == "classification" and reply["num_classes"] != settings["num_classes"]:
        info = datasets.DATASETS[name]  # the protocol clamps the class count; Python says so
        raise ValueError(
            f"num_classes={settings['num_classes']} is out of range for dataset {name!r}: "
            f"allowed [{info.min_classes}, {info.max_classes}]"
        )
    return reply["data"], reply["problem"], reply["num_classes"]


def _init_network(
    config: dict[str, Any], previous: dict[str, Any] | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A network for ``config`` (keeping what fits of ``previous``) and a fresh optimizer state."""
    request: dict[str, Any] = {"type": "init_network", "config": config}
    if previous is not None:
        request |= {"network": previous, "previous_features": config["features"]}
    reply = _call(request)
    return reply["network"], reply["optimizer_state"]


def _evaluate(
    config: dict[str, Any],
    network: dict[str, Any],
    points: list[dict[str, Any]],
    previous: dict[str, Any] | None,
) -> dict[str, Any]:
    """Metrics of ``network`` on ``points``, keeping the step count of ``previous`` metrics."""
    previous = previous or {}
    steps = {"global_step": previous.get("global_step", 0), "epoch": previous.get("epoch", 0.0)}
    empty = {"train_loss": None, "test_loss": None, "accuracy": None, "test_accuracy": None}
    if not any(not point.get("test", False) for point in points):
        return {**empty, **steps}
    reply = _call({"type": "evaluate", "config": config, "network": network, "data": points})
    return {**{key: reply[key] for key in empty}, **steps}


def _first_history(metrics: dict[str, Any]) -> list[dict[str, Any]]:
    if metrics["train_loss"] is None:
        return []
    return append_history([], {**metrics, "global_step": metrics["global_step"]})


def _points_from(
    X: Any, y: npt.ArrayLike | None, test_ratio: float, seed: int
) -> list[dict[str, Any]]:
    """Protocol points from arrays/lists or a DataFrame (whose ``test`` column is kept)."""
    if hasattr(X, "columns"):  # a DataFrame: pandas stays an optional import
        if y is not None:
            raise ValueError("give y only with arrays: a DataFrame carries its label column")
        points = datasets.to_points(*datasets.from_pandas(X), test_ratio=test_ratio, seed=seed)
        if "test" in X.columns:
            if test_ratio:
                raise ValueError("a DataFrame with a test column takes no test_ratio")
            for point, test in zip(points, X["test"].to_numpy(dtype=bool).tolist(), strict=True):
                point["test"] = test
        return points
    if y is None:
        raise ValueError("set_data(X, y) needs labels y (or a DataFrame with a label column)")
    return datasets.to_points(X, y, test_ratio=test_ratio, seed=seed)


def _config_for_points(config: dict[str, Any], points: list[dict[str, Any]]) -> dict[str, Any]:
    """``config`` with the problem and class count the points' labels need."""
    labels = [point["label"] for point in points]
    if any(isinstance(label, float) for label in labels):
        return {**config, "problem": "regression"}
    classes = max([int(config["num_classes"]), *(label + 1 for label in labels)])
    if config["problem"] == "regression":
        classes = max([2, *(label + 1 for label in labels)])
    return {**config, "problem": "classification", "num_classes": classes}


def _in_kernel() -> bool:
    """True inside a running Jupyter kernel (where blocking would freeze the views)."""
    kernelbase = sys.modules.get("ipykernel.kernelbase")  # never imported outside a kernel
    return kernelbase is not None and bool(kernelbase.Kernel.initialized())
