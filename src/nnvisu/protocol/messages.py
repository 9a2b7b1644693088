"""Message types (msgspec Structs tagged by ``"type"``), limits and names of wire protocol v1.

Field types carry the limits (ranges, lengths), so decoding checks them in C. Replies are
Structs too: their field types document the wire format (docs/protocol.md has examples).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal, Union, get_args

from msgspec import Meta, Struct, field

from nnvisu import tables

# Limits (docs/protocol.md lists them; the info message reports them).
MAX_POINTS = 10_000
MAX_CLASSES = 8
MAX_HIDDEN_LAYERS = 8
MAX_NEURONS = 64
MAX_STEPS = 100_000
MAX_TIME_BUDGET_MS = 5000
#: Snapshots one train_step may ask for by step count (``snapshot_steps``): 8 s of frames.
MAX_SNAPSHOT_FRAMES = 500
#: Hard wall-clock cap on the training of any request, whatever it asks.
MAX_REQUEST_MS = 5000
#: Cap on one JSON message (a request of 10,000 points and the largest network with Adam
#: buffers is about 3 MB).
MAX_MESSAGE_BYTES = 4 * 1024 * 1024
MAX_SEED = 2**31 - 1
#: Step counters and integer ids stay exact in a JavaScript number.
MAX_COUNT = 2**53 - 1
#: The largest finite float32: weights and buffers are float32 on the engine side.
FLOAT32_MAX = 3.4028234663852886e38
COORD_LIMIT = 1000.0

Feature = Literal["x", "y", "x2", "y2", "xy", "sinx", "siny"]
if TYPE_CHECKING:
    ActivationName = str
    OptimizerName = str
else:  # the names of nnvisu.tables, as Literals msgspec checks
    ActivationName = Literal[tuple(row.name for row in tables.ACTIVATIONS)]
    OptimizerName = Literal[tuple(row.name for row in tables.OPTIMIZERS)]
Problem = Literal["classification", "regression"]
ErrorCode = Literal["invalid", "too_large", "unknown_type", "diverged", "busy", "internal"]
FEATURE_NAMES: tuple[str, ...] = get_args(Feature)
ACTIVATION_NAMES: tuple[str, ...] = get_args(ActivationName)
OPTIMIZER_NAMES: tuple[str, ...] = get_args(OptimizerName)
ERROR_CODES: tuple[str, ...] = get_args(ErrorCode)
#: Optimizer buffers each optimizer may carry (torch.optim's state names).
BUFFER_NAMES = tables.BUFFER_NAMES

Id = Union[  # noqa: UP007 (msgspec resolves this at runtime on Python 3.10 too)
    Annotated[str, Meta(max_length=100)], Annotated[int, Meta(ge=-MAX_COUNT, le=MAX_COUNT)], None
]
Float32 = Annotated[float, Meta(ge=-FLOAT32_MAX, le=FLOAT32_MAX)]
Coordinate = Annotated[float, Meta(ge=-COORD_LIMIT, le=COORD_LIMIT)]
Count = Annotated[int, Meta(ge=0, le=MAX_COUNT)]
Seed = Annotated[int, Meta(ge=0, le=MAX_SEED)]
Row = Annotated[list[Float32], Meta(min_length=1, max_length=MAX_NEURONS)]
Matrix = Annotated[list[Row], Meta(min_length=1, max_length=MAX_NEURONS)]
Layers = Annotated[list[Matrix], Meta(min_length=1, max_length=MAX_HIDDEN_LAYERS + 1)]
BiasLayers = Annotated[list[Row], Meta(min_length=1, max_length=MAX_HIDDEN_LAYERS + 1)]
Features = Annotated[list[Feature], Meta(min_length=1, max_length=len(FEATURE_NAMES))]


class _Msg(Struct, forbid_unknown_fields=True, kw_only=True):
    """Base of every message part: unknown fields are errors, fields are keyword-only."""


class Config(_Msg):
    """Architecture and training settings (all optional; see the table in docs/protocol.md)."""

    problem: Problem = "classification"
    num_classes: Annotated[int, Meta(ge=2, le=MAX_CLASSES)] = 2
    features: Features = field(default_factory=lambda: ["x", "y"])
    hidden_layers: Annotated[
        list[Annotated[int, Meta(ge=1, le=MAX_NEURONS)]], Meta(max_length=MAX_HIDDEN_LAYERS)
    ] = field(default_factory=lambda: [4, 4])
    activation: ActivationName = "tanh"
    optimizer: OptimizerName = "sgd"
    learning_rate: Annotated[float, Meta(gt=0, le=10)] = 0.03
    momentum: Annotated[float, Meta(ge=0, lt=1)] = 0.0
    beta1: Annotated[float, Meta(ge=0, lt=1)] = 0.9
    beta2: Annotated[float, Meta(ge=0, lt=1)] = 0.999
    eps: Annotated[float, Meta(gt=0, le=1)] = 1e-8
    alpha: Annotated[float, Meta(ge=0, lt=1)] = 0.99
    weight_decay: Annotated[float, Meta(ge=0, le=1)] = 0.01
    l1: Annotated[float, Meta(ge=0, le=1)] = 0.0
    l2: Annotated[float, Meta(ge=0, le=1)] = 0.0
    dropout: Annotated[float, Meta(ge=0, le=0.9)] = 0.0
    batch_size: Annotated[int, Meta(ge=1, le=MAX_POINTS)] | None = None
    steps: Annotated[int, Meta(ge=1, le=MAX_STEPS)] = 1
    time_budget_ms: Annotated[float, Meta(ge=1, le=MAX_TIME_BUDGET_MS)] | None = None
    seed: Seed = 0

    @property
    def outputs(self) -> int:
        """Output-layer size: the class count, or 1 for regression."""
        return 1 if self.problem == "regression" else self.num_classes

    @property
    def sizes(self) -> tuple[int, ...]:
        """Layer widths from input to output."""
        return (len(self.features), *self.hidden_layers, self.outputs)


class Point(_Msg, gc=False):
    """A data point; ``label`` is a class index (classification) or a value (regression)."""

    x: Coordinate
    y: Coordinate
    label: Union[int, float]  # noqa: UP007 -- checked against the problem by check()
    test: bool = False


#: A base64 string of packed little-endian numbers (docs/protocol.md, "packed form"); its
#: length is checked against the count it must hold (a 4 MiB message bounds it anyway).
Packed = Annotated[str, Meta(max_length=MAX_MESSAGE_BYTES)]


class PackedPoints(_Msg):
    """Points in the packed form: ``count`` points as parallel base64 arrays.

    ``x``, ``y``: float32 each; ``label``: uint8 class indices (classification) or float32
    values (regression); ``test``: a bitmask, bit i (least significant first in each byte)
    set when point i is a test point; absent: no test points.
    """

    count: Annotated[int, Meta(ge=0, le=MAX_POINTS)]
    x: Packed
    y: Packed
    label: Packed
    test: Packed | None = None


Points = Union[Annotated[list[Point], Meta(max_length=MAX_POINTS)], PackedPoints]  # noqa: UP007
Sizes = Annotated[
    list[Annotated[int, Meta(ge=1, le=MAX_NEURONS)]],
    Meta(min_length=2, max_length=MAX_HIDDEN_LAYERS + 2),
]


class NetworkData(_Msg, omit_defaults=True):
    """A network (or an optimizer buffer shaped like one), in one of two forms.

    Lists: ``weights[i]`` is layer i's out×in matrix (torch.nn.Linear layout), ``biases[i]``
    its bias. Packed: ``sizes`` (input, hidden..., output widths) and ``f32``, the base64
    little-endian float32 vector of every weight matrix (row-major, layer by layer) followed
    by every bias. check() makes sure exactly one form is complete.
    """

    weights: Layers | None = None
    biases: BiasLayers | None = None
    sizes: Sizes | None = None
    f32: Packed | None = None

    @property
    def packed(self) -> bool:
        """True for the packed form."""
        return self.f32 is not None


class Buffers(_Msg, omit_defaults=True):
    """Optimizer buffers, network-shaped, named as torch.optim names them; absent = zeros."""

    momentum_buffer: NetworkData | None = None
    exp_avg: NetworkData | None = None
    exp_avg_sq: NetworkData | None = None
    square_avg: NetworkData | None = None

    def items(self) -> list[tuple[str, NetworkData]]:
        """The buffers present, as (name, data) pairs."""
        pairs = [(name, getattr(self, name)) for name in self.__struct_fields__]
        return [(name, value) for name, value in pairs if value is not None]


class OptimizerState(_Msg):
    """What the optimizer carries between requests; global_step is the RNG position too."""

    optimizer: OptimizerName
    step: Count = 0
    global_step: Count = 0
    buffers: Buffers = field(default_factory=Buffers)


# Requests.
class TrainStep(_Msg, tag="train_step", tag_field="type", kw_only=True):
    """Train up to ``config.steps`` steps (or ``config.time_budget_ms``) from the given state.

    ``packed``: the reply's network and buffers in the packed form. ``snapshot_ms``: also
    return the network every this many milliseconds of training (for smooth animation).
    ``snapshot_steps``: also return it after every this many steps (a page training at a
    pace shows one per display frame); at most MAX_SNAPSHOT_FRAMES of them per request.
    """

    id: Id = None
    config: Config = field(default_factory=Config)
    network: NetworkData | None = None
    optimizer_state: OptimizerState | None = None
    data: Points
    packed: bool = False
    snapshot_ms: Annotated[float, Meta(ge=1, le=MAX_TIME_BUDGET_MS)] | None = None
    snapshot_steps: Annotated[int, Meta(ge=1, le=MAX_STEPS)] | None = None


class InitNetwork(_Msg, tag="init_network", tag_field="type", kw_only=True):
    """A fresh network from ``config.seed``, keeping what it shares with ``network``."""

    id: Id = None
    config: Config = field(default_factory=Config)
    network: NetworkData | None = None
    previous_features: Features | None = None
    packed: bool = False


class Evaluate(_Msg, tag="evaluate", tag_field="type", kw_only=True):
    """Losses, accuracies and per-point predictions of a network."""

    id: Id = None
    config: Config = field(default_factory=Config)
    network: NetworkData
    data: Points


class GenerateData(_Msg, tag="generate_data", tag_field="type", kw_only=True):
    """Points of a named dataset (nnvisu.datasets)."""

    id: Id = None
    dataset: str
    n: Annotated[int, Meta(ge=1, le=MAX_POINTS)] = 200
    noise: Annotated[float, Meta(ge=0, le=1)] = 0.1
    num_classes: Annotated[int, Meta(ge=2, le=MAX_CLASSES)] = 2
    seed: Seed = 0
    test_ratio: Annotated[float, Meta(ge=0, le=0.9)] = 0.5


class CompareRun(_Msg):
    """One run of a ``compare_step``: its own setup and state, as a ``train_step`` carries them."""

    config: Config = field(default_factory=Config)
    network: NetworkData | None = None
    optimizer_state: OptimizerState | None = None


class CompareStep(_Msg, tag="compare_step", tag_field="type", kw_only=True):
    """Train two runs on the same points in lockstep: both advance by the same step count.

    ``steps`` and ``time_budget_ms`` bound the request for both runs (the runs' own
    ``config.steps`` and ``config.time_budget_ms`` are ignored); ``packed`` and ``snapshot_ms``
    are as in ``train_step``.
    """

    id: Id = None
    runs: Annotated[list[CompareRun], Meta(min_length=2, max_length=2)]
    data: Points
    steps: Annotated[int, Meta(ge=1, le=MAX_STEPS)] = 1
    time_budget_ms: Annotated[float, Meta(ge=1, le=MAX_TIME_BUDGET_MS)] | None = None
    packed: bool = False
    snapshot_ms: Annotated[float, Meta(ge=1, le=MAX_TIME_BUDGET_MS)] | None = None


class Info(_Msg, tag="info", tag_field="type", kw_only=True):
    """What this server offers: version, datasets, names, limits."""

    id: Id = None


Request = Union[TrainStep, InitNetwork, Evaluate, GenerateData, Info, CompareStep]  # noqa: UP007
REQUEST_TYPES: dict[Any, type[Struct]] = {
    cls.__struct_config__.tag: cls
    for cls in (TrainStep, InitNetwork, Evaluate, GenerateData, Info, CompareStep)
}


# Replies (encoded only: their field types document the wire format).
class Snapshot(_Msg):
    """The network part-way through a train_step, ``at_ms`` milliseconds into its training."""

    global_step: int
    epoch: float
    at_ms: float
    network: NetworkData
    train_loss: float
    test_loss: float | None
    accuracy: float | None
    test_accuracy: float | None


class TrainStepResult(
    _Msg, tag="train_step_result", tag_field="type", kw_only=True, omit_defaults=True
):
    """The new state after training, and metrics (eval mode, no penalty) after the steps.

    ``snapshots`` is there only when the request asked for them (``snapshot_ms``).
    """

    id: Id
    network: NetworkData
    optimizer_state: OptimizerState
    loss: float
    train_loss: float
    test_loss: float | None
    accuracy: float | None
    test_accuracy: float | None
    steps: int
    global_step: int
    epoch: float
    elapsed_ms: float
    adapted: bool
    snapshots: list[Snapshot] | None = None


class CompareStepResult(_Msg, tag="compare_step_result", tag_field="type", kw_only=True):
    """Both runs after the same number of steps, each as a solo ``train_step`` would reply."""

    id: Id = None
    runs: list[TrainStepResult]
    steps: int
    elapsed_ms: float


class NetworkReply(_Msg, tag="network", tag_field="type", kw_only=True):
    """A network and a fresh optimizer state for it."""

    id: Id = None
    network: NetworkData
    optimizer_state: OptimizerState


class EvaluateResult(_Msg, tag="evaluate_result", tag_field="type", kw_only=True):
    """Metrics and predictions (class probabilities per point, or values)."""

    id: Id = None
    train_loss: float | None
    test_loss: float | None
    accuracy: float | None
    test_accuracy: float | None
    predictions: list[float | list[float]]


class DataReply(_Msg, tag="data", tag_field="type", kw_only=True):
    """Generated points and the problem they pose."""

    id: Id = None
    data: list[Point]
    problem: Problem
    num_classes: int


class DatasetSummary(_Msg):
    """One dataset in the info reply."""

    problem: Problem
    min_classes: int
    max_classes: int


class InfoResult(_Msg, tag="info_result", tag_field="type", kw_only=True):
    """Server capabilities."""

    id: Id = None
    version: str
    datasets: dict[str, DatasetSummary]
    activations: list[str]
    optimizers: list[str]
    features: list[str]
    limits: dict[str, float]


class ErrorReply(_Msg, tag="error", tag_field="type", kw_only=True):
    """A request that could not be served; ``field`` names the offending field when known."""

    id: Id = None
    code: ErrorCode
    message: str
    field: str | None = None


Reply = Union[  # noqa: UP007
    TrainStepResult,
    CompareStepResult,
    NetworkReply,
    EvaluateResult,
    DataReply,
    InfoResult,
    ErrorReply,
]
LIMITS: dict[str, float] = {
    "max_points": MAX_POINTS,
    "max_classes": MAX_CLASSES,
    "max_hidden_layers": MAX_HIDDEN_LAYERS,
    "max_neurons": MAX_NEURONS,
    "max_steps": MAX_STEPS,
    "max_time_budget_ms": MAX_TIME_BUDGET_MS,
    "max_request_ms": MAX_REQUEST_MS,
    "max_message_bytes": MAX_MESSAGE_BYTES,
}
