"""The MLP itself: input features, init, forward/backward (activations: activations.py).

All parameters of a network live in ONE flat float32 vector: every layer's weight matrix
(out×in, row-major, torch.nn.Linear layout) in layer order, then every bias. The per-layer
matrices are views into it. One vector keeps the optimizer update to a handful of tensor ops
whatever the depth, makes L1/L2 a slice (the weights come first), and serialises trivially.

The backward pass is written by hand (no autograd graph per step: ~4x faster on the small
networks of a playground). It uses the same aten backward kernels autograd uses, and
tests/test_engine.py checks it against autograd for every activation, loss and penalty.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import chain, pairwise

import torch
import torch.nn.functional as F
from torch import Tensor

from nnvisu.engine.activations import ACTIVATIONS, Activation, activate, activate_backward
from nnvisu.engine.private_ops import copy_all, log_softmax_backward

#: Input features computed from a point (x, y), in the protocol's names.
FEATURES: dict[str, Callable[[Tensor, Tensor], Tensor]] = {
    "x": lambda x, y: x,
    "y": lambda x, y: y,
    "x2": lambda x, y: x * x,
    "y2": lambda x, y: y * y,
    "xy": lambda x, y: x * y,
    "sinx": lambda x, y: torch.sin(x),
    "siny": lambda x, y: torch.sin(y),
}


@dataclass(frozen=True)
class NetSpec:
    """The architecture: input features, hidden widths, activation, output size."""

    features: tuple[str, ...] = ("x", "y")
    hidden_layers: tuple[int, ...] = (4, 4)
    activation: str = "tanh"
    #: Number of classes (softmax + cross-entropy), or 1 with ``regression`` (MSE).
    outputs: int = 2
    regression: bool = False

    @property
    def sizes(self) -> tuple[int, ...]:
        """Layer widths from input to output: (features, hidden..., outputs)."""
        return (len(self.features), *self.hidden_layers, self.outputs)


def num_params(sizes: Sequence[int]) -> tuple[int, int]:
    """Return (number of weights, number of weights + biases) of an MLP with these widths."""
    weights = sum(fan_in * fan_out for fan_in, fan_out in pairwise(sizes))
    return weights, weights + sum(sizes[1:])


def layer_views(flat: Tensor, sizes: Sequence[int]) -> tuple[list[Tensor], list[Tensor]]:
    """Split a flat parameter-shaped vector into per-layer (out×in) weight and bias views."""
    weights, biases = [], []
    w_at, b_at = 0, num_params(sizes)[0]
    for fan_in, fan_out in pairwise(sizes):
        weights.append(flat[w_at : w_at + fan_out * fan_in].view(fan_out, fan_in))
        biases.append(flat[b_at : b_at + fan_out])
        w_at += fan_out * fan_in
        b_at += fan_out
    return weights, biases


@dataclass
class Network:
    """An MLP's parameters: ``sizes`` (input, hidden..., output widths) and the flat vector."""

    sizes: tuple[int, ...]
    flat: Tensor

    @property
    def weights(self) -> list[Tensor]:
        """Per-layer weight matrices (out×in views into ``flat``)."""
        return layer_views(self.flat, self.sizes)[0]

    @property
    def biases(self) -> list[Tensor]:
        """Per-layer bias vectors (views into ``flat``)."""
        return layer_views(self.flat, self.sizes)[1]

    @classmethod
    def zeros(cls, sizes: Sequence[int]) -> Network:
        """A network of these widths with every parameter 0 (also an optimizer buffer)."""
        return cls(tuple(sizes), torch.zeros(num_params(sizes)[1]))

    @classmethod
    def from_lists(
        cls, weights: Sequence[Sequence[Sequence[float]]], biases: Sequence[Sequence[float]]
    ) -> Network:
        """Build from nested lists (the wire layout). Shapes must chain (checked by protocol)."""
        sizes = (len(weights[0][0]), *(len(w) for w in weights))
        rows = chain(chain.from_iterable(weights), biases)  # the flat layout, row by row
        return cls(sizes, torch.tensor(list(chain.from_iterable(rows)), dtype=torch.float32))

    def to_lists(self) -> tuple[list[list[list[float]]], list[list[float]]]:
        """Return (weights, biases) as nested Python floats (each one a float32 value)."""
        weights, biases = layer_views(self.flat, self.sizes)
        return [w.tolist() for w in weights], [b.tolist() for b in biases]

    def clone(self) -> Network:
        """A deep copy."""
        return Network(self.sizes, self.flat.clone())


def init_network(spec: NetSpec, seed: int) -> Network:
    """torch.nn.Linear's default init, layer by layer, from ``torch.Generator().manual_seed(seed)``.

    Weights: kaiming_uniform(a=√5), i.e. U(±1/√fan_in); then the bias: U(±1/√fan_in).
    """
    gen = torch.Generator().manual_seed(seed)
    net = Network.zeros(spec.sizes)
    for weight, bias in zip(*layer_views(net.flat, net.sizes), strict=True):
        torch.nn.init.kaiming_uniform_(weight, a=math.sqrt(5), generator=gen)
        bound = 1 / math.sqrt(weight.shape[1])
        torch.nn.init.uniform_(bias, -bound, bound, generator=gen)
    return net


def adapt_outputs(
    net: Network, buffers: dict[str, Tensor], spec: NetSpec, seed: int
) -> tuple[Network, dict[str, Tensor]]:
    """Resize the output layer to ``spec.outputs``, keeping every other weight.

    Rows of kept classes are kept, dropped classes' rows removed, new classes' rows taken from
    a fresh ``init_network(spec, seed)``. Optimizer buffers (flat, network-shaped) are adapted
    the same way with zeros for new rows, so training continues where it was.
    """
    fresh = init_network(spec, seed)
    keep = min(net.sizes[-1], spec.outputs)
    zeros = Network.zeros(spec.sizes)
    new_buffers = {}
    for name, flat in buffers.items():
        new_buffers[name] = _copy_overlap(Network(net.sizes, flat), zeros.clone(), keep).flat
    return _copy_overlap(net, fresh, keep), new_buffers


def _copy_overlap(old: Network, new: Network, keep_out: int) -> Network:
    """Copy all layers of ``old`` into ``new`` (same sizes except the output) and its first rows."""
    old_w, old_b = layer_views(old.flat, old.sizes)
    new_w, new_b = layer_views(new.flat, new.sizes)
    for layer, (w, b) in enumerate(zip(old_w, old_b, strict=True)):
        rows = keep_out if layer == len(old_w) - 1 else w.shape[0]
        new_w[layer][:rows] = w[:rows]
        new_b[layer][:rows] = b[:rows]
    return new


def transfer(old: Network, old_features: Sequence[str] | None, spec: NetSpec, seed: int) -> Network:
    """A fresh ``init_network(spec, seed)`` that keeps the weights it shares with ``old``.

    Used when the user edits the architecture. Hidden layer i maps to old hidden layer i and
    the output layer to the old output layer; rows (neurons, or classes for the output) and
    columns are kept where both exist. Columns of a first layer are input features, matched
    by name via ``old_features`` (by position when it is None); a first layer and a
    non-first layer never share columns (features vs. neurons), only their biases.
    """
    new = init_network(spec, seed)
    old_w, old_b = layer_views(old.flat, old.sizes)
    new_w, new_b = layer_views(new.flat, new.sizes)
    hidden = min(len(new_w), len(old_w)) - 1
    pairs = [(i, i) for i in range(hidden)]
    pairs.append((len(new_w) - 1, len(old_w) - 1))
    for i, j in pairs:
        rows = min(new_w[i].shape[0], old_w[j].shape[0])
        new_b[i][:rows] = old_b[j][:rows]
        if i == 0 and j == 0:
            names = list(old_features) if old_features is not None else None
            for col, feature in enumerate(spec.features):
                src = _find(names, feature) if names is not None else col
                if src is not None and src < old_w[j].shape[1]:
                    new_w[i][:rows, col] = old_w[j][:rows, src]
        elif i > 0 and j > 0:
            cols = min(new_w[i].shape[1], old_w[j].shape[1])
            new_w[i][:rows, :cols] = old_w[j][:rows, :cols]
    return new


def _find(names: list[str], name: str) -> int | None:
    return names.index(name) if name in names else None


def make_features(features: Sequence[str], xy: Tensor) -> Tensor:
    """The network's input matrix (n × len(features)) from points ``xy`` (n × 2, float32)."""
    x, y = xy[:, 0], xy[:, 1]
    return torch.stack([FEATURES[name](x, y) for name in features], dim=1)


def forward(spec: NetSpec, net: Network, inputs: Tensor) -> Tensor:
    """Evaluation-mode forward pass: the raw outputs (logits, or regression values)."""
    weights, biases = layer_views(net.flat, net.sizes)
    act = ACTIVATIONS[spec.activation].forward
    h = inputs
    for w, b in zip(weights[:-1], biases[:-1], strict=True):
        h = act(F.linear(h, w, b))
    return F.linear(h, weights[-1], biases[-1])


def loss_and_grad(
    act: Activation,
    weights: Sequence[Tensor],
    biases: Sequence[Tensor],
    grad_weights: Sequence[Tensor],
    grad_biases: Sequence[Tensor],
    inputs: Tensor,
    target: Tensor,
    regression: bool,
    masks: Sequence[Tensor] | None = None,
    count: Tensor | None = None,
) -> None:
    """One training forward + backward: write dLoss/dParams into the ``grad_*`` views.

    Loss: mean cross-entropy of softmax(logits) against int64 class labels ``target`` (n), or
    mean squared error against ``target`` values (n×1). ``masks`` (one per hidden layer,
    already scaled by 1/(1-p)) multiply each hidden activation: inverted dropout. ``count``
    is the batch size as a float32 scalar tensor (saves its creation per step). The caller
    adds the penalties' gradients. (The eager entry point of :func:`backprop`.)
    """
    count = torch.tensor(float(inputs.shape[0])) if count is None else count
    backprop(act.code, list(weights), [w.t() for w in weights], list(biases),
             [*grad_weights, *grad_biases], inputs, target, regression, list(masks or []), count,
             torch.ones(()))  # fmt: skip


def backprop(
    act: int,
    weights: list[Tensor],
    weights_t: list[Tensor],
    biases: list[Tensor],
    grads: list[Tensor],
    inputs: Tensor,
    target: Tensor,
    regression: bool,
    masks: list[Tensor],
    count: Tensor,
    one: Tensor,
) -> None:
    """:func:`loss_and_grad` with plain arguments, so TorchScript can compile it (steps.py).

    ``weights_t`` are the transposed views ``w.t()``; ``grads`` the gradient's views, every
    weight matrix then every bias (the flat layout); ``masks`` is empty without dropout;
    ``one`` is a scalar 1.0 (dLoss/dLoss).
    """
    # Forward, remembering what the backward needs: pre-activations z, activations a, and
    # each layer's input h (the activation after dropout). F.linear(h, w, b) is
    # addmm(b, h, w.t()) for 2-D inputs: the same kernel, two dispatches fewer.
    layers = len(weights)
    h = inputs
    zs: list[Tensor] = []
    acts: list[Tensor] = []
    hs: list[Tensor] = [inputs]
    for layer in range(layers - 1):
        z = torch.addmm(biases[layer], h, weights_t[layer])
        a = activate(z, act)
        h = a * masks[layer] if len(masks) > 0 else a
        zs.append(z)
        acts.append(a)
        hs.append(h)
    out = torch.addmm(biases[layers - 1], h, weights_t[layers - 1])
    # dLoss/dout with the kernels autograd uses for F.mse_loss / F.cross_entropy, so that the
    # gradient is bit for bit autograd's: normalised optimizers (RMSprop, Adam) amplify even
    # last-bit differences of near-zero gradients.
    if regression:
        g = torch.ops.aten.mse_loss_backward(one, out, target, 1)  # 1: mean
    else:
        log_p = torch.log_softmax(out, 1)
        g = torch.ops.aten.nll_loss_backward(one, log_p, target, None, 1, -100, count)
        g = log_softmax_backward(g, log_p)
    new_weights: list[Tensor] = []
    new_biases: list[Tensor] = []
    for layer in range(layers - 1, -1, -1):
        new_weights.insert(0, g.t().mm(hs[layer]))
        new_biases.insert(0, g.sum(0))
        if layer > 0:
            g = g.mm(weights[layer])  # dLoss/dh of the layer below
            if len(masks) > 0:
                g = g * masks[layer - 1]
            g = activate_backward(g, zs[layer - 1], acts[layer - 1], act)
    # One copy into the flat gradient (mm's out= would take a slower kernel path).
    copy_all(grads, new_weights + new_biases)


def penalty_grad(weights: Tensor, l1: float, l2: float) -> Tensor:
    """d/dw of the penalty l1·Σ|w| + l2·½·Σw² (weight matrices only; biases are not penalised).

    Rounded as autograd rounds it (2·(½l2·w) + l1·sign w, then added to the loss gradient), so
    the gradient stays bit for bit autograd's.
    """
    if l2 == 0.0:
        return torch.sign(weights).mul_(l1)
    half = (weights * (0.5 * l2)).mul_(2.0)
    if l1 != 0.0:
        return half.add_(torch.sign(weights).mul_(l1))
    return half
