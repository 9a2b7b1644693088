"""Replies stay bounded whatever the request, and bad input gets `invalid`, never `internal`.

Everything here goes through the one dispatcher both hosts call (``handle_json`` for the
server, ``handle_message`` for the widget), so it holds in both.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest

from nnvisu import protocol as p
from nnvisu.dispatch import handle_json, handle_message
from nnvisu.engine import Deadline
from nnvisu.protocol import bounds

ALL_FEATURES = ["x", "y", "x2", "y2", "xy", "sinx", "siny"]
BIGGEST = {"features": ALL_FEATURES, "hidden_layers": [64] * 8, "optimizer": "adam"}


def reply_of(message: dict[str, Any] | str) -> tuple[int, dict[str, Any]]:
    raw = handle_json(message if isinstance(message, str) else json.dumps(message))
    decoded: dict[str, Any] = json.loads(raw)
    return len(raw), decoded


@pytest.mark.parametrize("packed", [False, True])
def test_snapshots_every_millisecond_of_the_biggest_network_fit_the_message_cap(
    packed: bool,
) -> None:
    request = {
        "type": "train_step",
        "config": {**BIGGEST, "steps": 100_000, "time_budget_ms": 300},
        "data": [{"x": 0.1, "y": 0.2, "label": 1}],
        "snapshot_ms": 1,
        "packed": packed,
    }
    size, reply = reply_of(request)
    assert reply["type"] == "train_step_result", reply
    assert size <= p.MAX_MESSAGE_BYTES
    sizes = (7, *[64] * 8, 2)
    assert len(reply["snapshots"]) <= bounds.snapshot_allowance(sizes, packed)
    assert len(reply["snapshots"]) <= bounds.MAX_SNAPSHOTS


@pytest.mark.parametrize("packed", [False, True])
def test_the_size_bounds_hold_for_the_worst_numbers(packed: bool) -> None:
    sizes = (7, 64, 64, 2)
    count = bounds.num_params(sizes)
    # The longest JSON a float32 can take: negative, 17 digits and an exponent.
    flat = __import__("numpy").full(count, -1.1754943508222875e-38, dtype="float32")
    encoded = p.encode(p.network_data(sizes, flat, packed))
    assert len(encoded) <= bounds.network_bytes(sizes, packed)


def test_snapshots_are_spread_over_the_budget_when_more_would_not_fit() -> None:
    interval, most = bounds.snapshot_plan(1, 5000, (7, *[64] * 8, 2), True)
    assert most == bounds.snapshot_allowance((7, *[64] * 8, 2), True) > 0
    assert interval == pytest.approx(5.0 / most)
    assert bounds.snapshot_plan(20, 100, (2, 4, 2), True) == (0.02, 5)
    assert bounds.snapshot_plan(None, 100, (2, 4, 2), True) == (None, 0)


def test_a_compare_of_two_of_the_biggest_networks_as_lists_is_refused_before_running() -> None:
    request = {
        "type": "compare_step",
        "id": "cmp",
        "runs": [{"config": BIGGEST}, {"config": BIGGEST}],
        "data": [{"x": 0.1, "y": 0.2, "label": 1}],
        "steps": 2,
    }
    _, reply = reply_of(request)
    assert reply["code"] == "too_large" and reply["field"] == "packed", reply
    assert "packed: true" in reply["message"]
    size, packed = reply_of({**request, "packed": True, "snapshot_ms": 1})
    assert packed["type"] == "compare_step_result" and size <= p.MAX_MESSAGE_BYTES


def test_a_deadline_cut_by_another_thread_stops_training_early() -> None:
    request = {
        "type": "train_step",
        "config": {"steps": 100_000, "time_budget_ms": 5000},
        "data": [{"x": 0.1, "y": 0.2, "label": 1}],
    }
    already = Deadline()
    already.cut(0.0)  # long past: one step runs (every request trains at least one)
    reply = json.loads(handle_json(json.dumps(request), already))
    assert reply["steps"] == 1
    assert handle_message(request, already)["steps"] == 1


def test_training_stops_early_enough_to_build_the_reply_in_time() -> None:
    import time

    import torch

    from nnvisu import engine

    spec = engine.NetSpec(("x", "y"), (4,), "tanh", 2, False)
    data = engine.Data(torch.zeros(1, 2), torch.zeros(1, dtype=torch.long), torch.zeros(1).bool())
    opts = engine.TrainOptions(steps=100_000)
    net = engine.init_network(spec, 0)
    state = engine.OptimizerState("sgd")
    # The whole time left is needed to build the reply: only the one obligatory step runs.
    deadline = Deadline(time.perf_counter() + 60)
    result = engine.train(spec, opts, net, state, data, deadline=deadline, reserve_s=60)
    assert result.steps == 1
    reserve = bounds.build_seconds((7, *[64] * 8, 2), False, 2, 10_000)
    assert reserve > bounds.build_seconds((2, 4, 2), True, 2, 500)


# --------------------------------------------------------------------------------------------
# Bad input: `invalid` with a clear message, never `internal`


def assert_invalid(reply: dict[str, Any], *words: str) -> None:
    assert reply["type"] == "error" and reply["code"] == "invalid", reply
    for word in words:
        assert word in reply["message"], reply
    msgspec.json.encode(reply)  # always encodable


@pytest.mark.parametrize("label", ["5000", "-1000.5", "9" * 401, "-" + "9" * 401])
def test_list_form_regression_labels_are_range_checked(label: str) -> None:
    text = json.dumps(
        {
            "type": "train_step",
            "id": 3,
            "config": {"problem": "regression"},
            "data": [{"x": 0, "y": 0, "label": 0.5}, {"x": 1, "y": 0, "label": 7}],
        }  # fmt: skip
    ).replace('"label": 7', f'"label": {label}')
    _, reply = reply_of(text)
    assert_invalid(reply, "data[1].label", "[-1000, 1000]")
    assert reply["id"] == 3 and reply["field"] == "data[1].label"
    big = {"type": "train_step", "config": {"problem": "regression"},
           "data": [{"x": 0, "y": 0, "label": 10**400}]}  # fmt: skip
    assert_invalid(handle_message(big), "data[0].label")
    assert_invalid(handle_message({**big, "data": [{"x": 0, "y": 0, "label": float("nan")}]}))


@pytest.mark.parametrize(
    "text",
    [
        '{"type": "train_step", "data": ' + "[" * 1000 + "]" * 1000 + "}",
        '{"type": "info", "id": ' + "[" * 1000 + "]" * 1000 + "}",
        '{"type": "info", "x": ' + '{"a": ' * 5000 + "1" + "}" * 5000 + "}",
        "[" * 100_000 + "]" * 100_000,
    ],
)
def test_deep_nesting_is_refused(text: str) -> None:
    _, reply = reply_of(text)
    assert_invalid(reply, f"more than {p.MAX_DEPTH} levels deep")


def test_a_deeply_nested_dict_is_refused_by_handle_message() -> None:
    deep: dict[str, Any] = {"a": 1}
    for _ in range(5000):
        deep = {"a": deep}
    assert_invalid(handle_message({"type": "train_step", "data": [deep]}))
    assert_invalid(handle_message({"type": "info", "x": deep}))


@pytest.mark.parametrize(
    "message",
    [
        {"type": "info", "id": "\ud800"},
        {"type": "info", "id": "a\udfffb", "x": 1},
        {"type": "info", "\ud800": 1},
        {"type": "info", "id": "\ud800", "\udc00": 1},
        {"type": "generate_data", "dataset": "\ud800", "id": "ok"},
        {"type": "train_step", "id": "\ud800", "config": {"steps": 0}, "data": []},
    ],
)
def test_lone_surrogates_never_make_an_unencodable_reply(message: dict[str, Any]) -> None:
    reply = handle_message(message)
    assert reply["type"] == "error" and reply["code"] == "invalid", reply
    encoded = json.loads(msgspec.json.encode(reply))
    assert isinstance(encoded["message"], str)
    if isinstance(message.get("id"), str) and message["id"] != "ok":
        assert "\ufffd" in encoded["id"] or "?" in encoded["id"]


def test_step_counters_are_refused_before_they_pass_2_to_the_53() -> None:
    near = p.MAX_COUNT - 5
    request = {
        "type": "train_step",
        "id": "late",
        "config": {"steps": 10},
        "optimizer_state": {"optimizer": "sgd", "global_step": near},
        "data": [{"x": 0, "y": 0, "label": 1}],
    }
    _, reply = reply_of(request)
    assert_invalid(reply, "optimizer_state.global_step", str(near), "2^53-1")
    assert reply["id"] == "late" and reply["field"] == "optimizer_state.global_step"
    _, ok = reply_of({**request, "config": {"steps": 5}})
    assert ok["type"] == "train_step_result" and ok["global_step"] == p.MAX_COUNT
    step = {**request, "optimizer_state": {"optimizer": "sgd", "step": near}}
    assert_invalid(reply_of(step)[1], "optimizer_state.step")
    compare = {
        "type": "compare_step",
        "runs": [{"config": {}, "optimizer_state": {"optimizer": "sgd", "global_step": near}},
                 {"config": {}}],
        "data": [{"x": 0, "y": 0, "label": 1}],
        "steps": 10,
    }  # fmt: skip
    assert_invalid(reply_of(compare)[1], "runs[0].optimizer_state.global_step")
