"""Compare two runs: the compare_step message and ``NNVisu.compare``.

The property that matters: each compared run's weights equal a solo run of its own setup
bit for bit, whichever setting differs, however the lockstep chunks its steps.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import torch

from nnvisu import NNVisu, handle_message
from nnvisu.comparison import verdict
from nnvisu.dispatch import handle_json

torch.set_num_threads(1)

BASE: dict[str, Any] = {"hidden_layers": [5, 4], "optimizer": "sgd", "learning_rate": 0.1,
                        "seed": 3}  # fmt: skip


def points(n: int = 120) -> list[dict[str, Any]]:
    reply = handle_message({"type": "generate_data", "dataset": "spiral", "n": n, "seed": 2,
                            "test_ratio": 0.3})  # fmt: skip
    data: list[dict[str, Any]] = reply["data"]
    return data


def ok(message: dict[str, Any]) -> dict[str, Any]:
    reply = handle_message(json.loads(json.dumps(message)))
    assert reply["type"] != "error", reply
    return json.loads(json.dumps(reply))  # what a client holds: the wire form


def solo(config: dict[str, Any], data: list[dict[str, Any]], steps: int) -> dict[str, Any]:
    return ok({"type": "train_step", "config": {**config, "steps": steps}, "data": data})


def compared(
    configs: list[dict[str, Any]], data: list[dict[str, Any]], steps: int, **extra: Any
) -> list[dict[str, Any]]:
    """Both runs after ``steps`` steps of compare_step requests bounded by ``extra``."""
    runs: list[dict[str, Any]] = [{"config": config} for config in configs]
    done, replies = 0, []
    while done < steps:
        reply = ok({"type": "compare_step", "runs": runs, "data": data, "steps": steps - done,
                    **extra})  # fmt: skip
        assert reply["type"] == "compare_step_result"
        replies = reply["runs"]
        assert [r["steps"] for r in replies] == [reply["steps"], reply["steps"]]
        done += reply["steps"]
        runs = [{"config": c, "network": r["network"], "optimizer_state": r["optimizer_state"]}
                for c, r in zip(configs, replies, strict=True)]  # fmt: skip
    return replies


CHANGES: list[dict[str, Any]] = [
    {"optimizer": "adam"},
    {"optimizer": "rmsprop", "momentum": 0.5},
    {"learning_rate": 0.7},
    {"activation": "relu"},
    {"hidden_layers": [8]},
    {"hidden_layers": []},
    {"l2": 0.01, "l1": 0.001},
    {"dropout": 0.3},
    {"batch_size": 10},
    {"features": ["x", "y", "xy", "sinx"]},
]


@pytest.mark.parametrize("change", CHANGES, ids=lambda c: ",".join(c))
def test_each_compared_run_equals_its_solo_run_bit_for_bit(change: dict[str, Any]) -> None:
    data = points()
    configs = [BASE, {**BASE, **change}]
    replies = compared(configs, data, 60)
    for config, reply in zip(configs, replies, strict=True):
        alone = solo(config, data, 60)
        assert reply["network"] == alone["network"]
        assert reply["optimizer_state"] == alone["optimizer_state"]
        for key in ("train_loss", "test_loss", "accuracy", "test_accuracy", "global_step",
                    "epoch"):  # fmt: skip
            assert reply[key] == alone[key], key


@pytest.mark.slow  # trains for several time budgets
def test_time_budgeted_chunks_keep_both_runs_exact_and_in_step() -> None:
    data = points(400)
    configs = [BASE, {**BASE, "optimizer": "adam", "batch_size": 16, "hidden_layers": [16, 16]}]
    replies = compared(configs, data, 700, time_budget_ms=3, packed=True)
    assert [r["global_step"] for r in replies] == [700, 700]
    for config, reply in zip(configs, replies, strict=True):
        alone = ok({"type": "train_step", "config": {**config, "steps": 700}, "data": data,
                    "packed": True})  # fmt: skip
        assert reply["network"] == alone["network"]
        assert reply["optimizer_state"] == alone["optimizer_state"]


def test_runs_continue_from_their_states_and_settings_change_while_they_play() -> None:
    data = points()
    first = compared([BASE, {**BASE, "optimizer": "adam"}], data, 20)
    # Run b's learning rate changes mid-way, as a learner's slider would: same as solo.
    later = [BASE, {**BASE, "optimizer": "adam", "learning_rate": 0.01}]
    runs = [{"config": c, "network": r["network"], "optimizer_state": r["optimizer_state"]}
            for c, r in zip(later, first, strict=True)]  # fmt: skip
    reply = ok({"type": "compare_step", "runs": runs, "data": data, "steps": 30})
    for config, run, result in zip(later, runs, reply["runs"], strict=True):
        state = {"network": run["network"], "optimizer_state": run["optimizer_state"]}
        alone = ok({"type": "train_step", "config": {**config, "steps": 30}, "data": data, **state})
        assert result["network"] == alone["network"]
        assert result["global_step"] == 50


def test_snapshots_are_paired_states_of_both_runs() -> None:
    data = points(300)
    solo({**BASE, "optimizer": "adam"}, data, 1)  # the engine's first call compiles: not timed here
    reply = ok({"type": "compare_step", "data": data, "steps": 100_000, "time_budget_ms": 400,
                "snapshot_ms": 20,
                "runs": [{"config": BASE}, {"config": {**BASE, "optimizer": "adam"}}]})  # fmt: skip
    a, b = reply["runs"]
    assert len(a["snapshots"]) >= 2
    assert [s["global_step"] for s in a["snapshots"]] == [s["global_step"] for s in b["snapshots"]]
    snap = b["snapshots"][0]
    alone = solo({**BASE, "optimizer": "adam"}, data, snap["global_step"])
    assert snap["network"] == alone["network"]
    assert snap["train_loss"] == alone["train_loss"]
    assert a["snapshots"][-1]["global_step"] < a["global_step"]


def test_compare_step_is_bounded_by_steps_and_time() -> None:
    data = points()
    runs = [{"config": BASE}, {"config": {**BASE, "hidden_layers": [32, 32]}}]
    reply = ok({"type": "compare_step", "runs": runs, "data": data, "steps": 7})
    assert reply["steps"] == 7 and "snapshots" not in reply["runs"][0]
    reply = ok({"type": "compare_step", "runs": runs, "data": data, "steps": 100_000,
                "time_budget_ms": 30})  # fmt: skip
    assert 1 <= reply["steps"] < 100_000
    assert reply["elapsed_ms"] < 1000


def error(message: dict[str, Any]) -> dict[str, Any]:
    reply = handle_message(message)
    assert reply["type"] == "error", reply
    return reply


@pytest.mark.parametrize(
    ("runs", "field", "words"),
    [
        ([{"config": BASE}], "runs", "runs must be"),
        ([{"config": BASE}] * 3, "runs", "runs must be"),
        ([{"config": BASE}, {"config": {"learning_rate": -1}}], "runs[1].config.learning_rate",
         "(0, 10]"),
        ([{"config": BASE}, {"config": BASE, "netwrk": {}}], "runs[1].netwrk", "did you mean"),
        ([{"config": BASE}, {"config": {"features": ["x", "x"]}}], "runs[1].config.features",
         "runs[1].config.features"),
        ([{"config": BASE}, {"config": {"num_classes": 2, "hidden_layers": [3]},
                             "network": {"weights": [[[1.0, 2.0]]], "biases": [[0.0]]}}],
         "runs[1].network.weights", "runs[1].network"),
    ],
)  # fmt: skip
def test_bad_compare_requests_name_the_run_and_field(
    runs: list[dict[str, Any]], field: str, words: str
) -> None:
    reply = error({"type": "compare_step", "id": 4, "runs": runs, "data": points(20)})
    assert reply["code"] == "invalid" and reply["id"] == 4
    assert reply["field"].startswith(field), reply
    assert words in reply["message"], reply


def test_labels_that_do_not_fit_a_run_name_the_data_and_the_run() -> None:
    data = [*points(20), {"x": 0.0, "y": 0.0, "label": 3}]
    runs = [{"config": {"num_classes": 4}}, {"config": {"num_classes": 2}}]
    reply = error({"type": "compare_step", "runs": runs, "data": data})
    assert reply["field"] == "data[20].label"
    assert reply["message"].startswith("runs[1]: ")


def test_a_diverging_run_is_named_and_nothing_else_is_returned() -> None:
    runs = [{"config": BASE}, {"config": {**BASE, "learning_rate": 10, "hidden_layers": [64] * 4,
                                          "activation": "relu", "optimizer": "sgd"}}]  # fmt: skip
    data = [{**p, "x": p["x"] * 900, "y": p["y"] * 900} for p in points()]
    reply = error({"type": "compare_step", "id": "d", "runs": runs, "data": data, "steps": 200})
    assert reply["code"] == "diverged"
    assert reply["message"].startswith("runs[1]: training diverged")
    assert set(reply) == {"type", "id", "code", "message", "field"}


def test_handle_json_serves_compare_step() -> None:
    request = {"type": "compare_step", "id": 1, "runs": [{"config": BASE}, {"config": BASE}],
               "data": points(30), "steps": 5}  # fmt: skip
    reply = json.loads(handle_json(json.dumps(request).encode()))
    assert reply["type"] == "compare_step_result" and reply["id"] == 1
    assert reply["runs"][0]["network"] == reply["runs"][1]["network"]  # the same setup twice


# From Python.
def test_widget_compare_returns_both_runs_metrics_and_torch_modules() -> None:
    w = NNVisu("moons", n=100, hidden_layers=[6], optimizer="sgd", learning_rate=0.1, seed=1)
    c = w.compare(optimizer="adam", learning_rate=0.03)
    assert c.runs[1].config["optimizer"] == "adam" and c.runs[0].config == w.config
    assert c.runs[0].network == c.runs[1].network  # same architecture, same seed: same start
    c.train(steps=150)
    a, b = c.metrics
    assert a["global_step"] == b["global_step"] == 150 == c.steps
    for run in c.runs:
        alone = solo(run.config, w.data, 150)
        assert run.network == alone["network"]
        assert run.metrics["test_loss"] == alone["test_loss"]
    model_a, model_b = c.to_torch()
    xy = torch.tensor([[p["x"], p["y"]] for p in w.data], dtype=torch.float32)
    probs = torch.softmax(model_b(xy), dim=1)
    reply = ok({"type": "evaluate", "config": c.runs[1].config, "network": c.runs[1].network,
                "data": w.data})  # fmt: skip
    torch.testing.assert_close(probs, torch.tensor(reply["predictions"]), atol=1e-6, rtol=0)
    assert "reached the lower test loss" in c.verdict()
    assert w.metrics["global_step"] == 0  # the widget's own run is untouched


def test_widget_compare_trains_by_epochs_of_the_first_run() -> None:
    w = NNVisu("circle", n=100, test_ratio=0.5, batch_size=10)
    c = w.compare(batch_size=25).train(epochs=2)
    assert c.steps == 10  # 50 training points in batches of 10, twice


def test_widget_compare_refuses_bad_changes() -> None:
    w = NNVisu("moons", n=50)
    with pytest.raises(TypeError, match="optimiser"):
        w.compare(optimiser="adam")
    with pytest.raises(ValueError, match="seed"):
        w.compare(seed=4)
    with pytest.raises(ValueError, match="learning_rate"):
        w.compare(learning_rate=-1)
    with pytest.raises(ValueError, match="exactly one"):
        w.compare(optimizer="adam").train()


def test_verdict_says_who_won_and_from_when() -> None:
    a = [
        {"step": 0, "test_loss": 0.7},
        {"step": 10, "test_loss": 0.5},
        {"step": 20, "test_loss": 0.4},
    ]
    b = [
        {"step": 0, "test_loss": 0.7},
        {"step": 10, "test_loss": 0.3},
        {"step": 20, "test_loss": 0.2},
    ]
    line = verdict(a, b, {"optimizer": "adam"})
    assert line.startswith("b (optimizer='adam') reached the lower test loss: 0.2 against 0.4")
    assert line.endswith("from step 10 on")
    assert verdict(b, a, {}).startswith("a reached the lower test loss")
    assert "no train loss yet" in verdict([], [], {})
