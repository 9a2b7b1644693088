"""The space a layer sees, in Chromium against the built bundle: a 2-neuron layer draws the
points where the layer puts them; a wider one is projected (PCA); both follow training and the
timeline's preview.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from typing import Any

import pytest
import torch
from playwright.sync_api import Page, expect
from widget_page import TRAITS, failing_on_page_errors, open_widget

from nnvisu import NNVisu

pytestmark = pytest.mark.browser

HASH = """(sel) => {
  const c = document.querySelector(sel);
  const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
  let h = 0;
  for (let i = 0; i < d.length; i += 13) h = (Math.imul(h, 31) + d[i]) | 0;
  return h;
}"""
PLOT = ".nnv-layerspace-plot"


@functools.cache
def trained_json(hidden: tuple[int, ...]) -> str:
    w = NNVisu("circle", n=80, hidden_layers=list(hidden), seed=3, learning_rate=0.1)
    try:
        for _ in range(3):  # three runs: the timeline holds snapshots to preview
            w.train(steps=40, wait=True, progress=False)
        return json.dumps({name: getattr(w, name) for name in TRAITS})
    finally:
        w.close()


@pytest.fixture
def page(page: Page) -> Iterator[Page]:
    yield from failing_on_page_errors(page)


def plot_hash(page: Page) -> int:
    return int(page.evaluate(HASH, PLOT))


def settled_frame(page: Page) -> list[float]:
    page.wait_for_function(f"() => document.querySelector('{PLOT}').dataset.frame")
    return json.loads(page.locator(PLOT).get_attribute("data-frame") or "")


def test_a_two_neuron_layer_draws_each_point_where_the_layer_maps_it(page: Page) -> None:
    traits: dict[str, Any] = json.loads(trained_json((2,)))
    traits["data"] = traits["data"][:6]  # few points: each one stands alone
    open_widget(page, traits=traits)
    expect(page.locator(PLOT)).to_have_attribute("data-projection", "neurons")
    cx, cy, half = settled_frame(page)
    # The layer's activations from torch: the exported model up to the first activation.
    w = torch.tensor(traits["network"]["weights"][0])
    b = torch.tensor(traits["network"]["biases"][0])
    size = page.evaluate(f"() => document.querySelector('{PLOT}').width")
    box = page.locator(PLOT).bounding_box()
    assert box is not None
    for point in traits["data"]:
        h1, h2 = torch.tanh(w @ torch.tensor([point["x"], point["y"]]) + b).tolist()
        px = ((h1 - cx) / (2 * half) + 0.5) * size
        py = (0.5 - (h2 - cy) / (2 * half)) * size
        rgb = page.evaluate(
            "([x, y]) => [...document.querySelector('.nnv-layerspace-plot').getContext('2d')"
            ".getImageData(Math.round(x), Math.round(y), 1, 1).data.slice(0, 3)]",
            [px, py],
        )
        # Class 0 is blue-ish, class 1 orange: the pixel at the mapped spot has the point's colour.
        blue, orange = rgb[2] > rgb[0], rgb[0] > rgb[2]
        if point.get("test"):
            continue  # test points are rings: their centre shows the background
        assert (blue, orange)[point["label"]], (point, rgb)


def test_a_wider_layer_is_projected_and_follows_training_and_the_preview(page: Page) -> None:
    traits = json.loads(trained_json((6, 5)))
    open_widget(page, traits=traits)
    plot = page.locator(PLOT)
    expect(plot).to_have_attribute("data-projection", "pca")
    settled_frame(page)
    first = plot_hash(page)
    page.get_by_label("Hidden layer to look at").select_option("1")
    expect(plot).to_have_attribute("data-layer", "1")
    page.wait_for_function(f"(h) => ({HASH})('{PLOT}') !== h", arg=first)
    settled_frame(page)
    live = plot_hash(page)
    # The timeline's preview: an earlier snapshot's layer.
    bar = page.get_by_role("slider", name="History")
    bar.focus()
    page.keyboard.press("Home")
    page.wait_for_function(f"(h) => ({HASH})('{PLOT}') !== h", arg=live)
    page.get_by_role("button", name="Live").click()
    # Training: a new network moves the picture.
    settled_frame(page)
    before = plot_hash(page)
    net = traits["network"]
    nudged = {**net, "biases": [[v + 0.3 for v in row] for row in net["biases"]]}
    page.evaluate("(n) => window.nnv.model.set('network', n)", nudged)
    page.wait_for_function(f"(h) => ({HASH})('{PLOT}') !== h", arg=before)


def test_without_hidden_layers_it_says_so(page: Page) -> None:
    w = NNVisu("circle", n=20, hidden_layers=[])
    try:
        open_widget(page, traits={name: getattr(w, name) for name in TRAITS})
    finally:
        w.close()
    expect(page.locator(".nnv-layerspace-caption")).to_contain_text("no hidden layer")
    expect(page.get_by_label("Hidden layer to look at")).to_be_disabled()
