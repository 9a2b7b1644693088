"""Two runs trained in lockstep for ``compare_step``: rounds of the same steps for each run.

Each round hands every run to the dispatcher as an ordinary ``train_step`` of exactly k steps,
fed with the state the previous round returned. The protocol guarantees that N requests of k
steps equal one request of N·k steps bit for bit, so each run ends exactly where a solo run of
its own setup would. Rounds grow while they are cheap and stay short enough for the time
budget and the snapshot interval to be kept between them.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import msgspec

from nnvisu import protocol as p
from nnvisu.engine import Deadline
from nnvisu.protocol import bounds
from nnvisu.protocol.arrays import params, state
from nnvisu.protocol.errors import in_run

TrainStepHandler = Callable[[p.TrainArrays, float], p.Reply]

#: The longest round (seconds): the time budget and the snapshots are checked between rounds.
_ROUND_S = 0.01


def compare_step(
    decoded: p.CompareArrays,
    started: float,
    train: TrainStepHandler,
    limit: Deadline | None = None,
) -> p.CompareStepResult:
    """Train both runs of a compare request by the same number of steps.

    Args:
        decoded: the decoded request (each run as a solo train_step).
        started: ``time.perf_counter()`` when it arrived (the budgets count from there).
        train: the dispatcher's handler, given one run's train_step.
        limit: when training must stop at the latest (it may move while this runs).

    Raises:
        ProtocolError: a run failed (e.g. diverged); the error names the run.
    """
    request = decoded.request
    budget_ms = p.MAX_REQUEST_MS if request.time_budget_ms is None else request.time_budget_ms
    budget_ms = min(budget_ms, p.MAX_REQUEST_MS)
    limit = Deadline() if limit is None else limit
    limit.cut(started + budget_ms / 1000)
    sizes = max((run.request.config.sizes for run in decoded.runs), key=bounds.num_params)
    if bounds.reply_bytes(sizes, request.packed, len(decoded.runs)) > p.MAX_MESSAGE_BYTES:
        raise p.ProtocolError("too_large", f"the reply of {len(decoded.runs)} networks of "
                              f"widths {list(sizes)} with their optimizer buffers may not fit "
                              f"in {p.MAX_MESSAGE_BYTES} bytes as JSON lists: send packed: "
                              "true", "packed")  # fmt: skip
    snapshot_s, most = bounds.snapshot_plan(request.snapshot_ms, budget_ms, sizes,
                                            request.packed, len(decoded.runs))  # fmt: skip
    reserve = bounds.build_seconds(sizes, request.packed, most, decoded.runs[0].data.xy.shape[0],
                                   len(decoded.runs))  # fmt: skip
    runs = list(decoded.runs)
    results: list[p.TrainStepResult] = []
    snapshots: list[list[p.Snapshot]] = [[] for _ in runs]
    adapted = [False for _ in runs]
    done, size, last_snapshot = 0, 1, started
    while True:
        round_started = time.perf_counter()
        results = [_round(run, index, size, train) for index, run in enumerate(runs)]
        adapted = [was or reply.adapted for was, reply in zip(adapted, results, strict=True)]
        runs = [_continued(run, reply) for run, reply in zip(runs, results, strict=True)]
        done += size
        now = time.perf_counter()
        deadline = limit.at - reserve
        if done >= request.steps or now >= deadline:
            break
        if (snapshot_s is not None and now - last_snapshot >= snapshot_s
                and len(snapshots[0]) < most):  # fmt: skip
            last_snapshot = now
            for index, reply in enumerate(results):
                snapshots[index].append(_snapshot(reply, now - started, request.packed))
        size = _next_size(size, now - round_started, deadline - now, request.steps - done,
                          snapshot_s)  # fmt: skip
    elapsed_ms = (time.perf_counter() - started) * 1000
    replies = [
        msgspec.structs.replace(
            _in_form(reply, request.packed),
            steps=done,
            elapsed_ms=elapsed_ms,
            adapted=adapted[index],
            snapshots=snapshots[index] if request.snapshot_ms is not None else None,
        )  # fmt: skip
        for index, reply in enumerate(results)
    ]
    return p.CompareStepResult(id=request.id, runs=replies, steps=done, elapsed_ms=elapsed_ms)


def _round(run: p.TrainArrays, index: int, size: int, train: TrainStepHandler) -> p.TrainStepResult:
    """Train one run exactly ``size`` steps (packed: the reply feeds the next round)."""
    config = msgspec.structs.replace(run.request.config, steps=size, time_budget_ms=None)
    request = msgspec.structs.replace(run.request, id=None, config=config, packed=True,
                                      snapshot_ms=None)  # fmt: skip
    reply = train(p.TrainArrays(request, run.network, run.state, run.data), time.perf_counter())
    if isinstance(reply, p.ErrorReply):
        raise in_run(p.ProtocolError(reply.code, reply.message, reply.field), index)
    assert isinstance(reply, p.TrainStepResult)
    if reply.steps != size:  # only a round over the hard time cap could be cut short
        raise RuntimeError(f"run {index} trained {reply.steps} of {size} steps")
    return reply


def _continued(run: p.TrainArrays, reply: p.TrainStepResult) -> p.TrainArrays:
    """``run`` from the state ``reply`` reached."""
    return p.TrainArrays(run.request, params(reply.network, "network"),
                         state(reply.optimizer_state), run.data)  # fmt: skip


def _next_size(
    size: int, took_s: float, left_s: float, steps_left: int, snapshot_s: float | None
) -> int:
    """Steps of the next round: double while cheap, within what is left of every bound."""
    target = min(left_s, _ROUND_S, _ROUND_S if snapshot_s is None else snapshot_s / 2)
    per_step = max(took_s / size, 1e-7)
    fits = max(1, int(target / per_step))
    return max(1, min(2 * size, fits, steps_left))


def _relisted(net: p.NetworkData) -> p.NetworkData:
    decoded = params(net, "network")
    return p.network_data(decoded.sizes, decoded.flat, False)


def _in_form(reply: p.TrainStepResult, packed_form: bool) -> p.TrainStepResult:
    """A round's (packed) reply in the form the compare request asked for."""
    if packed_form:
        return reply
    sizes = params(reply.network, "network").sizes
    opt = reply.optimizer_state
    buffers = {name: params(buf, "buffer").flat for name, buf in opt.buffers.items()}
    lists = p.state_data(opt.optimizer, opt.step, opt.global_step, buffers, sizes, False)
    return msgspec.structs.replace(reply, network=_relisted(reply.network), optimizer_state=lists)


def _snapshot(reply: p.TrainStepResult, at_s: float, packed_form: bool) -> p.Snapshot:
    return p.Snapshot(
        global_step=reply.global_step, epoch=reply.epoch, at_ms=round(at_s * 1000, 3),
        network=reply.network if packed_form else _relisted(reply.network),
        train_loss=reply.train_loss, test_loss=reply.test_loss,
        accuracy=reply.accuracy, test_accuracy=reply.test_accuracy,
    )  # fmt: skip
