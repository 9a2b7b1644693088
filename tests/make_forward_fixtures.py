"""Write tests/fixtures/forward.json: torch's forward pass of random MLPs, for the JS forward pass.

Plain torch in float64, independent of ``nnvisu.engine``: it follows the numerical definitions
of docs/design.md (features, activations, linear output then softmax or identity), so the JS test
checks the definitions themselves, not one implementation against another.

Run from the repository root: ``python tests/make_forward_fixtures.py``. The output is
deterministic (fixed seeds); rerun it only when the definitions change.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

import torch

from nnvisu.engine import activations as engine_activations

OUT = Path(__file__).resolve().parent / "fixtures" / "forward.json"
GRID_N = 4  # the first GRID_N² inputs are evaluateGrid's sample points for this n
WEIGHT_DIGITS = 9  # weights are rounded first, so JSON carries exactly what torch used
VALUE_DIGITS = 12

FEATURES: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "x": lambda x, y: x,
    "y": lambda x, y: y,
    "x2": lambda x, y: x * x,
    "y2": lambda x, y: y * y,
    "xy": lambda x, y: x * y,
    "sinx": lambda x, y: torch.sin(x),
    "siny": lambda x, y: torch.sin(y),
}

#: Each activation as its row's torch.nn module (what to_torch() uses): the JS formulas of the
#: same rows are checked against it.
ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    name: row.module() for name, row in engine_activations.ACTIVATIONS.items()
}

# (features, hidden_layers, problem, num_classes): together they cover every feature, 0 to 6
# hidden layers, 2 to 8 classes and regression; each runs with every activation.
ARCHITECTURES: list[tuple[list[str], list[int], str, int]] = [
    (["x", "y"], [], "classification", 2),
    (["x", "y", "x2", "y2", "xy", "sinx", "siny"], [5, 3], "classification", 3),
    (["x2", "y2", "xy", "sinx"], [8, 8, 8, 8, 8, 8], "regression", 1),
    (["siny", "x", "y2"], [4], "classification", 8),
    (["xy", "sinx", "y"], [6, 1, 7], "classification", 5),
]


def rounded(t: torch.Tensor, digits: int) -> torch.Tensor:
    return torch.tensor([float(f"{v:.{digits}g}") for v in t.flatten().tolist()]).reshape(t.shape)


def grid_points(n: int) -> list[tuple[float, float]]:
    """evaluateGrid's cell order: row 0 is y = +1, col 0 is x = -1, both ends included."""
    return [(-1 + 2 * c / (n - 1), 1 - 2 * r / (n - 1)) for r in range(n) for c in range(n)]


def make_case(gen: torch.Generator, activation: str, arch: tuple[list[str], list[int], str, int]):
    features, hidden, problem, num_classes = arch
    sizes = [len(features), *hidden, num_classes if problem == "classification" else 1]
    weights, biases = [], []
    for fan_in, fan_out in zip(sizes, sizes[1:], strict=False):
        # Wider than torch's default init, so activations see their non-linear range.
        bound = 2.5 / math.sqrt(fan_in)
        weights.append(
            rounded((torch.rand(fan_out, fan_in, generator=gen) * 2 - 1) * bound, WEIGHT_DIGITS)
        )
        biases.append(rounded((torch.rand(fan_out, generator=gen) * 2 - 1) * 0.8, WEIGHT_DIGITS))

    extra = (torch.rand(6, 2, generator=gen) * 3 - 1.5).tolist()  # some beyond [-1, 1]
    inputs = [*grid_points(GRID_N), *[(float(a), float(b)) for a, b in extra]]
    xs = torch.tensor([p[0] for p in inputs], dtype=torch.float64)
    ys = torch.tensor([p[1] for p in inputs], dtype=torch.float64)

    h = torch.stack([FEATURES[f](xs, ys) for f in features], dim=1)
    layers = [h]
    for i, (w, b) in enumerate(zip(weights, biases, strict=True)):
        h = h @ w.T + b
        if i < len(weights) - 1:
            h = ACTIVATIONS[activation](h)
        elif problem == "classification":
            h = torch.softmax(h, dim=1)
        layers.append(h)

    def values(t: torch.Tensor) -> list[list[float]]:
        return [[float(f"{v:.{VALUE_DIGITS}g}") for v in row] for row in t.tolist()]

    return {
        "name": f"{activation} {'+'.join(features)} {hidden} {problem} {num_classes}",
        "config": {
            "features": features,
            "activation": activation,
            "problem": problem,
            "num_classes": num_classes,
            "hidden_layers": hidden,
        },
        "network": {
            "weights": [w.tolist() for w in weights],
            "biases": [b.tolist() for b in biases],
        },
        "inputs": [list(p) for p in inputs],
        "layers": [values(t) for t in layers],
    }


def main() -> None:
    torch.set_default_dtype(torch.float64)
    gen = torch.Generator().manual_seed(20240611)
    cases = [make_case(gen, act, arch) for act in ACTIVATIONS for arch in ARCHITECTURES]
    erf_x = torch.linspace(-7, 7, 281)
    fixture = {
        "generator": "tests/make_forward_fixtures.py",
        "torch": torch.__version__,
        "grid_n": GRID_N,
        "erf": [[float(x), float(torch.erf(x))] for x in erf_x],
        "cases": cases,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(fixture, separators=(",", ":")) + "\n")
    print(f"wrote {OUT} ({len(cases)} cases)")


if __name__ == "__main__":
    main()
