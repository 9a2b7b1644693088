"""A setup: ONE versioned JSON document for share links, page export/import, files and presets.

Every place that hands a playground to someone else uses it: the page's Share link (the
document compressed into the URL fragment, which never reaches a server), the page's Export
and Import, ``NNVisu.save``/``NNVisu.load``/``NNVisu(setup=...)`` and the server's
``--preset``. A document holds::

    {"format": "nnvisu-setup", "version": 1,
     "config":    protocol config (architecture, optimizer, seed: the initial weights),
     "dataset":   generator settings {"name", "n", "noise", "num_classes", "seed", "test_ratio"},
     "points":    null (the generator's points) or the points themselves [{"x","y","label","test"}],
     "view":      display toggles {"show_test", "discretize", "log_scale", ...},
     "pace":      {"rate": one of PACES, "step_size": one of STEP_SIZES},
     "classroom": {"hidden": [control names], "lock_data": bool},
     "trained":   null, or a run to continue {"network", "optimizer_state", "metrics",
                  "history", "timeline"}}

Every key but ``format`` and ``version`` may be left out: :func:`parse` fills in the defaults,
which are the same for the page and the widget. A link is ``<page URL>#setup=<payload>``, the
payload being the document's JSON, raw-deflated and base64url-encoded (the browser's
``CompressionStream("deflate-raw")``).
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from pathlib import Path
from typing import Any

import msgspec

from nnvisu import datasets, protocol
from nnvisu.classroom import check_classroom

FORMAT = "nnvisu-setup"
VERSION = 1
#: The URL fragment's key: ``#setup=<payload>``.
LINK_KEY = "setup"

#: Training paces, slowest first: display frames get one optimizer step, one epoch, ten
#: epochs, or as many steps as the time budget allows ("max").
PACES: tuple[str, ...] = ("step", "epoch", "10_epochs", "max")
#: What one press of Step trains (TensorFlow Playground's Step is one epoch).
STEP_SIZES: tuple[str, ...] = ("step", "epoch", "10_epochs")
#: The default pace shows the boundary forming over a few seconds on the default setup.
DEFAULT_PACE: dict[str, str] = {"rate": "10_epochs", "step_size": "epoch"}

#: Protocol config defaults: the page's and the widget's (circle, 4-4 tanh, SGD 0.03).
DEFAULT_CONFIG: dict[str, Any] = msgspec.to_builtins(protocol.Config())
DEFAULT_DATASET: dict[str, Any] = {
    "name": "circle", "n": 200, "noise": 0.1, "num_classes": 2, "seed": 0, "test_ratio": 0.5,
}  # fmt: skip
DEFAULT_VIEW: dict[str, Any] = {
    "show_test": True,
    "discretize": False,
    "log_scale": False,
    "tool": "add",
    "selected_class": 0,
    "value": 0.5,
    "eraser_radius": 0.1,
    "point_loss": False,
}
DEFAULT_CLASSROOM: dict[str, Any] = {"hidden": [], "lock_data": False}
TRAINED_KEYS = ("network", "optimizer_state", "metrics", "history", "timeline")
KEYS = ("config", "dataset", "points", "view", "pace", "classroom", "trained")
#: Bytes a link's payload may decompress to (the largest setup is far below this).
_MAX_INFLATED = 64 * 1024 * 1024


class SetupError(ValueError):
    """A setup document, file or link that cannot be used; the message says what is wrong."""


def parse(document: object, where: str = "setup") -> dict[str, Any]:
    """Validate a setup document and return it complete (defaults filled in).

    Args:
        document: the parsed JSON.
        where: how the messages name the document (a file name, "the link").

    Raises:
        SetupError: not a setup, another version, an unknown key, or a value that does not
            validate (the message names the key and what is allowed).
    """
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise SetupError(f'{where} is not an nnvisu setup (no "format": {FORMAT!r})')
    if document.get("version") != VERSION:
        raise SetupError(
            f"{where} has version {document.get('version')!r}; this nnvisu reads version {VERSION}"
        )
    unknown = sorted(set(document) - {"format", "version", *KEYS})
    if unknown:
        raise SetupError(f"{where} has unknown key(s) {unknown}; keys: {', '.join(KEYS)}")
    try:
        return _complete(document)
    except (ValueError, TypeError) as error:
        raise SetupError(f"{where}: {error}") from None


def _complete(doc: dict[str, Any]) -> dict[str, Any]:
    dataset = _dataset(doc.get("dataset"))
    points = doc.get("points")
    config = _config(doc.get("config"), dataset, points)
    if points is not None:
        _check_points(points, config)
    trained = doc.get("trained")
    if trained is not None:
        _check_trained(trained, config, points)
    return {
        "format": FORMAT,
        "version": VERSION,
        "config": config,
        "dataset": dataset,
        "points": points,
        "view": _view(doc.get("view")),
        "pace": _pace(doc.get("pace")),
        "classroom": check_classroom(_object(doc.get("classroom", {}), "classroom")),
        "trained": trained,
    }


def _object(value: object, name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"{name} must be a JSON object, got {value!r:.60}")
    return value


def _dataset(value: object) -> dict[str, Any]:
    settings = {**DEFAULT_DATASET, **_object(value if value is not None else {}, "dataset")}
    unknown = sorted(set(settings) - set(DEFAULT_DATASET))
    if unknown:
        raise ValueError(
            f"dataset has unknown key(s) {unknown}; keys: {', '.join(DEFAULT_DATASET)}"
        )
    name = settings["name"]
    if name not in datasets.DATASETS:
        raise ValueError(
            f"dataset.name must be one of {', '.join(datasets.DATASETS)}, got {name!r}"
        )
    request = {"type": "generate_data", "dataset": name,
               **{k: v for k, v in settings.items() if k != "name"}}  # fmt: skip
    try:
        protocol.decode_request(request)
    except protocol.ProtocolError as error:
        raise ValueError(f"dataset.{error.message}") from None
    info = datasets.DATASETS[name]
    if info.problem == "classification" and not (
        info.min_classes <= settings["num_classes"] <= info.max_classes
    ):
        raise ValueError(
            f"dataset.num_classes={settings['num_classes']} is out of range for {name!r}: "
            f"allowed [{info.min_classes}, {info.max_classes}]"
        )
    return settings


def _config(value: object, dataset: dict[str, Any], points: object) -> dict[str, Any]:
    given = _object(value if value is not None else {}, "config")
    config = {**DEFAULT_CONFIG, **given}
    if points is None:  # the generator decides the problem (and the class count)
        info = datasets.DATASETS[dataset["name"]]
        if "problem" in given and given["problem"] != info.problem:
            raise ValueError(
                f"config.problem={given['problem']!r} does not fit dataset {dataset['name']!r} "
                f"({info.problem})"
            )
        config["problem"] = info.problem
        if info.problem == "classification":
            config["num_classes"] = dataset["num_classes"]
    try:
        protocol.decode_request({"type": "init_network", "config": config})
    except protocol.ProtocolError as error:
        raise ValueError(error.message) from None
    return config


def _check_points(points: object, config: dict[str, Any]) -> None:
    if not isinstance(points, list):
        raise ValueError(f"points must be a list of points or null, got {points!r:.60}")
    anchor = {"x": 0.0, "y": 0.0, "label": 0, "test": False}  # the protocol needs a training point
    try:
        protocol.decode_request({"type": "train_step", "config": config, "data": [*points, anchor]})
    except protocol.ProtocolError as error:
        raise ValueError(error.message.replace("data", "points", 1)) from None
    if len(points) > protocol.MAX_POINTS:
        raise ValueError(f"points holds {len(points)} points; at most {protocol.MAX_POINTS}")


def _check_trained(trained: object, config: dict[str, Any], points: object) -> None:
    state = _object(trained, "trained")
    missing, unknown = set(TRAINED_KEYS) - set(state), set(state) - set(TRAINED_KEYS)
    if missing or unknown:
        raise ValueError(f"trained: missing keys {sorted(missing)}, unknown keys {sorted(unknown)}")
    data = points if isinstance(points, list) and points else [{"x": 0.0, "y": 0.0, "label": 0}]
    try:
        protocol.decode_request({"type": "train_step", "config": config, "data": data,
                                 "network": state["network"],
                                 "optimizer_state": state["optimizer_state"]})  # fmt: skip
    except protocol.ProtocolError as error:
        raise ValueError(f"trained.{error.message}") from None
    for key in ("metrics", "timeline"):
        _object(state[key], f"trained.{key}")
    if not isinstance(state["history"], list):
        raise ValueError("trained.history must be a list of records")


def _view(value: object) -> dict[str, Any]:
    view = {**DEFAULT_VIEW, **_object(value if value is not None else {}, "view")}
    unknown = sorted(set(view) - set(DEFAULT_VIEW))
    if unknown:
        raise ValueError(f"view has unknown key(s) {unknown}; keys: {', '.join(DEFAULT_VIEW)}")
    for key in ("show_test", "discretize", "log_scale", "point_loss"):
        if not isinstance(view[key], bool):
            raise ValueError(f"view.{key} must be true or false, got {view[key]!r}")
    if view["tool"] not in ("add", "erase"):
        raise ValueError(f"view.tool must be 'add' or 'erase', got {view['tool']!r}")
    cls = view["selected_class"]
    if isinstance(cls, bool) or not isinstance(cls, int) or not 0 <= cls < protocol.MAX_CLASSES:
        raise ValueError(f"view.selected_class must be an integer in 0..7, got {cls!r}")
    for key, lo, hi in (("value", -1.0, 1.0), ("eraser_radius", 0.01, 1.0)):
        number = view[key]
        if (
            isinstance(number, bool)
            or not isinstance(number, int | float)
            or not lo <= number <= hi
        ):
            raise ValueError(f"view.{key} must be a number in [{lo}, {hi}], got {number!r}")
    return view


def check_pace(value: object, name: str = "pace") -> str:
    """Return ``value`` if it is one of :data:`PACES`, else raise a ValueError naming them."""
    if value not in PACES:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, PACES))}, got {value!r}")
    return str(value)


def check_step_size(value: object, name: str = "step_size") -> str:
    """Return ``value`` if it is one of :data:`STEP_SIZES`, else raise a ValueError."""
    if value not in STEP_SIZES:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, STEP_SIZES))}, got {value!r}")
    return str(value)


def _pace(value: object) -> dict[str, str]:
    pace = {**DEFAULT_PACE, **_object(value if value is not None else {}, "pace")}
    unknown = sorted(set(pace) - set(DEFAULT_PACE))
    if unknown:
        raise ValueError(f"pace has unknown key(s) {unknown}; keys: rate, step_size")
    return {"rate": check_pace(pace["rate"], "pace.rate"),
            "step_size": check_step_size(pace["step_size"], "pace.step_size")}  # fmt: skip


# Files and links.
def loads(text: str, where: str = "setup") -> dict[str, Any]:
    """Parse a setup from JSON text (see :func:`parse`)."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise SetupError(f"{where} is not an nnvisu setup (not JSON: {error})") from None
    return parse(document, where)


def dumps(document: dict[str, Any]) -> str:
    """The JSON text of a (complete) setup document."""
    return json.dumps(document, allow_nan=False, separators=(",", ":"))


def read(source: str | Path) -> dict[str, Any]:
    """A setup from a link (``…#setup=…``) or a file path.

    Raises:
        SetupError: the link is bad or truncated, the file is missing or not a setup.
    """
    if isinstance(source, str) and (f"#{LINK_KEY}=" in source or source.startswith(f"{LINK_KEY}=")):
        return from_link(source)
    path = Path(source)
    try:
        content = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise SetupError(f"cannot read the setup file {path}: {error}") from None
    return loads(content, str(path))


def to_link(document: dict[str, Any], base_url: str = "") -> str:
    """``base_url#setup=<payload>``: the document deflated and base64url-encoded."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    raw = packer.compress(dumps(document).encode()) + packer.flush()
    payload = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    return f"{base_url.split('#', 1)[0]}#{LINK_KEY}={payload}"


def from_link(link: str) -> dict[str, Any]:
    """The setup a link carries.

    Raises:
        SetupError: no ``#setup=`` part, or a payload that is truncated or corrupt.
    """
    fragment = link.split("#", 1)[1] if "#" in link else link
    if not fragment.startswith(f"{LINK_KEY}="):
        raise SetupError(f"the link has no #{LINK_KEY}= part")
    payload = fragment[len(LINK_KEY) + 1 :]
    try:
        raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        unpacker = zlib.decompressobj(-15)
        text = unpacker.decompress(raw, _MAX_INFLATED)
        if not unpacker.eof:
            raise ValueError("truncated")
        return loads(text.decode("utf-8"), "the link's setup")
    except (binascii.Error, zlib.error, ValueError, UnicodeDecodeError) as error:
        if isinstance(error, SetupError):
            raise
        raise SetupError(
            "the link is damaged or cut short (its setup cannot be decoded): copy the whole link"
        ) from None
