"""Validation of the traits a view writes, like the protocol's messages.

A view (the browser) may write ``config``, ``network``, ``optimizer_state`` and ``data``;
the Python side (``reset()``, ``to_torch()``, ``train()``) relies on them. Each written value
is checked with the protocol's own decoder, against the rest of the widget's state, before it
is applied: an invalid one is refused (the message names the field and what is allowed) and
the widget keeps its previous, valid value.
"""

from __future__ import annotations

import logging
from typing import Any

from nnvisu import protocol

log = logging.getLogger(__name__)

#: The traits validated here; the others are display state the Python side never computes on.
CHECKED = ("config", "network", "optimizer_state", "data")
#: A point that makes any data set trainable (appended only to check the labels and ranges).
_PROBE = {"x": 0.0, "y": 0.0, "label": 0, "test": False}


def refused(current: dict[str, Any], update: dict[str, Any]) -> dict[str, str]:
    """The traits of ``update`` that are invalid, each with the reason.

    Args:
        current: the widget's values of :data:`CHECKED`.
        update: the traits a view wrote (any subset of the widget's traits).
    """
    merged = {**current, **{k: v for k, v in update.items() if k in CHECKED}}
    problems: dict[str, str] = {}
    config = merged["config"]
    if "config" in update:
        problems.update(_check("config", {"type": "init_network", "config": config}))
        if problems:
            return problems  # everything else is checked against the config
    network = merged["network"]
    if "network" in update:  # consistent in itself (a view may save it before its config)
        problems.update(_check("network", {"type": "init_network", "network": network}))
    if "optimizer_state" in update and merged["optimizer_state"] and "network" not in problems:
        request = {"type": "train_step", "config": config, "network": network,
                   "optimizer_state": merged["optimizer_state"], "data": [_PROBE]}  # fmt: skip
        problems.update(_check("optimizer_state", request, only="optimizer_state"))
    if "data" in update:
        data = merged["data"]
        points = [*data, _PROBE] if isinstance(data, list) else data
        request = {"type": "train_step", "config": {**config, "steps": 1}, "data": points}
        problems.update(_check("data", request))
    return problems


def _check(trait: str, request: dict[str, Any], only: str | None = None) -> dict[str, str]:
    """``{trait: why}`` if ``request`` does not decode (``only``: errors about that field)."""
    try:
        protocol.decode_request(request)
    except protocol.ProtocolError as error:
        if only is not None and not (error.field or "").startswith(only):
            return {}
        return {trait: error.message}
    except Exception as error:  # anything the decoder cannot even look at
        log.warning("nnvisu: the view wrote a %s the decoder cannot read", trait, exc_info=True)
        return {trait: f"{trait} is not valid: {type(error).__name__}"}
    return {}
