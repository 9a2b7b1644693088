"""One table per concept: the activations and optimizers nnvisu offers, by name and code.

This module imports nothing (no torch): the protocol validates names against it, and
``python -m nnvisu._codegen`` writes it out for the TypeScript frontend and the WebAssembly
kernel. The engine adds each activation's math (forward, backward, the JS formula) in
:mod:`nnvisu.engine.activations` and each optimizer's update in :mod:`nnvisu.engine.optim`;
both refuse at import a row without its math, and every implementation raises on a code
that is not in these tables. docs/architecture.md has the checklist for adding one.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any


class Act(enum.Enum):
    """Activation codes (what compiled kernels take); the protocol name is the lower-case one.

    An Enum because TorchScript reads ``Act.RELU.value`` as a constant (a plain module-level
    int it refuses).
    """

    RELU = 0
    TANH = 1
    SIGMOID = 2
    LINEAR = 3
    LEAKY_RELU = 4
    ELU = 5
    GELU = 6
    SILU = 7
    SINE = 8


class Opt(enum.Enum):
    """Optimizer codes (what the compiled update takes); the protocol name is the lower-case one."""

    SGD = 0
    ADAM = 1
    ADAMW = 2
    RMSPROP = 3


@dataclass(frozen=True)
class ActivationRow:
    """A hidden-layer nonlinearity: its code (and so its name) and how the page labels it."""

    act: Act
    label: str

    @property
    def name(self) -> str:
        """The protocol's name."""
        return self.act.name.lower()

    @property
    def code(self) -> int:
        """The integer code."""
        return int(self.act.value)


@dataclass(frozen=True)
class OptimizerRow:
    """An optimizer: its code (and name), label, and the buffers it carries between steps.

    The buffers are named as ``torch.optim.<Optimizer>.state`` names them.
    """

    opt: Opt
    label: str
    buffers: tuple[str, ...]
    #: The config hyperparameters it reads besides the learning rate (the page shows those).
    settings: tuple[str, ...]

    @property
    def name(self) -> str:
        """The protocol's name."""
        return self.opt.name.lower()

    @property
    def code(self) -> int:
        """The integer code."""
        return int(self.opt.value)


ACTIVATIONS: tuple[ActivationRow, ...] = (
    ActivationRow(Act.RELU, "ReLU"),
    ActivationRow(Act.TANH, "Tanh"),
    ActivationRow(Act.SIGMOID, "Sigmoid"),
    ActivationRow(Act.LINEAR, "Linear"),
    ActivationRow(Act.LEAKY_RELU, "Leaky ReLU"),
    ActivationRow(Act.ELU, "ELU"),
    ActivationRow(Act.GELU, "GELU"),
    ActivationRow(Act.SILU, "SiLU"),
    ActivationRow(Act.SINE, "Sine"),
)

OPTIMIZERS: tuple[OptimizerRow, ...] = (
    OptimizerRow(Opt.SGD, "SGD", ("momentum_buffer",), ("momentum",)),
    OptimizerRow(Opt.ADAM, "Adam", ("exp_avg", "exp_avg_sq"), ("beta1", "beta2", "eps")),
    OptimizerRow(
        Opt.ADAMW, "AdamW", ("exp_avg", "exp_avg_sq"), ("beta1", "beta2", "eps", "weight_decay")
    ),
    OptimizerRow(
        Opt.RMSPROP, "RMSprop", ("square_avg", "momentum_buffer"), ("momentum", "alpha", "eps")
    ),
)

ACTIVATION_CODES: dict[str, int] = {row.name: row.code for row in ACTIVATIONS}
OPTIMIZER_CODES: dict[str, int] = {row.name: row.code for row in OPTIMIZERS}
#: Optimizer buffers each optimizer may carry.
BUFFER_NAMES: dict[str, tuple[str, ...]] = {row.name: row.buffers for row in OPTIMIZERS}


def _check_complete(rows: tuple[ActivationRow, ...] | tuple[OptimizerRow, ...], codes: Any) -> None:
    """One row per code, in code order."""
    have = [row.code for row in rows]
    if have != [member.value for member in codes]:
        raise RuntimeError(f"nnvisu.tables: rows {have} do not match the codes of {codes}")


_check_complete(ACTIVATIONS, Act)
_check_complete(OPTIMIZERS, Opt)
