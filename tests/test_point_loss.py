"""The loss of every point, in Chromium against the built bundle: the rings and crosses on the
map, the hover read-out (equal to the dispatcher's ``evaluate``) and the train/test histogram.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from widget_page import TRAITS, failing_on_page_errors, map_point, open_widget, state

from nnvisu import NNVisu, handle_message

pytestmark = pytest.mark.browser


@functools.cache
def trained_json() -> str:
    """A half-trained spiral: some points right, some wrong, a spread of losses."""
    w = NNVisu("spiral", n=160, hidden_layers=[6], seed=2, learning_rate=0.03)
    try:
        w.train(steps=60, wait=True, progress=False)
        return json.dumps({name: getattr(w, name) for name in TRAITS})
    finally:
        w.close()


@functools.cache
def better_network() -> dict[str, Any]:
    """The same run trained further: lower losses, fewer misclassified points."""
    w = NNVisu("spiral", n=160, hidden_layers=[6], seed=2, learning_rate=0.03)
    try:
        w.train(steps=400, wait=True, progress=False)
        return w.network
    finally:
        w.close()


@pytest.fixture
def page(page: Page) -> Iterator[Page]:
    yield from failing_on_page_errors(page)


def evaluated(traits: dict[str, Any]) -> dict[str, Any]:
    reply = handle_message({"type": "evaluate", "config": traits["config"],
                            "network": traits["network"], "data": traits["data"]})  # fmt: skip
    assert reply["type"] == "evaluate_result"
    return reply


def lonely_point(data: list[dict[str, Any]]) -> int:
    """The index of the point farthest from its nearest neighbour (hover finds it alone)."""

    def gap(i: int) -> float:
        p = data[i]
        return min(
            math.dist((p["x"], p["y"]), (q["x"], q["y"])) for j, q in enumerate(data) if j != i
        )

    inside = [i for i, p in enumerate(data) if abs(p["x"]) < 0.85 and abs(p["y"]) < 0.85]
    return max(inside, key=gap)


def test_the_toggle_rings_points_by_loss_and_syncs_the_view(page: Page) -> None:
    traits = json.loads(trained_json())
    open_widget(page, traits=traits)
    page.wait_for_function("() => window.nnv.mapHash('.nnv-map') !== 0")
    before = page.evaluate("() => window.nnv.mapHash('.nnv-map')")
    box = page.get_by_role("checkbox", name="Show each point's loss")
    expect(box).not_to_be_checked()
    box.check()
    assert state(page, "view")["point_loss"] is True
    page.wait_for_function("(h) => window.nnv.mapHash('.nnv-map') !== h", arg=before)
    # A better network shrinks the rings: the map changes again with the weights.
    ringed = page.evaluate("() => window.nnv.mapHash('.nnv-map')")
    page.evaluate("(net) => window.nnv.model.set('network', net)", better_network())
    page.wait_for_function("(h) => window.nnv.mapHash('.nnv-map') !== h", arg=ringed)
    box.uncheck()
    assert state(page, "view")["point_loss"] is False


def test_hovering_a_point_shows_its_label_probabilities_and_loss_as_evaluate_does(
    page: Page,
) -> None:
    traits = json.loads(trained_json())
    open_widget(page, traits={**traits, "view": {**traits["view"], "point_loss": True}})
    reply = evaluated(traits)
    data = traits["data"]
    i = lonely_point(data)
    at = map_point(page, data[i]["x"], data[i]["y"])
    page.locator(".nnv-map").hover(position=at)
    tip = page.locator(".nnv-point-tip")
    expect(tip).to_be_visible()
    expect(tip).to_have_attribute("data-index", str(i))
    probs = reply["predictions"][i]
    label = data[i]["label"]
    loss = float(tip.get_attribute("data-loss") or "nan")
    assert loss == pytest.approx(-math.log(probs[label]), abs=1e-5)
    text = tip.inner_text()
    assert f"class {label + 1}" in text
    assert ("test point" if data[i].get("test") else "train point") in text
    for j, p in enumerate(probs):
        assert f"{j + 1}: {p:.3f}" in text
    assert f"loss {-math.log(probs[label]):.4f}" in text
    assert ("misclassified" in text) == (max(range(len(probs)), key=probs.__getitem__) != label)
    page.mouse.move(0, 0)
    expect(tip).to_be_hidden()


def test_the_histogram_counts_train_and_test_losses_and_follows_training(page: Page) -> None:
    traits = json.loads(trained_json())
    open_widget(page, traits=traits)
    reply = evaluated(traits)
    plot = page.locator(".nnv-losshist-plot")
    page.wait_for_function("() => document.querySelector('.nnv-losshist-plot').dataset.train")
    train = [int(v) for v in (plot.get_attribute("data-train") or "").split(",")]
    test = [int(v) for v in (plot.get_attribute("data-test") or "").split(",")]
    tests = [bool(p.get("test")) for p in traits["data"]]
    assert sum(train) == tests.count(False) and sum(test) == tests.count(True)
    wrong = sum(
        1 for p, probs in zip(traits["data"], reply["predictions"], strict=True)
        if not p.get("test") and max(range(len(probs)), key=probs.__getitem__) != p["label"]
    )  # fmt: skip
    expect(page.locator(".nnv-losshist-caption")).to_contain_text(
        f"train: {wrong} of {tests.count(False)} misclassified"
    )
    before = plot.get_attribute("data-train")
    page.evaluate("(net) => window.nnv.model.set('network', net)", better_network())
    page.wait_for_function(
        "(b) => document.querySelector('.nnv-losshist-plot').dataset.train !== b", arg=before
    )
