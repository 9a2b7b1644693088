"""The page and its bundle, read once from package data (works from a wheel or a zip)."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from importlib.resources import files

log = logging.getLogger("nnvisu.server")

# The only files the page needs; serving a fixed set means no path ever reaches the disk.
CONTENT_TYPES = {
    "index.html": "text/html; charset=utf-8",
    "host.js": "text/javascript; charset=utf-8",
    "widget.js": "text/javascript; charset=utf-8",
    "widget.css": "text/css; charset=utf-8",
}


@dataclass(frozen=True)
class Asset:
    """One static file held in memory."""

    body: bytes
    content_type: str
    etag: str


def load_assets(package: str = "nnvisu", folder: str = "static") -> dict[str, Asset]:
    """Read every file in :data:`CONTENT_TYPES` that exists; warn about missing ones."""
    root = files(package).joinpath(folder)
    assets: dict[str, Asset] = {}
    for name, content_type in CONTENT_TYPES.items():
        resource = root.joinpath(name)
        if not resource.is_file():
            log.warning("%s/%s is missing: run `npm run build` in js/", folder, name)
            continue
        body = resource.read_bytes()
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        assets[name] = Asset(body, content_type, etag)
    return assets
