"""Kernel side of the widget, no kernel: comms record what they would send.

The first test tier of docs/design.md: a recording comm stands in for the kernel's.
"""

from __future__ import annotations

import dataclasses
import json
import re
import threading
import time
from pathlib import Path
from typing import Any

import comm
import make_timeline_fixtures
import msgspec
import numpy as np
import pytest
import torch
from comm.base_comm import BaseComm

from nnvisu import NNVisu, handle_message, protocol, timeline, training, widget_file
from nnvisu.training import TrainingError


class RecordingComm(BaseComm):
    """A comm that keeps what it would publish instead of needing a kernel."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.sent: list[dict[str, Any]] = []
        super().__init__(*args, **kwargs)

    def publish_msg(self, msg_type: str, data: Any = None, metadata: Any = None,
                    buffers: Any = None, **keys: Any) -> None:  # fmt: skip
        self.sent.append({"msg_type": msg_type, "data": data, "buffers": buffers})


@pytest.fixture(autouse=True)
def recording_comms(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(comm, "create_comm", RecordingComm)


@pytest.fixture
def w() -> NNVisu:
    return NNVisu("moons", n=60, seed=1, hidden_layers=[8, 8], optimizer="adam")


def from_view(widget: NNVisu, content: Any) -> None:
    """Deliver a custom message as the browser would."""
    widget._handle_msg(
        {"content": {"data": {"method": "custom", "content": content}}, "buffers": []}
    )


def update_from_view(widget: NNVisu, **state: Any) -> None:
    message = {"method": "update", "state": state, "buffer_paths": []}
    widget._handle_msg({"content": {"data": message}, "buffers": []})


def replies(widget: NNVisu) -> list[dict[str, Any]]:
    sent = widget.comm.sent
    return [m["data"]["content"] for m in sent if m["data"].get("method") == "custom"]


def train_request(widget: NNVisu, request_id: str = "view:1", **config: Any) -> dict[str, Any]:
    return {
        "type": "train_step",
        "id": request_id,
        "config": {**widget.config, "steps": 5, **config},
        "network": widget.network,
        "optimizer_state": widget.optimizer_state,
        "data": widget.data,
    }


# Messages from the views.
def test_train_step_message_gets_a_result_with_its_id(w: NNVisu) -> None:
    from_view(w, train_request(w, "abc:7"))
    [reply] = replies(w)
    assert reply["type"] == "train_step_result"
    assert reply["id"] == "abc:7"
    assert reply["global_step"] == 5


def test_requests_run_torch_on_one_thread_and_restore_the_users_setting(
    w: NNVisu, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[int] = []

    def recording(message: dict[str, Any]) -> dict[str, Any]:
        seen.append(torch.get_num_threads())
        return handle_message(message)

    monkeypatch.setattr("nnvisu.widget.handle_message", recording)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        from_view(w, train_request(w))
        assert seen == [1]
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
    assert replies(w)[0]["type"] == "train_step_result"


@pytest.mark.parametrize(
    "content",
    [
        "not an object",
        {"type": "no_such_type", "id": "v:1"},
        {"type": "train_step", "id": "v:1", "config": {"learning_rate": -1}, "data": []},
    ],
)
def test_bad_message_gets_an_error_reply(w: NNVisu, content: Any) -> None:
    from_view(w, content)
    [reply] = replies(w)
    assert reply["type"] == "error"
    assert reply["message"]
    assert reply["id"] == (content.get("id") if isinstance(content, dict) else None)


def test_a_failing_dispatcher_still_answers(w: NNVisu, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(message: dict[str, Any]) -> dict[str, Any]:
        raise RuntimeError("boom")

    monkeypatch.setattr("nnvisu.widget.handle_message", broken)
    from_view(w, {"type": "info", "id": "v:2"})
    [reply] = replies(w)
    assert reply == {"type": "error", "id": "v:2", "code": "internal",
                     "message": "RuntimeError: boom", "field": None}  # fmt: skip


def test_view_train_step_is_busy_while_python_trains(w: NNVisu) -> None:
    run = w.train(steps=10**6, wait=False)
    try:
        from_view(w, train_request(w, "v:3"))
        [reply] = replies(w)
        assert (reply["type"], reply["code"], reply["id"]) == ("error", "busy", "v:3")
    finally:
        run.stop()


def test_play_in_a_view_stops_a_python_run(w: NNVisu) -> None:
    run = w.train(steps=10**6, wait=False)
    update_from_view(w, playing=True, status={"state": "training", "message": ""})
    run.wait(timeout=10)
    assert run.steps < 10**6
    assert w.playing
    assert w.status == {"state": "training", "message": ""}  # the playing view's, untouched


def test_the_traits_a_view_streams_are_not_echoed_back(w: NNVisu) -> None:
    # ipywidgets echoes each value a view saves; by the time it arrives the view shows a newer
    # one. The streamed traits are not echoed, so a change the view sees there is a real one.
    network = {"weights": [[[0.5, 0.5]]], "biases": [[0.0]]}
    streamed = {"network": network, "optimizer_state": {}, "history": [],
                "metrics": {**w.metrics, "global_step": 7}, "timeline": w.timeline}  # fmt: skip
    update_from_view(w, **streamed, status={"state": "training", "message": ""})
    assert w.network == network and w.metrics["global_step"] == 7  # the kernel has them
    echoes = [m["data"]["state"] for m in w.comm.sent if m["data"].get("method") == "echo_update"]
    assert echoes == [{"status": {"state": "training", "message": ""}}]
    updates = [m["data"]["state"] for m in w.comm.sent if m["data"].get("method") == "update"]
    assert not any(set(state) & set(streamed) for state in updates)  # nor sent back as updates


# Data.
def test_set_data_numpy_round_trip(w: NNVisu) -> None:
    X = np.array([[0.1, 0.2], [-0.5, 0.5], [0.9, -0.9], [0.0, 0.0]])
    y = np.array([0, 1, 2, 1])
    w.set_data(X, y)
    X2, y2 = w.data_as_numpy()
    np.testing.assert_array_equal(X2, X)
    np.testing.assert_array_equal(y2, y)
    # a third class grew the output layer, and the loss is of the new data
    assert w.config["num_classes"] == 3
    assert len(w.network["biases"][-1]) == 3
    assert w.metrics["train_loss"] is not None


def test_set_data_lists_and_test_ratio(w: NNVisu) -> None:
    w.set_data([[0.0, 0.1]] * 10, [0, 1] * 5, test_ratio=0.3)
    assert sum(point["test"] for point in w.data) == 3
    assert w.metrics["test_loss"] is not None


def test_set_data_regression_targets(w: NNVisu) -> None:
    w.set_data([[0.0, 0.1], [0.5, 0.5]], [0.25, -0.75])
    assert w.config["problem"] == "regression"
    assert [len(b) for b in w.network["biases"]][-1] == 1
    assert w.data_as_numpy()[1].tolist() == [0.25, -0.75]


def test_pandas_round_trip_keeps_test_flags() -> None:
    w = NNVisu("spiral", n=40, test_ratio=0.25)
    frame = w.data_as_pandas()
    assert list(frame.columns) == ["x", "y", "label", "test"]
    assert frame["test"].sum() == 10
    other = NNVisu(None)
    other.set_data(frame)
    assert other.data == w.data


@pytest.mark.parametrize(
    ("X", "y", "match"),
    [
        ([[0.0, 0.0, 0.0]], [0], "shape"),
        ([[0.0, 0.0]], None, "labels"),
        ([[0.0, 0.0]] * 2, [0, 9], "num_classes"),
        ([[float("nan"), 0.0]], [0], "finite"),
    ],
)
def test_set_data_rejects_bad_input(w: NNVisu, X: Any, y: Any, match: str) -> None:
    before = w.data
    with pytest.raises(ValueError, match=match):
        w.set_data(X, y)
    assert w.data == before


# Training.
def test_train_lowers_the_loss_and_blocks_without_a_kernel(w: NNVisu) -> None:
    start = w.metrics["train_loss"]
    run = w.train(steps=200)
    assert run.done and run.steps == 200
    assert w.metrics["global_step"] == w.optimizer_state["global_step"] == 200
    assert w.metrics["train_loss"] < 0.5 * start
    assert w.history[0]["step"] == 0 and w.history[-1]["step"] == 200
    assert w.status == {"state": "idle", "message": "trained 200/200 steps"}


def test_python_run_equals_one_request(w: NNVisu, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fed back state (optimizer moments, global_step) makes many requests equal one."""
    monkeypatch.setattr(training, "CHUNK_MS", 1)
    w.config = {**w.config, "batch_size": 16, "dropout": 0.1}
    one = handle_message({**train_request(w), "config": {**w.config, "steps": 60}})
    w.train(steps=60)
    assert len(w.history) > 2  # it took several requests
    for got, want in zip(w.network["weights"], one["network"]["weights"], strict=True):
        np.testing.assert_allclose(got, want, atol=1e-5)


def test_train_epochs(w: NNVisu) -> None:
    w.config = {**w.config, "batch_size": 10}  # 30 training points: 3 batches an epoch
    assert w.train(epochs=2).steps == 6


def test_train_argument_errors(w: NNVisu) -> None:
    with pytest.raises(ValueError, match="exactly one"):
        w.train()
    with pytest.raises(ValueError, match="steps"):
        w.train(steps=0)
    with pytest.raises(ValueError, match="epochs"):
        w.train(epochs=-1)


def count_publishes(w: NNVisu, monkeypatch: pytest.MonkeyPatch) -> threading.Semaphore:
    """A semaphore released each time a Python run pushes its state to the traits."""
    published = threading.Semaphore(0)
    publish = w._publish

    def counted(*args: Any) -> None:
        publish(*args)
        published.release()

    monkeypatch.setattr(w, "_publish", counted)
    return published


def test_stop_stops_a_background_run(w: NNVisu, monkeypatch: pytest.MonkeyPatch) -> None:
    published = count_publishes(w, monkeypatch)
    w.playing = True
    run = w.train(steps=10**6, wait=False)
    assert not w.playing  # the view's loop was paused first
    assert published.acquire(timeout=30)  # the first throttled update: the run is live
    assert w.metrics["global_step"] > 0
    w.stop()
    assert run.done
    assert 0 < run.steps < 10**6
    assert w.optimizer_state["global_step"] == run.steps
    assert w.status["message"].startswith("stopped after")


def test_views_get_throttled_updates(w: NNVisu, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(training, "CHUNK_MS", 2)  # ~hundreds of requests a second
    published = count_publishes(w, monkeypatch)
    started = time.monotonic()
    run = w.train(steps=10**6, wait=False)
    for _ in range(4):
        assert published.acquire(timeout=30)
    w.stop()
    elapsed = time.monotonic() - started
    updates = [m["data"]["state"] for m in w.comm.sent if m["data"].get("method") == "update"]
    pushes = [state for state in updates if "network" in state]
    # Pushes are PUBLISH_INTERVAL_S apart, plus the final one at the stop.
    assert 4 <= len(pushes) <= elapsed / training.PUBLISH_INTERVAL_S + 2
    assert pushes[-1]["optimizer_state"]["global_step"] == run.steps  # the final state went out
    assert len(w.history) >= 2 * len(pushes)  # a history record per request, not per push


def test_diverged_run_keeps_the_last_good_state() -> None:
    w = NNVisu(None, problem="regression", activation="linear", optimizer="sgd", learning_rate=10)
    w.set_data([[0.5, 0.5], [-0.5, 0.2]], [900.0, -900.0])
    before = w.network
    run = w.train(steps=1000, wait=False)
    with pytest.raises(TrainingError, match="diverged"):
        run.wait(timeout=30)
    assert w.status["state"] == "error" and "diverged" in w.status["message"]
    assert all(np.isfinite(np.asarray(layer)).all() for layer in w.network["weights"])
    # the state is the last request that succeeded, consistent across traits
    assert w.optimizer_state["global_step"] == w.metrics["global_step"] == run.steps
    assert (w.network == before) == (run.steps == 0)


def test_reset_reinitialises(w: NNVisu) -> None:
    w.train(steps=20)
    trained = w.network
    w.reset()
    assert w.network != trained
    assert w.config["seed"] == 2
    assert w.optimizer_state["global_step"] == 0
    assert [h["step"] for h in w.history] == [0]
    assert w.metrics["global_step"] == 0


# Export and files.
@pytest.mark.parametrize(
    "config",
    [
        {"activation": "tanh", "features": ["x", "y", "xy", "sinx"]},
        {"activation": "sine", "hidden_layers": [5], "dropout": 0.3},
        {"activation": "gelu", "hidden_layers": []},
    ],
)
def test_to_torch_matches_evaluate(config: dict[str, Any]) -> None:
    w = NNVisu("spiral", n=50, num_classes=3, **config)
    w.train(steps=30)
    reply = handle_message(
        {"type": "evaluate", "config": w.config, "network": w.network, "data": w.data}
    )
    X, _ = w.data_as_numpy()
    with torch.no_grad():
        probs = torch.softmax(w.to_torch()(torch.tensor(X, dtype=torch.float32)), dim=-1)
    np.testing.assert_allclose(probs.numpy(), reply["predictions"], atol=1e-5)


def test_to_torch_regression() -> None:
    w = NNVisu("plane", n=30, activation="relu")
    reply = handle_message(
        {"type": "evaluate", "config": w.config, "network": w.network, "data": w.data}
    )
    X, _ = w.data_as_numpy()
    with torch.no_grad():
        out = w.to_torch()(torch.tensor(X, dtype=torch.float32))
    np.testing.assert_allclose(out[:, 0].numpy(), reply["predictions"], atol=1e-5)


def test_save_load_round_trip(w: NNVisu, tmp_path: Path) -> None:
    w.config = {**w.config, "optimizer": "rmsprop", "momentum": 0.5}
    w.train(steps=25)
    w.view = {**w.view, "discretize": True}
    w.classroom = {"hidden": ["dropout"], "lock_data": True}
    w.save(tmp_path / "w.json")
    loaded = NNVisu.load(tmp_path / "w.json")
    for name in widget_file.TRAITS:
        assert getattr(loaded, name) == getattr(w, name), name
    # and it trains on exactly where it was
    w.train(steps=5)
    loaded.train(steps=5)
    assert loaded.network == w.network


def edit(document: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**document, **changes}


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("{not json", "not JSON"),
        ('{"format": "other"}', "not an nnvisu setup"),
        ("VERSION", "version 99"),
        ("EXTRA", "unknown key"),
        ("BADNET", "network"),
        ("BADHISTORY", "history"),
    ],
)
def test_load_rejects_bad_files(w: NNVisu, tmp_path: Path, content: str, match: str) -> None:
    w.save(tmp_path / "good.json")
    document = json.loads((tmp_path / "good.json").read_text())
    variants = {
        "VERSION": edit(document, version=99),
        "EXTRA": edit(document, extra=1),
        "BADNET": edit(
            document,
            trained={**document["trained"], "network": {"weights": [[[1.0]]], "biases": [[0.0]]}},
        ),
        "BADHISTORY": edit(document, trained={**document["trained"], "history": {"not": "a list"}}),
    }
    if content in variants:
        content = json.dumps(variants[content])
    (tmp_path / "bad.json").write_text(content)
    with pytest.raises(ValueError, match=match):
        NNVisu.load(tmp_path / "bad.json")


# Construction.
def test_constructor_fills_a_full_config() -> None:
    w = NNVisu("spiral", n=100, num_classes=3, seed=4, hidden_layers=[6], learning_rate=0.1)
    assert len(w.data) == 100
    assert (w.config["num_classes"], w.config["seed"], w.config["hidden_layers"]) == (3, 4, [6])
    assert w.config["learning_rate"] == 0.1
    assert {"optimizer", "momentum", "batch_size", "dropout", "features"} <= set(w.config)
    assert [len(b) for b in w.network["biases"]] == [6, 3]
    assert w.dataset == {"name": "spiral", "n": 100, "noise": 0.1, "num_classes": 3,
                         "seed": 4, "test_ratio": 0.5}  # fmt: skip
    assert w.metrics["train_loss"] > 0 and w.status["state"] == "idle"


def test_unknown_keyword_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="learnig_rate"):
        NNVisu(learnig_rate=0.1)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"learning_rate": 50}, "learning_rate"),
        ({"hidden_layers": [8, 0]}, "hidden_layers"),
        ({"activation": "swish"}, "activation"),
        ({"dataset": "nope"}, "nope"),
        ({"n": 0}, "n"),
        ({"num_classes": 9, "dataset": "spiral"}, "num_classes"),
        ({"problem": "regression"}, "problem"),
        (
            {"num_classes": 3},
            r"num_classes=3 is out of range for dataset 'circle': allowed \[2, 2\]",
        ),
    ],
)
def test_bad_values_are_value_errors(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        NNVisu(**kwargs)


def test_train_without_training_points_fails_at_once() -> None:
    w = NNVisu(None)
    with pytest.raises(ValueError, match="training point"):
        w.train(steps=10)
    assert w.status["state"] == "idle"


# The timeline: the rule of js/src/history.ts, for Python runs.
def snap_reply(step: int, width: int = 2) -> dict[str, Any]:
    network = {"weights": [[[float(step)] * 2] * width, [[0.0] * width] * 2],
               "biases": [[0.0] * width, [0.0] * 2]}  # fmt: skip
    losses = {"train_loss": 1 / (step + 1), "test_loss": None}
    return {"global_step": step, "network": network, **losses}


def record_run(tl: dict[str, Any], steps: range) -> dict[str, Any]:
    for step in steps:
        tl = timeline.record_snapshot(tl, snap_reply(step))
    return tl


def check_consistent(tl: dict[str, Any]) -> None:
    """Steps grow within a branch; only a branch's first snapshot may fork, from the past."""
    last: dict[int, int] = {}
    for i, snap in enumerate(tl["snapshots"]):
        if snap["branch"] in last:
            assert snap["parent"] is None and snap["step"] >= last[snap["branch"]], i
        elif snap["parent"] is not None:
            assert snap["parent"] < i and tl["snapshots"][snap["parent"]]["step"] <= snap["step"]
        last[snap["branch"]] = snap["step"]


def test_timeline_snapshot_rule() -> None:
    tl = {**timeline.record_snapshot(timeline.empty_timeline(), snap_reply(0)), "interval": 10}
    assert timeline.record_snapshot(tl, snap_reply(9)) is tl  # not due: the same object
    tl = timeline.record_snapshot(tl, snap_reply(10))
    assert [s["step"] for s in tl["snapshots"]] == [0, 10]
    assert tl["snapshots"][1]["train_loss"] == 1 / 11 and tl["snapshots"][1]["parent"] is None


def test_timeline_halves_a_full_list() -> None:
    tl = record_run(timeline.empty_timeline(), range(timeline.MAX_SNAPSHOTS))
    assert len(tl["snapshots"]) == 256
    tl = timeline.record_snapshot(tl, snap_reply(256))
    steps = [s["step"] for s in tl["snapshots"]]
    assert tl["interval"] == 2 and len(steps) == 130
    assert steps[:3] == [0, 2, 4] and steps[-3:] == [254, 255, 256]


def test_timeline_stays_bounded_and_wide_networks_keep_fewer() -> None:
    tl = record_run(timeline.empty_timeline(), range(0, 20_000, 7))
    assert 128 < len(tl["snapshots"]) <= 256 and tl["snapshots"][0]["step"] == 0
    wide = snap_reply(0, width=64)["network"]
    assert timeline.capacity(wide) < 256


def test_timeline_restart_and_forks_survive_thinning() -> None:
    tl = record_run(timeline.empty_timeline(), range(0, 60, 10))
    tl = timeline.record_snapshot(tl, snap_reply(0))  # a reset: global_step went back
    assert tl["snapshots"][-1] | {"network": None} == {
        "step": 0, "branch": 1, "parent": None, "network": None, "train_loss": 1.0,
        "test_loss": None}  # fmt: skip
    # a branch forked from snapshot 3 (as a view's "resume from here" makes), then a long run
    fork = {**tl["snapshots"][3], "branch": 2, "parent": 3}
    tl = {**tl, "branch": 2, "snapshots": [*tl["snapshots"], fork]}
    tl = record_run(tl, range(31, 3000))
    check_consistent(tl)
    assert len(tl["snapshots"]) <= 256
    first_of_fork = next(s for s in tl["snapshots"] if s["branch"] == 2)
    assert tl["snapshots"][first_of_fork["parent"]]["step"] <= 30


def test_python_run_records_the_timeline(w: NNVisu, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(training, "CHUNK_MS", 1)
    w.train(steps=30)
    steps = [s["step"] for s in w.timeline["snapshots"]]
    assert len(steps) > 2 and steps[-1] == 30
    assert w.timeline["snapshots"][-1]["network"] == w.network
    w.reset()
    w.train(steps=5)
    assert w.timeline["snapshots"][-1]["branch"] == 1  # the reset started a new branch


def test_timeline_fixture_is_what_python_computes() -> None:
    """tests/fixtures/timeline.json is also replayed by history.ts (history-fixture.test.ts)."""
    assert json.loads(make_timeline_fixtures.OUT.read_text()) == make_timeline_fixtures.build(), (
        "the Python timeline rule changed: make history.ts agree, then run "
        "python tests/make_timeline_fixtures.py"
    )


# Resuming from a snapshot (a view's "Resume from here", from Python).
@pytest.fixture
def trained(w: NNVisu, monkeypatch: pytest.MonkeyPatch) -> NNVisu:
    monkeypatch.setattr(training, "CHUNK_MS", 1)  # several requests: several snapshots
    w.config = {**w.config, "batch_size": 10, "dropout": 0.1}
    w.train(steps=40)
    assert len(w.snapshots) >= 4
    return w


def test_restore_resumes_from_a_snapshot_on_a_new_branch(trained: NNVisu) -> None:
    w = trained
    before, history = w.timeline, w.history
    snap = w.snapshots[2]
    w.restore(2)
    assert w.network == snap.network
    assert w.optimizer_state == {"optimizer": "adam", "step": 0, "global_step": snap.step,
                                 "buffers": {}}  # fmt: skip
    # A new branch whose first snapshot copies snapshot 2 and names it as its fork.
    assert w.timeline["snapshots"][: len(before["snapshots"])] == before["snapshots"]
    assert w.timeline["branch"] == 1
    assert w.snapshots[-1] == dataclasses.replace(snap, branch=1, parent=2)
    assert w.history == [h for h in history if h["step"] <= snap.step] != history
    evaluated = handle_message({"type": "evaluate", "config": w.config, "network": w.network,
                                "data": w.data})  # fmt: skip
    assert w.metrics == {
        **{k: evaluated[k] for k in ("train_loss", "test_loss", "accuracy", "test_accuracy")},
        "global_step": snap.step, "epoch": snap.step * 10 / 30}  # fmt: skip


def test_training_after_restore_continues_from_the_snapshot(trained: NNVisu) -> None:
    """Same weights as one request from the snapshot with a fresh optimizer at its step."""
    w = trained
    snap = w.snapshots[1]
    w.restore(1)
    fresh = {"optimizer": "adam", "step": 0, "global_step": snap.step, "buffers": {}}
    request = {**train_request(w), "network": snap.network, "optimizer_state": fresh}
    one = handle_message({**request, "config": {**w.config, "steps": 7}})
    w.train(steps=7)
    assert w.optimizer_state["global_step"] == snap.step + 7
    for got, want in zip(w.network["weights"], one["network"]["weights"], strict=True):
        np.testing.assert_allclose(got, want, atol=1e-5)
    branch = [s for s in w.snapshots if s.branch == 1]
    assert branch[0].parent == 1 and branch[-1].step == snap.step + 7


def test_restore_takes_negative_indices_and_stops_a_python_run(trained: NNVisu) -> None:
    w = trained
    run = w.train(steps=10**6, wait=False)
    w.restore(-1)  # the newest snapshot there was when the run stopped
    assert run.done
    newest = w.snapshots[-1]
    assert newest.parent == len(w.snapshots) - 2 and w.network == newest.network


def test_restore_errors(trained: NNVisu) -> None:
    w = trained
    n = len(w.snapshots)
    for bad in (n, -n - 1):
        with pytest.raises(IndexError, match=rf"no snapshot {bad}: the timeline has {n} snapshots"):
            w.restore(bad)
    with pytest.raises(TypeError):
        w.restore(1.0)
    with pytest.raises(IndexError, match="no snapshots"):
        NNVisu("moons", n=20).restore(0)
    w.config = {**w.config, "hidden_layers": [8]}
    w.network = handle_message({"type": "init_network", "config": w.config})["network"]
    unchanged = (w.network, w.timeline, w.history)
    with pytest.raises(ValueError, match=r"layers 2 -> 8 -> 8 -> 2 but the architecture is now "
                                         r"2 -> 8 -> 2"):  # fmt: skip
        w.restore(0)
    assert (w.network, w.timeline, w.history) == unchanged


def test_snapshots_are_a_read_only_copy(trained: NNVisu) -> None:
    w = trained
    snaps = w.snapshots
    assert len(snaps) == len(w.timeline["snapshots"])
    assert [s.step for s in snaps] == [s["step"] for s in w.timeline["snapshots"]]
    assert snaps[-1] == snaps[len(snaps) - 1] and snaps[1:3] == [snaps[1], snaps[2]]
    assert snaps[0].parent is None and snaps[0].train_loss is not None
    snaps[0].network["weights"][0][0][0] = 123.0
    assert w.timeline["snapshots"][0]["network"]["weights"][0][0][0] != 123.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        snaps[0].step = 5
    with pytest.raises(AttributeError):
        w.snapshots = snaps
    assert re.fullmatch(r"<Snapshots: \d+, steps \d+\.\.40, 1 branch\(es\)>", repr(snaps))
    assert "network" not in repr(snaps[0])


# Classroom mode.
def sent_updates(widget: NNVisu, name: str) -> list[Any]:
    sent = widget.comm.sent
    return [m["data"]["state"][name] for m in sent
            if m["data"].get("method") == "update" and name in m["data"]["state"]]  # fmt: skip


def test_classroom_from_the_constructor_and_live() -> None:
    w = NNVisu("moons", n=20, hide=("optimizer", "timeline", "optimizer"), lock_data=True)
    assert w.classroom == {"hidden": ["optimizer", "timeline"], "lock_data": True}
    assert NNVisu("moons", n=20).classroom == {"hidden": [], "lock_data": False}
    w.classroom = {"hidden": ["dataset"]}  # live: the views follow the trait
    assert w.classroom == {"hidden": ["dataset"], "lock_data": False}
    assert sent_updates(w, "classroom")[-1] == {"hidden": ["dataset"], "lock_data": False}
    assert set(NNVisu.CONTROLS) >= {"dataset", "learning_rate", "network", "timeline", "chart"}


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"hide": ["learning_rate", "nope"]}, r"hide has unknown control name\(s\) 'nope'; "
                                              r"valid names: step, reset, pace, learning_rate, "),
        ({"hide": "dataset"}, "hide must be a list of control names, got 'dataset'"),
        ({"lock_data": "yes"}, "lock_data must be True or False"),
    ],
)  # fmt: skip
def test_classroom_keywords_are_validated(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        NNVisu("moons", n=20, **kwargs)


def test_classroom_trait_is_validated(w: NNVisu) -> None:
    with pytest.raises(ValueError, match=r"classroom\['hidden'\] has unknown control name\(s\) "
                                         r"'learningrate'; valid names: .*timeline"):  # fmt: skip
        w.classroom = {"hidden": ["learningrate"]}
    with pytest.raises(ValueError, match="unknown key"):
        w.classroom = {"hidden": [], "lock": True}
    assert w.classroom == {"hidden": [], "lock_data": False}


def test_load_rejects_a_bad_classroom(w: NNVisu, tmp_path: Path) -> None:
    w.save(tmp_path / "w.json")
    document = json.loads((tmp_path / "w.json").read_text())
    document["classroom"] = {"hidden": ["nope"], "lock_data": False}
    (tmp_path / "w.json").write_text(json.dumps(document))
    with pytest.raises(ValueError, match="unknown control name"):
        NNVisu.load(tmp_path / "w.json")


# Traits a view writes are validated like protocol messages.
@pytest.mark.parametrize(
    ("trait", "value", "words"),
    [
        ("config", {"hidden_layers": "lots"}, "config.hidden_layers"),
        ("config", {"bogus": 1}, "config.bogus"),
        ("config", {"learning_rate": -1}, "config.learning_rate"),
        ("network", {"weights": "x"}, "network.weights"),
        ("network", {}, "network"),
        ("network", {"weights": [[[1.0, 2.0]]], "biases": [[0.0, 0.0]]}, "network.biases"),
        ("data", [{"x": 0, "y": 0, "label": 99}], "data[0].label"),
        ("data", [{"x": 5000, "y": 0, "label": 0}], "data[0].x"),
        ("data", "points", "data"),
        ("optimizer_state", {"optimizer": "sgd", "step": -1}, "optimizer_state.step"),
        (
            "optimizer_state",
            {"optimizer": "adam", "buffers": {"exp_avg": {"sizes": [2, 1], "f32": "AAAAAA=="}}},
            "optimizer_state.buffers.exp_avg",
        ),  # fmt: skip
    ],
)
def test_an_invalid_trait_from_a_view_is_refused_and_python_keeps_working(
    w: NNVisu, trait: str, value: Any, words: str
) -> None:
    before = getattr(w, trait)
    w.comm.sent.clear()
    update_from_view(w, **{trait: value})
    assert getattr(w, trait) == before  # refused: the valid value stays
    assert w.status["state"] == "error" and words in w.status["message"], w.status
    resent = [m["data"]["state"] for m in w.comm.sent if m["data"].get("method") == "update"]
    assert any(trait in state for state in resent)  # the views get the valid value back
    w.reset()
    assert isinstance(w.to_torch(), torch.nn.Sequential)
    w.train(steps=3).wait(30)


def test_a_valid_trait_from_a_view_is_taken(w: NNVisu) -> None:
    network = handle_message({"type": "init_network", "config": {**w.config, "seed": 9}})["network"]
    update_from_view(w, network=network, config={**w.config, "seed": 9})
    assert w.network == network and w.config["seed"] == 9
    assert w.status["state"] != "error"


def test_a_view_message_never_gets_a_reply_over_the_message_cap(w: NNVisu) -> None:
    features = ["x", "y", "x2", "y2", "xy", "sinx", "siny"]
    config = {**w.config, "features": features, "hidden_layers": [64] * 8, "optimizer": "adam",
              "steps": 100_000, "time_budget_ms": 300}  # fmt: skip
    from_view(w, {"type": "train_step", "id": "big", "config": config, "data": w.data,
                  "snapshot_ms": 1})  # fmt: skip
    [reply] = replies(w)
    assert reply["id"] == "big" and reply["type"] == "train_step_result"
    assert len(msgspec.json.encode(reply)) <= protocol.MAX_MESSAGE_BYTES
