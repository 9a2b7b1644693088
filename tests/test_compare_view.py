"""Compare two runs in the page, in Chromium against the built bundle: Compare duplicates the
setup, a change of run B's settings shows, both runs train in lockstep (each exactly its solo
run), the maps and the chart change, the verdict names the winner, and Python's handle reads it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import torch
from playwright.sync_api import Page, expect
from widget_page import LONG, TRAITS, failing_on_page_errors, open_widget, state

from nnvisu import NNVisu, handle_message
from nnvisu.comparison import Comparison

pytestmark = pytest.mark.browser
torch.set_num_threads(1)  # the kernel's setting while it answers (two threads: 10-50x slower here)

HASH = """(sel) => {
  const c = document.querySelector(sel);
  const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
  let h = 0;
  for (let i = 0; i < d.length; i += 13) h = (Math.imul(h, 31) + d[i]) | 0;
  return h;
}"""


@pytest.fixture
def page(page: Page) -> Iterator[Page]:
    yield from failing_on_page_errors(page)


def traits() -> dict[str, Any]:
    w = NNVisu("moons", n=80, hidden_layers=[5], optimizer="sgd", learning_rate=0.05, seed=4)
    try:
        return json.loads(json.dumps({name: getattr(w, name) for name in TRAITS}))
    finally:
        w.close()


def solo(config: dict[str, Any], data: list[dict[str, Any]], steps: int) -> dict[str, Any]:
    reply = handle_message(
        {
            "type": "train_step",
            "config": {**config, "steps": steps, "time_budget_ms": None},
            "data": data,
        }  # fmt: skip
    )
    assert reply["type"] == "train_step_result", reply
    return reply


def test_compare_duplicates_the_setup_trains_both_in_lockstep_and_names_the_winner(
    page: Page,
) -> None:
    start = traits()
    open_widget(page, traits=start)
    panel = page.locator(".nnv-panel--compare")
    panel.get_by_role("button", name="Compare").click()
    page.wait_for_function(
        "() => window.nnv.state.comparison && window.nnv.state.comparison.active"
    )
    comparison = state(page, "comparison")
    a, b = comparison["runs"]
    assert a["config"] == b["config"] == start["config"]
    assert a["network"] == b["network"]  # the same seed: the same start
    # Run B gets Adam: its title says what changed.
    panel.get_by_label("Optimizer of run B").select_option("adam")
    expect(panel.locator(".nnv-compare-title").nth(1)).to_contain_text("optimizer adam")
    assert state(page, "comparison")["runs"][1]["config"]["optimizer"] == "adam"
    maps = [page.evaluate(HASH, f".nnv-compare-side[data-run='{i}'] canvas") for i in (0, 1)]
    chart = page.evaluate(HASH, ".nnv-compare-chart")
    panel.get_by_role("button", name="Play both").click()
    page.wait_for_function(
        "() => window.nnv.state.comparison.runs[0].metrics.global_step >= 150", timeout=LONG
    )
    panel.get_by_role("button", name="Pause both").click()
    expect(panel.get_by_role("button", name="Play both")).to_be_visible()
    # Wait until the last reply has landed (nothing in flight after Pause).
    page.wait_for_function(
        """() => { const c = window.nnv.state.comparison, [a, b] = c.runs;
                   return !c.playing && a.metrics.global_step === b.metrics.global_step; }"""
    )
    final = state(page, "comparison")
    steps = final["runs"][0]["metrics"]["global_step"]
    assert final["runs"][1]["metrics"]["global_step"] == steps  # lockstep
    for run in final["runs"]:
        alone = solo(run["config"], start["data"], steps)
        assert run["network"] == alone["network"]
        assert run["metrics"]["test_loss"] == alone["test_loss"]
    for i in (0, 1):
        page.wait_for_function(
            f"(h) => ({HASH})(\".nnv-compare-side[data-run='{i}'] canvas\") !== h", arg=maps[i]
        )
    page.wait_for_function(f"(h) => ({HASH})('.nnv-compare-chart') !== h", arg=chart)
    best = [min(r["test_loss"] for r in run["history"]) for run in final["runs"]]
    winner = "A" if best[0] < best[1] else "B (optimizer adam)"
    expect(panel.locator(".nnv-compare-verdict")).to_contain_text(
        f"{winner} reached the lower test loss"
    )
    assert state(page, "network") == start["network"]  # the widget's own run is untouched


def test_a_change_of_layers_rebuilds_that_run_only_and_bad_values_are_refused(page: Page) -> None:
    open_widget(page, traits=traits())
    panel = page.locator(".nnv-panel--compare")
    panel.get_by_role("button", name="Compare").click()
    page.wait_for_function(
        "() => window.nnv.state.comparison && window.nnv.state.comparison.active"
    )
    before = state(page, "comparison")["runs"]
    layers = panel.get_by_label("Hidden layers of run B")
    layers.fill("8, 3")
    layers.press("Enter")
    page.wait_for_function("() => window.nnv.state.comparison.runs[1].network.weights.length === 3")
    after = state(page, "comparison")["runs"]
    assert after[0] == before[0]
    assert after[1]["config"]["hidden_layers"] == [8, 3]
    panel.locator(".nnv-compare-side[data-run='0'] summary").click()  # A's settings fold open
    rate = panel.get_by_label("Learning rate of run A")
    rate.fill("-1")
    rate.press("Enter")
    expect(rate).to_have_attribute("aria-invalid", "true")
    assert state(page, "comparison")["runs"][0]["config"]["learning_rate"] == 0.05
    panel.get_by_role("button", name="Close").click()
    expect(panel.get_by_role("button", name="Compare")).to_be_visible()


def test_python_compare_shows_in_the_view_and_reads_what_the_view_trained(page: Page) -> None:
    w = NNVisu("moons", n=80, hidden_layers=[5], optimizer="sgd", learning_rate=0.05, seed=4)
    try:
        c: Comparison = w.compare(activation="relu").train(steps=40)
        assert w.comparison["active"] and len(w.comparison["runs"]) == 2
        open_widget(page, traits={**{n: getattr(w, n) for n in TRAITS}, "comparison": w.comparison})
        panel = page.locator(".nnv-panel--compare")
        expect(panel.locator(".nnv-compare-title").nth(1)).to_contain_text("activation relu")
        expect(panel.locator(".nnv-compare-stats").nth(0)).to_contain_text("step 40")
        # What the view trains is what the handle reads (the trait is shared).
        runs = [{**r, "metrics": {**r["metrics"], "global_step": 99}} for r in w.comparison["runs"]]
        w.comparison = {**w.comparison, "runs": runs}
        assert [m["global_step"] for m in c.metrics] == [99, 99]
    finally:
        w.close()
