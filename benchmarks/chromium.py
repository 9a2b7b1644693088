"""Debian's Chromium as every benchmark launches it (Playwright never downloads a browser here)."""

from __future__ import annotations

from playwright.sync_api import Browser, Playwright

EXECUTABLE = "/usr/bin/chromium"
# Headless, no GPU (the machines have none), and nothing that phones home or updates itself
# while it is being timed.
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def launch(p: Playwright) -> Browser:
    """Chromium with the benchmarks' flags."""
    return p.chromium.launch(executable_path=EXECUTABLE, args=ARGS)
