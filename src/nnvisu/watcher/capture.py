"""The layers' own maps: forward hooks that keep each module's per-neuron output on the grid.

A module's output has "one value per neuron" when it is a 2-D tensor (points × neurons).
Every such module of the model gets a map per neuron (Linear layers, activations, a residual
block's sum...), except normalisation layers (they rescale the values that come in; they
have no neurons of their own) and Dropout (the identity in eval mode). Other modules are
listed with the reason they have no maps. A container whose output is its last child's
(e.g. nn.Sequential) is the same layer and is not listed twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from torch import Tensor, nn
from torch.utils.hooks import RemovableHandle

from nnvisu.protocol.messages import MAX_NEURONS

_NORMALISATION = (
    nn.modules.batchnorm._NormBase,
    nn.LayerNorm,
    nn.GroupNorm,
    nn.modules.normalization.RMSNorm,
)
_DROPOUT = nn.modules.dropout._DropoutNd


@dataclass
class Layer:
    """One module the view lists: its maps' values on the grid, or why it has none."""

    name: str
    kind: str
    #: Grid rows × neurons (CPU float32), when the layer has maps.
    values: Tensor | None = None
    reason: str = ""

    def describe(self) -> dict[str, Any]:
        """The JSON part of the layer's description (the maps travel as a buffer)."""
        units = 0 if self.values is None else int(self.values.shape[1])
        return {"name": self.name, "type": self.kind, "units": units, "reason": self.reason}


@dataclass
class Capture:
    """Hooks on every submodule for one forward pass over ``rows`` of the input batch."""

    model: nn.Module
    rows: slice
    layers: list[Layer] = field(default_factory=list)
    _handles: list[RemovableHandle] = field(default_factory=list)
    #: Outputs already listed (kept alive during the pass, so their ids stay unique).
    _seen: dict[int, Tensor] = field(default_factory=dict)

    def __enter__(self) -> Capture:
        for name, module in self.model.named_modules():
            if module is not self.model:
                self._handles.append(module.register_forward_hook(self._hook(name)))
        return self

    def __exit__(self, *exc: object) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()
        self._seen.clear()

    def _hook(self, name: str) -> Any:
        def record(module: nn.Module, inputs: Any, output: Any) -> None:
            layer = self._layer(name, module, output)
            if isinstance(output, Tensor):
                if layer.values is not None and id(output) in self._seen:
                    return  # a container handing on its last child's output
                self._seen[id(output)] = output
            self.layers.append(layer)

        return record

    def _layer(self, name: str, module: nn.Module, output: Any) -> Layer:
        kind = type(module).__name__
        if isinstance(module, _NORMALISATION):
            return Layer(name, kind, reason=f"{kind} rescales its inputs: no neurons of its own")
        if isinstance(module, _DROPOUT):
            return Layer(name, kind, reason=f"{kind} passes values through unchanged in eval mode")
        if not isinstance(output, Tensor):
            return Layer(name, kind, reason=f"its output is a {type(output).__name__}, "
                         "not a tensor of one value per neuron")  # fmt: skip
        if output.ndim != 2:
            return Layer(name, kind, reason=f"its output has shape {_shape(output)}, not "
                         "(points, neurons): no single value per neuron")  # fmt: skip
        if output.shape[1] > MAX_NEURONS:
            return Layer(name, kind, reason=f"{output.shape[1]} neurons: more than the "
                         f"{MAX_NEURONS} a layer's maps show")  # fmt: skip
        values = output[self.rows].detach().to("cpu", copy=True).float()
        return Layer(name, kind, values=values)


def _shape(output: Tensor) -> str:
    return "(" + ", ".join(["N", *(str(size) for size in output.shape[1:])]) + ")"
