"""The built widget bundle in a bare page, driven by Debian Chromium through Playwright.

The harness (tests/widget_page.py) renders the bundle with a fake model whose requests the real
``nnvisu.handle_message`` answers; the initial traits come from a real ``NNVisu`` widget.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect
from widget_page import (
    LONG,
    count,
    failing_on_page_errors,
    map_point,
    open_widget,
    settle,
    state,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def page(page: Page) -> Iterator[Page]:
    """pytest-playwright's page, failing the test on any uncaught page error."""
    yield from failing_on_page_errors(page)


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
    page.wait_for_function("() => window.nnv.mapHash('.nnv-map') !== 0")  # the first map is drawn
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
    settle(page)
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
    page.get_by_role("button", name="sin x", exact=True).click()  # not the diagram's "input sin x"
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
    settle(page)
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
    settle(page)
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
    settle(page)
    assert count(page, "train_step") == sent
