"""The one dispatcher: every message type end to end, adaptation, divergence, time caps, errors."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import pytest
import torch

from nnvisu import datasets, dispatch, engine, handle_message, protocol

torch.set_num_threads(1)
#: Every test here runs under both engines, TorchScript and eager (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("both_engines")


def circle(n: int = 100, test_ratio: float = 0.2, classes: int = 2) -> list[dict[str, Any]]:
    x, y = datasets.generate("circle", n, 0.1, classes, 0)
    return datasets.to_points(x, y, test_ratio, 0)


def ok(message: dict[str, Any]) -> dict[str, Any]:
    reply = handle_message(message)
    assert reply["type"] != "error", reply
    assert reply["id"] == message.get("id")
    return reply


def shapes(network: dict[str, Any]) -> list[tuple[int, int]]:
    return [(len(w), len(w[0])) for w in network["weights"]]


def test_init_network_is_seeded_and_has_a_fresh_optimizer_state() -> None:
    config = {"hidden_layers": [5, 3], "features": ["x", "y", "xy"], "num_classes": 4, "seed": 9}
    reply = ok({"type": "init_network", "id": "i1", "config": config})
    assert reply["type"] == "network"
    assert shapes(reply["network"]) == [(5, 3), (3, 5), (4, 3)]
    assert [len(b) for b in reply["network"]["biases"]] == [5, 3, 4]
    assert reply["optimizer_state"] == {
        "optimizer": "sgd",
        "step": 0,
        "global_step": 0,
        "buffers": {},
    }
    spec = engine.NetSpec(("x", "y", "xy"), (5, 3), "tanh", 4)
    weights, biases = engine.init_network(spec, 9).to_lists()
    assert reply["network"] == {"weights": weights, "biases": biases}
    assert ok({"type": "init_network", "config": config}) == {**reply, "id": None}


def test_init_network_keeps_the_previous_weights_it_shares() -> None:
    old = ok({"type": "init_network", "config": {"hidden_layers": [3], "features": ["x", "y"]}})
    config = {"hidden_layers": [4, 2], "features": ["y", "x2", "x"], "optimizer": "adam"}
    new = ok(
        {
            "type": "init_network",
            "config": config,
            "network": old["network"],
            "previous_features": ["x", "y"],
        }
    )
    w_old, w_new = old["network"]["weights"], new["network"]["weights"]
    for row in range(3):
        assert w_new[0][row][0] == w_old[0][row][1]  # y
        assert w_new[0][row][2] == w_old[0][row][0]  # x
    assert new["network"]["weights"][2][0][:1] == w_old[1][0][:1]  # output: class 0, neuron 0
    assert new["optimizer_state"]["optimizer"] == "adam"


def test_train_step_without_network_starts_from_the_seeded_network() -> None:
    data = circle()
    config = {"seed": 5, "steps": 3}
    init = ok({"type": "init_network", "config": config})
    a = ok({"type": "train_step", "config": config, "data": data})
    b = ok(
        {
            "type": "train_step",
            "config": config,
            "data": data,
            "network": init["network"],
            "optimizer_state": init["optimizer_state"],
        }
    )
    assert a["network"] == b["network"] and a["optimizer_state"] == b["optimizer_state"]


def test_train_step_reply() -> None:
    data = circle(100, 0.2)
    reply = ok(
        {"type": "train_step", "id": 12, "config": {"steps": 25, "batch_size": 16}, "data": data}
    )
    assert reply["type"] == "train_step_result"
    assert set(reply) == {
        "type",
        "id",
        "network",
        "optimizer_state",
        "loss",
        "train_loss",
        "test_loss",
        "accuracy",
        "test_accuracy",
        "steps",
        "global_step",
        "epoch",
        "elapsed_ms",
        "adapted",
    }
    assert reply["loss"] == reply["train_loss"]
    assert reply["steps"] == reply["global_step"] == 25
    assert reply["epoch"] == pytest.approx(25 * 16 / 80)
    assert 0 <= reply["accuracy"] <= 1 and 0 <= reply["test_accuracy"] <= 1
    assert reply["test_loss"] > 0 and reply["elapsed_ms"] > 0 and reply["adapted"] is False
    assert reply["optimizer_state"] == {
        "optimizer": "sgd",
        "step": 25,
        "global_step": 25,
        "buffers": {},
    }


def test_metrics_are_eval_mode_losses_after_the_steps() -> None:
    data = circle(60, 0.5)
    config = {"steps": 4, "dropout": 0.5, "l2": 0.1}
    trained = ok({"type": "train_step", "config": config, "data": data})
    scored = ok({"type": "evaluate", "config": config, "network": trained["network"], "data": data})
    for key in ("train_loss", "test_loss", "accuracy", "test_accuracy"):
        assert trained[key] == pytest.approx(scored[key], abs=1e-6)


def test_without_test_points_test_metrics_are_null_and_regression_has_no_accuracy() -> None:
    x, y = datasets.generate("plane", 50, 0.1, 2, 1)
    data = datasets.to_points(x, y, 0.0, 0)
    reply = ok(
        {"type": "train_step", "config": {"problem": "regression", "steps": 5}, "data": data}
    )
    assert reply["test_loss"] is None and reply["test_accuracy"] is None
    assert reply["accuracy"] is None
    assert shapes(reply["network"])[-1] == (1, 4)


def test_optimizer_state_carries_torch_named_buffers() -> None:
    data = circle()
    for optimizer, names in [
        ("sgd", []),
        ("adam", ["exp_avg", "exp_avg_sq"]),
        ("adamw", ["exp_avg", "exp_avg_sq"]),
        ("rmsprop", ["square_avg"]),
    ]:
        reply = ok(
            {"type": "train_step", "config": {"optimizer": optimizer, "steps": 2}, "data": data}
        )
        state = reply["optimizer_state"]
        assert sorted(state["buffers"]) == names
        for buffer in state["buffers"].values():
            assert shapes(buffer) == shapes(reply["network"])
    momentum = ok(
        {"type": "train_step", "config": {"optimizer": "sgd", "momentum": 0.9}, "data": data}
    )
    assert list(momentum["optimizer_state"]["buffers"]) == ["momentum_buffer"]


def test_changing_the_class_count_adapts_the_output_layer_which_keeps_training() -> None:
    two = circle(80, 0.0)
    config = {"optimizer": "adam", "steps": 20, "hidden_layers": [5], "seed": 4}
    first = ok({"type": "train_step", "config": config, "data": two})
    three = [dict(p, label=i % 3) for i, p in enumerate(two)]
    grown = ok(
        {
            "type": "train_step",
            "config": {**config, "num_classes": 3, "steps": 10},
            "data": three,
            "network": first["network"],
            "optimizer_state": first["optimizer_state"],
        }
    )
    assert grown["adapted"] is True
    old, new = first["network"], grown["network"]
    assert shapes(new) == [(5, 2), (3, 5)]
    # Everything trained on (hidden layer and the kept rows), and the output layer changed.
    assert new["weights"][0] != old["weights"][0]
    for row in range(2):
        changed = [
            abs(a - b) for a, b in zip(new["weights"][1][row], old["weights"][1][row], strict=True)
        ]
        assert max(changed) > 1e-4
    fresh = ok({"type": "init_network", "config": {**config, "num_classes": 3}})["network"]
    assert new["weights"][1][2] != fresh["weights"][1][2]  # the new class's row trained too
    state = grown["optimizer_state"]
    assert state["step"] == 30 and state["global_step"] == 30
    assert shapes(state["buffers"]["exp_avg"]) == [(5, 2), (3, 5)]
    # The next request has matching shapes: no adaptation any more.
    again = ok(
        {
            "type": "train_step",
            "config": {**config, "num_classes": 3},
            "data": three,
            "network": new,
            "optimizer_state": state,
        }
    )
    assert again["adapted"] is False


def test_adaptation_equals_training_an_adapted_network() -> None:
    """The adapted rows come from the seeded init and the buffers' new rows are zeros."""
    data = circle(40, 0.0)
    three = [dict(p, label=i % 3) for i, p in enumerate(data)]
    config = {"optimizer": "adam", "steps": 6, "hidden_layers": [4], "seed": 2}
    first = ok({"type": "train_step", "config": config, "data": data})
    adapted = ok(
        {
            "type": "train_step",
            "config": {**config, "num_classes": 3},
            "data": three,
            "network": first["network"],
            "optimizer_state": first["optimizer_state"],
        }
    )
    spec = engine.NetSpec(hidden_layers=(4,), outputs=3)
    net = engine.Network.from_lists(first["network"]["weights"], first["network"]["biases"])
    state = first["optimizer_state"]
    buffers = {
        name: engine.Network.from_lists(b["weights"], b["biases"]).flat
        for name, b in state["buffers"].items()
    }
    net, buffers = engine.adapt_outputs(net, buffers, spec, 2)
    xy = torch.tensor([[p["x"], p["y"]] for p in three])
    labels = torch.tensor([p["label"] for p in three])
    result = engine.train(
        spec,
        engine.TrainOptions(optimizer="adam", steps=6, seed=2),
        net,
        engine.OptimizerState("adam", 6, 6, buffers),
        engine.Data(xy, labels, torch.zeros(40, dtype=torch.bool)),
    )
    assert adapted["network"]["weights"] == result.network.to_lists()[0]


def test_switching_to_regression_adapts_to_one_output() -> None:
    data = circle(40, 0.0)
    first = ok({"type": "train_step", "config": {"steps": 2}, "data": data})
    values = [dict(p, label=p["x"] * 0.5) for p in data]
    reply = ok(
        {
            "type": "train_step",
            "config": {"problem": "regression"},
            "data": values,
            "network": first["network"],
        }
    )
    assert reply["adapted"] is True and shapes(reply["network"])[-1] == (1, 4)


def test_divergence_is_reported_clearly_and_nothing_else_is_returned() -> None:
    data = [{"x": 1000.0 * (i % 2), "y": -1000.0, "label": 1000.0} for i in range(20)]
    message = {
        "type": "train_step",
        "id": "d",
        "data": data,
        "config": {
            "problem": "regression",
            "learning_rate": 10,
            "steps": 100,
            "hidden_layers": [16, 16],
            "activation": "relu",
        },
    }
    reply = handle_message(message)
    assert reply == {
        "type": "error",
        "id": "d",
        "code": "diverged",
        "message": reply["message"],
        "field": None,
    }
    assert "diverged" in reply["message"] and "learning rate" in reply["message"]
    assert "reset" in reply["message"]
    text = dispatch.handle_json(json.dumps(message))
    assert json.loads(text, parse_constant=pytest.fail)["code"] == "diverged"


def test_evaluating_an_overflowing_network_is_diverged_not_nan() -> None:
    big = 3e38
    network = {"weights": [[[big, big]]], "biases": [[big]]}
    reply = handle_message(
        {
            "type": "evaluate",
            "config": {"hidden_layers": [], "problem": "regression"},
            "network": network,
            "data": [{"x": 1, "y": 1, "label": 0}],
        }
    )
    assert reply["code"] == "diverged"


def test_time_budget_bounds_a_request() -> None:
    started = time.perf_counter()
    reply = ok(
        {"type": "train_step", "data": circle(), "config": {"steps": 100_000, "time_budget_ms": 40}}
    )
    assert 1 <= reply["steps"] < 100_000
    assert time.perf_counter() - started < 2.0
    assert reply["global_step"] == reply["steps"]


def test_a_hard_cap_bounds_every_request(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(protocol, "MAX_REQUEST_MS", 30)
    started = time.perf_counter()
    reply = ok({"type": "train_step", "data": circle(), "config": {"steps": 100_000}})
    assert 1 <= reply["steps"] < 100_000
    assert time.perf_counter() - started < 2.0
    budget = ok(
        {
            "type": "train_step",
            "data": circle(),
            "config": {"steps": 100_000, "time_budget_ms": 5000},
        }
    )
    assert budget["steps"] < 100_000


def test_evaluate_predictions() -> None:
    data = circle(30, 0.3)
    init = ok({"type": "init_network", "config": {"num_classes": 3}})
    reply = ok(
        {
            "type": "evaluate",
            "id": "e",
            "config": {"num_classes": 3},
            "network": init["network"],
            "data": data,
        }
    )
    assert reply["type"] == "evaluate_result"
    assert len(reply["predictions"]) == 30
    assert all(len(p) == 3 and sum(p) == pytest.approx(1.0, abs=1e-6) for p in reply["predictions"])
    for key in ("train_loss", "test_loss", "accuracy", "test_accuracy"):
        assert reply[key] is not None
    regression = ok(
        {
            "type": "evaluate",
            "config": {"problem": "regression", "hidden_layers": []},
            "network": {"weights": [[[2.0, 0.0]]], "biases": [[0.5]]},
            "data": [{"x": 0.25, "y": 9.0, "label": 1.0}],
        }
    )
    assert regression["predictions"] == [1.0]
    assert regression["train_loss"] == 0.0 and regression["accuracy"] is None
    empty = ok(
        {"type": "evaluate", "network": init["network"], "config": {"num_classes": 3}, "data": []}
    )
    assert empty["predictions"] == [] and empty["train_loss"] is None


def test_generate_data() -> None:
    reply = ok(
        {
            "type": "generate_data",
            "id": "g",
            "dataset": "spiral",
            "n": 90,
            "num_classes": 3,
            "noise": 0.2,
            "seed": 4,
            "test_ratio": 0.3,
        }
    )
    assert (reply["type"], reply["problem"], reply["num_classes"]) == ("data", "classification", 3)
    assert len(reply["data"]) == 90 and sum(p["test"] for p in reply["data"]) == 27
    assert {p["label"] for p in reply["data"]} == {0, 1, 2}
    assert all(isinstance(p["label"], int) for p in reply["data"])
    x, y = datasets.generate("spiral", 90, 0.2, 3, 4)
    assert reply["data"] == datasets.to_points(x, y, 0.3, 4)
    clamped = ok({"type": "generate_data", "dataset": "xor", "num_classes": 5})
    assert clamped["num_classes"] == 2 and {p["label"] for p in clamped["data"]} == {0, 1}
    regression = ok({"type": "generate_data", "dataset": "multi_gaussian", "n": 20})
    assert regression["problem"] == "regression"
    assert all(isinstance(p["label"], float) for p in regression["data"])
    trained = ok(
        {
            "type": "train_step",
            "data": regression["data"],
            "config": {"problem": "regression", "num_classes": regression["num_classes"]},
        }
    )
    assert trained["accuracy"] is None


def test_info() -> None:
    reply = ok({"type": "info", "id": 1})
    assert reply["type"] == "info_result" and reply["version"]
    assert reply["datasets"]["moons"] == {
        "problem": "classification",
        "min_classes": 2,
        "max_classes": 2,
    }
    assert set(reply["datasets"]) == set(datasets.DATASETS)
    assert reply["activations"] == list(protocol.ACTIVATION_NAMES)
    assert reply["optimizers"] == ["sgd", "adam", "adamw", "rmsprop"]
    assert reply["features"] == ["x", "y", "x2", "y2", "xy", "sinx", "siny"]
    assert reply["limits"]["max_points"] == 10_000 and reply["limits"]["max_request_ms"] == 5000


def test_bad_requests_get_errors_naming_the_field_and_echoing_the_id() -> None:
    reply = handle_message(
        {"type": "train_step", "id": "r1", "data": circle(), "config": {"learning_rate": -1}}
    )
    assert reply == {
        "type": "error",
        "id": "r1",
        "code": "invalid",
        "field": "config.learning_rate",
        "message": "config.learning_rate must be a finite number in (0, 10], got -1",
    }
    shape = handle_message(
        {
            "type": "train_step",
            "id": 7,
            "data": circle(),
            "network": {"weights": [[[0.0]]], "biases": [[0.0]]},
        }
    )
    assert (shape["id"], shape["field"]) == (7, "network.weights")


def test_internal_errors_are_answered_logged_and_do_not_raise(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(engine, "train", broken)
    with caplog.at_level(logging.ERROR, logger="nnvisu.dispatch"):
        reply = handle_message({"type": "train_step", "id": "x", "data": circle()})
        text = dispatch.handle_json(
            b'{"type": "train_step", "id": "y", "data": [{"x": 0, "y": 0, "label": 0}]}'
        )
    assert (reply["type"], reply["code"], reply["id"]) == ("error", "internal", "x")
    assert "boom" not in reply["message"]  # no internals leak to clients
    assert json.loads(text)["code"] == "internal" and json.loads(text)["id"] == "y"
    assert "boom" in caplog.text
    monkeypatch.setattr(protocol, "decode", broken)
    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="nnvisu.dispatch"):
        assert handle_message({"type": "info", "id": 3})["code"] == "internal"
        assert json.loads(dispatch.handle_json(b'{"type": "info"}'))["code"] == "internal"
    # Every catch-all logs the traceback: once per call above.
    tracebacks = [r for r in caplog.records if r.exc_info and "boom" in str(r.exc_info[1])]
    assert len(tracebacks) == 2


def test_handle_json_equals_handle_message() -> None:
    message = {
        "type": "train_step",
        "id": "j",
        "data": circle(),
        "config": {"steps": 5, "optimizer": "rmsprop", "momentum": 0.5},
    }
    via_json = json.loads(dispatch.handle_json(json.dumps(message)))
    direct = handle_message(message)
    assert via_json.pop("elapsed_ms") > 0 and direct.pop("elapsed_ms") > 0
    assert via_json == direct


def test_handle_request_accepts_a_decoded_request() -> None:
    request = protocol.decode_request({"type": "info", "id": 2})
    reply = dispatch.handle_request(request)
    assert isinstance(reply, protocol.InfoResult) and reply.id == 2


@pytest.mark.parametrize(
    "name", [name for name, info in datasets.DATASETS.items() if info.problem == "classification"]
)
def test_loss_decreases_on_every_classification_dataset_with_the_default_config(
    name: str,
) -> None:
    data = ok({"type": "generate_data", "dataset": name, "n": 200})["data"]
    init = ok({"type": "init_network"})
    network, state = init["network"], init["optimizer_state"]
    losses = [ok({"type": "evaluate", "network": network, "data": data})["train_loss"]]
    for _ in range(4):  # the default config, 2000 steps in 4 requests as a client would
        reply = ok(
            {
                "type": "train_step",
                "config": {"steps": 500},
                "data": data,
                "network": network,
                "optimizer_state": state,
            }
        )
        network, state = reply["network"], reply["optimizer_state"]
        losses.append(reply["train_loss"])
    assert all(b <= a for a, b in zip(losses, losses[1:], strict=False)), losses
    assert losses[-1] < 0.95 * losses[0], losses


def test_packed_form_in_and_out_is_bit_for_bit_the_list_form() -> None:
    from test_protocol import b64, packed_points

    data = circle(60, 0.25)
    packed_data = packed_points(
        [p["x"] for p in data],
        [p["y"] for p in data],
        [p["label"] for p in data],
        [p["test"] for p in data],
    )
    config = {"hidden_layers": [5, 3], "optimizer": "adam", "batch_size": 7, "steps": 30}
    lists = ok({"type": "train_step", "config": config, "data": data})
    packed = ok({"type": "train_step", "config": config, "data": packed_data, "packed": True})
    assert packed["network"]["sizes"] == [2, 5, 3, 2] and set(packed["network"]) == {"sizes", "f32"}
    flat = [v for w in lists["network"]["weights"] for r in w for v in r]
    flat += [v for b in lists["network"]["biases"] for v in b]
    assert packed["network"]["f32"] == b64(flat, "<f4")
    assert packed["train_loss"] == lists["train_loss"]
    assert set(packed["optimizer_state"]["buffers"]["exp_avg"]) == {"sizes", "f32"}
    # ...and a packed reply is a valid next request
    again = ok(
        {
            "type": "train_step",
            "config": config,
            "data": packed_data,
            "packed": True,
            "network": packed["network"],
            "optimizer_state": packed["optimizer_state"],
        }
    )
    assert again["global_step"] == 60
    init = ok({"type": "init_network", "config": config, "packed": True})
    assert init["network"]["sizes"] == [2, 5, 3, 2]


def test_snapshots_are_states_of_the_same_run() -> None:
    """Each snapshot equals what a request of that many steps returns: exactly stateless."""
    data = circle(80, 0.25)
    ok({"type": "train_step", "config": {"hidden_layers": [6], "steps": 2}, "data": data})
    # A budget that still leaves room for several snapshots on a loaded 2-core machine.
    config = {"hidden_layers": [6], "batch_size": 8, "steps": 100_000, "time_budget_ms": 400}
    reply = ok({"type": "train_step", "config": config, "data": data, "snapshot_ms": 20})
    snaps = reply["snapshots"]
    assert len(snaps) >= 2
    assert [s["global_step"] for s in snaps] == sorted({s["global_step"] for s in snaps})
    assert all(0 < s["global_step"] < reply["global_step"] for s in snaps)
    assert [s["at_ms"] for s in snaps] == sorted(s["at_ms"] for s in snaps)
    mid = snaps[len(snaps) // 2]
    same = ok(
        {
            "type": "train_step",
            "config": {**config, "steps": mid["global_step"], "time_budget_ms": None},
            "data": data,
        }
    )
    assert same["network"] == mid["network"]
    assert same["train_loss"] == mid["train_loss"]
    assert mid["epoch"] == pytest.approx(mid["global_step"] * reply["epoch"] / reply["global_step"])
    assert "snapshots" not in ok({"type": "train_step", "config": {"steps": 2}, "data": data})
