"""Steps per second: a plain stateful torch loop vs. the stateless protocol loop. Prints JSON.

(a) ``plain``: what a user would write: nn.Sequential, torch.optim, autograd, features and
    the epoch's shuffled copy precomputed, no .item() per step.
(b) ``protocol``: driven as a client drives it: a JSON request (data, network, optimizer
    state, config) is encoded, answered by ``nnvisu.dispatch.handle_json`` and decoded, and
    the reply's state is fed into the next request.
(c) ``engine``: ``nnvisu.engine.train`` called once in-process (the protocol's inner loop),
    with the steps compiled by TorchScript (the default) and in eager PyTorch
    (``NNVISU_ENGINE=eager``): ``eager_over_torchscript`` is what losing TorchScript costs.

Each is measured in short alternating rounds and the best round is kept, which filters out
other processes on a shared machine. Run: ``python benchmarks/engine.py [--quick]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec
import plain_torch  # benchmarks/plain_torch.py
import torch
from torch import nn

from nnvisu import datasets, engine
from nnvisu.dispatch import handle_json

ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {"tanh": nn.Tanh, "relu": nn.ReLU}


@dataclass
class Case:
    name: str
    dataset: str
    n: int
    classes: int
    hidden: list[int]
    activation: str = "tanh"
    optimizer: str = "sgd"
    learning_rate: float = 0.03
    batch_size: int | None = None
    data: list[dict[str, Any]] = field(default_factory=list)

    @property
    def config(self) -> dict[str, Any]:
        return {
            "num_classes": self.classes, "hidden_layers": self.hidden,
            "activation": self.activation, "optimizer": self.optimizer,
            "learning_rate": self.learning_rate, "batch_size": self.batch_size,
        }  # fmt: skip


CASES = [
    Case("tfp_2-4-2_tanh_circle500_batch10", "circle", 500, 2, [4, 2], batch_size=10),
    Case("relu_6x8_circle500_batch10", "circle", 500, 2, [8] * 6, "relu", batch_size=10),
    Case("adam_10-5_moons200_fullbatch", "moons", 200, 2, [10, 5], optimizer="adam"),
    Case("sgd_16-16_blobs1000x3_fullbatch", "blobs", 1000, 3, [16, 16]),
]


def plain_loop(case: Case, network: dict[str, Any]) -> Callable[[int], None]:
    """A stateful torch training loop on the training points; returns run(steps)."""
    train = [p for p in case.data if not p["test"]]
    x = torch.tensor([[p["x"], p["y"]] for p in train], dtype=torch.float32)
    y = torch.tensor([p["label"] for p in train])
    layers: list[nn.Module] = []
    for w, b in zip(network["weights"], network["biases"], strict=True):
        linear = nn.Linear(len(w[0]), len(w))
        with torch.no_grad():
            linear.weight.copy_(torch.tensor(w))
            linear.bias.copy_(torch.tensor(b))
        layers += [linear, ACTIVATIONS[case.activation]()]
    model = nn.Sequential(*layers[:-1])
    opt_class = torch.optim.Adam if case.optimizer == "adam" else torch.optim.SGD
    opt = opt_class(model.parameters(), lr=case.learning_rate)
    return plain_torch.training_loop(model, opt, x, y, case.batch_size)


def protocol_loop(case: Case, k: int, network: dict[str, Any]) -> Callable[[int], int]:
    """A client: JSON request in, JSON reply out, state fed back; returns run(min_steps)."""
    encoder, decoder = msgspec.json.Encoder(), msgspec.json.Decoder()
    state: dict[str, Any] = {"network": network, "optimizer_state": None}

    def run(min_steps: int) -> int:
        done = 0
        while done < min_steps:
            request = {"type": "train_step", "id": done, "config": {**case.config, "steps": k},
                       "data": case.data, "network": state["network"]}  # fmt: skip
            if state["optimizer_state"] is not None:
                request["optimizer_state"] = state["optimizer_state"]
            reply = decoder.decode(handle_json(encoder.encode(request)))
            assert reply["type"] == "train_step_result", reply
            state["network"], state["optimizer_state"] = reply["network"], reply["optimizer_state"]
            done += reply["steps"]
        return done

    return run


def engine_loop(case: Case, network: dict[str, Any]) -> Callable[[int], None]:
    """``engine.train`` in-process (with the steps of the engine NNVISU_ENGINE names)."""
    spec = engine.NetSpec(("x", "y"), tuple(case.hidden), case.activation, case.classes)
    net = engine.Network.from_lists(network["weights"], network["biases"])
    rows = torch.tensor([(p["x"], p["y"], p["label"], p["test"]) for p in case.data])
    data = engine.Data(rows[:, :2].float(), rows[:, 2].long(), rows[:, 3].bool())
    opts = engine.TrainOptions(optimizer=case.optimizer, learning_rate=case.learning_rate,
                               batch_size=case.batch_size)  # fmt: skip

    def run(steps: int) -> None:
        engine.train(spec, opts.__class__(**{**vars(opts), "steps": steps}), net,
                     engine.OptimizerState(case.optimizer), data)  # fmt: skip

    return run


def rate(run: Callable[[int], Any], chunk: int, seconds: float) -> float:
    """Steps per second of ``run(chunk)`` repeated for about ``seconds``."""
    run(min(chunk, 10))  # warm up
    steps, started = 0, time.perf_counter()
    while True:
        done = run(chunk)
        steps += done if isinstance(done, int) else chunk
        elapsed = time.perf_counter() - started
        if elapsed >= seconds:
            return steps / elapsed


def bench_case(case: Case, ks: list[int], rounds: int, seconds: float) -> dict[str, Any]:
    xs, ys = datasets.generate(case.dataset, case.n, 0.1, case.classes, 0)
    case.data = datasets.to_points(xs, ys, 0.5, 0)
    init = json.loads(handle_json(json.dumps({"type": "init_network", "config": case.config})))
    network = init["network"]
    plain, core = plain_loop(case, network), engine_loop(case, network)
    best: dict[str, float] = {}
    for _ in range(rounds):  # alternate, keep each one's best round
        for key, run, chunk in [
            ("plain", plain, 200),
            ("engine", core, 1000),
            ("eager", core, 1000),
        ] + [(f"k{k}", protocol_loop(case, k, network), k) for k in ks]:
            # engine.train reads NNVISU_ENGINE at each call: eager for "eager" only.
            os.environ["NNVISU_ENGINE"] = "eager" if key == "eager" else "torchscript"
            best[key] = max(best.get(key, 0.0), rate(run, chunk, seconds))
    plain = best["plain"]
    return {
        "case": case.name,
        "train_points": sum(not p["test"] for p in case.data),
        "plain_torch_steps_per_s": round(plain),
        "engine_in_process_steps_per_s": round(best["engine"]),
        "engine_eager_steps_per_s": round(best["eager"]),
        "eager_over_torchscript": round(best["eager"] / best["engine"], 2),
        "protocol_steps_per_s": {str(k): round(best[f"k{k}"]) for k in ks},
        "protocol_over_plain": {str(k): round(best[f"k{k}"] / plain, 2) for k in ks},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one short round (smoke test)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    ks = [1, 10, 100, 1000]
    rounds, seconds = (1, 0.2) if args.quick else (3, 0.4)
    started = time.perf_counter()
    results = [bench_case(case, ks, rounds, seconds) for case in CASES]
    header = {
        "benchmark": "engine", "torch": torch.__version__, "python": platform.python_version(),
        "torch_threads": torch.get_num_threads(), "keys_are": "steps per request",
        "seconds": round(time.perf_counter() - started, 1),
        "engines": "engine_in_process: TorchScript; engine_eager: NNVISU_ENGINE=eager",
    }  # fmt: skip
    lines = [json.dumps(case) for case in results]  # one line per case: easy to diff
    print(json.dumps(header)[:-1] + ', "cases": [\n  ' + ",\n  ".join(lines) + "\n]}")


if __name__ == "__main__":
    main()
