"""What watching costs a user's training loop: the same loop with and without ``nnvisu.watch``.

A 3×64 ReLU MLP on 1,000 spiral points, Adam, full batch, 2,000 steps; the watched loop
calls ``view.update(loss=loss)`` after every step. The view's messages go through a comm
that serialises them as a kernel would (JSON plus binary buffers) and counts the bytes.
Runs alternate (plain, watched, plain, ...) so both see the same machine; prints JSON with
the best and median of each, their ratio (the target: watched >= 0.9 x plain) and the share
of the watched loop's time spent inside ``update()``.

    python benchmarks/watch.py [--steps 2000] [--repeats 5] [--quick]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import Any

import comm
import torch
import torch.nn.functional as F
from comm.base_comm import BaseComm
from torch import nn

import nnvisu
from nnvisu import datasets


class CountingComm(BaseComm):
    """Serialises what it would send, as ipykernel does, and counts messages and bytes."""

    messages = 0
    bytes = 0

    def publish_msg(self, msg_type: str, data: Any = None, metadata: Any = None,
                    buffers: Any = None, **keys: Any) -> None:  # fmt: skip
        CountingComm.messages += 1
        CountingComm.bytes += len(json.dumps(data)) + sum(len(b) for b in buffers or [])


def model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(),
        nn.Linear(64, 2),
    )  # fmt: skip


def run(steps: int, watched: bool, x: torch.Tensor, y: torch.Tensor) -> dict[str, float]:
    net = model()
    opt = torch.optim.Adam(net.parameters(), lr=0.01)
    view = nnvisu.watch(net, x, y) if watched else None
    in_update = 0.0
    started = time.perf_counter()
    for _ in range(steps):
        opt.zero_grad()
        loss = F.cross_entropy(net(x), y)
        loss.backward()
        opt.step()
        if view is not None:
            before = time.perf_counter()
            view.update(loss=loss)
            in_update += time.perf_counter() - before
    seconds = time.perf_counter() - started
    result = {"seconds": seconds, "steps_per_s": steps / seconds}
    if view is not None:
        result["evaluations"] = len(view.history)
        result["update_share"] = in_update / seconds
        view.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="200 steps, 1 repeat (smoke test)")
    args = parser.parse_args()
    steps, repeats = (200, 1) if args.quick else (args.steps, args.repeats)
    comm.create_comm = CountingComm
    torch.set_num_threads(1)  # one core, as on a shared machine; the ratio is what matters
    X, labels = datasets.generate("spiral", n=1000, noise=0.1, seed=0)
    x, y = torch.tensor(X, dtype=torch.float32), torch.tensor(labels)
    run(50, True, x, y)  # warm-up: imports, first allocations
    plain, watched = [], []
    CountingComm.messages = CountingComm.bytes = 0
    for _ in range(repeats):
        plain.append(run(steps, False, x, y))
        watched.append(run(steps, True, x, y))
    best = {
        "plain": max(r["steps_per_s"] for r in plain),
        "watched": max(r["steps_per_s"] for r in watched),
    }
    median = {
        "plain": statistics.median(r["steps_per_s"] for r in plain),
        "watched": statistics.median(r["steps_per_s"] for r in watched),
    }
    out = {
        "case": "3x64 ReLU MLP, 1000 spiral points, Adam, full batch, update() every step",
        "steps": steps,
        "repeats": repeats,
        "torch_threads": torch.get_num_threads(),
        "plain_steps_per_s": {"best": round(best["plain"], 1), "median": round(median["plain"], 1)},
        "watched_steps_per_s": {
            "best": round(best["watched"], 1),
            "median": round(median["watched"], 1),
        },
        "ratio_best": round(best["watched"] / best["plain"], 3),
        "ratio_median": round(median["watched"] / median["plain"], 3),
        "evaluations_per_run": statistics.median(r["evaluations"] for r in watched),
        # The share of the watched loop's time spent inside update(): what watching costs,
        # measured inside one run and so less exposed to a busy machine than the ratios.
        "update_share_median": round(statistics.median(r["update_share"] for r in watched), 4),
        "bytes_sent_per_run": CountingComm.bytes // repeats,
        "messages_per_run": CountingComm.messages // repeats,
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
