"""The built widget bundle in a bare page (docs/design.md's third tier), for Playwright tests.

The page loads ``static/widget.js`` from a Blob URL (as anywidget does) and renders it with a
small fake model whose ``send`` forwards each protocol request to the real
``nnvisu.handle_message`` in this Python process (``page.expose_function``) and delivers the
reply as a ``msg:custom`` event. The initial traits come from a real ``NNVisu`` widget.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from nnvisu import NNVisu, handle_message

STATIC = Path(__file__).resolve().parents[1] / "src" / "nnvisu" / "static"
LONG = 30_000  # ms: training waits on a kernel that shares 2 cores with other test runs
TRAITS = (
    "data", "config", "network", "optimizer_state", "metrics", "history", "status", "playing",
    "dataset", "view", "timeline", "classroom",
)  # fmt: skip

# The fake model: anywidget's model API (get/set/on/off/save_changes/send) over a plain object.
# `window.nnv` exposes what the tests inspect: the state, every message sent, the save count.
PAGE_SETUP = """
async ({ src, css, state, views }) => {
  const style = document.createElement("style");
  style.textContent = css;
  document.head.append(style);
  const mod = await import(URL.createObjectURL(new Blob([src], { type: "text/javascript" })));
  const listeners = new Map();
  const emit = (event, ...args) => [...(listeners.get(event) || [])].forEach((cb) => cb(...args));
  const nnv = (window.nnv = { state, sent: [], answered: 0, saves: 0, cleanups: [] });
  // Backbone's rule (ipywidgets' models are Backbone models): the value is always stored, but
  // "change:<key>" fires only when it differs by value.
  const equal = (a, b) => a === b || JSON.stringify(a) === JSON.stringify(b);
  nnv.model = {
    get: (key) => state[key],
    set: (key, value) => {
      const old = state[key];
      state[key] = value;
      if (!equal(old, value)) emit(`change:${key}`, nnv.model, value);
    },
    on: (event, cb) => {
      if (!listeners.has(event)) listeners.set(event, new Set());
      listeners.get(event).add(cb);
    },
    off: (event, cb) => {
      if (!event) listeners.clear();
      else if (!cb) listeners.delete(event);
      else listeners.get(event)?.delete(cb);
    },
    save_changes: () => void nnv.saves++,
    send: (msg) => {
      nnv.sent.push(msg);
      window.kernel(msg).then((reply) => {
        nnv.answered++;
        emit("msg:custom", reply, []);
      });
    },
  };
  nnv.listenerCount = () => [...listeners.values()].reduce((n, s) => n + s.size, 0);
  nnv.requests = (type) => nnv.sent.filter((m) => m.type === type);
  // A cheap fingerprint of a map's pixels, to see it change as the weights do.
  nnv.mapHash = (sel) => {
    const c = document.querySelector(sel);
    const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    let h = 0;
    for (let i = 0; i < d.length; i += 41) h = (Math.imul(h, 31) + d[i]) | 0;
    return h;
  };
  for (let i = 0; i < views; i++) {
    const el = document.createElement("div");
    el.className = `view-${i}`;
    el.style.width = "980px";
    document.body.append(el);
    nnv.cleanups.push(await mod.default.render({ model: nnv.model, el }));
  }
}
"""


@functools.cache
def initial_json() -> str:
    # The tests count neurons and read Adam's settings: the network is given, not a default.
    w = NNVisu("circle", n=60, seed=1, hidden_layers=[8, 8], activation="tanh", optimizer="adam")
    try:
        return json.dumps({name: getattr(w, name) for name in TRAITS})
    finally:
        w.close()


def open_widget(page: Page, views: int = 1, traits: dict[str, Any] | None = None) -> None:
    """Render ``views`` views of one fake model; ``traits`` replace the initial ones."""
    page.expose_function("kernel", handle_message)
    page.set_content("<!doctype html><html><body style='margin:16px'></body></html>")
    page.evaluate(
        PAGE_SETUP,
        {
            "src": (STATIC / "widget.js").read_text(),
            "css": (STATIC / "widget.css").read_text(),
            "state": {**json.loads(initial_json()), **(traits or {})},
            "views": views,
        },
    )
    expect(page.locator(".nnvisu").first).to_be_visible()


def settle(page: Page) -> None:
    """Wait until every request the views sent has its reply applied and drawn.

    A view that goes on sending (a loop that did not stop) never settles: the next request
    leaves with the reply it follows, before the condition is looked at again.
    """
    page.wait_for_function("() => window.nnv.answered === window.nnv.sent.length", timeout=LONG)
    next_frames(page)


def next_frames(page: Page) -> None:
    """Wait for two display frames (views redraw at the next one) and the task after them."""
    page.evaluate(
        "() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(() =>"
        " setTimeout(done))))"
    )


def state(page: Page, key: str) -> Any:
    return page.evaluate("(k) => window.nnv.state[k]", key)


def count(page: Page, type_: str) -> int:
    return int(page.evaluate("(t) => window.nnv.requests(t).length", type_))


def map_point(page: Page, x: float, y: float, sel: str = ".nnv-map") -> dict[str, float]:
    """Canvas-relative pixel position of data point (x, y)."""
    box = page.locator(sel).first.bounding_box()
    assert box is not None
    return {"x": (x + 1) / 2 * box["width"], "y": (1 - y) / 2 * box["height"]}


def failing_on_page_errors(page: Page) -> Iterator[Page]:
    """Yield the page sized for the widget; then fail if any uncaught error happened in it.

    For a test module's ``page`` fixture: ``yield from failing_on_page_errors(page)``.
    """
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.set_viewport_size({"width": 1040, "height": 900})
    yield page
    assert not errors, f"page errors: {errors}"
