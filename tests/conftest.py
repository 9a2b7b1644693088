"""Fixtures shared by the test suite: Debian Chromium for Playwright, free loopback ports."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from typing import Any

import pytest

CHROMIUM = os.environ.get("NNVISU_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict[str, Any]:
    """Point pytest-playwright at Debian's Chromium: a browser download fails here."""
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium)")
    return {"executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


#: Playwright's fixtures: a test asking for one drives Chromium.
BROWSER_FIXTURES = frozenset({"page", "context", "browser", "new_context"})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Refuse a Chromium test without the ``browser`` mark: the quick tier would run it."""
    unmarked = [
        item.nodeid
        for item in items
        if BROWSER_FIXTURES & set(getattr(item, "fixturenames", ()))
        and item.get_closest_marker("browser") is None
    ]
    if unmarked:
        raise pytest.UsageError(
            "these tests drive Chromium but are not marked @pytest.mark.browser: "
            + ", ".join(unmarked)
        )


@pytest.fixture(scope="module", params=["torchscript", "eager"])
def both_engines(request: pytest.FixtureRequest) -> Iterator[str]:
    """Run a module's tests once per engine (``NNVISU_ENGINE``): every run covers both paths.

    Module-scoped (hypothesis refuses function-scoped fixtures), so it sets the variable itself.
    """
    old = os.environ.get("NNVISU_ENGINE")
    os.environ["NNVISU_ENGINE"] = request.param
    yield request.param
    if old is None:
        os.environ.pop("NNVISU_ENGINE", None)
    else:
        os.environ["NNVISU_ENGINE"] = old
