"""The engine against torch: init, features, activations, hand-written backward, optimizers."""

from __future__ import annotations

import logging
import math
import re
import time

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from nnvisu import engine
from nnvisu.engine import Data, NetSpec, Network, OptimizerState, TrainOptions
from nnvisu.engine.network import layer_views, loss_and_grad
from nnvisu.engine.trainer import _Batches

torch.set_num_threads(1)
#: Every test here runs under both engines, TorchScript and eager (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("both_engines")

#: The reference of each activation: the torch.nn module of its row (what to_torch() uses),
#: a definition apart from the row's forward and hand-written backward.
TORCH_ACTIVATIONS = {name: row.module() for name, row in engine.ACTIVATIONS.items()}


def make_data(n: int = 40, classes: int = 2, regression: bool = False, seed: int = 0) -> Data:
    gen = torch.Generator().manual_seed(seed)
    xy = torch.rand(n, 2, generator=gen) * 2 - 1
    if regression:
        target = torch.sin(3 * xy[:, 0]) * xy[:, 1]
    else:
        target = ((xy[:, 0] * 3).floor().long() + (xy[:, 1] > 0).long()) % classes
    test = torch.zeros(n, dtype=torch.bool)
    test[::4] = True
    return Data(xy, target, test)


def test_init_is_torch_nn_linear_default_init() -> None:
    spec = NetSpec(features=("x", "y", "xy"), hidden_layers=(5, 3), outputs=4)
    net = engine.init_network(spec, seed=1234)
    torch.manual_seed(1234)  # nn.Linear draws weight then bias from the global generator
    layers = [nn.Linear(3, 5), nn.Linear(5, 3), nn.Linear(3, 4)]
    for layer, w, b in zip(layers, net.weights, net.biases, strict=True):
        assert torch.equal(layer.weight.detach(), w)
        assert torch.equal(layer.bias.detach(), b)


def test_init_depends_on_seed_only() -> None:
    spec = NetSpec()
    assert torch.equal(engine.init_network(spec, 7).flat, engine.init_network(spec, 7).flat)
    assert not torch.equal(engine.init_network(spec, 7).flat, engine.init_network(spec, 8).flat)


def test_flat_layout_weights_first_then_biases_and_views_share_memory() -> None:
    weights = [[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], [[7.0, 8.0, 9.0]]]
    biases = [[0.5, 0.25, -0.125], [4.0]]
    net = Network.from_lists(weights, biases)
    assert net.sizes == (2, 3, 1)
    assert net.flat.tolist() == [1, 2, 3, 4, 5, 6, 7, 8, 9, 0.5, 0.25, -0.125, 4]
    assert net.to_lists() == (weights, biases)
    net.weights[1][0, 2] = -1.0
    assert net.flat[8] == -1.0


def test_float32_values_round_trip_exactly_through_python_floats() -> None:
    net = engine.init_network(NetSpec(hidden_layers=(8,)), 3)
    again = Network.from_lists(*net.to_lists())
    assert torch.equal(again.flat, net.flat)


def test_features() -> None:
    xy = torch.tensor([[0.5, -0.25], [-1.0, 0.75]])
    got = engine.make_features(("siny", "x", "y2", "xy", "x2", "y", "sinx"), xy)
    x, y = xy[:, 0], xy[:, 1]
    want = torch.stack([torch.sin(y), x, y * y, x * y, x * x, y, torch.sin(x)], dim=1)
    assert torch.equal(got, want)


@pytest.mark.parametrize("name", list(engine.ACTIVATIONS))
def test_activation_forward_matches_torch(name: str) -> None:
    z = torch.linspace(-4, 4, 101)
    assert torch.allclose(engine.ACTIVATIONS[name].forward(z), TORCH_ACTIVATIONS[name](z))


def autograd_reference(
    act: str, net: Network, x: Tensor, target: Tensor, regression: bool, masks: list[Tensor] | None
) -> list[Tensor]:
    """The same loss through autograd: returns dLoss/dflat split per tensor."""
    params = [p.clone().requires_grad_() for p in net.weights + net.biases]
    n = len(net.weights)
    h = x
    for i in range(n - 1):
        h = TORCH_ACTIVATIONS[act](F.linear(h, params[i], params[n + i]))
        if masks is not None:
            h = h * masks[i]
    out = F.linear(h, params[n - 1], params[2 * n - 1])
    loss = F.mse_loss(out, target) if regression else F.cross_entropy(out, target)
    return list(torch.autograd.grad(loss, params))


@pytest.mark.parametrize("regression", [False, True])
@pytest.mark.parametrize("dropout", [False, True])
@pytest.mark.parametrize("act", list(engine.ACTIVATIONS))
def test_hand_written_backward_matches_autograd(act: str, dropout: bool, regression: bool) -> None:
    spec = NetSpec(
        hidden_layers=(5, 3), activation=act, outputs=1 if regression else 3, regression=regression
    )
    net = engine.init_network(spec, 5)
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(17, 2, generator=gen)
    labels = torch.randint(0, 3, (17,), generator=gen)
    values = torch.randn(17, 1, generator=gen)
    masks = engine.dropout_masks(0, 3, 17, spec.hidden_layers, 0.4) if dropout else None
    grad = torch.zeros_like(net.flat)
    gw, gb = layer_views(grad, net.sizes)
    target = values if regression else labels
    loss_and_grad(
        engine.ACTIVATIONS[act], net.weights, net.biases, gw, gb, x, target, regression, masks
    )
    want = autograd_reference(act, net, x, values if regression else labels, regression, masks)
    for got, ref in zip(gw + gb, want, strict=True):
        assert torch.equal(got, ref)  # bit for bit: the same kernels in the same order


@pytest.mark.parametrize(("l1", "l2"), [(0.001, 0.0), (0.0, 0.01), (0.3, 0.7)])
def test_penalty_gradient_is_autograds_bit_for_bit(l1: float, l2: float) -> None:
    spec = NetSpec(hidden_layers=(5, 3), outputs=3)
    net = engine.init_network(spec, 4)
    gen = torch.Generator().manual_seed(1)
    x, labels = torch.randn(10, 2, generator=gen), torch.randint(0, 3, (10,), generator=gen)
    grad = torch.zeros_like(net.flat)
    gw, gb = layer_views(grad, net.sizes)
    loss_and_grad(engine.ACTIVATIONS["tanh"], net.weights, net.biases, gw, gb, x, labels, False)
    n_weights = sum(w.numel() for w in net.weights)
    grad[:n_weights].add_(engine.penalty_grad(net.flat[:n_weights], l1, l2))
    params = [p.clone().requires_grad_() for p in net.weights + net.biases]
    h = x
    for i in range(2):
        h = torch.tanh(F.linear(h, params[i], params[3 + i]))
    loss = F.cross_entropy(F.linear(h, params[2], params[5]), labels)
    loss = loss + l1 * sum(w.abs().sum() for w in params[:3])
    loss = loss + l2 * 0.5 * sum((w * w).sum() for w in params[:3])
    want = torch.autograd.grad(loss, params)
    assert all(torch.equal(a, b) for a, b in zip(gw + gb, want, strict=True))


def one_step_reference(net: Network, data: Data, lr: float, l1: float, l2: float) -> torch.Tensor:
    """One full-batch SGD step by autograd with the L1/L2 penalty on weight matrices."""
    params = [p.clone().requires_grad_() for p in net.weights + net.biases]
    n = len(net.weights)
    x = engine.make_features(("x", "y"), data.xy[~data.test])
    h = x
    for i in range(n - 1):
        h = torch.tanh(F.linear(h, params[i], params[n + i]))
    loss = F.cross_entropy(F.linear(h, params[n - 1], params[2 * n - 1]), data.target[~data.test])
    loss = loss + l1 * sum(w.abs().sum() for w in params[:n])
    loss = loss + l2 * 0.5 * sum((w * w).sum() for w in params[:n])
    loss.backward()
    return torch.cat([(p - lr * p.grad).detach().reshape(-1) for p in params])  # type: ignore[operator]


def test_l1_l2_penalties_apply_to_weight_matrices_only() -> None:
    spec = NetSpec()
    net = engine.init_network(spec, 0)
    data = make_data()
    opts = TrainOptions(learning_rate=0.5, l1=0.05, l2=0.2)
    got = engine.train(spec, opts, net, OptimizerState("sgd"), data).network.flat
    torch.testing.assert_close(got, one_step_reference(net, data, 0.5, 0.05, 0.2))


OPTIMIZERS = {
    "sgd": lambda ps, o: torch.optim.SGD(ps, lr=o.learning_rate, momentum=o.momentum),
    "adam": lambda ps, o: torch.optim.Adam(
        ps, lr=o.learning_rate, betas=(o.beta1, o.beta2), eps=o.eps
    ),
    "adamw": lambda ps, o: torch.optim.AdamW(
        ps, lr=o.learning_rate, betas=(o.beta1, o.beta2), eps=o.eps, weight_decay=o.weight_decay
    ),
    "rmsprop": lambda ps, o: torch.optim.RMSprop(
        ps, lr=o.learning_rate, alpha=o.alpha, eps=o.eps, momentum=o.momentum
    ),
}


@pytest.mark.parametrize("momentum", [0.0, 0.9])
@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
def test_optimizer_updates_match_torch_optim(optimizer: str, momentum: float) -> None:
    spec = NetSpec(hidden_layers=(6,))
    net = engine.init_network(spec, 2)
    data = make_data()
    opts = TrainOptions(
        optimizer=optimizer,
        learning_rate=0.05,
        momentum=momentum,
        steps=7,
        beta1=0.8,
        beta2=0.95,
        eps=1e-6,
        alpha=0.9,
        weight_decay=0.1,
    )
    got = engine.train(spec, opts, net, OptimizerState(optimizer), data)
    model = nn.Sequential(nn.Linear(2, 6), nn.Tanh(), nn.Linear(6, 2))
    with torch.no_grad():
        for layer, w, b in zip((model[0], model[2]), net.weights, net.biases, strict=True):
            layer.weight.copy_(w)
            layer.bias.copy_(b)
    opt = OPTIMIZERS[optimizer](model.parameters(), opts)
    x, y = data.xy[~data.test], data.target[~data.test]
    for _ in range(7):
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    want = torch.cat(
        [model[0].weight.reshape(-1), model[2].weight.reshape(-1), model[0].bias, model[2].bias]
    ).detach()
    torch.testing.assert_close(got.network.flat, want, rtol=1e-5, atol=1e-6)
    assert got.state.step == 7 and got.state.global_step == 7
    if optimizer in ("adam", "adamw"):
        state = opt.state[model[0].weight]
        torch.testing.assert_close(
            got.state.buffers["exp_avg_sq"][:12], state["exp_avg_sq"].reshape(-1)
        )


def test_minibatches_follow_the_counter_based_rule() -> None:
    data = Data(
        torch.arange(10.0).repeat(2, 1).t(),
        torch.zeros(10, dtype=torch.long),
        torch.zeros(10, dtype=torch.bool),
    )
    batches = _Batches(data.xy, data.target, 4, seed=9)
    assert batches.per_epoch == 3
    for global_step in range(8):
        epoch, k = divmod(global_step, 3)
        gen = torch.Generator().manual_seed(engine.stream_seed(9, 1, epoch))
        order = torch.randperm(10, generator=gen)[k * 4 : k * 4 + 4]
        x, _ = batches(global_step)
        assert x[:, 0].tolist() == order.float().tolist()  # the last batch has 2 points


def test_stream_seeds_differ_by_stream_counter_and_seed() -> None:
    seeds = {engine.stream_seed(s, st, c) for s in range(3) for st in (1, 2) for c in range(50)}
    assert len(seeds) == 300
    assert all(0 <= s < 2**64 for s in seeds)


def test_dropout_masks_are_inverted_and_deterministic() -> None:
    masks = engine.dropout_masks(4, 11, 200, (8, 3), 0.25)
    assert [m.shape for m in masks] == [(200, 8), (200, 3)]
    values = set(torch.cat([m.reshape(-1) for m in masks]).tolist())
    assert values == {0.0, torch.tensor(1 / 0.75).item()}  # 1/(1-p) in float32
    dropped = float((masks[0] == 0).float().mean())
    assert 0.15 < dropped < 0.35
    again = engine.dropout_masks(4, 11, 200, (8, 3), 0.25)
    assert all(torch.equal(a, b) for a, b in zip(masks, again, strict=True))
    other = engine.dropout_masks(4, 12, 200, (8, 3), 0.25)
    assert not torch.equal(masks[0], other[0])


def test_dropout_is_off_in_the_reported_metrics() -> None:
    spec = NetSpec()
    net = engine.init_network(spec, 0)
    data = make_data()
    tiny = TrainOptions(learning_rate=1e-9, dropout=0.5)
    got = engine.train(spec, tiny, net, OptimizerState("sgd"), data).metrics
    want = engine.evaluate(spec, net, data).metrics
    assert got.train_loss == pytest.approx(want.train_loss, abs=1e-6)


def test_train_does_not_modify_its_inputs() -> None:
    spec = NetSpec()
    net = engine.init_network(spec, 0)
    before = net.flat.clone()
    state = OptimizerState("adam", 3, 3, {"exp_avg": torch.ones_like(net.flat)})
    engine.train(spec, TrainOptions(optimizer="adam", steps=3), net, state, make_data())
    assert torch.equal(net.flat, before)
    assert torch.equal(state.buffers["exp_avg"], torch.ones_like(net.flat))
    assert state.step == 3


def test_metrics_classification_and_regression() -> None:
    spec = NetSpec(hidden_layers=(), outputs=1, regression=True)
    net = Network.from_lists([[[1.0, 0.0]]], [[0.0]])
    data = Data(
        torch.tensor([[1.0, 0.0], [0.5, 0.0]]),
        torch.tensor([0.0, 0.5]),
        torch.tensor([False, True]),
    )
    result = engine.evaluate(spec, net, data)
    assert result.metrics.train_loss == pytest.approx(1.0)
    assert result.metrics.test_loss == 0.0
    assert result.metrics.accuracy is None and result.metrics.test_accuracy is None
    assert result.predictions.tolist() == [1.0, 0.5]
    spec = NetSpec(hidden_layers=(), outputs=2)
    net = Network.from_lists([[[1.0, 0.0], [-1.0, 0.0]]], [[0.0, 0.0]])
    data = Data(
        torch.tensor([[1.0, 0.0], [-1.0, 0.0], [2.0, 0.0]]),
        torch.tensor([0, 0, 1]),
        torch.tensor([False, False, False]),
    )
    result = engine.evaluate(spec, net, data)
    assert result.metrics.accuracy == pytest.approx(1 / 3)
    assert result.metrics.test_loss is None
    want = F.cross_entropy(torch.tensor([[1.0, -1.0], [-1.0, 1.0], [2.0, -2.0]]), data.target)
    assert result.metrics.train_loss == pytest.approx(float(want))
    assert result.predictions.shape == (3, 2)


def test_time_budget_stops_training_after_at_least_one_step() -> None:
    spec = NetSpec()
    net, data = engine.init_network(spec, 0), make_data()
    started = time.perf_counter()
    opts = TrainOptions(steps=100_000, time_budget_ms=30)
    result = engine.train(spec, opts, net, OptimizerState("sgd"), data)
    assert 1 <= result.steps < 100_000
    assert time.perf_counter() - started < 1.0
    past = engine.train(spec, opts, net, OptimizerState("sgd"), data, deadline=0.0)
    assert past.steps == 1


def test_divergence_raises() -> None:
    spec = NetSpec(hidden_layers=(16, 16), activation="relu", outputs=1, regression=True)
    data = make_data(regression=True)
    data = Data(data.xy * 1000, data.target * 1000, data.test)
    with pytest.raises(engine.DivergedError):
        engine.train(
            spec,
            TrainOptions(learning_rate=10, steps=50),
            engine.init_network(spec, 0),
            OptimizerState("sgd"),
            data,
        )


def test_adapt_outputs_keeps_hidden_layers_and_kept_class_rows() -> None:
    spec2 = NetSpec(hidden_layers=(3,), outputs=2)
    spec4 = NetSpec(hidden_layers=(3,), outputs=4)
    net = engine.init_network(spec2, 1)
    buffers = {"exp_avg": torch.arange(float(net.flat.numel()))}
    grown, grown_buffers = engine.adapt_outputs(net, buffers, spec4, seed=5)
    assert grown.sizes == (2, 3, 4)
    assert torch.equal(grown.weights[0], net.weights[0])
    assert torch.equal(grown.weights[1][:2], net.weights[1])
    assert torch.equal(grown.biases[1][:2], net.biases[1])
    fresh = engine.init_network(spec4, 5)
    assert torch.equal(grown.weights[1][2:], fresh.weights[1][2:])
    buf = Network(grown.sizes, grown_buffers["exp_avg"])
    old = Network(net.sizes, buffers["exp_avg"])
    assert torch.equal(buf.weights[1][:2], old.weights[1])
    assert torch.equal(buf.weights[1][2:], torch.zeros(2, 3))
    assert torch.equal(buf.biases[1][2:], torch.zeros(2))
    shrunk, _ = engine.adapt_outputs(grown, {}, spec2, seed=5)
    assert torch.equal(shrunk.flat, net.flat)


def test_transfer_keeps_shared_weights() -> None:
    old_spec = NetSpec(features=("x", "y", "xy"), hidden_layers=(3, 2), outputs=2)
    new_spec = NetSpec(features=("xy", "x2", "x"), hidden_layers=(4,), outputs=3)
    old = engine.init_network(old_spec, 1)
    new = engine.transfer(old, old_spec.features, new_spec, seed=2)
    fresh = engine.init_network(new_spec, 2)
    # First layer: columns by feature name, rows by index (3 of the 4 neurons existed).
    assert torch.equal(new.weights[0][:3, 0], old.weights[0][:, 2])  # xy
    assert torch.equal(new.weights[0][:3, 2], old.weights[0][:, 0])  # x
    assert torch.equal(new.weights[0][:, 1], fresh.weights[0][:, 1])  # x2 is new
    assert torch.equal(new.weights[0][3], fresh.weights[0][3])
    assert torch.equal(new.biases[0][:3], old.biases[0])
    # Output layer: rows by class, columns by neuron index.
    assert torch.equal(new.weights[1][:2, :2], old.weights[2])
    assert torch.equal(new.weights[1][2], fresh.weights[1][2])
    assert torch.equal(new.biases[1][:2], old.biases[2])


def test_transfer_between_same_architectures_is_identity() -> None:
    spec = NetSpec(features=("x", "y", "sinx"), hidden_layers=(5, 5), outputs=3)
    old = engine.init_network(spec, 1)
    assert torch.equal(engine.transfer(old, None, spec, seed=9).flat, old.flat)


def test_regression_training_reduces_loss() -> None:
    spec = NetSpec(hidden_layers=(8, 8), outputs=1, regression=True)
    data = make_data(200, regression=True)
    net = engine.init_network(spec, 0)
    before = engine.evaluate(spec, net, data).metrics.train_loss
    opts = TrainOptions(optimizer="adam", learning_rate=0.03, steps=300)
    after = engine.train(spec, opts, net, OptimizerState("adam"), data).metrics.train_loss
    assert before is not None and after is not None and after < 0.5 * before


def test_wrong_sizes_are_rejected() -> None:
    with pytest.raises(ValueError, match="sizes"):
        engine.train(
            NetSpec(outputs=3),
            TrainOptions(),
            engine.init_network(NetSpec(), 0),
            OptimizerState("sgd"),
            make_data(),
        )
    data = make_data()
    with pytest.raises(ValueError, match="training"):
        engine.train(
            NetSpec(),
            TrainOptions(),
            engine.init_network(NetSpec(), 0),
            OptimizerState("sgd"),
            Data(data.xy, data.target, data.test | True),
        )


def test_no_hidden_layer_network_trains() -> None:
    spec = NetSpec(hidden_layers=(), outputs=2)
    result = engine.train(
        spec,
        TrainOptions(steps=10, dropout=0.5, batch_size=7),
        engine.init_network(spec, 0),
        OptimizerState("sgd"),
        make_data(),
    )
    assert result.steps == 10 and math.isfinite(result.metrics.train_loss or math.nan)


def test_the_compiled_steps_are_the_eager_steps_bit_for_bit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from nnvisu.engine import steps, trainer

    monkeypatch.setenv("NNVISU_ENGINE", "torchscript")  # this test compares both itself
    compiled = steps.runner()
    assert compiled is not steps.run_steps, "TorchScript compiled nothing: the fast path is off"
    cases = [
        ("tanh", "sgd", 0.0, 0.0, 0.0, False),
        ("relu", "adam", 0.3, 0.001, 0.01, False),
        ("gelu", "rmsprop", 0.0, 0.0, 0.01, True),
        ("sine", "adamw", 0.2, 0.0, 0.0, False),
        ("elu", "sgd", 0.0, 0.01, 0.0, True),
    ]
    for act, optimizer, dropout, l1, l2, regression in cases:
        spec = NetSpec(
            hidden_layers=(5, 4),
            activation=act,
            outputs=1 if regression else 3,
            regression=regression,
        )
        data = make_data(37, 3, regression)
        opts = TrainOptions(
            optimizer=optimizer, momentum=0.5, dropout=dropout, l1=l1, l2=l2, batch_size=6, steps=40
        )
        net = engine.init_network(spec, 3)
        results = []
        for run in (compiled, steps.run_steps):
            monkeypatch.setattr(trainer, "runner", lambda run=run: run)
            results.append(engine.train(spec, opts, net, OptimizerState(optimizer), data))
        assert torch.equal(results[0].network.flat, results[1].network.flat), (act, optimizer)
        for name, buf in results[0].state.buffers.items():
            assert torch.equal(buf, results[1].state.buffers[name])


def test_how_steps_are_chunked_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    from nnvisu.engine import trainer

    spec = NetSpec(hidden_layers=(6,), activation="tanh")
    data = make_data(41)
    opts = TrainOptions(optimizer="adam", batch_size=4, dropout=0.2, steps=57)
    net = engine.init_network(spec, 1)
    whole = engine.train(spec, opts, net, OptimizerState("adam"), data)
    monkeypatch.setattr(trainer, "_MAX_CHUNK", 3)  # chunks crossing epochs at odd places
    chunked = engine.train(spec, opts, net, OptimizerState("adam"), data)
    assert torch.equal(whole.network.flat, chunked.network.flat)


def test_without_torchscript_the_eager_steps_run_and_say_so_once(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from nnvisu.engine import steps

    def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError("no TorchScript here")

    monkeypatch.setattr(torch.jit, "script", broken)
    monkeypatch.setattr(steps, "_runners", {})
    monkeypatch.delenv("NNVISU_ENGINE", raising=False)
    with caplog.at_level(logging.WARNING, logger="nnvisu.engine.steps"):
        assert steps.runner() is steps.run_steps
        assert steps.runner() is steps.run_steps
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1, caplog.text
    assert "no TorchScript here" in warnings[0].getMessage()
    assert "eager" in warnings[0].getMessage() and "NNVISU_ENGINE" in warnings[0].getMessage()


def test_nnvisu_engine_picks_the_engine(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from nnvisu.engine import steps

    monkeypatch.setattr(steps, "_runners", {})
    for value in ("torchscript", "", " TorchScript "):
        monkeypatch.setenv("NNVISU_ENGINE", value)
        assert isinstance(steps.runner(), torch.jit.ScriptFunction), value  # compiled here
    monkeypatch.delenv("NNVISU_ENGINE")
    assert isinstance(steps.runner(), torch.jit.ScriptFunction)

    def refused(*args: object, **kwargs: object) -> object:
        raise AssertionError("eager must not try TorchScript")

    monkeypatch.setattr(torch.jit, "script", refused)
    monkeypatch.setenv("NNVISU_ENGINE", "eager")
    with caplog.at_level(logging.WARNING, logger="nnvisu.engine.steps"):
        assert steps.runner() is steps.run_steps
    assert not caplog.records


@pytest.mark.parametrize("value", ["jit", "compiled", "1", "eagre"])
def test_an_unknown_nnvisu_engine_is_a_clear_error(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nnvisu.engine import steps

    monkeypatch.setenv("NNVISU_ENGINE", value)
    message = f"NNVISU_ENGINE must be 'torchscript' (the default) or 'eager', got '{value}'"
    with pytest.raises(ValueError, match=re.escape(message)):
        steps.runner()
    spec, net = NetSpec(), engine.init_network(NetSpec(), 0)
    with pytest.raises(ValueError, match="NNVISU_ENGINE"):
        engine.train(spec, TrainOptions(), net, OptimizerState("sgd"), make_data())
