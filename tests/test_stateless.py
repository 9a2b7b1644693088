"""Exact statelessness: N requests of k steps == one request of N·k steps == a stateful torch loop.

The reference loop below is written independently of the engine from docs/protocol.md: torch
modules (each activation's row's torch.nn module, not its hand-written backward), torch.optim,
autograd, and the documented counter-based RNG rule for minibatches and dropout. Requests go
through handle_message with a JSON round trip through the real encoder.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import Tensor, nn

from nnvisu import engine, handle_message, protocol

torch.set_num_threads(1)
#: Every test here runs under both engines, TorchScript and eager (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("both_engines")

M64 = (1 << 64) - 1


def splitmix64(z: int) -> int:
    z = (z + 0x9E3779B97F4A7C15) & M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def rng(seed: int, stream: int, counter: int) -> torch.Generator:
    """docs/protocol.md: stream 1 = minibatch order per epoch, stream 2 = dropout per step."""
    key = splitmix64((seed << 8) | stream)
    return torch.Generator().manual_seed(splitmix64((key + counter) & M64))


#: Each activation's torch.nn module (its row's: what to_torch() uses), run under autograd.
ACTIVATIONS = {name: row.module for name, row in engine.ACTIVATIONS.items()}


FEATURES = {
    "x": lambda x, y: x,
    "y": lambda x, y: y,
    "x2": lambda x, y: x * x,
    "y2": lambda x, y: y * y,
    "xy": lambda x, y: x * y,
    "sinx": lambda x, y: torch.sin(x),
    "siny": lambda x, y: torch.sin(y),
}


class ReferenceLoop:
    """A plain stateful torch training loop: modules, torch.optim, autograd."""

    def __init__(self, config: dict[str, Any], network: dict[str, Any], data: list[dict]) -> None:
        self.config = config
        act = config.get("activation", "tanh")
        self.linears = nn.ModuleList()
        self.acts: list[nn.Module] = []
        for w, b in zip(network["weights"], network["biases"], strict=True):
            layer = nn.Linear(len(w[0]), len(w))
            with torch.no_grad():
                layer.weight.copy_(torch.tensor(w))
                layer.bias.copy_(torch.tensor(b))
            self.linears.append(layer)
            self.acts.append(ACTIVATIONS[act]())
        train = [p for p in data if not p.get("test", False)]
        xy = torch.tensor([[p["x"], p["y"]] for p in train], dtype=torch.float32)
        self.x = torch.stack(
            [FEATURES[f](xy[:, 0], xy[:, 1]) for f in config.get("features", ["x", "y"])], 1
        )
        self.regression = config.get("problem") == "regression"
        labels = [p["label"] for p in train]
        self.y = torch.tensor(labels, dtype=torch.float32 if self.regression else torch.long)
        self.global_step = 0
        self.opt = self.make_optimizer(config)

    def make_optimizer(self, c: dict[str, Any]) -> torch.optim.Optimizer:
        params = [p for layer in self.linears for p in (layer.weight, layer.bias)]
        lr, name = c["learning_rate"], c.get("optimizer", "sgd")
        betas = (c.get("beta1", 0.9), c.get("beta2", 0.999))
        if name == "sgd":
            return torch.optim.SGD(params, lr=lr, momentum=c.get("momentum", 0.0))
        if name == "adam":
            return torch.optim.Adam(params, lr=lr, betas=betas, eps=c.get("eps", 1e-8))
        if name == "adamw":
            return torch.optim.AdamW(
                params,
                lr=lr,
                betas=betas,
                eps=c.get("eps", 1e-8),
                weight_decay=c.get("weight_decay", 0.01),
            )
        return torch.optim.RMSprop(
            params,
            lr=lr,
            alpha=c.get("alpha", 0.99),
            eps=c.get("eps", 1e-8),
            momentum=c.get("momentum", 0.0),
        )

    def set_hyperparameters(self, **values: float) -> None:
        for group in self.opt.param_groups:
            group.update(values)

    def batch(self) -> tuple[Tensor, Tensor]:
        n, size = len(self.x), self.config.get("batch_size") or len(self.x)
        if size >= n:
            return self.x, self.y
        per_epoch = math.ceil(n / size)
        epoch, k = divmod(self.global_step, per_epoch)
        order = torch.randperm(n, generator=rng(self.config.get("seed", 0), 1, epoch))
        idx = order[k * size : (k + 1) * size]
        return self.x[idx], self.y[idx]

    def step(self) -> None:
        x, y = self.batch()
        p = self.config.get("dropout", 0.0)
        gen = rng(self.config.get("seed", 0), 2, self.global_step)
        h = x
        for layer, act in zip(self.linears[:-1], self.acts, strict=False):
            h = act(layer(h))
            if p > 0:
                keep = torch.rand(h.shape, generator=gen) >= p
                h = h * (keep.float() * (1.0 / (1.0 - p)))
        out = self.linears[-1](h)
        loss = F.mse_loss(out[:, 0], y) if self.regression else F.cross_entropy(out, y)
        weights = [layer.weight for layer in self.linears]
        loss = loss + self.config.get("l1", 0.0) * sum(w.abs().sum() for w in weights)
        loss = loss + self.config.get("l2", 0.0) * 0.5 * sum((w * w).sum() for w in weights)
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        self.global_step += 1

    def weights(self) -> list[Tensor]:
        return [p.detach() for layer in self.linears for p in (layer.weight, layer.bias)]


def wire(message: dict[str, Any]) -> dict[str, Any]:
    """Through handle_message and back through JSON text, as a client sees the reply."""
    reply = handle_message(json.loads(protocol.encode(message)))
    decoded: dict[str, Any] = json.loads(protocol.encode(reply))
    assert decoded["type"] == "train_step_result", decoded
    return decoded


def tensors(network: dict[str, Any]) -> list[Tensor]:
    return [
        torch.tensor(t)
        for pair in zip(network["weights"], network["biases"], strict=True)
        for t in pair
    ]


def assert_close(a: list[Tensor], b: list[Tensor]) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        torch.testing.assert_close(x, y, rtol=0, atol=1e-5)


def points(n: int, classes: int, regression: bool, seed: int) -> list[dict[str, Any]]:
    gen = torch.Generator().manual_seed(seed)
    xy = (torch.rand(n, 2, generator=gen) * 2 - 1).tolist()
    out = []
    for i, (x, y) in enumerate(xy):
        label: float = math.sin(3 * x) * y if regression else (i * 7 + int(3 * x > y)) % classes
        out.append({"x": x, "y": y, "label": label, "test": i % 5 == 0})
    return out


configs = st.fixed_dictionaries(
    {
        "optimizer": st.sampled_from(list(engine.OPTIMIZERS)),
        "learning_rate": st.sampled_from([0.01, 0.05, 0.1]),
        "momentum": st.sampled_from([0.0, 0.5, 0.9]),
        "activation": st.sampled_from(list(engine.ACTIVATIONS)),
        "hidden_layers": st.lists(st.integers(1, 6), min_size=0, max_size=3),
        "features": st.sampled_from([["x", "y"], ["x", "y", "xy", "sinx"], ["y2", "x2", "siny"]]),
        "batch_size": st.sampled_from([None, 1, 3, 7, 100]),
        "dropout": st.sampled_from([0.0, 0.0, 0.3]),
        "l1": st.sampled_from([0.0, 0.001]),
        "l2": st.sampled_from([0.0, 0.01]),
        "seed": st.integers(0, 2**31 - 1),
        "problem": st.sampled_from(["classification", "classification", "regression"]),
        "num_classes": st.integers(2, 4),
    }
)


@pytest.mark.slow  # 40 examples of three runs each: the longest property of the suite
@settings(max_examples=40, deadline=None)
@given(config=configs, chunks=st.integers(1, 4), k=st.integers(1, 5))
def test_chunked_requests_equal_one_request_and_a_stateful_torch_loop(
    config: dict[str, Any], chunks: int, k: int
) -> None:
    data = points(23, config["num_classes"], config["problem"] == "regression", config["seed"])
    init = handle_message({"type": "init_network", "config": config})
    assert init["type"] == "network"
    network, state = init["network"], init["optimizer_state"]
    for _ in range(chunks):
        reply = wire(
            {
                "type": "train_step",
                "config": {**config, "steps": k},
                "data": data,
                "network": network,
                "optimizer_state": state,
            }
        )
        network, state = reply["network"], reply["optimizer_state"]
    assert state["global_step"] == chunks * k
    one = wire(
        {
            "type": "train_step",
            "config": {**config, "steps": chunks * k},
            "data": data,
            "network": init["network"],
        }
    )
    assert_close(tensors(network), tensors(one["network"]))
    assert_close_states(one["optimizer_state"], state)

    loop = ReferenceLoop(config, init["network"], data)
    for _ in range(chunks * k):
        loop.step()
    assert_close(tensors(network), loop.weights())


def assert_close_states(a: dict[str, Any], b: dict[str, Any]) -> None:
    assert {k: v for k, v in a.items() if k != "buffers"} == {
        k: v for k, v in b.items() if k != "buffers"
    }
    assert a["buffers"].keys() == b["buffers"].keys()
    for name in a["buffers"]:
        assert_close(tensors(a["buffers"][name]), tensors(b["buffers"][name]))


def test_chunked_requests_are_bit_identical() -> None:
    config = {
        "optimizer": "adam",
        "batch_size": 5,
        "dropout": 0.2,
        "hidden_layers": [6, 5],
        "activation": "gelu",
        "l2": 0.01,
        "seed": 11,
    }
    data = points(40, 2, False, 1)
    network, state = None, None
    for _ in range(6):
        message: dict[str, Any] = {
            "type": "train_step",
            "config": {**config, "steps": 7},
            "data": data,
        }
        if network is not None:
            message |= {"network": network, "optimizer_state": state}
        reply = wire(message)
        network, state = reply["network"], reply["optimizer_state"]
    one = wire({"type": "train_step", "config": {**config, "steps": 42}, "data": data})
    assert network == one["network"]
    assert state == one["optimizer_state"]


def test_changing_hyperparameters_resets_nothing() -> None:
    base = {
        "optimizer": "rmsprop",
        "momentum": 0.5,
        "batch_size": 4,
        "seed": 3,
        "learning_rate": 0.02,
    }
    data = points(30, 2, False, 2)
    first = wire({"type": "train_step", "config": {**base, "steps": 9}, "data": data})
    changed = {**base, "learning_rate": 0.005, "alpha": 0.9, "momentum": 0.8, "eps": 1e-6}
    second = wire(
        {
            "type": "train_step",
            "config": {**changed, "steps": 8},
            "data": data,
            "network": first["network"],
            "optimizer_state": first["optimizer_state"],
        }
    )
    assert second["optimizer_state"]["step"] == 17
    assert second["global_step"] == 17

    init = handle_message({"type": "init_network", "config": base})
    loop = ReferenceLoop(base, init["network"], data)
    for _ in range(9):
        loop.step()
    loop.set_hyperparameters(lr=0.005, alpha=0.9, momentum=0.8, eps=1e-6)
    for _ in range(8):
        loop.step()
    assert_close(tensors(second["network"]), loop.weights())


def test_switching_optimizer_restarts_buffers_but_not_the_rng_position() -> None:
    data = points(30, 2, False, 2)
    config = {"optimizer": "adam", "batch_size": 4, "seed": 8}
    first = wire({"type": "train_step", "config": {**config, "steps": 5}, "data": data})
    sgd = {**config, "optimizer": "sgd", "momentum": 0.9, "steps": 6}
    second = wire(
        {
            "type": "train_step",
            "config": sgd,
            "data": data,
            "network": first["network"],
            "optimizer_state": first["optimizer_state"],
        }
    )
    state = second["optimizer_state"]
    assert state["optimizer"] == "sgd" and state["step"] == 6 and state["global_step"] == 11
    assert list(state["buffers"]) == ["momentum_buffer"]
    # Equivalent to a fresh SGD started on the first reply's network at global step 5.
    loop = ReferenceLoop({**sgd, "learning_rate": 0.03}, first["network"], data)
    loop.global_step = 5
    for _ in range(6):
        loop.step()
    assert_close(tensors(second["network"]), loop.weights())


@pytest.mark.parametrize("optimizer", ["sgd", "adam", "adamw", "rmsprop"])
def test_every_optimizer_with_minibatches_dropout_and_penalties_is_a_torch_optim_loop(
    optimizer: str,
) -> None:
    """Bit for bit, in fact: the gradient is autograd's and the updates are torch.optim's.

    That is what keeps RMSprop and Adam within tolerance: their normalised steps amplify
    last-bit differences of near-zero gradients.
    """
    config = {
        "optimizer": optimizer,
        "momentum": 0.5,
        "batch_size": 4,
        "dropout": 0.25,
        "l1": 0.001,
        "l2": 0.01,
        "hidden_layers": [6, 5],
        "activation": "gelu",
        "features": ["x", "y", "xy"],
        "seed": 21,
        "learning_rate": 0.05,
    }
    data = points(30, 3, False, 5)
    config["num_classes"] = 3
    init = handle_message({"type": "init_network", "config": config})
    network, state = init["network"], init["optimizer_state"]
    for steps in (3, 1, 8, 4):
        reply = wire(
            {
                "type": "train_step",
                "config": {**config, "steps": steps},
                "data": data,
                "network": network,
                "optimizer_state": state,
            }
        )
        network, state = reply["network"], reply["optimizer_state"]
    loop = ReferenceLoop(config, init["network"], data)
    for _ in range(16):
        loop.step()
    assert all(torch.equal(a, b) for a, b in zip(tensors(network), loop.weights(), strict=True))
