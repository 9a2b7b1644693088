"""nnvisu.datasets: determinism, bounds, balance, validation and the conversions."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnvisu.datasets import (
    DATASETS,
    MAX_POINTS,
    DatasetInfo,
    from_pandas,
    from_points,
    generate,
    to_pandas,
    to_points,
)

# The generators README.md and docs/protocol.md name, in the order the page lists them.
DOCUMENTED_NAMES = [
    "circle", "xor", "gauss", "spiral", "moons", "concentric_circles", "blobs",
    "anisotropic_blobs", "varied_blobs", "plane", "multi_gaussian",
]  # fmt: skip
CASES = [
    (name, k)
    for name, info in DATASETS.items()
    for k in range(info.min_classes, info.max_classes + 1)
]


def check_dataset(X: np.ndarray, y: np.ndarray, name: str, n: int, k: int) -> None:
    """The invariants every generated dataset satisfies."""
    assert X.shape == (n, 2) and X.dtype == np.float64
    assert y.shape == (n,)
    assert np.isfinite(X).all() and (np.abs(X) <= 1.0).all()
    if DATASETS[name].problem == "classification":
        assert y.dtype == np.int64
        counts = np.bincount(y, minlength=k)
        assert len(counts) == k, "labels outside 0..k-1"
        assert counts.max() - counts.min() <= 1
    else:
        assert y.dtype == np.float64
        assert np.isfinite(y).all() and (np.abs(y) <= 1.0).all()


def test_registry_holds_the_documented_datasets_in_order() -> None:
    assert list(DATASETS) == DOCUMENTED_NAMES
    for name, info in DATASETS.items():
        assert isinstance(info, DatasetInfo) and info.name == name and info.description
        assert info.problem in ("classification", "regression")
        assert info.min_classes <= info.default_classes <= info.max_classes
        if info.problem == "classification":
            assert info.min_classes >= 2 and info.max_classes <= 8
        else:
            assert info.min_classes == info.max_classes == 1
    with pytest.raises(AttributeError):
        DATASETS["blobs"].max_classes = 100  # type: ignore[misc]


def test_class_ranges_as_documented() -> None:
    ranges = {name: (i.min_classes, i.max_classes) for name, i in DATASETS.items()}
    assert ranges["moons"] == ranges["xor"] == ranges["circle"] == (2, 2)
    for name in ("gauss", "spiral", "concentric_circles", "blobs", "varied_blobs"):
        assert ranges[name] == (2, 8)


@pytest.mark.parametrize(("name", "k"), CASES)
def test_every_dataset_and_class_count(name: str, k: int) -> None:
    for n, noise in ((1, 0.0), (7, 1.0), (301, 0.3)):
        check_dataset(*generate(name, n=n, noise=noise, num_classes=k, seed=5), name, n, k)


@pytest.mark.parametrize("name", DOCUMENTED_NAMES)
def test_largest_and_noisiest_stay_in_bounds(name: str) -> None:
    k = DATASETS[name].max_classes
    for noise in (0.0, 1.0):
        check_dataset(*generate(name, MAX_POINTS, noise, k, seed=2**63 - 1), name, MAX_POINTS, k)


@pytest.mark.parametrize("name", DOCUMENTED_NAMES)
def test_deterministic_per_seed(name: str) -> None:
    k = DATASETS[name].max_classes
    X1, y1 = generate(name, 200, 0.2, k, seed=11)
    X2, y2 = generate(name, 200, 0.2, k, seed=11)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    X3, _ = generate(name, 200, 0.2, k, seed=12)
    assert not np.array_equal(X1, X3)
    X4, _ = generate(name, 200, 0.0, k, seed=13)  # even clean data differs per seed
    assert not np.array_equal(generate(name, 200, 0.0, k, seed=14)[0], X4)


def test_global_numpy_rng_untouched() -> None:
    np.random.seed(123)
    expected = np.random.random()
    np.random.seed(123)
    generate("spiral", 50, 0.5, 3, seed=1)
    assert np.random.random() == expected


def test_clean_shapes_have_their_geometry() -> None:
    X, y = generate("circle", 500, 0.0, 2, seed=0)
    radius = np.hypot(X[:, 0], X[:, 1])
    assert radius[y == 0].max() <= 2.5 / 6 and radius[y == 1].min() >= 3.5 / 6 - 1e-12
    X, y = generate("xor", 500, 0.0, 2, seed=0)
    np.testing.assert_array_equal(X[:, 0] * X[:, 1] < 0, y == 1)
    X, y = generate("concentric_circles", 500, 0.0, 4, seed=0)
    np.testing.assert_allclose(np.hypot(X[:, 0], X[:, 1]), 0.9 * (y + 1) / 4)
    X, y = generate("plane", 500, 0.0, seed=0)
    np.testing.assert_allclose(y, X.sum(axis=1) / 2)
    X, y = generate("multi_gaussian", 2000, 0.0, seed=0)
    assert y.min() < -0.8 and y.max() > 0.8 and (y == 0).any()
    X, y = generate("gauss", 400, 0.0, 2, seed=0)
    assert X[y == 0].mean(axis=0) @ [1, 1] > 0 > X[y == 1].mean(axis=0) @ [1, 1]


def test_accepts_numpy_scalars_and_regression_ignores_num_classes() -> None:
    X, y = generate("blobs", np.int64(30), np.float32(0.5), np.int8(3), np.uint32(4))
    check_dataset(X, y, "blobs", 30, 3)
    np.testing.assert_array_equal(generate("plane", 9, num_classes=2)[1], generate("plane", 9)[1])


BAD_PARAMETERS = [
    ({"name": "nope"}, "known: circle, xor"),
    ({"name": 3}, "unknown dataset 3"),
    ({"n": 0}, r"n=0 .*\[1, 10000\]"),
    ({"n": 10_001}, r"n=10001"),
    ({"n": 10**9}, r"n=1000000000 "),
    ({"n": 1e9}, r"n must be an integer .* got 1000000000\.0"),
    ({"n": 10**100_000}, r"n=<integer of 332193 bits> .*\[1, 10000\]"),
    ({"n": True}, "got True"),
    ({"n": "5"}, "n must be an integer"),
    ({"n": 2.0}, "n must be an integer"),
    ({"noise": math.nan}, "noise .* got nan"),
    ({"noise": math.inf}, "noise"),
    ({"noise": -0.1}, r"noise .*\[0.0, 1.0\]"),
    ({"noise": 1.01}, "noise"),
    ({"noise": True}, "noise"),
    ({"noise": "0.1"}, "noise"),
    ({"noise": None}, "noise"),
    ({"noise": 10**400}, "noise"),
    ({"name": "blobs", "num_classes": 3_000_000}, r"num_classes=3000000 .*\[2, 8\]"),
    ({"name": "blobs", "num_classes": 1}, "num_classes=1"),
    ({"name": "spiral", "num_classes": 9}, "num_classes=9"),
    ({"name": "moons", "num_classes": 3}, r"num_classes=3 .*\[2, 2\]"),
    ({"name": "xor", "num_classes": 4}, "num_classes=4"),
    ({"name": "plane", "num_classes": 3_000_000}, "num_classes"),
    ({"num_classes": 2.0}, "num_classes must be an integer"),
    ({"num_classes": False}, "num_classes"),
    ({"seed": -1}, "seed=-1"),
    ({"seed": 2**64}, "seed=18446744073709551616"),
    ({"seed": 1.5}, "seed"),
    ({"seed": True}, "seed"),
    ({"seed": None}, "seed"),
]


@pytest.mark.parametrize(("change", "message"), BAD_PARAMETERS)
def test_bad_parameters_raise_value_error(change: dict[str, object], message: str) -> None:
    # Validation runs before any allocation, so even n=10**9 raises at once.
    params: dict[str, object] = {"name": "spiral", "n": 10, "noise": 0.1, "num_classes": 2}
    params.update(change)
    with pytest.raises(ValueError, match=message):
        generate(**params)  # type: ignore[arg-type]


def test_to_points_shape_and_types() -> None:
    points = to_points(*generate("gauss", 5, 0.1, 2), test_ratio=0.4, seed=1)
    assert [sorted(p) for p in points] == [["label", "test", "x", "y"]] * 5
    assert all(type(p["label"]) is int and type(p["x"]) is float for p in points)
    assert sum(p["test"] for p in points) == 2 and all(type(p["test"]) is bool for p in points)
    values = to_points(*generate("plane", 5))
    assert all(type(p["label"]) is float and p["test"] is False for p in values)


@pytest.mark.parametrize(("n", "ratio"), [(1, 0.5), (3, 0.5), (5, 0.5), (10, 0.9), (7, 1.0)])
def test_to_points_split_is_exact_and_deterministic(n: int, ratio: float) -> None:
    X, y = generate("blobs", n, 0.1, 2)
    split = [p["test"] for p in to_points(X, y, ratio, seed=3)]
    assert sum(split) == round(n * ratio)
    assert split == [p["test"] for p in to_points(X, y, ratio, seed=3)]


def test_to_points_split_depends_on_seed() -> None:
    X, y = generate("blobs", 100, 0.1, 2)
    splits = {tuple(p["test"] for p in to_points(X, y, 0.5, seed=s)) for s in range(3)}
    assert len(splits) == 3


@pytest.mark.parametrize("name", ["spiral", "multi_gaussian"])
def test_points_round_trip_through_json(name: str) -> None:
    X, y = generate(name, 50, 0.3, 2, seed=4)
    for points in (to_points(X, y, 0.5), json.loads(json.dumps(to_points(X, y, 0.5)))):
        X2, y2 = from_points(points)
        np.testing.assert_array_equal(X2, X)
        np.testing.assert_array_equal(y2, y)
        assert y2.dtype == y.dtype


def test_from_points_label_dtypes_and_empty() -> None:
    assert from_points([{"x": 0, "y": 0, "label": 1}])[1].dtype == np.int64
    mixed = [{"x": 0, "y": 0, "label": 1}, {"x": 0.5, "y": 0, "label": 0.25, "test": True}]
    assert from_points(mixed)[1].tolist() == [1.0, 0.25]
    X, y = from_points([])
    assert X.shape == (0, 2) and y.shape == (0,)


@pytest.mark.parametrize(
    ("points", "message"),
    [
        ([{"x": 0, "y": 0}], r"points\[0\] is missing label"),
        ([{"x": 0, "y": 0, "label": 0}, {"label": 0}], r"points\[1\] is missing x, y"),
        ([[0, 0, 1]], r"points\[0\] must be a dict"),
        ([{"x": "0", "y": 0, "label": 0}], r"points\[0\]\.x must be a number"),
        ([{"x": 0, "y": 0, "label": True}], r"points\[0\]\.label must be a number"),
        ([{"x": math.nan, "y": 0, "label": 0}], "finite"),
        ([{"x": 0, "y": 0, "label": math.inf}], "finite"),
        ([{"x": 10**400, "y": 0, "label": 0}], "fit"),
        ([{"x": 0, "y": 0, "label": 2**70}], "fit"),
    ],
)
def test_from_points_rejects_bad_points(points: list[object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        from_points(points)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("X", "y", "kwargs", "message"),
    [
        (np.zeros((3, 3)), np.zeros(3), {}, r"shape \(n, 2\)"),
        (np.zeros((3, 2)), np.zeros(4), {}, r"labels must have shape \(3,\)"),
        (np.full((1, 2), np.nan), np.zeros(1), {}, "finite"),
        (np.zeros((1, 2)), np.array([np.nan]), {}, "finite"),
        (np.zeros((1, 2)), np.array(["a"]), {}, "integers or finite floats"),
        (np.zeros((1, 2)), np.array([True]), {}, "integers or finite floats"),
        ([["a", "b"]], [0], {}, "must be numbers"),
        (np.zeros((1, 2)), [0], {"test_ratio": 1.5}, r"test_ratio .*\[0.0, 1.0\]"),
        (np.zeros((1, 2)), [0], {"test_ratio": math.nan}, "test_ratio"),
        (np.zeros((1, 2)), [0], {"seed": -3}, "seed=-3"),
    ],
)
def test_to_points_rejects_bad_input(X: object, y: object, kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        to_points(X, y, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["varied_blobs", "plane"])
def test_pandas_round_trip(name: str) -> None:
    X, y = generate(name, 40, 0.2, 2, seed=9)
    df = to_pandas(X, y)
    assert list(df.columns) == ["x", "y", "label"] and len(df) == 40
    X2, y2 = from_pandas(df.assign(test=False))  # extra columns are ignored
    np.testing.assert_array_equal(X2, X)
    np.testing.assert_array_equal(y2, y)
    assert y2.dtype == y.dtype


def test_from_pandas_names_missing_columns() -> None:
    df = to_pandas(*generate("moons", 4))
    with pytest.raises(ValueError, match="missing column.*label"):
        from_pandas(df.drop(columns="label"))
    with pytest.raises(ValueError, match="missing column.*x, y"):
        from_pandas(df.rename(columns={"x": "a", "y": "b"}))


def test_importing_datasets_does_not_import_pandas() -> None:
    code = "import sys, nnvisu.datasets; sys.exit('pandas' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_property_random_valid_parameters(data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(DOCUMENTED_NAMES))
    info = DATASETS[name]
    n = data.draw(st.integers(1, 500))
    noise = data.draw(st.floats(0.0, 1.0))
    k = data.draw(st.integers(info.min_classes, info.max_classes))
    seed = data.draw(st.integers(0, 2**63 - 1))
    X, y = generate(name, n, noise, k, seed)
    check_dataset(X, y, name, n, k)
    np.testing.assert_array_equal(generate(name, n, noise, k, seed)[0], X)
    ratio = data.draw(st.floats(0.0, 1.0))
    points = to_points(X, y, ratio, seed)
    assert sum(p["test"] for p in points) == round(n * ratio)
    X2, y2 = from_points(points)
    np.testing.assert_array_equal(X2, X)
    np.testing.assert_array_equal(y2, y)


@settings(max_examples=40, deadline=None)
@given(
    n=st.one_of(st.integers().filter(lambda v: not 1 <= v <= MAX_POINTS), st.floats()),
    seed=st.one_of(st.integers(max_value=-1), st.integers(min_value=2**63)),
)
def test_property_out_of_range_values_raise(n: object, seed: int) -> None:
    with pytest.raises(ValueError, match="n"):
        generate("blobs", n=n)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="seed"):
        generate("blobs", seed=seed)
