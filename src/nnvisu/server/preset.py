"""Classroom mode on the standalone server: the teacher's setup every new visitor starts from.

``--preset lesson.json`` (a setup file: exported from the page or written by ``NNVisu.save``),
``--hide NAME…`` and ``--lock-data`` make one setup document (:mod:`nnvisu.setup_doc`). The
server puts it in the page it serves, as a JSON script element the page reads at start-up: a
new visitor and "Start over" begin from it, and its hidden controls and data lock hold for
every visitor whatever their saved work or a link says.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from nnvisu import setup_doc
from nnvisu.classroom import classroom_state
from nnvisu.server.assets import Asset
from nnvisu.server.errors import ConfigError

#: The element of index.html that carries the preset.
ELEMENT_ID = "nnvisu-preset"


def build_preset(path: str | None, hide: list[str], lock_data: bool) -> dict[str, Any] | None:
    """The complete setup document of the command line's classroom options, or None.

    Raises:
        ConfigError: the file cannot be read or is not a valid setup, or a name in ``hide``
            is not a control (the message lists them).
    """
    if path is None and not hide and not lock_data:
        return None
    try:
        if path is None:
            document = setup_doc.parse({"format": setup_doc.FORMAT, "version": setup_doc.VERSION})
        else:
            document = setup_doc.read(Path(path))
        classroom = document["classroom"]
        document["classroom"] = classroom_state(
            [*classroom["hidden"], *hide], classroom["lock_data"] or lock_data,
            names=("--hide", "--lock-data"),
        )  # fmt: skip
    except ValueError as error:
        raise ConfigError(f"--preset: {error}" if path is not None else str(error)) from None
    return document


def inject(assets: dict[str, Asset], preset: dict[str, Any] | None) -> dict[str, Asset]:
    """``assets`` with the preset written into index.html (unchanged without a preset)."""
    page = assets.get("index.html")
    if preset is None or page is None:
        return assets
    # "<" escaped: no "</script>" inside the JSON can end the element early.
    text = json.dumps(preset, allow_nan=False, separators=(",", ":")).replace("<", "\\u003c")
    element = f'<script type="application/json" id="{ELEMENT_ID}">{text}</script>\n  </head>'
    body = page.body.decode("utf-8").replace("</head>", element, 1).encode("utf-8")
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    return {**assets, "index.html": Asset(body, page.content_type, etag)}
