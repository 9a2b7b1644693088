"""Seeing inside the network, in Chromium: the diagram, its neuron maps and editing, the
history timeline (preview, resume) and classroom mode, against the built bundle.

The page is tests/widget_page.py's bare-page harness: the real ``nnvisu.handle_message``
answers, and the traits start from a run trained in Python (so the timeline has snapshots).
"""

from __future__ import annotations

import base64
import functools
import json
import re
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from playwright.sync_api import Locator, Page, expect
from widget_page import LONG, count, failing_on_page_errors, initial_json, open_widget, state

from nnvisu import NNVisu, handle_message, training
from nnvisu.training import TrainState

pytestmark = pytest.mark.browser

SNAPSHOTS = 6
STEPS = 25  # per request: snapshots at steps 25, 50, ..., 150


def as_lists(net: dict[str, Any]) -> dict[str, Any]:
    """A network as the page sends it (packed, docs/protocol.md) in the trait's list form."""
    if "f32" not in net:
        return net
    sizes, flat = net["sizes"], np.frombuffer(base64.b64decode(net["f32"]), "<f4").tolist()
    weights, biases = [], []
    for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
        weights.append([flat[k * n_in : (k + 1) * n_in] for k in range(n_out)])
        flat = flat[n_in * n_out :]
    for n_out in sizes[1:]:
        biases.append(flat[:n_out])
        flat = flat[n_out:]
    return {"weights": weights, "biases": biases}


# Pixel samples of canvases, for comparing maps: `sample(canvas, box, k)` reads k×k points
# spread over the middle 60% of `box` (CSS px relative to the canvas), as [r, g, b] lists.
SAMPLING = """
window.sample = (canvas, box, k) => {
  const r = canvas.getBoundingClientRect();
  const sx = canvas.width / r.width;
  const sy = canvas.height / r.height;
  const ctx = canvas.getContext("2d");
  const out = [];
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      const x = (box.x + box.w * (0.2 + (0.6 * j) / (k - 1))) * sx;
      const y = (box.y + box.h * (0.2 + (0.6 * i) / (k - 1))) * sy;
      out.push([...ctx.getImageData(Math.floor(x), Math.floor(y), 1, 1).data.slice(0, 3)]);
    }
  }
  return out;
};
// The main map blends its map 72% over the background: blend each thumbnail so too, compare.
window.mapDifferences = () => {
  const main = document.querySelector(".nnv-map");
  const base = document.querySelector(".nnv-net-base");
  const probe = document.createElement("canvas").getContext("2d");
  probe.fillStyle = getComputedStyle(main).getPropertyValue("--nnv-map-bg").trim() || "#fff";
  probe.fillRect(0, 0, 1, 1);
  const bg = [...probe.getImageData(0, 0, 1, 1).data.slice(0, 3)];
  const mr = main.getBoundingClientRect();
  const want = window.sample(main, { x: 0, y: 0, w: mr.width, h: mr.height }, 7);
  const br = base.getBoundingClientRect();
  const out = {};
  for (const b of document.querySelectorAll(".nnv-net-keys button")) {
    const name = b.getAttribute("aria-label");
    if (name.startsWith("input")) continue;
    const r = b.getBoundingClientRect();
    const box = { x: r.left - br.left, y: r.top - br.top, w: r.width, h: r.height };
    const got = window.sample(base, box, 7);
    let sum = 0;
    got.forEach((px, i) => px.forEach((v, c) => {
      sum += Math.abs(0.28 * bg[c] + 0.72 * v - want[i][c]);
    }));
    out[name] = sum / (got.length * 3);
  }
  return out;
};
"""


@functools.cache
def trained_json() -> str:
    """Traits after SNAPSHOTS requests of STEPS steps each, trained in Python (deterministic)."""
    start = json.loads(initial_json())
    run = TrainState(*(start[key] for key in ("config", "data", "network", "optimizer_state",
                                              "metrics", "history", "timeline")))  # fmt: skip
    for _ in range(SNAPSHOTS):
        request = training.train_request(run, STEPS)
        reply = handle_message({**request, "config": {**request["config"], "time_budget_ms": None}})
        run = training.advance(run, reply)
    keys = ("network", "optimizer_state", "metrics", "history", "timeline")
    return json.dumps({**start, **{key: getattr(run, key) for key in keys}})


def open_trained(page: Page, **traits: Any) -> dict[str, Any]:
    start = {**json.loads(trained_json()), **traits}
    open_widget(page, traits=start)
    page.evaluate(SAMPLING)
    expect(node(page, "output class 1")).to_be_attached()
    return start


@pytest.fixture
def page(page: Page) -> Iterator[Page]:
    """pytest-playwright's page, failing the test on any uncaught page error."""
    yield from failing_on_page_errors(page)


def node(page: Page, name: str) -> Locator:
    """A diagram node's keyboard button: it sits exactly over the node's thumbnail."""
    return page.get_by_role("group", name=re.compile("^Network")).get_by_role(
        "button", name=name, exact=True
    )


def box_of(page: Page, name: str) -> dict[str, float]:
    box = node(page, name).bounding_box()
    assert box is not None
    return box


def map_hash(page: Page) -> int:
    return int(page.evaluate("window.nnv.mapHash('.nnv-map')"))


def link_point(page: Page, source: str, target: str) -> tuple[int, int]:
    """A point on the link's curve, a quarter of the way along (where links cross less).

    Links are Béziers with horizontal tangents: x(t) = x0 + d(1.5t - 1.5t² + t³),
    y(t) = y0 + (y1 - y0)(3t² - 2t³) (js/src/ui/network/layout.ts).
    """
    a, b = box_of(page, source), box_of(page, target)
    x0, y0 = a["x"] + a["width"], a["y"] + a["height"] / 2
    x1, y1 = b["x"], b["y"] + b["height"] / 2
    t = 0.25
    x = x0 + (x1 - x0) * (1.5 * t - 1.5 * t**2 + t**3)
    y = y0 + (y1 - y0) * (3 * t**2 - 2 * t**3)
    # Whole pixels: a click event's coordinates are integers (a pointermove's are not), so
    # where links pass close to each other both must hit the same one.
    return round(x), round(y)


def tooltip(page: Page) -> Locator:
    return page.locator(".nnv-net-tip")


def number_in(text: str) -> float:
    match = re.search(r": (-?[\d.]+(?:e[-+]?\d+)?)", text)
    assert match, text
    return float(match.group(1))


def map_differences(page: Page) -> dict[str, float]:
    """Mean |main map - thumbnail| (0..255) per hidden and output node of the diagram."""
    return dict(page.evaluate("window.mapDifferences()"))


# The diagram.
def test_hovering_a_neuron_shows_its_map_in_the_main_view(page: Page) -> None:
    open_trained(page, data=[])  # no points over the map: its pixels are the map's
    decision = map_hash(page)
    box = box_of(page, "layer 1 neuron 3")
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    expect(tooltip(page)).to_have_text(re.compile(r"^Layer 1 neuron 3 · bias -?[\d.]+"))
    page.wait_for_function("(h) => window.nnv.mapHash('.nnv-map') !== h", arg=decision)
    # The main map is that neuron's map: of all thumbnails, it matches this one, closely.
    diffs = map_differences(page)
    assert min(diffs, key=diffs.__getitem__) == "layer 1 neuron 3", diffs
    assert diffs["layer 1 neuron 3"] < 8, diffs
    page.mouse.move(2, 2)  # off the diagram: back to the decision map
    expect(tooltip(page)).to_be_hidden()
    page.wait_for_function("(h) => window.nnv.mapHash('.nnv-map') === h", arg=decision)


def test_hovering_a_link_or_a_bias_shows_its_value(page: Page) -> None:
    start = open_trained(page)
    page.mouse.move(*link_point(page, "layer 1 neuron 2", "layer 2 neuron 2"))
    text = "Weight from layer 1 neuron 2 to layer 2 neuron 2: "
    expect(tooltip(page)).to_have_text(re.compile("^" + re.escape(text)))
    weight = start["network"]["weights"][1][1][1]
    assert number_in(tooltip(page).inner_text()) == pytest.approx(weight, rel=5e-3)
    box = box_of(page, "layer 2 neuron 4")
    page.mouse.move(box["x"] + 1, box["y"] + box["height"] - 1)  # the bias marker's corner
    expect(tooltip(page)).to_have_text(re.compile(r"^Bias of layer 2 neuron 4: "))
    bias = start["network"]["biases"][1][3]
    assert number_in(tooltip(page).inner_text()) == pytest.approx(bias, rel=5e-3)


def test_editing_a_weight_and_a_bias_sets_them_exactly_and_training_goes_on(page: Page) -> None:
    open_trained(page)
    page.mouse.click(*link_point(page, "input y", "layer 1 neuron 1"))
    editor = page.get_by_role("dialog", name="Edit weight from input y to layer 1 neuron 1")
    field = editor.get_by_role("spinbutton", name="weight from input y to layer 1 neuron 1")
    expect(field).to_be_focused()
    field.fill("0.625")
    field.press("Enter")
    expect(editor).to_be_hidden()
    assert state(page, "network")["weights"][0][0][1] == 0.625  # W0 row 0, column y
    box = box_of(page, "layer 2 neuron 3")
    page.mouse.click(box["x"] + 1, box["y"] + box["height"] - 1)
    field = page.get_by_role("spinbutton", name="Bias of layer 2 neuron 3")
    field.fill("-1.5")
    field.press("Enter")
    assert state(page, "network")["biases"][1][2] == -1.5
    edited = state(page, "network")
    before = state(page, "metrics")["global_step"]
    # The next step trains from the edited network.
    page.get_by_role("button", name="Step", exact=True).click()
    page.wait_for_function("window.nnv.requests('train_step').length === 1")
    sent = page.evaluate("window.nnv.requests('train_step')[0]")
    assert as_lists(sent["network"]) == edited
    page.wait_for_function(
        "(s) => window.nnv.state.metrics.global_step > s", arg=before, timeout=LONG
    )
    assert state(page, "network") != edited


def test_the_diagram_is_usable_with_the_keyboard(page: Page) -> None:
    open_trained(page, data=[])
    decision = map_hash(page)
    buttons = page.get_by_role("group", name=re.compile("^Network")).get_by_role("button")
    expect(buttons).to_have_count(7 + 8 + 8 + 2)  # every input feature, neuron and output
    expect(node(page, "input x")).to_have_attribute("aria-pressed", "true")
    expect(node(page, "input x squared")).to_have_attribute("aria-pressed", "false")
    # One Tab stop: Tab from the control before the diagram lands on a node.
    page.get_by_role("button", name="Remove layer").focus()
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.closest('.nnv-net-keys') !== null"):
            break
    expect(node(page, "input x")).to_be_focused()
    page.keyboard.press("ArrowRight")
    expect(node(page, "layer 1 neuron 1")).to_be_focused()
    page.keyboard.press("ArrowDown")
    focused = node(page, "layer 1 neuron 2")
    expect(focused).to_be_focused()
    # Focus does what hover does: the value, and the neuron's map in the main view.
    expect(focused).to_have_accessible_description(re.compile(r"^Layer 1 neuron 2 · bias "))
    page.wait_for_function("(h) => window.nnv.mapHash('.nnv-map') !== h", arg=decision)
    diffs = map_differences(page)
    assert min(diffs, key=diffs.__getitem__) == "layer 1 neuron 2", diffs
    # Enter edits the bias and every incoming weight; focus comes back after.
    page.keyboard.press("Enter")
    editor = page.get_by_role("dialog", name="Edit layer 1 neuron 2")
    expect(editor.get_by_role("spinbutton")).to_have_count(1 + 2)  # bias, from x, from y
    expect(editor.get_by_role("spinbutton", name="Bias of layer 1 neuron 2")).to_be_focused()
    page.keyboard.press("Tab")
    page.keyboard.type("0.25")
    page.keyboard.press("Enter")
    expect(editor).to_be_hidden()
    expect(focused).to_be_focused()
    assert state(page, "network")["weights"][0][1][0] == 0.25
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")  # cancels
    expect(editor).to_be_hidden()
    expect(focused).to_be_focused()
    # An input switches on and off.
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("End")
    expect(node(page, "input sin y")).to_be_focused()
    page.keyboard.press("Enter")
    page.wait_for_function("window.nnv.state.config.features.includes('siny')")
    expect(node(page, "input sin y")).to_have_attribute("aria-pressed", "true")


# The timeline.
def seek(page: Page, index: int) -> None:
    """Move the History seekbar to snapshot ``index`` of the current lineage, by keyboard."""
    bar = page.get_by_role("slider", name="History")
    bar.focus()
    page.keyboard.press("Home")
    for _ in range(index):
        page.keyboard.press("ArrowRight")


def test_seeking_previews_a_snapshot_without_touching_the_network(page: Page) -> None:
    start = open_trained(page, data=[])
    live = map_hash(page)
    bar = page.get_by_role("slider", name="History")
    expect(bar).to_have_attribute("aria-valuetext", "Live")
    seek(page, 0)
    expect(bar).to_have_attribute("aria-valuetext", re.compile(rf"^Step {STEPS} · train loss "))
    expect(page.get_by_text("Snapshot preview")).to_be_visible()
    page.wait_for_function("(h) => window.nnv.mapHash('.nnv-map') !== h", arg=live)
    assert state(page, "network") == start["network"]
    assert state(page, "timeline") == start["timeline"]
    page.get_by_role("button", name="Live").click()
    expect(bar).to_have_attribute("aria-valuetext", "Live")
    expect(page.get_by_text("Snapshot preview")).to_be_hidden()
    page.wait_for_function("(h) => window.nnv.mapHash('.nnv-map') === h", arg=live)


def test_resume_from_here_branches_as_python_restore_does(page: Page) -> None:
    start = open_trained(page)
    snapshot = start["timeline"]["snapshots"][1]
    seek(page, 1)
    page.get_by_role("button", name="Resume from here").click()
    assert state(page, "network") == snapshot["network"]
    assert state(page, "optimizer_state")["global_step"] == snapshot["step"] == 2 * STEPS
    tl = state(page, "timeline")
    assert tl["branch"] == 1
    assert tl["snapshots"][-1] == {**snapshot, "branch": 1, "parent": 1}
    branches = page.get_by_role("combobox", name="Branch")
    expect(branches).to_be_visible()
    expect(branches.locator("option")).to_have_count(2)
    # Python's restore leaves the same state (metrics: once the view has re-evaluated).
    w = NNVisu.__new__(NNVisu)
    w._open({k: v for k, v in start.items() if k not in ("status", "playing")})
    w.restore(1)
    page.wait_for_function(
        "(m) => window.nnv.state.metrics.train_loss === m", arg=w.metrics["train_loss"]
    )
    for name in ("network", "optimizer_state", "timeline", "history", "metrics"):
        assert state(page, name) == getattr(w, name), name
    # Training continues from the snapshot's step on the new branch.
    page.get_by_role("button", name="Step", exact=True).click()
    page.wait_for_function("window.nnv.requests('train_step').length === 1")
    sent = page.evaluate("window.nnv.requests('train_step')[0]")
    assert as_lists(sent["network"]) == snapshot["network"]
    assert sent["optimizer_state"]["global_step"] == 2 * STEPS
    page.wait_for_function(
        "(s) => window.nnv.state.metrics.global_step > s", arg=2 * STEPS, timeout=LONG
    )


# Classroom mode.
def test_the_control_names_are_the_ones_python_validates(page: Page) -> None:
    open_trained(page)
    names = page.evaluate(
        "[...document.querySelectorAll('[data-control]')].map((e) => e.dataset.control)"
    )
    assert sorted(set(names)) == sorted(NNVisu.CONTROLS)


def test_classroom_hides_controls_and_locks_the_data(page: Page) -> None:
    w = NNVisu("circle", n=20, hide=["optimizer", "timeline", "noise"], lock_data=True)
    open_trained(page, classroom=w.classroom)
    expect(page.get_by_role("combobox", name="Optimizer")).to_be_hidden()
    expect(page.get_by_role("slider", name="History")).to_be_hidden()
    expect(page.get_by_role("slider", name="Noise")).to_be_hidden()
    expect(page.get_by_role("combobox", name="Learning rate")).to_be_visible()
    # Settings the controls hide themselves stay theirs: Adam has no momentum.
    expect(page.get_by_role("spinbutton", name="Momentum")).to_be_hidden()
    expect(page.get_by_role("combobox", name="Dataset")).to_be_disabled()
    expect(page.get_by_role("button", name="Clear points")).to_be_disabled()
    before = len(state(page, "data"))
    page.locator(".nnv-map").click(position={"x": 40, "y": 40})
    assert len(state(page, "data")) == before
    # Live: the trait changes, the view follows.
    page.evaluate("() => window.nnv.model.set('classroom', {hidden: [], lock_data: false})")
    expect(page.get_by_role("combobox", name="Optimizer")).to_be_visible()
    expect(page.get_by_role("slider", name="History")).to_be_visible()
    expect(page.get_by_role("spinbutton", name="Momentum")).to_be_hidden()
    expect(page.get_by_role("combobox", name="Dataset")).to_be_enabled()
    page.locator(".nnv-map").click(position={"x": 40, "y": 40})
    assert len(state(page, "data")) == before + 1
    assert count(page, "train_step") == 0
