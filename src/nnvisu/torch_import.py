"""Read an ``nn.Sequential`` MLP into the playground's config and network (``NNVisu.from_torch``).

The playground trains one architecture: input features, Linear layers with one activation
between them (optionally followed by Dropout), and a Linear output layer giving logits or
the regression value. A model of that shape comes in exactly (its float32 weights); anything
else raises a ``ValueError`` that names the layer and lists what is supported.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from nnvisu.engine.activations import ACTIVATIONS
from nnvisu.engine.network import FEATURES
from nnvisu.export import Features
from nnvisu.protocol.messages import FLOAT32_MAX, MAX_CLASSES, MAX_HIDDEN_LAYERS, MAX_NEURONS
from nnvisu.timeline import empty_timeline

#: Config keys the model decides; ``from_torch(**config)`` may repeat them only if they agree.
MODEL_KEYS = ("features", "hidden_layers", "activation", "dropout", "problem", "num_classes")

SUPPORTED = (
    "nn.Linear, and between Linear layers one activation of "
    + ", ".join(repr(row.module()) for row in ACTIVATIONS.values())
    + " (the same one everywhere), optionally followed by nn.Dropout; an nnvisu Features "
    "module may come first"
)


@dataclass(frozen=True)
class Imported:
    """What a model says about the playground's network."""

    features: list[str]
    hidden_layers: list[int]
    #: None without hidden layers (nothing to read it from).
    activation: str | None
    dropout: float
    outputs: int
    network: dict[str, list[Any]]


def _activation_name(module: nn.Module) -> str | None:
    """The playground's name of an activation module, or None if it has no equivalent."""
    for name, row in ACTIVATIONS.items():  # the module of the table, with the same settings
        reference = row.module()
        if type(module) is type(reference) and _settings(module) == _settings(reference):
            return name
    return None


def _settings(module: nn.Module) -> dict[str, Any]:
    """A module's public attributes that change what it computes (not ``inplace``)."""
    return {k: v for k, v in vars(module).items()
            if not k.startswith("_") and k not in ("training", "inplace")}  # fmt: skip


def _unsupported(index: int, module: nn.Module, why: str) -> ValueError:
    return ValueError(f"layer {index} ({module!r}): {why}; supported: {SUPPORTED}")


def _matrix(index: int, module: nn.Module, tensor: torch.Tensor) -> list[Any]:
    values = tensor.detach().to("cpu", torch.float32)
    if not torch.isfinite(values).all() or values.abs().max() > FLOAT32_MAX:
        raise ValueError(f"layer {index} ({module!r}) holds non-finite weights (nan or inf)")
    result: list[Any] = values.tolist()
    return result


def _hidden_pattern(gaps: list[list[tuple[int, nn.Module]]], after: list[int],
                    modules: list[nn.Module]) -> tuple[str | None, float]:  # fmt: skip
    """The one activation and dropout rate of the modules between Linear layers.

    ``gaps[i]`` are the (index, module) pairs between Linear layers; ``after[i]`` is the
    index of the Linear layer that ends gap i (named when the gap is empty).
    """
    activation: str | None = None
    dropout: float | None = None
    for gap, end in zip(gaps, after, strict=True):
        names: list[tuple[int, nn.Module, str]] = []
        rates: list[tuple[int, nn.Dropout]] = []
        for index, module in gap:
            if type(module) is nn.Dropout:
                rates.append((index, module))
                continue
            name = _activation_name(module)
            if name is None:
                raise _unsupported(index, module, "this layer type has no playground equivalent")
            if rates:
                raise _unsupported(index, module, "the activation must come before Dropout")
            names.append((index, module, name))
        if len(names) > 1:
            raise _unsupported(names[1][0], names[1][1], "one activation between two Linear layers")
        if len(rates) > 1:
            raise _unsupported(rates[1][0], rates[1][1], "one Dropout between two Linear layers")
        name = names[0][2] if names else "linear"
        index, module = names[0][:2] if names else (end, modules[end])
        if activation is not None and name != activation:
            raise _unsupported(index, module, f"its activation {name!r} differs from the "
                               f"earlier layers' {activation!r} (one activation for every "
                               "hidden layer)")  # fmt: skip
        activation = name
        rate = float(rates[0][1].p) if rates else 0.0
        if dropout is not None and rate != dropout:
            index, module = rates[0] if rates else (end, modules[end])
            raise _unsupported(index, module, f"dropout {rate} differs from the earlier layers' "
                               f"{dropout} (one dropout rate for every hidden layer)")  # fmt: skip
        if not 0.0 <= rate <= 0.9:
            index, module = rates[0]
            raise _unsupported(index, module, f"dropout p={rate} is out of range [0, 0.9]")
        dropout = rate
    return activation, dropout or 0.0


def read_sequential(model: object, features: list[str] | None = None) -> Imported:
    """Read ``model`` (an ``nn.Sequential`` MLP) as the playground's network.

    Args:
        model: the module to import.
        features: names of the model's inputs (from ``nnvisu.engine.FEATURES``); None: taken
            from a leading ``Features`` module, else ``["x", "y"]`` for 2 inputs or every
            feature for 7.

    Raises:
        ValueError: anything the playground cannot express, naming the layer.
    """
    if not isinstance(model, nn.Sequential):
        kind = type(model).__name__
        raise ValueError(
            f"from_torch imports an nn.Sequential MLP, got {kind}; supported: {SUPPORTED}. "
            "To look at any other model while you train it, use nnvisu.watch(model, X, y)"
        )
    modules = list(model)
    start = 0
    if modules and isinstance(modules[0], Features):
        named = list(modules[0].features)
        if features is not None and list(features) != named:
            raise ValueError(f"features={features} differ from the model's Features {named}")
        features, start = named, 1
    linears = [i for i in range(start, len(modules)) if isinstance(modules[i], nn.Linear)]
    for index in range(start, len(modules)):
        module = modules[index]
        if isinstance(module, Features):
            raise _unsupported(index, module, "Features may only come first")
    if not linears:
        raise ValueError(f"the model has no nn.Linear layer; supported: {SUPPORTED}")
    if linears[0] != start:
        index = start
        raise _unsupported(index, modules[index], "the first layer must be nn.Linear")
    last = linears[-1]
    if last != len(modules) - 1:
        index = last + 1
        raise _unsupported(
            index, modules[index], "the last layer must be nn.Linear (it outputs logits)"
        )
    gaps = [
        [(i, modules[i]) for i in range(a + 1, b)]
        for a, b in zip(linears, linears[1:], strict=False)
    ]
    activation, dropout = _hidden_pattern(gaps, linears[1:], modules)
    layers: list[nn.Linear] = [modules[i] for i in linears]  # type: ignore[misc]
    for position, (index, layer) in enumerate(zip(linears, layers, strict=True)):
        if position > 0 and layer.in_features != layers[position - 1].out_features:
            raise _unsupported(
                index,
                layer,
                f"takes {layer.in_features} inputs but the layer before gives "
                f"{layers[position - 1].out_features}",  # fmt: skip
            )
        if position < len(layers) - 1 and layer.out_features > MAX_NEURONS:
            raise _unsupported(index, layer, f"at most {MAX_NEURONS} neurons a hidden layer")
    if len(layers) - 1 > MAX_HIDDEN_LAYERS:
        raise _unsupported(
            linears[-1],
            layers[-1],
            f"at most {MAX_HIDDEN_LAYERS} hidden layers, got {len(layers) - 1}",  # fmt: skip
        )
    outputs = layers[-1].out_features
    if not (outputs == 1 or 2 <= outputs <= MAX_CLASSES):
        raise _unsupported(
            linears[-1],
            layers[-1],
            f"the output layer must give 1 value (regression) or 2 to "
            f"{MAX_CLASSES} class logits, got {outputs}",  # fmt: skip
        )
    features = _features(layers[0].in_features, features, linears[0], layers[0])
    weights = [_matrix(i, layer, layer.weight) for i, layer in zip(linears, layers, strict=True)]
    biases = [
        _matrix(i, layer, layer.bias) if layer.bias is not None else [0.0] * layer.out_features
        for i, layer in zip(linears, layers, strict=True)
    ]
    return Imported(
        features=features,
        hidden_layers=[layer.out_features for layer in layers[:-1]],
        activation=activation,
        dropout=dropout,
        outputs=outputs,
        network={"weights": weights, "biases": biases},
    )


def _features(count: int, names: list[str] | None, index: int, layer: nn.Linear) -> list[str]:
    """The input features of a first layer taking ``count`` inputs."""
    known = list(FEATURES)
    if names is not None:
        unknown = [name for name in names if name not in FEATURES]
        if unknown:
            raise ValueError(f"unknown feature(s) {unknown}; known: {', '.join(known)}")
        if len(names) != count:
            raise _unsupported(
                index, layer, f"takes {count} inputs but features= names {len(names)}"
            )
        return list(names)
    defaults = {2: ["x", "y"], len(known): known}
    if count not in defaults:
        raise _unsupported(
            index, layer, f"takes {count} inputs, which matches no feature set: 2 inputs are "
            f"(x, y), {len(known)} are every feature ({', '.join(known)}); for another set "
            "pass features=[...] naming each input, or start the model with nnvisu's Features"
        )  # fmt: skip
    return defaults[count]


def widget_traits(model: object, X: Any, y: Any, config: dict[str, Any]) -> dict[str, Any]:
    """Every trait value of ``NNVisu.from_torch(model, X, y, **config)``, validated.

    Raises:
        TypeError: an unknown config key.
        ValueError: an unsupported model, a config key that contradicts it, or bad points.
    """
    from nnvisu import protocol, widget  # the widget module imports this one lazily

    unknown = sorted(set(config) - set(widget.CONFIG_DEFAULTS))
    if unknown:
        raise TypeError(
            f"from_torch() got unexpected keyword argument(s) {', '.join(unknown)}; "
            f"config keys are: {', '.join(widget.CONFIG_DEFAULTS)}"
        )
    imported = read_sequential(model, config.get("features"))
    regression = imported.outputs == 1
    derived: dict[str, Any] = {
        "features": imported.features,
        "hidden_layers": imported.hidden_layers,
        "activation": imported.activation,
        "dropout": imported.dropout,
        "problem": "regression" if regression else "classification",
    }
    if not regression:
        derived["num_classes"] = imported.outputs
    if imported.activation is None:  # no hidden layer: the config (or default) decides
        del derived["activation"]
    for key in MODEL_KEYS:
        if key in config and key in derived and config[key] != derived[key]:
            raise ValueError(
                f"{key}={config[key]!r} contradicts the model, which has {key}={derived[key]!r}"
            )
    full = {**widget.CONFIG_DEFAULTS, **config, **derived}
    points = [] if X is None else widget._points_from(_numpy(X), _numpy(y), 0.0, 0)
    needs = widget._config_for_points(full, points) if points else full
    if (needs["problem"], needs["num_classes"]) != (full["problem"], full["num_classes"]):
        what = (
            "float targets (regression)"
            if needs["problem"] == "regression"
            else f"{needs['num_classes']} classes"
        )
        raise ValueError(
            f"the labels y need {what}, but the model outputs {imported.outputs} value(s)"
            f" ({'regression' if regression else f'{imported.outputs} class logits'})"
        )
    network = imported.network
    protocol.decode_request(  # the limits every network obeys, checked like a request's
        {"type": "evaluate", "config": full, "network": network, "data": points}
    )
    optimizer_state = {"optimizer": full["optimizer"], "step": 0, "global_step": 0, "buffers": {}}
    metrics = widget._evaluate(full, network, points, None)
    settings = {"name": "moons", "n": len(points) or 200, "noise": 0.1,
                "num_classes": full["num_classes"], "seed": 0, "test_ratio": 0.0}  # fmt: skip
    return {
        "data": points,
        "config": full,
        "network": network,
        "optimizer_state": optimizer_state,
        "metrics": metrics,
        "history": widget._first_history(metrics),
        "timeline": empty_timeline(),
        "dataset": settings,
        "classroom": dict(widget.DEFAULT_CLASSROOM),
    }


def _numpy(values: Any) -> Any:
    """A tensor (on any device) as a CPU numpy array; anything else unchanged."""
    if isinstance(values, torch.Tensor):
        return values.detach().cpu().numpy()
    return values
