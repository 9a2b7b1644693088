"""The built widget bundle in a bare page, driven by Debian Chromium through Playwright.

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

import pytest
from playwright.sync_api import Page, expect

from nnvisu import NNVisu, handle_message

pytestmark = pytest.mark.browser

STATIC = Path(__file__).resolve().parents[1] / "src" / "nnvisu" / "static"
LONG = 30_000  # ms: training waits on a kernel that shares 2 cores with other test runs
TRAITS = (
    "data", "config", "network", "optimizer_state", "metrics", "history", "status", "playing",
    "dataset", "view",
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
  const nnv = (window.nnv = { state, sent: [], saves: 0, cleanups: [] });
  nnv.model = {
    get: (key) => state[key],
    set: (key, value) => {
      const old = state[key];
      state[key] = value;
      if (old !== value) emit(`change:${key}`, value);
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
      window.kernel(msg).then((reply) => emit("msg:custom", reply, []));
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
    nnv.cleanups.push(mod.default.render({ model: nnv.model, el }));
  }
}
"""


@functools.cache
def initial_json() -> str:
    w = NNVisu("circle", n=60, seed=1)
    try:
        return json.dumps({name: getattr(w, name) for name in TRAITS})
    finally:
        w.close()


def open_widget(page: Page, views: int = 1) -> None:
    page.expose_function("kernel", handle_message)
    page.set_content("<!doctype html><html><body style='margin:16px'></body></html>")
    page.evaluate(
        PAGE_SETUP,
        {
            "src": (STATIC / "widget.js").read_text(),
            "css": (STATIC / "widget.css").read_text(),
            "state": json.loads(initial_json()),
            "views": views,
        },
    )
    expect(page.locator(".nnvisu").first).to_be_visible()


def state(page: Page, key: str) -> Any:
    return page.evaluate("(k) => window.nnv.state[k]", key)


def count(page: Page, type_: str) -> int:
    return int(page.evaluate("(t) => window.nnv.requests(t).length", type_))


def map_point(page: Page, x: float, y: float, sel: str = ".nnv-map") -> dict[str, float]:
    """Canvas-relative pixel position of data point (x, y)."""
    box = page.locator(sel).first.bounding_box()
    assert box is not None
    return {"x": (x + 1) / 2 * box["width"], "y": (1 - y) / 2 * box["height"]}


@pytest.fixture
def page(page: Page) -> Iterator[Page]:
    """pytest-playwright's page, failing the test on any uncaught page error."""
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.set_viewport_size({"width": 1040, "height": 900})
    yield page
    assert not errors, f"page errors: {errors}"


def test_controls_have_accessible_names(page: Page) -> None:
    open_widget(page)
    for name in ["Play", "Step", "Reset weights", "Add layer", "Remove layer", "Clear points"]:
        expect(page.get_by_role("button", name=name, exact=True)).to_be_visible()
    for name in ["Learning rate", "Optimizer", "Activation", "Batch size", "Dataset", "Problem"]:
        expect(page.get_by_role("combobox", name=name)).to_be_visible()
    for name in ["Noise", "Points", "Test split"]:
        expect(page.get_by_role("slider", name=name)).to_be_visible()
    expect(page.get_by_role("checkbox", name="Show test points")).to_be_checked()
    expect(page.get_by_role("radio", name="Add points")).to_be_checked()
    # Adam (the widget's default optimizer) shows its betas, not SGD's momentum.
    expect(page.get_by_role("spinbutton", name="β₁")).to_be_visible()
    expect(page.get_by_role("spinbutton", name="Momentum")).to_be_hidden()
    # The kernel's dataset catalogue replaced the built-in one (same names).
    options = page.get_by_role("combobox", name="Dataset").locator("option")
    expect(options).to_have_count(11)
    assert count(page, "info") == 1


def test_click_adds_a_point_of_the_selected_class(page: Page) -> None:
    open_widget(page)
    before = len(state(page, "data"))
    saves = page.evaluate("window.nnv.saves")
    page.get_by_role("radio", name="Class 2").check()
    page.locator(".nnv-map").click(position=map_point(page, 0.5, -0.25))
    data = state(page, "data")
    assert len(data) == before + 1
    point = data[-1]
    assert point["label"] == 1
    assert point["x"] == pytest.approx(0.5, abs=0.02)
    assert point["y"] == pytest.approx(-0.25, abs=0.02)
    assert page.evaluate("window.nnv.saves") > saves
    expect(page.locator(".nnv-map-caption")).to_contain_text(f"{before + 1} points")


def test_drag_paints_spaced_points_and_saves_once(page: Page) -> None:
    open_widget(page)
    before = len(state(page, "data"))
    box = page.locator(".nnv-map").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + 20, box["y"] + 40)
    page.mouse.down()
    saves = page.evaluate("window.nnv.saves")
    page.mouse.move(box["x"] + box["width"] - 20, box["y"] + 40, steps=40)
    # Painting sets the data locally for the redraw but does not sync every move.
    assert page.evaluate("window.nnv.saves") == saves
    page.mouse.up()
    added = len(state(page, "data")) - before
    assert 10 <= added <= 40
    assert page.evaluate("window.nnv.saves") == saves + 1


def test_eraser_removes_points_near_the_pointer(page: Page) -> None:
    open_widget(page)
    page.evaluate(
        """() => window.nnv.model.set("data", [
            {x: 0.5, y: 0.5, label: 0, test: false},
            {x: 0.52, y: 0.48, label: 1, test: true},
            {x: -0.5, y: -0.5, label: 1, test: false}])"""
    )
    page.get_by_role("radio", name="Erase points").check()
    expect(page.get_by_role("slider", name="Eraser size")).to_be_visible()
    page.locator(".nnv-map").click(position=map_point(page, 0.5, 0.5))
    assert state(page, "data") == [{"x": -0.5, "y": -0.5, "label": 1, "test": False}]
    page.get_by_role("button", name="Clear points").click()
    assert state(page, "data") == []


def test_play_trains_redraws_and_pause_stops_requests(page: Page) -> None:
    open_widget(page)
    page.wait_for_timeout(100)
    before = page.evaluate("window.nnv.mapHash('.nnv-map')")
    history = len(state(page, "history"))
    page.get_by_role("button", name="Play").click()
    pause = page.get_by_role("button", name="Pause")
    expect(pause).to_be_visible()
    # Training speed depends on the machine's load: wait for a few requests, not a step count.
    page.wait_for_function("window.nnv.requests('train_step').length >= 4", timeout=LONG)
    page.wait_for_function("(h) => window.nnv.mapHash('.nnv-map') !== h", arg=before, timeout=LONG)
    assert state(page, "status")["state"] == "training"
    pause.click()
    sent = count(page, "train_step")
    page.wait_for_timeout(600)
    assert count(page, "train_step") == sent
    assert state(page, "playing") is False
    assert state(page, "status")["state"] == "idle"
    expect(page.get_by_role("button", name="Play")).to_be_visible()
    # The reply in flight at the pause was applied too: one history entry per request.
    assert len(state(page, "history")) == history + sent
    assert state(page, "metrics")["global_step"] == state(page, "optimizer_state")["global_step"]


def test_space_toggles_play_but_not_inside_controls(page: Page) -> None:
    open_widget(page)
    page.locator(".nnv-map").focus()
    page.keyboard.press("Space")
    expect(page.get_by_role("button", name="Pause")).to_be_visible()
    page.keyboard.press("Space")
    expect(page.get_by_role("button", name="Play")).to_be_visible()
    # A checkbox takes Space for itself.
    box = page.get_by_role("checkbox", name="Show test points")
    box.focus()
    page.keyboard.press("Space")
    expect(box).not_to_be_checked()
    assert state(page, "playing") is False
    assert state(page, "view")["show_test"] is False


def test_keyboard_places_and_erases_points(page: Page) -> None:
    open_widget(page)
    page.evaluate("() => window.nnv.model.set('data', [])")
    page.locator(".nnv-map").focus()
    for _ in range(4):
        page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("3")  # class 3 is not available with 2 classes: ignored
    page.keyboard.press("2")
    page.keyboard.press("Enter")
    data = state(page, "data")
    assert len(data) == 1
    assert data[0]["x"] == pytest.approx(0.2)
    assert data[0]["y"] == pytest.approx(0.05)
    assert data[0]["label"] == 1
    page.keyboard.press("Delete")
    assert state(page, "data") == []


def test_architecture_edits_keep_weights_and_reshape(page: Page) -> None:
    open_widget(page)
    old = state(page, "network")
    page.get_by_role("button", name="Add layer", exact=True).click()
    page.wait_for_function("window.nnv.state.network.weights.length === 4")
    request = page.evaluate("window.nnv.requests('init_network').at(-1)")
    assert request["config"]["hidden_layers"] == [8, 8, 8]
    assert request["previous_features"] == ["x", "y"]
    new = state(page, "network")
    assert new["weights"][0] == old["weights"][0]  # overlapping weights kept
    page.get_by_role("button", name="sin x").click()
    page.wait_for_function("window.nnv.state.network.weights[0][0].length === 3")
    request = page.evaluate("window.nnv.requests('init_network').at(-1)")
    assert request["config"]["features"] == ["x", "y", "sinx"]
    assert request["previous_features"] == ["x", "y"]
    assert state(page, "network")["weights"][0][0][:2] == new["weights"][0][0]
    # Fresh metrics for the new network (evaluate), not the old network's.
    page.wait_for_function("window.nnv.state.metrics.train_loss !== null")
    assert state(page, "metrics")["global_step"] == 0


def test_reset_weights_bumps_the_seed(page: Page) -> None:
    open_widget(page)
    old = state(page, "network")
    seed = state(page, "config")["seed"]
    page.get_by_role("button", name="Reset weights").click()
    page.wait_for_function("window.nnv.requests('init_network').length === 1")
    page.wait_for_function(
        "(w) => JSON.stringify(window.nnv.state.network.weights) !== w",
        arg=json.dumps(old["weights"]),
    )
    assert state(page, "config")["seed"] == seed + 1
    assert "network" not in page.evaluate("window.nnv.requests('init_network')[0]")


def test_dataset_change_regenerates_and_switches_problem(page: Page) -> None:
    open_widget(page)
    page.get_by_role("combobox", name="Dataset").select_option("plane")
    page.wait_for_function("window.nnv.state.config.problem === 'regression'")
    page.wait_for_function("window.nnv.state.network.weights.at(-1).length === 1")
    assert state(page, "dataset")["name"] == "plane"
    expect(page.get_by_role("slider", name="Value")).to_be_visible()
    expect(page.get_by_role("radio", name="Class 1")).to_be_hidden()
    page.get_by_role("combobox", name="Problem").select_option("classification")
    page.wait_for_function("window.nnv.state.config.problem === 'classification'")
    page.get_by_role("combobox", name="Dataset").select_option("spiral")
    page.get_by_role("combobox", name="Classes").select_option("5")
    page.wait_for_function("window.nnv.state.network.weights.at(-1).length === 5")
    labels = {p["label"] for p in state(page, "data")}
    assert labels == set(range(5))
    expect(page.get_by_role("radio", name="Class 5")).to_be_visible()
    expect(page.get_by_role("radio", name="Class 6")).to_be_hidden()


def test_kernel_error_is_shown_and_stops_the_loop(page: Page) -> None:
    open_widget(page)
    page.evaluate(
        "() => window.nnv.model.set('config', {...window.nnv.state.config, learning_rate: 50})"
    )
    page.get_by_role("button", name="Play").click()
    status = page.get_by_role("status")
    expect(status).to_contain_text("learning_rate")
    expect(page.get_by_role("button", name="Play")).to_be_visible()
    assert state(page, "status")["state"] == "error"
    assert count(page, "train_step") == 1


def test_playing_switched_off_from_outside_stops_the_loop(page: Page) -> None:
    open_widget(page)
    page.get_by_role("button", name="Play").click()
    page.wait_for_function("window.nnv.requests('train_step').length >= 2", timeout=LONG)
    page.evaluate("() => window.nnv.model.set('playing', false)")  # as Python's w.stop() does
    sent = count(page, "train_step")
    page.wait_for_timeout(400)
    assert count(page, "train_step") == sent
    expect(page.get_by_role("button", name="Play")).to_be_visible()


def test_two_views_one_loop(page: Page) -> None:
    open_widget(page, views=2)
    first, second = page.locator(".view-0"), page.locator(".view-1")
    first.get_by_role("button", name="Play").click()
    expect(second.get_by_role("button", name="Pause")).to_be_visible()
    page.wait_for_function("window.nnv.requests('train_step').length >= 3", timeout=LONG)
    ids = page.evaluate("window.nnv.requests('train_step').map((m) => m.id)")
    assert len({i.split(":")[0] for i in ids}) == 1  # one view's loop, one request at a time
    before = page.evaluate("window.nnv.mapHash('.view-1 .nnv-map')")
    # The other view redraws from the weights the first view's loop writes.
    page.wait_for_function(
        "(h) => window.nnv.mapHash('.view-1 .nnv-map') !== h", arg=before, timeout=LONG
    )
    second.get_by_role("button", name="Pause").click()
    expect(first.get_by_role("button", name="Play")).to_be_visible()
    sent = count(page, "train_step")
    page.wait_for_timeout(400)
    assert count(page, "train_step") == sent


def test_cleanup_stops_the_loop_and_drops_listeners(page: Page) -> None:
    open_widget(page)
    page.get_by_role("button", name="Play").click()
    page.wait_for_function("window.nnv.requests('train_step').length >= 2", timeout=LONG)
    page.evaluate("() => window.nnv.cleanups.forEach((c) => c())")
    assert state(page, "playing") is False
    assert page.evaluate("window.nnv.listenerCount()") == 0
    assert page.locator(".nnvisu").count() == 0
    sent = count(page, "train_step")
    page.wait_for_timeout(300)
    assert count(page, "train_step") == sent
