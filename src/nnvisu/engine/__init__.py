"""The stateless PyTorch engine: pure functions, no I/O, no state.

``init_network`` makes a seeded MLP, ``train`` runs k optimizer steps from a given network and
optimizer state and returns the new ones, ``evaluate`` scores and predicts. Everything a step
depends on is an argument, so N calls of k steps give the weights of one call of N·k steps.
The steps run as one TorchScript function (:mod:`.steps`); the only module-level objects are
that compiled function and a small cache of features derived from a ``Data`` object, neither
of which can change a result.
"""

from nnvisu.engine.activations import ACTIVATIONS
from nnvisu.engine.network import (
    FEATURES,
    NetSpec,
    Network,
    adapt_outputs,
    forward,
    init_network,
    make_features,
    penalty_grad,
    transfer,
)
from nnvisu.engine.optim import BUFFERS, OPTIMIZERS
from nnvisu.engine.trainer import (
    Data,
    Deadline,
    DivergedError,
    Evaluation,
    Metrics,
    OptimizerState,
    Snapshot,
    TrainOptions,
    TrainResult,
    dropout_masks,
    evaluate,
    stream_seed,
    train,
)

__all__ = [
    "ACTIVATIONS", "BUFFERS", "FEATURES", "OPTIMIZERS", "Data", "Deadline", "DivergedError",
    "Evaluation", "Metrics", "NetSpec", "Network", "OptimizerState", "Snapshot", "TrainOptions",
    "TrainResult",
    "adapt_outputs", "dropout_masks", "evaluate", "forward", "init_network", "make_features",
    "penalty_grad", "stream_seed", "train", "transfer",
]  # fmt: skip
