"""The widget files ``NNVisu.save`` wrote before setups (:mod:`nnvisu.setup_doc`); still read."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from nnvisu import protocol

FORMAT = "nnvisu-widget"
VERSION = 1
#: The traits a file holds: all but the transient ``status`` and ``playing``.
TRAITS = (
    "data", "config", "network", "optimizer_state", "metrics", "history", "dataset", "view",
    "timeline", "classroom",
)  # fmt: skip


def write(path: Path, state: dict[str, Any]) -> None:
    """Write the traits in ``state`` to ``path`` with the format name and version."""
    document = {"format": FORMAT, "version": VERSION, **{name: state[name] for name in TRAITS}}
    path.write_text(json.dumps(document, allow_nan=False), encoding="utf-8")


def is_widget_file(path: Path) -> bool:
    """True if ``path`` holds this older format (a cheap look at its start)."""
    try:
        with path.open("rb") as file:
            head = file.read(200)
    except OSError:
        return False
    return f'"format": "{FORMAT}"'.encode() in head or f'"format":"{FORMAT}"'.encode() in head


def read(path: Path) -> dict[str, Any]:
    """Return the traits saved at ``path``, validated as protocol requests are.

    Raises:
        ValueError: not JSON, not this format, another version, missing or unknown keys, or
            a config/network/data/optimizer state that does not validate (named).
    """
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{path} is not an nnvisu widget file (not JSON: {error})") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ValueError(f"{path} is not an nnvisu widget file (no format {FORMAT!r})")
    if document.get("version") != VERSION:
        raise ValueError(f"{path} has version {document.get('version')!r}; this reads {VERSION}")
    expected = {"format", "version", *TRAITS}
    missing, unknown = expected - set(document), set(document) - expected
    if missing or unknown:
        raise ValueError(f"{path}: missing keys {sorted(missing)}, unknown keys {sorted(unknown)}")
    _validate(document)
    return {name: document[name] for name in TRAITS}


def _validate(state: dict[str, Any]) -> None:
    model = {"config": state["config"], "network": state["network"]}
    protocol.decode_request({"type": "evaluate", **model, "data": state["data"]})
    # A train_step checks the optimizer buffers' shapes; it needs one training point.
    anchor = {"x": 0.0, "y": 0.0, "label": 0}
    protocol.decode_request({"type": "train_step", **model, "data": [anchor],
                             "optimizer_state": state["optimizer_state"]})  # fmt: skip
