"""Seeded toy datasets in [-1, 1]² for the playground, and conversions to points/numpy/pandas.

``generate(name, n, noise, num_classes, seed)`` is a pure function of its arguments: a fresh
``np.random.default_rng(seed)`` drives all randomness (no global RNG state). Arguments are
validated before any work and the work is O(n) with n <= 10 000 (no rejection sampling), so
every call returns, or raises ``ValueError``, in bounded time.

The TensorFlow Playground shapes (circle, xor, gauss, spiral, plane, multi_gaussian) keep that
playground's geometry: its coordinates divided by 6, the half-width of its plot. Points are
finally clipped into [-1, 1]², so heavy noise piles a few points onto the border.
"""

from __future__ import annotations

import math
import numbers
import reprlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:  # pandas is optional and slow to import: only the pandas helpers import it
    import pandas as pd

__all__ = [
    "DATASETS", "MAX_POINTS", "DatasetInfo", "from_pandas", "from_points", "generate",
    "to_pandas", "to_points",
]  # fmt: skip

MAX_POINTS = 10_000
MAX_SEED = 2**63 - 1
JITTER = 0.15  # std of the Gaussian position noise at noise=1 for the curve-shaped datasets

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
# A shape places points for given labels; a surface samples points and their regression values.
Shape = Callable[[np.random.Generator, Ints, int, float], Floats]
Surface = Callable[[np.random.Generator, int, float], tuple[Floats, Floats]]


@dataclass(frozen=True)
class DatasetInfo:
    """What a dataset is and which ``num_classes`` it accepts (regression datasets: 1)."""

    name: str
    problem: Literal["classification", "regression"]
    min_classes: int
    max_classes: int
    default_classes: int
    description: str
    #: How the page names it.
    label: str


def _info(name: str, label: str, lo: int, hi: int, description: str) -> DatasetInfo:
    return DatasetInfo(name, "classification", lo, hi, 2, description, label)


_REGRESSION_NOISE = "noise: Gaussian value noise, std 0.3·noise, then clipped to [-1, 1]."
DATASETS: dict[str, DatasetInfo] = {
    info.name: info
    for info in [
        _info("circle", "Circle", 2, 2, "Inner disc (class 0) inside a ring (class 1), as in "
              "TensorFlow Playground. noise: Gaussian position jitter, std 0.15·noise."),
        _info("xor", "XOR", 2, 2, "Quadrants: class 0 where x·y > 0, class 1 where x·y < 0 "
              "(TensorFlow Playground). Two classes only: more would no longer be an XOR. "
              "noise: position jitter, std 0.15·noise."),
        _info("gauss", "Gaussian clusters", 2, 8, "Gaussian clusters evenly spaced on a ring "
              "(the two diagonal ones of TensorFlow Playground for 2 classes). noise widens "
              "them: std 0.1 + 0.25·noise."),
        _info("spiral", "Spiral", 2, 8, "Interleaved spiral arms, one per class (TensorFlow "
              "Playground's two arms; fewer turns with more arms). noise: position jitter, "
              "std 0.15·noise."),
        _info("moons", "Moons", 2, 2, "Two interleaving half circles (scikit-learn's make_moons). "
              "noise: position jitter, std 0.15·noise."),
        _info("concentric_circles", "Concentric circles", 2, 8, "Concentric thin rings, class 0 "
              "innermost. noise: position jitter, std 0.15·noise."),
        _info("blobs", "Blobs", 2, 8, "Isotropic Gaussian blobs at random, distinct places "
              "(scikit-learn's make_blobs). noise widens them: std 0.05 + 0.2·noise."),
        _info("anisotropic_blobs", "Anisotropic blobs", 2, 8, "Elongated Gaussian blobs (4.5:1) "
              "with random orientations. noise widens them: base std 0.05 + 0.2·noise."),
        _info("varied_blobs", "Varied blobs", 2, 8, "Gaussian blobs whose spreads differ (0.4 to "
              "2 times the base std 0.05 + 0.2·noise)."),
        DatasetInfo("plane", "regression", 1, 1, 1, "Regression: value (x + y) / 2 over uniform "
                    f"points (TensorFlow Playground). {_REGRESSION_NOISE}", "Plane"),
        DatasetInfo("multi_gaussian", "regression", 1, 1, 1, "Regression: six bumps of value ±1 "
                    "fading to 0 at distance 1/3, the largest in magnitude wins (TensorFlow "
                    f"Playground). {_REGRESSION_NOISE}", "Multi Gaussian"),
    ]
}  # fmt: skip


# Parameter validation.
def _show(value: object) -> str:
    """Repr short enough for an error message (a 10**100000 would not even convert to str)."""
    if isinstance(value, int) and value.bit_length() > 256:
        return f"<integer of {value.bit_length()} bits>"
    return reprlib.repr(value)


def _check_int(name: str, value: object, lo: int, hi: int) -> int:
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer in [{lo}, {hi}], got {_show(value)}")
    if not lo <= int(value) <= hi:
        raise ValueError(f"{name}={_show(int(value))} is out of range: allowed [{lo}, {hi}]")
    return int(value)


def _check_real(name: str, value: object, lo: float, hi: float) -> float:
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)
    try:  # a huge int overflows float(): still just a bad parameter
        number = float(value) if ok else math.nan  # type: ignore[arg-type]
    except OverflowError:
        number = math.nan
    if not lo <= number <= hi:  # also rejects nan
        raise ValueError(f"{name} must be a finite number in [{lo}, {hi}], got {_show(value)}")
    return number


# Classification shapes: (rng, labels, num_classes, noise) -> positions.
def _polar(radius: Floats | float, angle: Floats) -> Floats:
    return np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])


def _jitter(rng: np.random.Generator, n: int, noise: float) -> Floats:
    return rng.normal(0.0, JITTER * noise, (n, 2))


def _circle(rng: np.random.Generator, labels: Ints, k: int, noise: float) -> Floats:
    n = labels.size
    # TF: disc radius uniform in [0, 2.5], ring radius uniform in [3.5, 5] (its units).
    radius = np.where(labels == 0, rng.uniform(0.0, 2.5, n), rng.uniform(3.5, 5.0, n)) / 6
    return _polar(radius, rng.uniform(0.0, 2 * np.pi, n)) + _jitter(rng, n, noise)


def _xor(rng: np.random.Generator, labels: Ints, k: int, noise: float) -> Floats:
    n = labels.size
    # TF: |coordinate| uniform in [0.3, 5.3]: a gap along the axes keeps quadrants unambiguous.
    size = rng.uniform(0.3, 5.3, (n, 2)) / 6
    sign_x = rng.choice([-1.0, 1.0], n)
    signs: Floats = np.column_stack([sign_x, np.where(labels == 0, sign_x, -sign_x)])
    return size * signs + _jitter(rng, n, noise)  # the label picks the quadrant pair


def _gauss(rng: np.random.Generator, labels: Ints, k: int, noise: float) -> Floats:
    # Two classes: TF's centres (2, 2) and (-2, -2); more classes move out so they stay apart.
    radius = math.hypot(2, 2) / 6 + 0.03 * (k - 2)
    centres = _polar(radius, np.pi / 4 + 2 * np.pi * labels / k)
    return centres + rng.normal(0.0, 0.1 + 0.25 * noise, (labels.size, 2))


def _spiral(rng: np.random.Generator, labels: Ints, k: int, noise: float) -> Floats:
    n = labels.size
    along = rng.uniform(0.0, 1.0, n)
    turns = max(0.75, 3.5 / k)  # TF's 1.75 turns for two arms; fewer so 8 arms don't touch
    angle = 2 * np.pi * (turns * along + labels / k)
    return _polar(along * 5 / 6, angle) + _jitter(rng, n, noise)


def _moons(rng: np.random.Generator, labels: Ints, k: int, noise: float) -> Floats:
    t = rng.uniform(0.0, np.pi, labels.size)
    upper = labels == 0
    x = np.where(upper, np.cos(t), 1 - np.cos(t))
    y = np.where(upper, np.sin(t), 0.5 - np.sin(t))
    # make_moons spans x in [-1, 2], y in [-0.5, 1]: centre it and scale into [-0.9, 0.9].
    return 0.6 * np.column_stack([x - 0.5, y - 0.25]) + _jitter(rng, labels.size, noise)


def _concentric(rng: np.random.Generator, labels: Ints, k: int, noise: float) -> Floats:
    angle = rng.uniform(0.0, 2 * np.pi, labels.size)
    return _polar(0.9 * (labels + 1) / k, angle) + _jitter(rng, labels.size, noise)


def _blob_centres(rng: np.random.Generator, k: int, noise: float) -> tuple[Floats, float]:
    """Return k blob centres and the base blob std for this noise."""
    # k distinct cells of a grid, jittered inside their cell: random centres that never
    # coincide, without a rejection-sampling loop.
    side = 2 if k <= 4 else 3
    cells = rng.choice(side * side, size=k, replace=False)
    grid = np.column_stack([cells % side, cells // side]) + 0.5
    return -0.8 + 1.6 / side * (grid + rng.uniform(-0.15, 0.15, (k, 2))), 0.05 + 0.2 * noise


def _blobs(rng: np.random.Generator, labels: Ints, k: int, noise: float) -> Floats:
    centres, std = _blob_centres(rng, k, noise)
    return centres[labels] + rng.normal(0.0, std, (labels.size, 2))


def _anisotropic_blobs(rng: np.random.Generator, labels: Ints, k: int, noise: float) -> Floats:
    centres, std = _blob_centres(rng, k, noise)
    angle = rng.uniform(0.0, np.pi, k)[labels]
    axes = rng.normal(0.0, std, (labels.size, 2)) * [1.8, 0.4]  # 4.5:1 ellipses
    turned = (axes[:, 0] + 1j * axes[:, 1]) * np.exp(1j * angle)  # rotate by its blob's angle
    spread: Floats = np.column_stack([turned.real, turned.imag])
    return centres[labels] + spread


def _varied_blobs(rng: np.random.Generator, labels: Ints, k: int, noise: float) -> Floats:
    centres, std = _blob_centres(rng, k, noise)
    stds = std * rng.uniform(0.4, 2.0, k)
    return centres[labels] + rng.normal(0.0, 1.0, (labels.size, 2)) * stds[labels, None]


# Regression surfaces: (rng, n, noise) -> (positions, values in [-1, 1]).
# TF's six bumps (x, y, sign) in its units; a bump falls linearly from 1 to 0 at distance 2.
_BUMPS = np.array(
    [[-4, 2.5, 1], [0, 2.5, -1], [4, 2.5, 1], [-4, -2.5, -1], [0, -2.5, 1], [4, -2.5, -1]]
)


def _plane(rng: np.random.Generator, n: int, noise: float) -> tuple[Floats, Floats]:
    points = rng.uniform(-1.0, 1.0, (n, 2))
    return points, points.sum(axis=1) / 2 + rng.normal(0.0, 0.3 * noise, n)


def _multi_gaussian(rng: np.random.Generator, n: int, noise: float) -> tuple[Floats, Floats]:
    points = rng.uniform(-1.0, 1.0, (n, 2))
    distance = np.linalg.norm(points[:, None, :] - _BUMPS[None, :, :2] / 6, axis=2)
    bumps = _BUMPS[:, 2] * np.clip(1 - distance * 3, 0.0, 1.0)
    value = bumps[np.arange(n), np.abs(bumps).argmax(axis=1)]
    return points, value + rng.normal(0.0, 0.3 * noise, n)


_SHAPES: dict[str, Shape] = {
    "circle": _circle, "xor": _xor, "gauss": _gauss, "spiral": _spiral, "moons": _moons,
    "concentric_circles": _concentric, "blobs": _blobs, "anisotropic_blobs": _anisotropic_blobs,
    "varied_blobs": _varied_blobs,
}  # fmt: skip
_SURFACES: dict[str, Surface] = {"plane": _plane, "multi_gaussian": _multi_gaussian}


def generate(
    name: str, n: int = 200, noise: float = 0.1, num_classes: int = 2, seed: int = 0
) -> tuple[Floats, Ints | Floats]:
    """Generate a dataset of ``n`` points in [-1, 1]².

    Args:
        name: a key of :data:`DATASETS`.
        n: number of points, 1..10000.
        noise: 0 (clean) .. 1; its meaning per dataset is in ``DATASETS[name].description``.
        num_classes: within the dataset's ``min_classes..max_classes``. Regression datasets
            ignore it but still require an integer in 1..8 (so the protocol default 2 works).
        seed: 0..2**63-1; the same arguments always give the same arrays.

    Returns:
        ``(X, y)``: X float64 of shape (n, 2); y int64 labels in shuffled order, class counts
        differing by at most 1 (classification), or float64 values in [-1, 1] (regression).

    Raises:
        ValueError: an argument is unknown or out of range (the message names it).
    """
    if not isinstance(name, str) or name not in DATASETS:
        raise ValueError(f"unknown dataset {_show(name)}; known: {', '.join(DATASETS)}")
    info = DATASETS[name]
    n = _check_int("n", n, 1, MAX_POINTS)
    noise = _check_real("noise", noise, 0.0, 1.0)
    if info.problem == "regression":
        _check_int("num_classes", num_classes, 1, 8)
    else:
        num_classes = _check_int("num_classes", num_classes, info.min_classes, info.max_classes)
    rng = np.random.default_rng(_check_int("seed", seed, 0, MAX_SEED))
    if info.problem == "regression":
        points, values = _SURFACES[name](rng, n, noise)
        return np.clip(points, -1.0, 1.0), np.clip(values, -1.0, 1.0)
    # Balanced by construction: label i % k, shuffled so no class clusters in the list order.
    labels = rng.permutation(np.arange(n, dtype=np.int64) % num_classes)
    return np.clip(_SHAPES[name](rng, labels, num_classes, noise), -1.0, 1.0), labels


# Conversions.
def _check_xy(X: npt.ArrayLike, y: npt.ArrayLike) -> tuple[Floats, Ints | Floats]:
    try:
        xs = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"coordinates (X) must be numbers, shape (n, 2): {error}") from None
    labels = np.asarray(y)
    if xs.ndim != 2 or xs.shape[1] != 2:
        raise ValueError(f"coordinates (X) must have shape (n, 2), got {xs.shape}")
    if labels.shape != (len(xs),):
        raise ValueError(f"labels must have shape ({len(xs)},) to match X, got {labels.shape}")
    if not np.isfinite(xs).all():
        raise ValueError("coordinates (X) must be finite (no nan or inf)")
    if labels.dtype.kind in "iu":
        if labels.size and labels.max() > np.iinfo(np.int64).max:  # uint64 would wrap around
            raise ValueError(f"labels must fit in int64, got {labels.max()}")
        return xs, labels.astype(np.int64)
    if labels.dtype.kind != "f" or not np.isfinite(labels).all():
        raise ValueError(f"labels must be integers or finite floats, got dtype {labels.dtype}")
    return xs, labels.astype(np.float64)


def to_points(
    X: npt.ArrayLike, y: npt.ArrayLike, test_ratio: float = 0.0, seed: int = 0
) -> list[dict[str, Any]]:
    """Convert arrays to protocol points ``{"x", "y", "label", "test"}``.

    Args:
        X: shape (n, 2), finite.
        y: shape (n,): integer dtype gives int labels (classification), float dtype gives
            float values (regression).
        test_ratio: 0..1; exactly ``round(n * test_ratio)`` points get ``test=True``.
        seed: 0..2**63-1; picks which points are test points, deterministically.

    Raises:
        ValueError: bad shapes, dtypes, non-finite values or an out-of-range argument.
    """
    xs, labels = _check_xy(X, y)
    ratio = _check_real("test_ratio", test_ratio, 0.0, 1.0)
    rng = np.random.default_rng(_check_int("seed", seed, 0, MAX_SEED))
    test = np.zeros(len(xs), dtype=bool)
    test[rng.permutation(len(xs))[: round(len(xs) * ratio)]] = True
    return [
        {"x": px, "y": py, "label": label, "test": is_test}
        for (px, py), label, is_test in zip(
            xs.tolist(), labels.tolist(), test.tolist(), strict=True
        )
    ]


def from_points(points: Sequence[Mapping[str, Any]]) -> tuple[Floats, Ints | Floats]:
    """Convert protocol points back to ``(X, y)``; the ``test`` flags are dropped.

    y is int64 when every label is an integer, else float64 (an empty list gives int64).

    Raises:
        ValueError: a point is not a mapping, lacks x/y/label, or holds a non-numeric value.
    """
    coords: list[tuple[Any, Any]] = []
    labels: list[int | float] = []
    for i, point in enumerate(points):
        if not isinstance(point, Mapping):
            raise ValueError(f"points[{i}] must be a dict with x, y, label, got {_show(point)}")
        missing = [key for key in ("x", "y", "label") if key not in point]
        if missing:
            raise ValueError(f"points[{i}] is missing {', '.join(missing)}")
        for key in ("x", "y", "label"):
            value = point[key]
            if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
                raise ValueError(f"points[{i}].{key} must be a number, got {_show(value)}")
        coords.append((point["x"], point["y"]))
        label = point["label"]
        labels.append(int(label) if isinstance(label, numbers.Integral) else float(label))
    dtype = np.int64 if all(isinstance(label, int) for label in labels) else np.float64
    try:  # huge ints overflow float64/int64: a bad value like any other
        xs, y = np.array(coords, dtype=np.float64).reshape(-1, 2), np.array(labels, dtype)
    except OverflowError as error:
        raise ValueError(f"point values must fit in float64/int64: {error}") from None
    return _check_xy(xs, y)


def to_pandas(X: npt.ArrayLike, y: npt.ArrayLike) -> pd.DataFrame:
    """Return a DataFrame with columns ``x``, ``y``, ``label`` (imports pandas on first use)."""
    import pandas as pd

    xs, labels = _check_xy(X, y)
    return pd.DataFrame({"x": xs[:, 0], "y": xs[:, 1], "label": labels})


def from_pandas(df: pd.DataFrame) -> tuple[Floats, Ints | Floats]:
    """Return ``(X, y)`` from a DataFrame with columns ``x``, ``y``, ``label`` (others ignored).

    Raises:
        ValueError: columns are missing (the message names them) or values are not numeric.
    """
    missing = [column for column in ("x", "y", "label") if column not in df.columns]
    if missing:
        raise ValueError(f"DataFrame is missing column(s) {', '.join(missing)}; need x, y, label")
    return _check_xy(df[["x", "y"]].to_numpy(), df["label"].to_numpy())
