"""What every notebook frontend's end-to-end test checks in the page, whatever the frontend.

The view is found by its root class, trained with its own Play/Pause buttons, and read through
its step counter. Page errors fail a test, except the frontend's own noise, matched exactly
(each entry is an error that also shows on a page without nnvisu).
"""

from __future__ import annotations

from collections.abc import Iterable

from jupyter_harness import wait_until
from playwright.sync_api import Locator, Page, expect

VIEW = ".nnvisu"
STEP = "dl.nnv-metrics dd >> nth=0"  # the view's Step counter, e.g. "1,234"
LATER_STEPS = 300  # what the "later cell" trains: w.train(steps=300).wait()


def watch_page_errors(page: Page, noise: Iterable[str] = ()) -> list[str]:
    """Collect the page's uncaught errors, less the frontend's own known ``noise``."""
    known = set(noise)
    errors: list[str] = []
    page.on("pageerror", lambda e: None if str(e) in known else errors.append(str(e)))
    return errors


def shown_step(view: Locator) -> int:
    """The global step the view shows."""
    text = view.locator(STEP).text_content() or ""
    return int(text.replace(",", "") or -1)


def play_until_trained(page: Page, view: Locator, at_least: int = 20) -> int:
    """Press Play, wait until the view shows ``at_least`` more steps, press Pause; return
    the step the view settles on once the last reply arrived."""
    start = shown_step(view)
    view.get_by_role("button", name="Play").click()
    expect(view.get_by_role("button", name="Pause")).to_be_visible()
    wait_until(lambda: shown_step(view) >= start + at_least, 60, "Play to train", interval=0.2)
    view.get_by_role("button", name="Pause").click()
    expect(view.get_by_role("button", name="Play")).to_be_visible()
    seen: list[int] = []

    def steady() -> int | None:
        seen.append(shown_step(view))
        return seen[-1] if len(seen) > 1 and seen[-1] == seen[-2] else None

    return wait_until(steady, 20, "the view to stop training", interval=0.5)


# Ancestors of the view (across shadow roots) that cap their height below the view's: the
# view shows clipped inside a small scrolling box. The page's own scroller has no max-height.
CLIPPING_BOXES = """(view) => {
  const height = view.getBoundingClientRect().height;
  const found = [];
  for (let box = view; box; box = box.parentElement || box.getRootNode().host) {
    const style = getComputedStyle(box);
    if (box !== view && style.maxHeight !== "none" && box.clientHeight + 1 < height) {
      found.push(`${box.tagName}.${box.className} max-height ${style.maxHeight}`);
    }
  }
  return found;
}"""


def clipping_boxes(view: Locator) -> list[str]:
    """Boxes around the view that show it cut to a smaller height (should be none)."""
    found: list[str] = view.evaluate(CLIPPING_BOXES)
    return found
