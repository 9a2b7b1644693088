"""nnvisu.watch, kernel side without a kernel: the user's model, the user's loop, a view."""

from __future__ import annotations

import asyncio
import copy
import re
import threading
from typing import Any

import comm
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from comm.base_comm import BaseComm
from torch import Tensor, nn

import nnvisu
from nnvisu import datasets
from nnvisu.watcher import WatchView, encode
from nnvisu.watcher.pace import Pace
from nnvisu.watcher.points import Points


class RecordingComm(BaseComm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.sent: list[dict[str, Any]] = []
        super().__init__(*args, **kwargs)

    def publish_msg(self, msg_type: str, data: Any = None, metadata: Any = None,
                    buffers: Any = None, **keys: Any) -> None:  # fmt: skip
        self.sent.append({"data": data, "buffers": buffers})


@pytest.fixture(autouse=True)
def recording_comms(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(comm, "create_comm", RecordingComm)


class Residual(nn.Module):
    """What the playground cannot express: BatchNorm, a skip connection, Dropout, LayerNorm."""

    def __init__(self, classes: int = 3) -> None:
        super().__init__()
        self.inp = nn.Linear(2, 16)
        self.norm = nn.BatchNorm1d(16)
        self.block = nn.Sequential(nn.Linear(16, 16), nn.Tanh(), nn.Dropout(0.3))
        self.layer_norm = nn.LayerNorm(16)
        self.out = nn.Linear(16, classes)

    def forward(self, x: Tensor) -> Tensor:
        h = torch.relu(self.norm(self.inp(x)))
        h = self.layer_norm(h + self.block(h))
        return self.out(h)


def spiral(n: int = 200, classes: int = 3) -> tuple[Tensor, Tensor]:
    X, y = datasets.generate("spiral", n=n, num_classes=classes, seed=1)
    return torch.tensor(X, dtype=torch.float32), torch.tensor(y)


def every_time() -> Pace:
    """A pace that evaluates at every update (the default one would skip most in a test)."""
    return Pace(min_gap=0.0, share=1.0, snapshot_gap=0.0)


def watched(model: nn.Module, X: Tensor, y: Tensor, **kwargs: Any) -> WatchView:
    return WatchView(model, Points.of(X, y, **kwargs), pace=every_time())


def train_steps(model: nn.Module, X: Tensor, y: Tensor, steps: int, view: WatchView | None,
                attach: bool = False) -> nn.Module:  # fmt: skip
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    if view is not None and attach:
        view.attach(opt)
    for step in range(steps):
        opt.zero_grad()
        loss = F.cross_entropy(model(X), y)
        loss.backward()
        opt.step()
        if view is not None and not attach:
            view.update(loss=loss, step=step + 1)
    return model


def test_grid_values_are_the_models_own_outputs() -> None:
    torch.manual_seed(0)
    X, y = spiral()
    model = Residual()
    view = watched(model, X, y)
    train_steps(model, X, y, 5, view)
    reference = copy.deepcopy(model).eval()
    with torch.no_grad():
        expected = reference(torch.from_numpy(view.grid_points))
    got = view.grid_outputs
    assert got is not None and got.shape == (64 * 64, 3)
    assert np.abs(got - expected.numpy()).max() <= 1e-6
    # The page's bytes: class-major uint8 probabilities of those outputs.
    probs = encode.decode_probabilities(view.frame["map"], 3)
    assert np.abs(probs - torch.softmax(expected, 1).numpy()).max() <= 0.5 / 255 + 1e-6
    # Timeline snapshots: the same square at 32×32 (corners are grid points of both).
    assert view.watch["snapshot_resolution"] == 32 and view.snapshots[-1]["step"] == 5
    small = encode.decode_probabilities(view.snapshots[-1]["map"], 3).reshape(32, 32, 3)
    assert np.abs(small[0, 0] - probs.reshape(64, 64, 3)[0, 0]).max() <= 1 / 255
    assert np.abs(small[-1, -1] - probs.reshape(64, 64, 3)[-1, -1]).max() <= 1 / 255


def test_grid_is_a_square_around_the_points_top_row_first() -> None:
    X = torch.tensor([[0.0, 0.0], [2.0, 1.0]])
    view = watched(nn.Linear(2, 2), X, torch.tensor([0, 1]))
    grid = view.grid_points
    x0, x1, y0, y1 = view.watch["bounds"]
    assert (x0, x1) == pytest.approx((1.0 - 1.2, 1.0 + 1.2))
    assert (y0, y1) == pytest.approx((0.5 - 1.2, 0.5 + 1.2))
    assert tuple(grid[0]) == pytest.approx((x0, y1))  # top left
    assert tuple(grid[-1]) == pytest.approx((x1, y0))  # bottom right


def test_training_mode_and_rng_state_are_restored_and_the_run_is_unchanged() -> None:
    X, y = spiral()
    torch.manual_seed(0)
    alone = train_steps(Residual(), X, y, 20, None)
    after_alone = torch.get_rng_state()
    torch.manual_seed(0)
    model = Residual()
    model.layer_norm.eval()  # mixed modes come back module by module
    alone.layer_norm.eval()
    view = watched(model, X, y)
    train_steps(model, X, y, 20, view)
    assert torch.equal(torch.get_rng_state(), after_alone)
    assert model.training and model.block[2].training and not model.layer_norm.training
    for mine, theirs in zip(model.state_dict().values(), alone.state_dict().values(), strict=True):
        assert torch.equal(mine, theirs)  # weights and BatchNorm statistics, bit for bit
    assert view.frame["step"] == 20 and view.frame["error"] is None


class Noisy(nn.Module):
    """Draws random numbers even in eval mode: only a restored RNG keeps the user's stream."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(2, 2)

    def forward(self, x: Tensor) -> Tensor:
        return self.linear(x) + 0 * torch.rand(x.shape[0], 2)


def test_rng_stream_is_untouched_by_a_model_that_draws_random_numbers() -> None:
    X, y = spiral(50, 2)
    torch.manual_seed(5)
    view = watched(Noisy(), X, y)
    state = torch.get_rng_state()
    view.update(loss=1.0)
    view.refresh()
    assert torch.equal(torch.get_rng_state(), state)


def test_attach_updates_from_an_unchanged_loop() -> None:
    X, y = spiral()
    model = Residual()
    view = watched(model, X, y)
    before = bytes(view.frame["map"])
    train_steps(model, X, y, 12, view, attach=True)
    assert view.step == 12 and view.frame["step"] == 12
    assert view.frame["map"] != before
    assert [h["step"] for h in view.history] == list(range(13))
    assert view.history[-1]["train_loss"] is not None
    view.detach()
    train_steps(model, X, y, 3, view, attach=False)
    assert view.step == 3  # update(step=...) from here on
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    view.attach(opt)
    view.close()  # closing detaches: a later step leaves the view alone
    opt.step()
    assert view.step == 3


def test_updates_are_rate_limited_and_adapt_to_their_cost() -> None:
    now = [0.0]
    pace = Pace(min_gap=0.1, share=0.05, snapshot_gap=1.0, clock=lambda: now[0])
    assert pace.due()
    pace.finished(started=0.0, snapshot=pace.snapshot_due())
    now[0] = 0.05
    assert not pace.due()
    now[0] = 0.1
    assert pace.due() and not pace.snapshot_due()
    now[0] = 0.3  # an evaluation of 0.2 s: the next waits 19 times as long
    pace.finished(started=0.1, snapshot=False)
    now[0] = 0.3 + 3.7
    assert not pace.due()
    now[0] = 0.3 + 3.81
    assert pace.due() and pace.snapshot_due()


def test_a_fast_loop_evaluates_far_less_often_than_it_steps() -> None:
    X, y = spiral()
    model = Residual()
    view = nnvisu.watch(model, X, y)
    train_steps(model, X, y, 60, view)
    assert 1 <= len(view.history) < 30
    view.refresh()
    assert view.frame["step"] == 60 and view.metrics["global_step"] == 60


def test_losses_between_evaluations_are_averaged_and_nan_is_null() -> None:
    X, y = spiral(50, 2)
    now = [0.0]
    view = WatchView(nn.Linear(2, 2), Points.of(X, y), pace=Pace(clock=lambda: now[0]))
    for loss in (1.0, torch.tensor(2.0), 3.0):
        view.update(loss=loss)
    now[0] = 100.0
    view.update(loss=torch.tensor(6.0))
    assert view.history[-1] == {**view.history[-1], "step": 4, "train_loss": 3.0}
    now[0] = 200.0
    view.update(loss=float("nan"))
    assert view.history[-1]["train_loss"] is None


def test_test_points_give_test_loss_and_accuracy() -> None:
    X, y = spiral(120, 2)
    view = watched(nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2)), X[:80], y[:80],
                   X_test=X[80:], y_test=y[80:])  # fmt: skip
    metrics = view.metrics
    assert metrics["test_loss"] > 0 and 0 <= metrics["test_accuracy"] <= 1
    assert sum(p["test"] for p in view.data) == 40 and len(view.data) == 120


def test_regression_and_a_single_binary_logit() -> None:
    X = torch.rand(40, 2) * 2 - 1
    model = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1))
    view = watched(model, X, X[:, 0] * 0.5)
    assert view.watch["problem"] == "regression" and view.metrics["accuracy"] is None
    values = np.frombuffer(view.frame["map"], "<f2")
    with torch.no_grad():
        expected = model.eval()(torch.from_numpy(view.grid_points)).reshape(-1).numpy()
    assert np.abs(values - expected).max() < 2e-3  # float16
    binary = watched(nn.Linear(2, 1), X, (X[:, 0] > 0).long())
    assert binary.watch["classes"] == 2 and binary.metrics["accuracy"] is not None
    assert len(binary.frame["map"]) == 2 * 64 * 64


class Conv(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lift = nn.Linear(2, 8)
        self.conv = nn.Conv1d(1, 2, 3, padding=1)
        self.out = nn.Linear(16, 2)

    def forward(self, x: Tensor) -> Tensor:
        return self.out(torch.relu(self.conv(self.lift(x).unsqueeze(1))).flatten(1))


def test_layers_with_neurons_get_maps_and_the_others_say_why_not() -> None:
    X, y = spiral(60, 3)
    view = watched(Residual(), X, y)
    layers = {layer["name"]: layer for layer in view.frame["layers"]}
    maps = dict(zip([layer["name"] for layer in view.frame["layers"]], view.frame["maps"],
                    strict=True))  # fmt: skip
    assert layers["inp"]["units"] == 16 and len(maps["inp"]) == 16 * 16 * 16
    assert layers["block.1"]["type"] == "Tanh" and maps["block.1"] is not None
    assert "rescales its inputs" in layers["norm"]["reason"] and maps["norm"] is None
    assert "no neurons of its own" in layers["layer_norm"]["reason"]
    assert "unchanged in eval mode" in layers["block.2"]["reason"]
    assert "block" not in layers  # the Sequential's output is its last child's
    conv = {layer["name"]: layer for layer in watched(Conv(), X, y % 2).frame["layers"]}
    assert "shape (N, 2, 8)" in conv["conv"]["reason"] and conv["conv"]["units"] == 0
    # Neuron maps: the tanh layer's bytes are its values over [-1, 1] on the small grid.
    model = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 2))
    view = watched(model, X[:, :2], (y > 0).long())
    small = torch.from_numpy(view._square.grid(16))
    with torch.no_grad():
        hidden = torch.tanh(model[0](small))
    got = np.frombuffer(view.frame["maps"][1], np.uint8).reshape(3, -1).T / 127.5 - 1
    assert np.abs(got - hidden.numpy()).max() <= 0.5 / 127.5 + 1e-6


class Broken(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(2, 2)
        self.fail = True

    def forward(self, x: Tensor) -> Tensor:
        if self.fail and x.shape[0] > 500:
            raise RuntimeError("this model cannot take big batches")
        return self.linear(x)


def test_a_model_that_raises_on_the_grid_gets_a_message_in_the_view() -> None:
    X, y = spiral(50, 2)
    model = Broken()
    view = watched(model, X, y)
    message = view.status["message"]
    assert view.status["state"] == "error"
    assert "the model raised on the map's grid: RuntimeError: this model cannot take big" in message
    assert view.frame["error"] == message
    view.update(loss=0.5)  # the loop goes on
    model.fail = False
    view.update(loss=0.4)
    assert view.status["state"] == "watching" and view.frame["error"] is None
    assert len(view.frame["map"]) == 2 * 64 * 64


@pytest.mark.parametrize(
    ("model", "labels", "match"),
    [
        (nn.Linear(2, 2), torch.arange(50) % 3, "y holds 3 classes but the model outputs 2 logits"),
        (nn.Linear(2, 3), torch.rand(50), "float targets .regression. but the model outputs 3"),
        (nn.Linear(2, 1), torch.arange(50) % 3, "outputs one value a point; give .N, 3. logits"),
        (nn.Flatten(0), torch.arange(50) % 2, r"output has shape \(\d+,\); watch needs"),
        (nn.Linear(2, 12), torch.arange(50) % 2, "view draws at most 8 classes"),
    ],
)
def test_outputs_that_do_not_fit_the_labels_are_explained(
    model: nn.Module, labels: Tensor, match: str
) -> None:
    X, _ = spiral(50, 2)
    view = watched(model, X, labels)
    assert view.status["state"] == "error"
    assert view.status["message"].startswith("the model's outputs cannot be drawn: ")
    assert re.search(match, view.status["message"]), view.status["message"]


def test_updates_from_a_background_thread() -> None:
    X, y = spiral()
    model = Residual()
    view = watched(model, X, y)
    worker = threading.Thread(target=train_steps, args=(model, X, y, 10, view))
    worker.start()
    worker.join(timeout=60)
    assert not worker.is_alive()
    assert view.frame["step"] == 10 and view.status["state"] == "watching"


def test_a_float64_model_gets_a_float64_grid() -> None:
    X, y = spiral(50, 2)
    model = nn.Linear(2, 2).double()
    view = watched(model, X, y)
    with torch.no_grad():
        expected = model(torch.from_numpy(view.grid_points).double()).float().numpy()
    assert view.grid_outputs is not None
    assert np.abs(view.grid_outputs - expected).max() <= 1e-6


def test_the_last_steps_are_shown_after_the_cell_on_the_kernels_event_loop() -> None:
    X, y = spiral(50, 2)
    view = nnvisu.watch(nn.Linear(2, 2), X, y)

    async def cell() -> None:
        for step in range(1, 6):  # within the first evaluation's gap: all skipped
            view.update(loss=1.0, step=step)
        assert view.frame["step"] == 0

    # The suite's main thread may already run Playwright's loop: set it aside meanwhile, as
    # the kernel's main thread has only its own loop.
    outer = asyncio.events._get_running_loop()
    asyncio.events._set_running_loop(None)
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(cell())
        loop.run_until_complete(asyncio.sleep(0))  # the loop runs what the cell scheduled
    finally:
        loop.close()
        asyncio.events._set_running_loop(outer)
    assert view.frame["step"] == 5


def test_page_bytes_travel_as_binary_buffers() -> None:
    X, y = spiral(50, 2)
    view = watched(nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 2)), X, y)
    view.comm.sent.clear()
    view.update(loss=1.0)
    updates = [m for m in view.comm.sent if m["data"].get("method") == "update"]
    assert "frame" in updates[-1]["data"]["state"]
    paths = updates[-1]["data"]["buffer_paths"]
    assert ["frame", "map"] in paths and ["frame", "maps", 0] in paths
    assert all(isinstance(b, bytes | memoryview) for b in updates[-1]["buffers"])


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [
        (("model", [[0, 0]], [0]), {}, TypeError, "needs a torch.nn.Module, got str"),
        ((nn.Linear(2, 2), [[0, 0, 0]], [0]), {}, ValueError, r"X, y: .*shape \(n, 2\)"),
        ((nn.Linear(2, 2), [[0, 0]], [0, 1]), {}, ValueError, r"labels must have shape \(1,\)"),
        ((nn.Linear(2, 2), np.zeros((0, 2)), np.zeros(0, int)), {}, ValueError, "no points"),
        ((nn.Linear(2, 2), [[0, 0]], [0]), {"X_test": [[1, 1]]}, ValueError, "both X_test"),
        (
            (nn.Linear(2, 2), [[0, 0]], [0]),
            {"X_test": [[1, 1]], "y_test": [0.5]},
            ValueError,
            "both be class labels or both float",
        ),
        ((nn.Linear(2, 2), [[0, 0]], [-1]), {}, ValueError, "non-negative"),
        (
            (nn.Linear(2, 2), [[0, 0]], [0]),
            {"resolution": 4},
            ValueError,
            r"resolution must be .*\[8, 256\]",
        ),
        ((nn.Linear(2, 2), [[0, 0]], [0]), {"neuron_resolution": 65}, ValueError, r"\[4, 64\]"),
    ],
)
def test_bad_arguments_are_refused(args: tuple[Any, ...], kwargs: dict[str, Any], error: type,
                                   match: str) -> None:  # fmt: skip
    with pytest.raises(error, match=match):
        nnvisu.watch(*args, **kwargs)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda v: v.update(loss="x"), "loss must be a number or a scalar tensor, got str"),
        (lambda v: v.update(loss=torch.ones(3)), r"scalar, got a tensor of shape \(3,\)"),
        (lambda v: v.update(step=-1), "step must be a non-negative integer"),
        (lambda v: v.attach("adam"), "needs a torch.optim.Optimizer"),
    ],
)
def test_bad_updates_are_refused(call: Any, match: str) -> None:
    view = nnvisu.watch(nn.Linear(2, 2), [[0.0, 0.0]], [1])
    with pytest.raises((ValueError, TypeError), match=match):
        call(view)
