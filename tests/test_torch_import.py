"""NNVisu.from_torch: a Sequential MLP comes into the playground exactly, or is refused clearly."""

from __future__ import annotations

from typing import Any

import comm
import numpy as np
import pandas as pd
import pytest
import torch
from comm.base_comm import BaseComm
from torch import nn

from nnvisu import NNVisu
from nnvisu.export import Features, Sine


class SilentComm(BaseComm):
    def publish_msg(self, *args: Any, **kwargs: Any) -> None:
        pass


@pytest.fixture(autouse=True)
def no_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(comm, "create_comm", SilentComm)


@pytest.mark.parametrize(
    "config",
    [
        {"activation": "tanh", "hidden_layers": [8, 8]},
        {"activation": "relu", "hidden_layers": [5], "problem": "regression"},
        {"activation": "gelu", "hidden_layers": [6, 4, 3], "dropout": 0.3},
        {"activation": "sine", "hidden_layers": [], "features": ["x", "y", "xy", "sinx"]},
        {"activation": "sine", "hidden_layers": [5, 5], "features": ["y", "x2"]},
        {"activation": "leaky_relu", "hidden_layers": [7]},
        {"activation": "elu", "hidden_layers": [4, 4]},
        {"activation": "silu", "hidden_layers": [3]},
        {"activation": "sigmoid", "hidden_layers": [3]},
        {"activation": "linear", "hidden_layers": [2, 2]},
    ],
)
def test_round_trip_is_bit_for_bit(config: dict[str, Any]) -> None:
    dataset = "plane" if config.get("problem") == "regression" else "spiral"
    w = NNVisu(dataset, n=80, seed=3, **config)
    w.train(steps=15, wait=True, progress=False)
    back = NNVisu.from_torch(w.to_torch())
    assert back.network == w.network  # the very same float32 values
    for key in ("features", "hidden_layers", "dropout", "problem"):
        assert back.config[key] == w.config[key], key
    if w.config["hidden_layers"]:  # a network without hidden layers has no activation to read
        assert back.config["activation"] == w.config["activation"]
    grid = torch.rand(50, 2) * 2 - 1
    assert torch.equal(back.to_torch()(grid), w.to_torch()(grid))


def test_a_plain_mlp_comes_in_exactly_and_trains() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(),
                          nn.Linear(16, 3))  # fmt: skip
    X = torch.rand(90, 2) * 2 - 1
    y = torch.arange(90) % 3
    w = NNVisu.from_torch(model, X, y, learning_rate=0.01, optimizer="sgd")
    assert w.config["num_classes"] == 3 and w.config["hidden_layers"] == [16, 16]
    assert w.config["learning_rate"] == 0.01 and w.config["features"] == ["x", "y"]
    assert len(w.data) == 90 and w.data[5]["label"] == 5 % 3
    with torch.no_grad():
        assert torch.equal(w.to_torch()(X), model(X))
    assert w.network["weights"][0] == model[0].weight.tolist()
    before = w.metrics["train_loss"]
    w.train(steps=50, wait=True, progress=False)
    assert w.metrics["train_loss"] < before
    with torch.no_grad():  # the user's model is a copy's source, never changed
        assert not torch.equal(w.to_torch()[1].weight, model[0].weight)


def test_points_from_numpy_and_pandas_and_regression() -> None:
    model = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1))
    X = np.array([[0.1, 0.2], [0.3, -0.4], [-0.5, 0.6]])
    w = NNVisu.from_torch(model, X, np.array([0.5, -0.5, 1.0]))
    assert w.config["problem"] == "regression" and [p["label"] for p in w.data] == [0.5, -0.5, 1.0]
    frame = pd.DataFrame({"x": [0.0, 0.5], "y": [0.1, 0.2], "label": [0, 1]})
    classifier = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 2))
    w = NNVisu.from_torch(classifier, frame)
    assert [(p["x"], p["label"]) for p in w.data] == [(0.0, 0), (0.5, 1)]


def test_seven_inputs_are_every_feature_and_features_names_others() -> None:
    w = NNVisu.from_torch(nn.Sequential(nn.Linear(7, 3), nn.ReLU(), nn.Linear(3, 2)))
    assert w.config["features"] == ["x", "y", "x2", "y2", "xy", "sinx", "siny"]
    model = nn.Sequential(nn.Linear(3, 2), nn.Sigmoid(), nn.Linear(2, 2))
    w = NNVisu.from_torch(model, features=["x", "y", "xy"])
    assert w.config["features"] == ["x", "y", "xy"]
    w = NNVisu.from_torch(nn.Sequential(Features(["x2", "y2"]), nn.Linear(2, 2)))
    assert w.config["features"] == ["x2", "y2"] and w.config["hidden_layers"] == []


def test_a_linear_layer_without_bias_comes_in_with_zero_biases() -> None:
    model = nn.Sequential(nn.Linear(2, 3, bias=False), Sine(), nn.Linear(3, 2))
    w = NNVisu.from_torch(model)
    assert w.network["biases"][0] == [0.0, 0.0, 0.0] and w.config["activation"] == "sine"


SUPPORTED = "supported: nn.Linear"


@pytest.mark.parametrize(
    ("model", "match"),
    [
        (nn.Linear(2, 2), "nn.Sequential MLP, got Linear.*nnvisu.watch"),
        ("not a model", "nn.Sequential MLP, got str"),
        (nn.Sequential(), "no nn.Linear layer"),
        (
            nn.Sequential(nn.Linear(2, 4), nn.BatchNorm1d(4), nn.Linear(4, 2)),
            r"layer 1 \(BatchNorm1d.*no playground equivalent",
        ),
        (
            nn.Sequential(nn.Linear(2, 4), nn.Softplus(), nn.Linear(4, 2)),
            r"layer 1 \(Softplus.*no playground equivalent",
        ),
        (
            nn.Sequential(nn.Linear(2, 4), nn.LeakyReLU(0.2), nn.Linear(4, 2)),
            r"layer 1 \(LeakyReLU\(negative_slope=0.2\)\)",
        ),
        (
            nn.Sequential(nn.Linear(2, 4), nn.GELU(approximate="tanh"), nn.Linear(4, 2)),
            r"layer 1 \(GELU",
        ),
        (
            nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 4), nn.Tanh(), nn.Linear(4, 2)),
            r"layer 3 \(Tanh\(\)\): its activation 'tanh' differs from the earlier layers' 'relu'",
        ),
        (
            nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 4), nn.Linear(4, 2)),
            r"layer 3 \(Linear.*activation 'linear' differs",
        ),
        (
            nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.ReLU(), nn.Linear(4, 2)),
            r"layer 2 \(ReLU\(\)\): one activation between two Linear layers",
        ),
        (
            nn.Sequential(nn.Linear(2, 4), nn.Dropout(0.1), nn.ReLU(), nn.Linear(4, 2)),
            r"layer 2 \(ReLU\(\)\): the activation must come before Dropout",
        ),
        (
            nn.Sequential(
                nn.Linear(2, 4),
                nn.ReLU(),
                nn.Dropout(0.1),
                nn.Linear(4, 4),
                nn.ReLU(),
                nn.Dropout(0.2),
                nn.Linear(4, 2),
            ),
            r"layer 5 \(Dropout.*dropout 0.2 differs from the earlier layers' 0.1",
        ),
        (
            nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Dropout(0.95), nn.Linear(4, 2)),
            r"layer 2 \(Dropout.*out of range \[0, 0.9\]",
        ),
        (nn.Sequential(nn.ReLU(), nn.Linear(2, 2)), r"layer 0 \(ReLU\(\)\): the first layer must"),
        (
            nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 2), nn.Softmax(dim=1)),
            r"layer 3 \(Softmax.*the last layer must be nn.Linear",
        ),
        (
            nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(5, 2)),
            r"layer 2 \(Linear.*takes 5 inputs but the layer before gives 4",
        ),
        (
            nn.Sequential(nn.Linear(2, 65), nn.ReLU(), nn.Linear(65, 2)),
            r"layer 0 \(Linear.*at most 64 neurons",
        ),
        (
            nn.Sequential(
                *[m for _ in range(9) for m in (nn.Linear(2, 2), nn.ReLU())], nn.Linear(2, 2)
            ),
            r"layer 18 \(Linear.*at most 8 hidden layers, got 9",
        ),
        (
            nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 9)),
            r"layer 2 \(Linear.*1 value \(regression\) or 2 to 8 class logits, got 9",
        ),
        (
            nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)),
            r"layer 0 \(Linear.*takes 3 inputs, which matches no feature set",
        ),
        (
            nn.Sequential(nn.Linear(2, 4), Features(["x", "y"]), nn.Linear(4, 2)),
            r"layer 1 \(Features.*Features may only come first",
        ),
    ],
)
def test_unsupported_models_are_refused_naming_the_layer(model: Any, match: str) -> None:
    with pytest.raises(ValueError, match=match) as error:
        NNVisu.from_torch(model)
    assert SUPPORTED in str(error.value)


def test_non_finite_weights_are_refused() -> None:
    model = nn.Sequential(nn.Linear(2, 2))
    with torch.no_grad():
        model[0].weight[0, 0] = float("nan")
    with pytest.raises(ValueError, match=r"layer 0 \(Linear.*non-finite weights"):
        NNVisu.from_torch(model)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"hidden": [1]}, TypeError, "unexpected keyword argument.*hidden"),
        ({"activation": "relu"}, ValueError, "activation='relu' contradicts the model.*'tanh'"),
        ({"hidden_layers": [3]}, ValueError, "hidden_layers=\\[3\\] contradicts"),
        ({"num_classes": 3}, ValueError, "num_classes=3 contradicts the model"),
        ({"features": ["x", "y", "xy"]}, ValueError, "takes 2 inputs but features= names 3"),
        ({"features": ["x", "z"]}, ValueError, r"unknown feature\(s\) \['z'\]"),
        ({"learning_rate": -1.0}, ValueError, "learning_rate"),
    ],
)
def test_config_that_contradicts_the_model(kwargs: dict[str, Any], error: type, match: str) -> None:
    model = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 2))
    with pytest.raises(error, match=match):
        NNVisu.from_torch(model, **kwargs)


def test_labels_that_do_not_fit_the_outputs() -> None:
    model = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 2))
    X = np.zeros((3, 2))
    with pytest.raises(ValueError, match="labels y need 3 classes, but the model outputs 2"):
        NNVisu.from_torch(model, X, np.array([0, 1, 2]))
    with pytest.raises(ValueError, match="need float targets .regression."):
        NNVisu.from_torch(model, X, np.array([0.5, 1.0, 0.0]))
    with pytest.raises(ValueError, match=r"must have shape \(n, 2\)"):
        NNVisu.from_torch(model, np.zeros((3, 3)), np.array([0, 1, 0]))
