"""Classroom mode (the ``classroom`` trait): controls hidden from learners, and a data lock.

A control's name is the ``data-control`` attribute the views put on its group (js/src/ui/*.ts,
js/src/app.ts); tests/test_seeing_inside.py checks :data:`CONTROLS` against a rendered view.
"""

from __future__ import annotations

from typing import Any

#: Every control name, in the order the widget shows them.
CONTROLS: tuple[str, ...] = (
    "step", "reset", "pace",  # header (Play stays: pausing is always allowed)
    "learning_rate", "optimizer", "momentum", "beta1", "beta2", "alpha", "eps",
    "weight_decay", "activation", "batch_size", "l1", "l2", "dropout",  # training settings
    "problem", "dataset", "classes", "noise", "points", "test_ratio",  # data panel
    "features", "hidden_layers", "network", "layer_space",  # network panel
    "tools", "show_test", "discretize", "point_loss", "chart",  # output panel
    "timeline", "compare",
)  # fmt: skip
#: The controls that change the data: the data lock disables them.
DATA_CONTROLS: tuple[str, ...] = ("dataset", "noise", "points", "classes", "test_ratio", "problem")


def classroom_state(hidden: object, lock_data: object, *, names: tuple[str, str]) -> dict[str, Any]:
    """The ``classroom`` trait value: ``{"hidden": [names, deduplicated], "lock_data": bool}``.

    Args:
        hidden: control names to hide (a list or tuple of strings).
        lock_data: True to stop learners editing, generating or re-splitting the points.
        names: what the caller calls the two arguments, for the error messages.

    Raises:
        ValueError: not a list of names, an unknown name (the message lists the valid ones),
            or a lock_data that is not a bool.
    """
    hidden_name, lock_name = names
    if isinstance(hidden, str) or not isinstance(hidden, list | tuple):
        raise ValueError(f"{hidden_name} must be a list of control names, got {hidden!r}")
    unknown = [name for name in hidden if name not in CONTROLS]
    if unknown:
        raise ValueError(
            f"{hidden_name} has unknown control name(s) {', '.join(map(repr, unknown))}; "
            f"valid names: {', '.join(CONTROLS)}"
        )
    if not isinstance(lock_data, bool):
        raise ValueError(f"{lock_name} must be True or False, got {lock_data!r}")
    return {"hidden": list(dict.fromkeys(hidden)), "lock_data": lock_data}


def check_classroom(value: dict[str, Any]) -> dict[str, Any]:
    """Validate a ``classroom`` trait value (missing keys take their defaults).

    Raises:
        ValueError: unknown keys, or bad values (see :func:`classroom_state`).
    """
    unknown = sorted(set(value) - {"hidden", "lock_data"})
    if unknown:
        raise ValueError(f"classroom has unknown key(s) {unknown}; keys: 'hidden', 'lock_data'")
    return classroom_state(
        value.get("hidden", []),
        value.get("lock_data", False),
        names=("classroom['hidden']", "classroom['lock_data']"),
    )
