"""Hidden-layer activations: each one's forward beside its derivative, and its JS formula.

One row per activation of :data:`nnvisu.tables.ACTIVATIONS` (which gives its name, code and
label): ``a = forward(z)``, ``dL/dz = backward(dL/da, z, a)`` with the aten kernels autograd
itself calls (so the hand-written backward is bit for bit autograd's; tests/test_engine.py
checks it against autograd), and ``js``, the same function in JavaScript over ``v`` (float64),
which ``python -m nnvisu._codegen`` writes into the page's forward pass. A row missing here is
an error at import; :func:`activate` and :func:`activate_backward` (the TorchScript-compatible
dispatch on the code) raise on a code they do not know.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from nnvisu.tables import ACTIVATIONS as ROWS
from nnvisu.tables import Act


# Each forward, then its backward: (dL/da, z, a) -> dL/dz.
def _relu(z: Tensor) -> Tensor:
    return torch.relu(z)


def _relu_backward(grad: Tensor, z: Tensor, a: Tensor) -> Tensor:
    out: Tensor = torch.ops.aten.threshold_backward(grad, a, 0.0)
    return out


def _tanh(z: Tensor) -> Tensor:
    return torch.tanh(z)


def _tanh_backward(grad: Tensor, z: Tensor, a: Tensor) -> Tensor:
    out: Tensor = torch.ops.aten.tanh_backward(grad, a)
    return out


def _sigmoid(z: Tensor) -> Tensor:
    return torch.sigmoid(z)


def _sigmoid_backward(grad: Tensor, z: Tensor, a: Tensor) -> Tensor:
    out: Tensor = torch.ops.aten.sigmoid_backward(grad, a)
    return out


def _linear(z: Tensor) -> Tensor:
    return z


def _linear_backward(grad: Tensor, z: Tensor, a: Tensor) -> Tensor:
    return grad


def _leaky_relu(z: Tensor) -> Tensor:
    return F.leaky_relu(z, 0.01)


def _leaky_relu_backward(grad: Tensor, z: Tensor, a: Tensor) -> Tensor:
    out: Tensor = torch.ops.aten.leaky_relu_backward(grad, z, 0.01, False)
    return out


def _elu(z: Tensor) -> Tensor:
    return F.elu(z)


def _elu_backward(grad: Tensor, z: Tensor, a: Tensor) -> Tensor:
    out: Tensor = torch.ops.aten.elu_backward(grad, 1.0, 1.0, 1.0, False, z)
    return out


def _gelu(z: Tensor) -> Tensor:
    return F.gelu(z)  # exact (erf)


def _gelu_backward(grad: Tensor, z: Tensor, a: Tensor) -> Tensor:
    out: Tensor = torch.ops.aten.gelu_backward(grad, z)
    return out


def _silu(z: Tensor) -> Tensor:
    return F.silu(z)


def _silu_backward(grad: Tensor, z: Tensor, a: Tensor) -> Tensor:
    out: Tensor = torch.ops.aten.silu_backward(grad, z)
    return out


def _sine(z: Tensor) -> Tensor:
    return torch.sin(z)


def _sine_backward(grad: Tensor, z: Tensor, a: Tensor) -> Tensor:
    return grad * torch.cos(z)  # d/dz sin z = cos z


def activate(z: Tensor, act: int) -> Tensor:
    """Activation code ``act`` of pre-activations ``z``.

    Raises:
        ValueError: (RuntimeError once compiled) ``act`` is no activation's code.
    """
    if act == Act.RELU.value:
        return _relu(z)
    if act == Act.TANH.value:
        return _tanh(z)
    if act == Act.SIGMOID.value:
        return _sigmoid(z)
    if act == Act.LINEAR.value:
        return _linear(z)
    if act == Act.LEAKY_RELU.value:
        return _leaky_relu(z)
    if act == Act.ELU.value:
        return _elu(z)
    if act == Act.GELU.value:
        return _gelu(z)
    if act == Act.SILU.value:
        return _silu(z)
    if act == Act.SINE.value:
        return _sine(z)
    raise ValueError("unknown activation code " + str(act))


def activate_backward(grad: Tensor, z: Tensor, a: Tensor, act: int) -> Tensor:
    """dL/dz from dL/da (``a`` = activate(z, act)).

    Raises:
        ValueError: (RuntimeError once compiled) ``act`` is no activation's code.
    """
    if act == Act.RELU.value:
        return _relu_backward(grad, z, a)
    if act == Act.TANH.value:
        return _tanh_backward(grad, z, a)
    if act == Act.SIGMOID.value:
        return _sigmoid_backward(grad, z, a)
    if act == Act.LINEAR.value:
        return _linear_backward(grad, z, a)
    if act == Act.LEAKY_RELU.value:
        return _leaky_relu_backward(grad, z, a)
    if act == Act.ELU.value:
        return _elu_backward(grad, z, a)
    if act == Act.GELU.value:
        return _gelu_backward(grad, z, a)
    if act == Act.SILU.value:
        return _silu_backward(grad, z, a)
    if act == Act.SINE.value:
        return _sine_backward(grad, z, a)
    raise ValueError("unknown activation code " + str(act))


class Sine(nn.Module):
    """``sin(z)``, the one activation torch.nn does not have."""

    def forward(self, z: Tensor) -> Tensor:
        """Return ``sin(z)``."""
        return torch.sin(z)


Forward = Callable[[Tensor], Tensor]
Backward = Callable[[Tensor, Tensor, Tensor], Tensor]


@dataclass(frozen=True)
class Activation:
    """An activation's row: name, code and label (nnvisu.tables), then its math."""

    name: str
    code: int
    label: str
    forward: Forward
    #: (dL/da, z, a) -> dL/dz.
    backward: Backward
    #: The same function in JavaScript, an expression of the number ``v`` (``erf`` is in scope).
    js: str
    #: True when the page's WebAssembly kernel (js/src/nn/grid.wat) has a SIMD loop for it;
    #: otherwise the page applies ``js`` value by value.
    wasm: bool
    #: The torch.nn module ``to_torch()`` puts between layers (``from_torch()`` reads it back).
    module: Callable[[], nn.Module]


#: Each activation's math: forward, backward, JS formula, a SIMD loop in grid.wat?, nn module.
_MATH: dict[str, tuple[Forward, Backward, str, bool, Callable[[], nn.Module]]] = {
    "relu": (_relu, _relu_backward, "v > 0 ? v : 0", True, nn.ReLU),
    "tanh": (_tanh, _tanh_backward, "Math.tanh(v)", True, nn.Tanh),
    "sigmoid": (_sigmoid, _sigmoid_backward, "1 / (1 + Math.exp(-v))", True, nn.Sigmoid),
    "linear": (_linear, _linear_backward, "v", True, nn.Identity),
    "leaky_relu": (_leaky_relu, _leaky_relu_backward, "v >= 0 ? v : 0.01 * v", True,
                   lambda: nn.LeakyReLU(0.01)),
    "elu": (_elu, _elu_backward, "v > 0 ? v : Math.expm1(v)", True, lambda: nn.ELU(1.0)),
    "gelu": (_gelu, _gelu_backward, "0.5 * v * (1 + erf(v * Math.SQRT1_2))", True,
             lambda: nn.GELU(approximate="none")),
    "silu": (_silu, _silu_backward, "v / (1 + Math.exp(-v))", True, nn.SiLU),
    "sine": (_sine, _sine_backward, "Math.sin(v)", False, Sine),
}  # fmt: skip

_missing = [row.name for row in ROWS if row.name not in _MATH]
if _missing or len(_MATH) != len(ROWS):
    raise RuntimeError(f"nnvisu.engine.activations: no math for {_missing or sorted(_MATH)}")

#: Every activation by name.
ACTIVATIONS: dict[str, Activation] = {
    row.name: Activation(row.name, row.code, row.label, *_MATH[row.name]) for row in ROWS
}
