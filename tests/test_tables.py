"""One table per concept: every activation and optimizer of nnvisu.tables has every branch in
every Python implementation (eager and TorchScript), and an unknown code raises everywhere.

The frontend's side (the JS functions, the tiled JS path and the WebAssembly kernel, all from
the generated catalog) is js/test/grid-wasm.test.ts, run by tests/test_frontend.py.
"""

from __future__ import annotations

import warnings

import pytest
import torch

from nnvisu import engine, protocol, tables
from nnvisu.engine import activations, optim

torch.set_num_threads(1)

NAMES = [row.name for row in tables.ACTIVATIONS]


def scripted(fn: object) -> object:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # torch.jit.script's notice
        return torch.jit.script(fn)


ACTIVATE = {"eager": activations.activate, "compiled": scripted(activations.activate)}
BACKWARD = {
    "eager": activations.activate_backward,
    "compiled": scripted(activations.activate_backward),
}
UPDATE = {"eager": optim.update, "compiled": scripted(optim.update)}


def test_every_name_and_code_is_one_row_everywhere() -> None:
    assert list(engine.ACTIVATIONS) == NAMES == list(protocol.ACTIVATION_NAMES)
    assert [row.code for row in tables.ACTIVATIONS] == list(range(len(NAMES)))
    for row in tables.ACTIVATIONS:
        assert engine.ACTIVATIONS[row.name].code == row.code
        assert engine.ACTIVATIONS[row.name].label == row.label
    optimizers = [row.name for row in tables.OPTIMIZERS]
    assert list(engine.OPTIMIZERS) == optimizers == list(protocol.OPTIMIZER_NAMES)
    assert protocol.BUFFER_NAMES == engine.BUFFERS == {r.name: r.buffers for r in tables.OPTIMIZERS}


@pytest.mark.parametrize("how", ["eager", "compiled"])
@pytest.mark.parametrize("name", NAMES)
def test_every_activation_forward_and_backward_equal_autograd(name: str, how: str) -> None:
    row = engine.ACTIVATIONS[name]
    gen = torch.Generator().manual_seed(row.code)
    z = (torch.randn(64, 5, generator=gen) * 3).requires_grad_()
    grad = torch.randn(64, 5, generator=gen)
    a = row.forward(z)
    a.backward(grad)
    assert z.grad is not None
    with torch.no_grad():
        assert torch.equal(ACTIVATE[how](z, row.code), a)  # type: ignore[operator]
        mine = BACKWARD[how](grad, z, a, row.code)  # type: ignore[operator]
    assert torch.equal(mine, z.grad), name  # bit for bit: the same aten kernels autograd calls


@pytest.mark.parametrize("how", ["eager", "compiled"])
@pytest.mark.parametrize("code", [-1, len(NAMES), 1000])
def test_an_unknown_activation_code_raises(code: int, how: str) -> None:
    z = torch.zeros(3)
    with pytest.raises((ValueError, torch.jit.Error), match=f"unknown activation code {code}"):
        ACTIVATE[how](z, code)  # type: ignore[operator]
    with pytest.raises((ValueError, torch.jit.Error), match=f"unknown activation code {code}"):
        BACKWARD[how](z, z, z, code)  # type: ignore[operator]


@pytest.mark.parametrize("how", ["eager", "compiled"])
@pytest.mark.parametrize("row", tables.OPTIMIZERS, ids=lambda row: row.name)
def test_every_optimizer_has_an_update(row: tables.OptimizerRow, how: str) -> None:
    params = torch.linspace(-1, 1, 6)
    buffers: dict[str, torch.Tensor] = {}
    hyper = optim.Hyper(lr=0.1, momentum=0.5, weight_decay=0.01)
    code, used, hyper = optim.plan(row.name, params, buffers, hyper)
    assert code == row.code
    assert set(buffers) <= set(row.buffers) and len(used) == len(buffers) > 0
    before = params.clone()
    UPDATE[how](params, torch.full((6,), 0.5), code, hyper.as_list(), used, 1)  # type: ignore[operator]
    assert not torch.equal(params, before)


@pytest.mark.parametrize("how", ["eager", "compiled"])
@pytest.mark.parametrize("code", [-1, len(tables.OPTIMIZERS), 99])
def test_an_unknown_optimizer_code_or_name_raises(code: int, how: str) -> None:
    p, g = torch.zeros(3), torch.ones(3)
    with pytest.raises((ValueError, torch.jit.Error), match=f"unknown optimizer code {code}"):
        UPDATE[how](p, g, code, [0.1] * 7, [], 1)  # type: ignore[operator]
    with pytest.raises(ValueError, match="unknown optimizer 'lion'"):
        optim.plan("lion", p, {}, optim.Hyper(lr=0.1))
