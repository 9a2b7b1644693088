"""Validation that spans fields: shapes against the architecture, labels, names, buffers.

Runs after decoding (types and ranges are already checked). Each check raises the first
problem as a :class:`ProtocolError` naming the field.
"""

from __future__ import annotations

from collections.abc import Sequence

from nnvisu import datasets
from nnvisu.protocol.errors import ProtocolError, in_run, invalid, names, show, text
from nnvisu.protocol.messages import (
    BUFFER_NAMES,
    COORD_LIMIT,
    MAX_COUNT,
    MAX_SNAPSHOT_FRAMES,
    CompareStep,
    Config,
    Evaluate,
    GenerateData,
    InitNetwork,
    NetworkData,
    OptimizerState,
    PackedPoints,
    Point,
    Request,
    TrainStep,
)


def check(request: Request) -> None:
    """Validate what spans fields of a decoded request.

    Raises:
        ProtocolError: the first problem found.
    """
    if isinstance(request.id, str) and text(request.id) != request.id:
        raise invalid("id", "id must be valid Unicode text: it holds a lone surrogate")
    if isinstance(request, CompareStep):
        _check_compare(request)
        return
    if isinstance(request, (TrainStep, InitNetwork, Evaluate)):
        _check_unique(request.config.features, "config.features")
    if isinstance(request, TrainStep):
        _check_points(request.data, request.config)
        _check_snapshot_steps(request)
        sizes = request.config.sizes
        if request.network is not None:
            sizes = _check_network(request.network, request.config, adaptable=True)
        if request.optimizer_state is not None:
            _check_buffers(request.optimizer_state, sizes)
            check_counters(request.optimizer_state, request.config.steps)
    elif isinstance(request, Evaluate):
        _check_points(request.data, request.config)
        _check_network(request.network, request.config, adaptable=False)
    elif isinstance(request, InitNetwork):
        if request.previous_features is not None:
            _check_unique(request.previous_features, "previous_features")
        if request.network is not None:
            _check_chain(request.network, request.previous_features)
    elif isinstance(request, GenerateData) and request.dataset not in datasets.DATASETS:
        message = f"dataset must be one of {names(datasets.DATASETS)}, got {show(request.dataset)}"
        raise invalid("dataset", message)


def _check_compare(request: CompareStep) -> None:
    """Each run must be a valid train_step on the shared points; errors name the run."""
    for index in range(len(request.runs)):
        try:
            check(solo_step(request, index))
            state = request.runs[index].optimizer_state
            if state is not None:
                check_counters(state, request.steps)
        except ProtocolError as error:
            raise in_run(error, index) from None


def check_counters(state: OptimizerState, steps: int) -> None:
    """The step counters after ``steps`` more steps must stay exact in a JavaScript number."""
    for name, value in (("global_step", state.global_step), ("step", state.step)):
        if value + steps > MAX_COUNT:
            where = f"optimizer_state.{name}"
            raise invalid(where, f"{where} is {value}: {steps} more step(s) would pass "
                          f"{MAX_COUNT} (2^53-1, the largest exact count); start a new "
                          "optimizer state (reset the network) to train on")  # fmt: skip


def solo_step(request: CompareStep, index: int) -> TrainStep:
    """Run ``index`` of a compare_step as the train_step a solo run of it would send."""
    run = request.runs[index]
    return TrainStep(config=run.config, network=run.network, optimizer_state=run.optimizer_state,
                     data=request.data, packed=request.packed)  # fmt: skip


def _check_snapshot_steps(request: TrainStep) -> None:
    every, steps = request.snapshot_steps, request.config.steps
    if every is not None and (steps - 1) // every > MAX_SNAPSHOT_FRAMES:
        raise invalid(
            "snapshot_steps",
            f"snapshot_steps={every} asks for {(steps - 1) // every} snapshots of "
            f"config.steps={steps}; at most {MAX_SNAPSHOT_FRAMES} per request",
        )


def _check_unique(features: Sequence[str], where: str) -> None:
    for name in features:
        if features.count(name) > 1:
            count = features.count(name)
            raise invalid(where, f"{where} must not repeat a feature: '{name}' is there {count}x")


def _check_points(points: list[Point] | PackedPoints, config: Config) -> None:
    """List-form labels against the problem (packed points are checked as they are decoded)."""
    if isinstance(points, PackedPoints):
        return
    if config.problem == "regression":  # the packed form's range, checked in lists too
        for i, point in enumerate(points):
            if not -COORD_LIMIT <= point.label <= COORD_LIMIT:  # also NaN and huge integers
                where = f"data[{i}].label"
                raise invalid(where, f"{where} must be a finite number in [{-COORD_LIMIT:g}, "
                              f"{COORD_LIMIT:g}], got {show(point.label)}")  # fmt: skip
        return
    classes = config.num_classes
    if config.problem == "classification" and not all(
        label in range(classes)
        for label in {point.label for point in points}  # few distinct
    ):
        for i, point in enumerate(points):
            if point.label not in range(classes):  # also rejects 0.5 (1.0 counts as 1)
                raise invalid(
                    f"data[{i}].label",
                    f"data[{i}].label must be an integer class index in 0..{classes - 1} "
                    f"(config.num_classes is {classes}), got {show(point.label)}",
                )


def _check_form(net: NetworkData, where: str) -> None:
    """Exactly one complete form: lists (weights, biases) or packed (sizes, f32)."""
    if net.sizes is not None or net.f32 is not None:
        if net.weights is not None or net.biases is not None:
            raise invalid(where, f"{where} must be lists (weights, biases) or packed (sizes, "
                          "f32), not both")  # fmt: skip
        for part in ("sizes", "f32"):
            if getattr(net, part) is None:
                raise invalid(f"{where}.{part}", f"{where}.{part} is required")
        return  # the values are checked as they are decoded (arrays.py)
    for part in ("weights", "biases"):
        if getattr(net, part) is None:
            raise invalid(f"{where}.{part}", f"{where}.{part} is required")


def _check_packed_sizes(net: NetworkData, sizes: Sequence[int], where: str, why: str) -> None:
    if list(net.sizes or ()) != list(sizes):
        raise invalid(f"{where}.sizes", f"{where}.sizes must be {list(sizes)} ({why}), "
                      f"got {net.sizes}")  # fmt: skip


def _check_network(net: NetworkData, config: Config, adaptable: bool) -> tuple[int, ...]:
    """Check shapes against the architecture and return the network's layer sizes.

    With ``adaptable`` the output layer may have any number of rows (it is then adapted).
    """
    _check_form(net, "network")
    sizes = list(config.sizes)
    layers = len(sizes) - 1
    why = f"{len(config.hidden_layers)} hidden layers + the output layer"
    if net.sizes is not None:
        if adaptable and len(net.sizes) == len(sizes):
            sizes[-1] = net.sizes[-1]
        _check_packed_sizes(net, sizes, "network", f"config.features, {why}")
        return tuple(sizes)
    assert net.weights is not None and net.biases is not None
    for part, got in (("weights", len(net.weights)), ("biases", len(net.biases))):
        if got != layers:
            raise invalid(f"network.{part}", f"network.{part} must have {layers} layers "
                          f"({why}), got {got}")  # fmt: skip
    if adaptable:
        sizes[-1] = len(net.weights[-1])
    _check_layers(net, sizes, "network", named_inputs=True)
    return tuple(sizes)


def _check_layers(
    net: NetworkData, sizes: Sequence[int], where: str, named_inputs: bool = False
) -> None:
    """Layer i must be sizes[i+1] rows × sizes[i] columns, its bias sizes[i+1] long."""
    assert net.weights is not None and net.biases is not None
    for i, (w, b) in enumerate(zip(net.weights, net.biases, strict=True)):
        rows, cols = sizes[i + 1], sizes[i]
        what = "inputs"
        if named_inputs:
            what = "features of config.features" if i == 0 else f"neurons of layer {i - 1}"
        if len(w) != rows:
            raise invalid(f"{where}.weights[{i}]", f"{where}.weights[{i}] must have {rows} rows "
                          f"(out×in), got {len(w)}")  # fmt: skip
        for r, row in enumerate(w):
            if len(row) != cols:
                raise invalid(f"{where}.weights[{i}][{r}]", f"{where}.weights[{i}][{r}] must have "
                              f"{cols} columns (the {cols} {what}), got {len(row)}")  # fmt: skip
        if len(b) != rows:
            raise invalid(f"{where}.biases[{i}]", f"{where}.biases[{i}] must have {rows} entries "
                          f"(one per row of weights[{i}]), got {len(b)}")  # fmt: skip


def _check_chain(net: NetworkData, features: Sequence[str] | None) -> None:
    """A previous network of any architecture: its layers must chain (in = previous out)."""
    _check_form(net, "network")
    if net.sizes is not None:  # packed: the sizes chain by construction
        if features is not None and net.sizes[0] != len(features):
            raise invalid("network.sizes", f"network.sizes must start with {len(features)} (one "
                          f"input per previous_features entry), got {net.sizes[0]}")  # fmt: skip
        return
    assert net.weights is not None and net.biases is not None
    if len(net.weights) != len(net.biases):
        raise invalid("network.biases", f"network.biases must have one entry per layer "
                      f"({len(net.weights)}), got {len(net.biases)}")  # fmt: skip
    sizes = [len(net.weights[0][0]), *(len(w) for w in net.weights)]
    if features is not None and sizes[0] != len(features):
        raise invalid("network.weights[0][0]", f"network.weights[0] must have {len(features)} "
                      f"columns (one per previous_features entry), got {sizes[0]}")  # fmt: skip
    _check_layers(net, sizes, "network")


def _check_buffers(state: OptimizerState, sizes: tuple[int, ...]) -> None:
    allowed = BUFFER_NAMES[state.optimizer]
    for name, buf in state.buffers.items():
        where = f"optimizer_state.buffers.{name}"
        if name not in allowed:
            raise invalid(where, f"{where} is not a buffer of optimizer '{state.optimizer}'; "
                          f"allowed: {', '.join(allowed)}")  # fmt: skip
        _check_form(buf, where)
        if buf.f32 is not None:
            _check_packed_sizes(buf, sizes, where, "the network's sizes")
            continue
        assert buf.weights is not None and buf.biases is not None
        for part, got in (("weights", len(buf.weights)), ("biases", len(buf.biases))):
            if got != len(sizes) - 1:
                raise invalid(f"{where}.{part}", f"{where}.{part} must have {len(sizes) - 1} "
                              f"layers like the network, got {got}")  # fmt: skip
        _check_layers(buf, sizes, where)
        if name in ("exp_avg_sq", "square_avg"):
            _check_non_negative(buf, where)


def _check_non_negative(buf: NetworkData, where: str) -> None:
    """Running averages of squared gradients are >= 0 (sqrt of a negative one is NaN)."""
    assert buf.weights is not None and buf.biases is not None
    rows = [
        (f"weights[{i}][{r}]", row) for i, w in enumerate(buf.weights) for r, row in enumerate(w)
    ]
    rows += [(f"biases[{i}]", b) for i, b in enumerate(buf.biases)]
    for name, row in rows:
        if min(row) < 0:
            c = next(c for c, v in enumerate(row) if v < 0)
            fname = f"{where}.{name}[{c}]"
            raise invalid(fname, f"{fname} must be >= 0, got {show(row[c])}")
