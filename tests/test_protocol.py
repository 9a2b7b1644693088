"""Protocol: decoding, defaults, limits, friendly errors, size cap; random input never breaks it."""

from __future__ import annotations

import copy
import json
import math
import subprocess
import sys
import time
from typing import Any

import msgspec
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nnvisu import engine, handle_message, protocol
from nnvisu.dispatch import handle_json
from nnvisu.protocol import ProtocolError, decode_request

torch.set_num_threads(1)
#: Every test here runs under both engines, TorchScript and eager (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("both_engines")

POINTS = [{"x": 0.5, "y": -0.5, "label": 0}, {"x": -0.25, "y": 0.75, "label": 1, "test": True}]


def net(sizes: list[int], value: float = 0.1) -> dict[str, Any]:
    weights = [[[value] * i for _ in range(o)] for i, o in zip(sizes, sizes[1:], strict=False)]
    return {"weights": weights, "biases": [[0.0] * o for o in sizes[1:]]}


def error_of(message: Any) -> ProtocolError:
    with pytest.raises(ProtocolError) as info:
        decode_request(message)
    return info.value


def test_minimal_train_step_gets_every_default() -> None:
    request = decode_request({"type": "train_step", "data": POINTS})
    assert isinstance(request, protocol.TrainStep)
    c = request.config
    assert (c.problem, c.num_classes, c.features, c.hidden_layers, c.activation) == (
        "classification",
        2,
        ["x", "y"],
        [4, 4],
        "tanh",
    )
    assert (c.optimizer, c.learning_rate, c.momentum, c.beta1, c.beta2, c.eps, c.alpha) == (
        "sgd",
        0.03,
        0.0,
        0.9,
        0.999,
        1e-8,
        0.99,
    )
    assert (c.weight_decay, c.l1, c.l2, c.dropout, c.batch_size, c.steps) == (
        0.01,
        0,
        0,
        0,
        None,
        1,
    )
    assert (c.time_budget_ms, c.seed) == (None, 0)
    assert request.network is None and request.optimizer_state is None and request.id is None
    assert request.data[1].test and not request.data[0].test


def test_json_text_and_dict_decode_alike() -> None:
    message = {"type": "train_step", "id": "v1:7", "config": {"steps": 3}, "data": POINTS}
    assert decode_request(message) == decode_request(json.dumps(message))
    assert decode_request(message) == decode_request(json.dumps(message).encode())


def test_names_agree_with_the_engine() -> None:
    assert tuple(engine.ACTIVATIONS) == protocol.ACTIVATION_NAMES
    assert tuple(engine.FEATURES) == protocol.FEATURE_NAMES
    assert protocol.OPTIMIZER_NAMES == engine.OPTIMIZERS
    assert protocol.BUFFER_NAMES == engine.BUFFERS


@pytest.mark.parametrize(
    ("config", "field", "text"),
    [
        (
            {"learning_rate": -1},
            "config.learning_rate",
            "config.learning_rate must be a finite number in (0, 10], got -1",
        ),
        ({"learning_rate": 0}, "config.learning_rate", "in (0, 10], got 0"),
        ({"learning_rate": 11.5}, "config.learning_rate", "got 11.5"),
        ({"learning_rate": "fast"}, "config.learning_rate", "got 'fast'"),
        ({"learning_rate": True}, "config.learning_rate", "got true"),
        ({"momentum": 1}, "config.momentum", "in [0, 1), got 1"),
        ({"beta1": -0.1}, "config.beta1", "in [0, 1)"),
        ({"beta2": 1.0}, "config.beta2", "in [0, 1)"),
        ({"eps": 0}, "config.eps", "in (0, 1]"),
        ({"alpha": 1}, "config.alpha", "in [0, 1)"),
        ({"weight_decay": 2}, "config.weight_decay", "in [0, 1]"),
        ({"l1": -1e-9}, "config.l1", "in [0, 1]"),
        ({"l2": 1.5}, "config.l2", "in [0, 1]"),
        ({"dropout": 0.95}, "config.dropout", "in [0, 0.9]"),
        ({"num_classes": 9}, "config.num_classes", "an integer in 2..8, got 9"),
        ({"num_classes": 1}, "config.num_classes", "an integer in 2..8, got 1"),
        ({"num_classes": 2.0}, "config.num_classes", "got 2.0"),
        ({"hidden_layers": [4] * 9}, "config.hidden_layers", "at most 8 items"),
        ({"hidden_layers": [4, 65]}, "config.hidden_layers[1]", "an integer in 1..64, got 65"),
        ({"hidden_layers": [0]}, "config.hidden_layers[0]", "got 0"),
        ({"features": []}, "config.features", "1 to 7 items"),
        ({"features": ["x", "z"]}, "config.features[1]", "one of 'x', 'y', 'x2'"),
        ({"features": ["x", "x"]}, "config.features", "'x' is there 2x"),
        ({"activation": "softmax"}, "config.activation", "one of 'relu', 'tanh'"),
        ({"optimizer": "lbfgs"}, "config.optimizer", "got 'lbfgs'"),
        ({"problem": "ranking"}, "config.problem", "one of 'classification', 'regression'"),
        ({"batch_size": 0}, "config.batch_size", "an integer in 1..10000 or null, got 0"),
        ({"steps": 100_001}, "config.steps", "an integer in 1..100000, got 100001"),
        ({"steps": 0}, "config.steps", "got 0"),
        ({"time_budget_ms": 5001}, "config.time_budget_ms", "in [1, 5000] or null, got 5001"),
        ({"seed": -1}, "config.seed", "an integer in 0..2147483647"),
        ({"seed": 2**31}, "config.seed", "got 2147483648"),
        ({"learning_rate": math.nan}, "config.learning_rate", "got NaN"),
        ({"l2": math.inf}, "config.l2", "got Infinity"),
    ],
)
def test_config_fields_are_checked_with_friendly_messages(
    config: dict[str, Any], field: str, text: str
) -> None:
    error = error_of({"type": "train_step", "id": 4, "config": config, "data": POINTS})
    assert (error.code, error.field, error.request_id) == ("invalid", field, 4)
    assert text in error.message
    assert error.message.startswith(field)


@pytest.mark.parametrize(
    ("message", "field"),
    [
        ({"type": "train_step", "data": POINTS, "confg": {}}, "confg"),
        (
            {"type": "train_step", "data": POINTS, "config": {"lerning_rate": 1}},
            "config.lerning_rate",
        ),
        (
            {"type": "train_step", "data": [{"x": 0, "y": 0, "label": 0, "weight": 1}]},
            "data[0].weight",
        ),
        (
            {"type": "train_step", "data": POINTS, "network": {**net([2, 4, 4, 2]), "w": 1}},
            "network.w",
        ),
        (
            {"type": "train_step", "data": POINTS, "optimizer_state": {"optimizer": "sgd", "s": 1}},
            "optimizer_state.s",
        ),
        (
            {
                "type": "train_step",
                "data": POINTS,
                "optimizer_state": {
                    "optimizer": "adam",
                    "buffers": {"exp_avgsq": net([2, 4, 4, 2])},
                },
            },
            "optimizer_state.buffers.exp_avgsq",
        ),
        ({"type": "info", "verbose": True}, "verbose"),
    ],
)
def test_unknown_fields_are_rejected_by_name(message: dict[str, Any], field: str) -> None:
    error = error_of(message)
    assert (error.code, error.field) == ("invalid", field)
    assert f"{field} is not a known field" in error.message


def test_unknown_field_suggests_the_close_name() -> None:
    error = error_of({"type": "train_step", "data": POINTS, "config": {"lerning_rate": 1}})
    assert "did you mean 'learning_rate'?" in error.message


@pytest.mark.parametrize(
    ("message", "field"),
    [
        ({"type": "train_step"}, "data"),
        ({"type": "evaluate", "data": POINTS}, "network"),
        ({"type": "generate_data"}, "dataset"),
        ({"type": "train_step", "data": [{"x": 0, "label": 0}]}, "data[0].y"),
        (
            {"type": "train_step", "data": POINTS, "network": {"weights": [[[0.0]]]}},
            "network.biases",
        ),
        (
            {"type": "train_step", "data": POINTS, "optimizer_state": {}},
            "optimizer_state.optimizer",
        ),
    ],
)
def test_missing_required_fields_are_named(message: dict[str, Any], field: str) -> None:
    error = error_of(message)
    assert (error.code, error.field, error.message) == ("invalid", field, f"{field} is required")


def test_message_type_errors() -> None:
    missing = error_of({"data": POINTS, "id": "x"})
    assert (missing.code, missing.field, missing.request_id) == ("invalid", "type", "x")
    unknown = error_of({"type": "train", "id": "x"})
    assert (unknown.code, unknown.field, unknown.request_id) == ("unknown_type", "type", "x")
    assert "one of 'train_step', 'init_network', 'evaluate', 'generate_data', 'info'" in (
        unknown.message
    )
    assert error_of({"type": 5}).code == "unknown_type"
    for not_an_object in ([1, 2], "[1]", 5, None):
        assert error_of(not_an_object).code == "invalid"
    assert "not valid JSON" in error_of(b'{"type": "info",').message


@pytest.mark.parametrize(
    ("point", "field", "text"),
    [
        ({"x": 1001, "y": 0, "label": 0}, "data[0].x", "in [-1000, 1000], got 1001"),
        ({"x": 0, "y": math.nan, "label": 0}, "data[0].y", "got NaN"),
        ({"x": 0, "y": 0, "label": 2}, "data[0].label", "class index in 0..1 (config.num_classes"),
        ({"x": 0, "y": 0, "label": -1}, "data[0].label", "got -1"),
        ({"x": 0, "y": 0, "label": 0.5}, "data[0].label", "got 0.5"),
        ({"x": 0, "y": 0, "label": "a"}, "data[0].label", "got 'a'"),
        ({"x": 0, "y": 0, "label": 0, "test": 1}, "data[0].test", "true or false, got 1"),
    ],
)
def test_points_are_checked(point: dict[str, Any], field: str, text: str) -> None:
    error = error_of({"type": "train_step", "data": [point, POINTS[0]]})
    assert (error.code, error.field) == ("invalid", field)
    assert text in error.message


def test_regression_labels_are_values_and_integral_class_floats_are_accepted() -> None:
    regression = {
        "type": "train_step",
        "config": {"problem": "regression"},
        "data": [{"x": 0, "y": 0, "label": -3.25}],
    }
    assert decode_request(regression).data[0].label == -3.25
    assert decode_request({"type": "train_step", "data": [{"x": 0, "y": 0, "label": 1.0}]})


def test_training_needs_a_training_point() -> None:
    for data in ([], [{**POINTS[0], "test": True}]):
        error = error_of({"type": "train_step", "data": data})
        assert (error.code, error.field) == ("invalid", "data")
        assert "training point" in error.message
    assert decode_request({"type": "evaluate", "data": [], "network": net([2, 4, 4, 2])})


def test_too_many_points_is_too_large() -> None:
    point = {"x": 0, "y": 0, "label": 0}
    error = error_of({"type": "train_step", "id": 1, "data": [point] * 10_001})
    assert (error.code, error.field, error.request_id) == ("too_large", "data", 1)
    assert error.message == "data must have at most 10000 points, got 10001"
    assert decode_request({"type": "train_step", "data": [point] * 10_000})


@pytest.mark.parametrize(
    ("network", "field", "text"),
    [
        (net([2, 4, 2]), "network.weights", "must have 3 layers (2 hidden layers + the output"),
        ({**net([2, 4, 4, 2]), "biases": [[0.0] * 4] * 2}, "network.biases", "got 2"),
        (net([3, 4, 4, 2]), "network.weights[0][0]", "2 columns (the 2 features"),
        (net([2, 5, 4, 2]), "network.weights[0]", "must have 4 rows (out×in), got 5"),
        (
            {"weights": net([2, 4, 4, 2])["weights"], "biases": [[0.0] * 4, [0.0] * 3, [0.0] * 2]},
            "network.biases[1]",
            "4 entries",
        ),
        (net([2, 4, 4, 2], math.inf), "network.weights[0][0][0]", "finite float32"),
        (net([2, 4, 4, 2], 1e39), "network.weights[0][0][0]", "got 1e+39"),
        (
            {"weights": [[[0.1] * 2] * 4, [[0.1] * 4] * 4, [[]]], "biases": [[0.0] * 4] * 2 + [[]]},
            "network.weights[2][0]",
            "1 to 64 items",
        ),
    ],
)
def test_network_shapes_must_match_the_architecture(
    network: dict[str, Any], field: str, text: str
) -> None:
    error = error_of({"type": "train_step", "data": POINTS, "network": network})
    assert (error.code, error.field) == ("invalid", field)
    assert text in error.message


def test_only_the_output_rows_may_differ_in_train_step_but_not_in_evaluate() -> None:
    three = net([2, 4, 4, 3])
    assert decode_request({"type": "train_step", "data": POINTS, "network": three})
    error = error_of({"type": "evaluate", "data": POINTS, "network": three})
    assert error.field == "network.weights[2]"


def test_optimizer_state_buffers_are_checked() -> None:
    def state(optimizer: str, buffers: dict[str, Any]) -> ProtocolError:
        return error_of(
            {
                "type": "train_step",
                "data": POINTS,
                "network": net([2, 4, 4, 2]),
                "optimizer_state": {"optimizer": optimizer, "buffers": buffers},
            }
        )

    wrong = state("sgd", {"exp_avg": net([2, 4, 4, 2])})
    assert wrong.field == "optimizer_state.buffers.exp_avg"
    assert "not a buffer of optimizer 'sgd'; allowed: momentum_buffer" in wrong.message
    shape = state("adam", {"exp_avg": net([2, 3, 4, 2])})
    assert shape.field == "optimizer_state.buffers.exp_avg.weights[0]"
    negative = net([2, 4, 4, 2])
    negative["biases"][1][2] = -1e-3
    sq = state("adam", {"exp_avg_sq": negative})
    assert sq.field == "optimizer_state.buffers.exp_avg_sq.biases[1][2]"
    assert "must be >= 0, got -0.001" in sq.message
    counts = error_of(
        {"type": "train_step", "data": POINTS, "optimizer_state": {"optimizer": "sgd", "step": -1}}
    )
    assert counts.field == "optimizer_state.step"


def test_init_network_previous_network_may_have_any_architecture_but_must_chain() -> None:
    good = {
        "type": "init_network",
        "network": net([3, 7, 5]),
        "previous_features": ["x", "y", "xy"],
    }
    assert decode_request(good)
    error = error_of({**good, "previous_features": ["x", "y"]})
    assert error.field == "network.weights[0][0]"
    broken = net([3, 7, 5])
    broken["weights"][1] = [[0.1] * 6] * 5
    assert error_of({**good, "network": broken}).field == "network.weights[1][0]"
    assert error_of({**good, "previous_features": ["x", "x", "y"]}).field == "previous_features"


def test_generate_data_fields() -> None:
    assert error_of({"type": "generate_data", "dataset": "nope"}).field == "dataset"
    assert error_of({"type": "generate_data", "dataset": "moons", "n": 0}).field == "n"
    assert error_of({"type": "generate_data", "dataset": "moons", "noise": 2}).field == "noise"
    ratio = error_of({"type": "generate_data", "dataset": "moons", "test_ratio": 0.95})
    assert ratio.field == "test_ratio"


def test_ids() -> None:
    assert decode_request({"type": "info", "id": "a" * 100}).id == "a" * 100
    assert decode_request({"type": "info", "id": -(2**53) + 1}).id == -(2**53) + 1
    for bad in ("a" * 101, 2**53, True, 1.5, [1]):
        error = error_of({"type": "info", "id": bad})
        assert (error.field, error.request_id) == ("id", None)


def test_handle_json_caps_the_message_size_and_echoes_the_id() -> None:
    filler = "x" * protocol.MAX_MESSAGE_BYTES
    reply = json.loads(handle_json(json.dumps({"type": "info", "id": "big", "pad": filler})))
    assert (reply["type"], reply["code"], reply["id"]) == ("error", "too_large", "big")
    assert str(protocol.MAX_MESSAGE_BYTES) in reply["message"]
    reply = json.loads(handle_json(("é" * (protocol.MAX_MESSAGE_BYTES // 2 + 1)).encode()))
    assert reply["code"] == "too_large"


def test_handle_json_replies_to_garbage() -> None:
    for text in (b"", b"\xff\xfe", b"nul", b"{}", b'{"type": "info"} trailing', "\u2603"):
        reply = json.loads(handle_json(text))
        assert reply["type"] == "error" and reply["code"] == "invalid", reply


def test_json_numbers_beyond_float64_are_reported_by_field() -> None:
    reply = json.loads(
        handle_json(b'{"type":"train_step","id":3,"data":[{"x":1e999,"y":0,"label":0}]}')
    )
    assert (reply["code"], reply["field"], reply["id"]) == ("invalid", "data[0].x", 3)
    assert "got Infinity" in reply["message"]


def test_encode_writes_structs_and_dicts() -> None:
    reply = protocol.ErrorReply(id=1, code="busy", message="try later")
    assert json.loads(protocol.encode(reply)) == {
        "type": "error",
        "id": 1,
        "code": "busy",
        "message": "try later",
        "field": None,
    }
    assert protocol.encode({"a": [0.1]}) == b'{"a":[0.1]}'


# Property tests: any input gets a well-formed reply, quickly, and nothing raises.
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
REPLY_TYPES = {"train_step_result", "network", "evaluate_result", "data", "info_result", "error"}


def assert_well_formed(reply: dict[str, Any]) -> None:
    typed = msgspec.convert(reply, protocol.Reply)  # every field of the right type
    assert reply["type"] in REPLY_TYPES
    if isinstance(typed, protocol.ErrorReply):
        assert typed.code in protocol.ERROR_CODES and typed.message
        assert typed.code != "internal", reply
    text = protocol.encode(reply)
    # No non-finite JSON number anywhere (an error message may still say "got NaN").
    json.loads(text, parse_constant=lambda c: pytest.fail(f"non-finite {c} in reply"))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=json_values, kind=st.sampled_from([None, *sorted(protocol.REQUEST_TYPES)]))
def test_random_messages_always_get_a_well_formed_reply(value: Any, kind: str | None) -> None:
    message = {**value, "type": kind} if isinstance(value, dict) and kind else value
    reply = handle_message(message)
    assert_well_formed(reply)
    assert json.loads(handle_json(json.dumps(message, allow_nan=True)))["type"] in REPLY_TYPES


VALID = [
    {
        "type": "train_step",
        "id": "m",
        "config": {
            "steps": 3,
            "hidden_layers": [3],
            "batch_size": 2,
            "optimizer": "adam",
            "dropout": 0.2,
        },
        "data": POINTS,
        "network": net([2, 3, 2]),
        "optimizer_state": {
            "optimizer": "adam",
            "step": 2,
            "global_step": 5,
            "buffers": {"exp_avg": net([2, 3, 2], 0.01)},
        },
    },
    {
        "type": "init_network",
        "config": {"hidden_layers": [2, 3]},
        "network": net([3, 4, 2]),
        "previous_features": ["x", "y", "sinx"],
    },
    {
        "type": "evaluate",
        "config": {"hidden_layers": [3]},
        "network": net([2, 3, 2]),
        "data": POINTS,
    },
    {"type": "generate_data", "dataset": "spiral", "n": 30, "num_classes": 3},
    {"type": "info", "id": 3},
]


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            out += paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value[:3]):
            out += paths(item, (*prefix, index))
    return out


@st.composite
def mutated(draw: st.DrawFn) -> Any:
    message = copy.deepcopy(draw(st.sampled_from(VALID)))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(paths(message)))
        if not path:
            return draw(json_values)
        parent = message
        for key in path[:-1]:
            parent = parent[key]
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "replace":
            parent[path[-1]] = draw(json_values)
        elif action == "delete":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(st.text(max_size=10))] = draw(json_values)
        else:
            parent.append(draw(json_values))
    return message


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(message=mutated())
def test_mutated_messages_never_raise_never_hang_and_get_a_well_formed_reply(message: Any) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(protocol, "MAX_REQUEST_MS", 100)  # bounds any training a mutation asks for
        started = time.perf_counter()
        reply = handle_message(message)
        assert time.perf_counter() - started < 3.0
    assert_well_formed(reply)
    if reply["type"] == "error" and isinstance(message, dict):
        assert reply["id"] in (message.get("id"), None)


def test_the_valid_messages_used_for_mutation_are_valid() -> None:
    for message in VALID:
        reply = handle_message(message)
        assert reply["type"] != "error", reply
        assert_well_formed(reply)


# The packed form (docs/protocol.md): base64 little-endian arrays for points, networks, buffers.
def b64(values: list[float] | list[int], dtype: str) -> str:
    import base64

    import numpy as np

    return base64.b64encode(np.asarray(values, dtype=dtype).tobytes()).decode()


def packed_points(
    xs: list[float], ys: list[float], labels: list[int], tests: list[bool]
) -> dict[str, Any]:
    import numpy as np

    bits = np.packbits(np.array(tests, dtype=bool), bitorder="little").tobytes()
    import base64

    return {
        "count": len(xs),
        "x": b64(xs, "<f4"),
        "y": b64(ys, "<f4"),
        "label": b64(labels, "u1"),
        "test": base64.b64encode(bits).decode(),
    }


def packed_net(sizes: list[int], value: float = 0.1) -> dict[str, Any]:
    count = sum(a * b + b for a, b in zip(sizes, sizes[1:], strict=False))
    return {"sizes": sizes, "f32": b64([value] * count, "<f4")}


PACKED = packed_points([0.5, -0.25], [-0.5, 0.75], [0, 1], [False, True])


def test_packed_requests_decode_and_validate() -> None:
    request = decode_request(
        {
            "type": "train_step",
            "data": PACKED,
            "network": packed_net([2, 4, 4, 2]),
            "packed": True,
            "snapshot_ms": 16,
        }
    )
    assert isinstance(request, protocol.TrainStep)
    assert isinstance(request.data, protocol.PackedPoints) and request.packed
    assert request.network is not None and request.network.sizes == [2, 4, 4, 2]


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"data": {**PACKED, "x": "not base64!"}}, "data.x", "base64"),
        ({"data": {**PACKED, "x": b64([0.5], "<f4")}}, "data.x", "must hold 2 values"),
        ({"data": {**PACKED, "y": b64([0.5, math.nan], "<f4")}}, "data.y", "finite"),
        ({"data": {**PACKED, "x": b64([0.5, 1e4], "<f4")}}, "data.x", "[-1000, 1000]"),
        ({"data": {**PACKED, "label": b64([0, 2], "u1")}}, "data.label", "0..1"),
        ({"data": {**PACKED, "test": b64([1, 0], "u1")}}, "data.test", "1 bytes"),
        ({"data": {**PACKED, "test": b64([3], "u1")}}, "data", "training point"),
        ({"data": {**PACKED, "count": 10001}}, "data.count", "10000"),
        ({"network": packed_net([2, 4, 3, 2])}, "network.sizes", "[2, 4, 4, 2]"),
        (
            {"network": {**packed_net([2, 4, 4, 2]), "f32": b64([0.1] * 5, "<f4")}},
            "network.f32",
            "must hold 42 values",
        ),
        ({"network": {"sizes": [2, 4, 4, 2]}}, "network.f32", "is required"),
        ({"network": {**packed_net([2, 4, 4, 2]), **net([2, 4, 4, 2])}}, "network", "not both"),
        ({"network": {}}, "network.weights", "is required"),
        (
            {
                "network": packed_net([2, 4, 4, 2]),
                "optimizer_state": {
                    "optimizer": "adam",
                    "buffers": {"exp_avg_sq": packed_net([2, 4, 4, 2], -0.5)},
                },
            },
            "optimizer_state.buffers.exp_avg_sq.f32",
            ">= 0",
        ),
        (
            {
                "network": packed_net([2, 4, 4, 2]),
                "optimizer_state": {
                    "optimizer": "adam",
                    "buffers": {"exp_avg": packed_net([2, 4, 2])},
                },
            },
            "optimizer_state.buffers.exp_avg.sizes",
            "[2, 4, 4, 2]",
        ),
    ],
)
def test_packed_form_errors_name_the_field(change: dict[str, Any], field: str, words: str) -> None:
    error = error_of({"type": "train_step", "data": PACKED, **change})
    assert (error.code, error.field) == ("invalid", field), error.message
    assert words in error.message


def test_a_packed_network_may_adapt_its_output_layer_and_chains_for_init_network() -> None:
    request = decode_request(
        {"type": "train_step", "data": PACKED, "network": packed_net([2, 4, 4, 3])}
    )
    assert isinstance(request, protocol.TrainStep)
    error = error_of(
        {"type": "init_network", "network": packed_net([3, 4, 2]), "previous_features": ["x"]}
    )
    assert error.field == "network.sizes"


def test_the_protocol_imports_nothing_above_it() -> None:
    """protocol is below the dispatcher: importing it loads no dispatcher, engine, host or torch."""
    above = ["nnvisu.dispatch", "nnvisu.engine", "nnvisu.widget", "nnvisu.server",
             "nnvisu.training", "torch", "anywidget", "tornado"]  # fmt: skip
    code = (
        "import sys, json; import nnvisu.protocol, nnvisu.protocol.arrays; "
        f"print(json.dumps([m for m in {above!r} if m in sys.modules]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []
