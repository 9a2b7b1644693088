"""Screenshots of the comparing and explaining views, for docs/ (run by hand; prints JSON).

Renders the built widget (src/nnvisu/static) in tests/widget_page.py's bare page, in Debian's
Chromium, with states trained in Python through the real dispatcher, and writes:

* compare.png: SGD against Adam on the spiral, trained 600 steps in lockstep;
* point_loss.png: the map's rings and crosses and the per-point loss histogram, half-trained;
* layer_space.png: the network panel with a 6-neuron layer's space (PCA).

Usage: python benchmarks/screenshots.py [--out docs]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import chromium  # benchmarks/chromium.py
import torch
from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from widget_page import TRAITS, open_widget  # noqa: E402

from nnvisu import NNVisu  # noqa: E402


def traits(w: NNVisu) -> dict[str, Any]:
    names = (*TRAITS, "comparison")
    return json.loads(json.dumps({name: getattr(w, name) for name in names}))


def shoot(page: Page, state: dict[str, Any], selector: str, path: Path) -> None:
    open_widget(page, traits=state)
    page.wait_for_timeout(800)  # let the throttled views draw their last frame
    page.locator(selector).screenshot(path=str(path))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    args = parser.parse_args()
    torch.set_num_threads(1)
    compare = NNVisu("spiral", n=200, hidden_layers=[8, 8], optimizer="sgd", learning_rate=0.1,
                     seed=1)  # fmt: skip
    compare.compare(optimizer="adam", learning_rate=0.03).train(steps=600)
    half = NNVisu("spiral", n=160, hidden_layers=[8, 8], seed=2, optimizer="adam",
                  learning_rate=0.03)  # fmt: skip
    half.train(steps=300, wait=True, progress=False)
    half.view = {**half.view, "point_loss": True}
    space = NNVisu("circle", n=120, hidden_layers=[6, 5], seed=3, learning_rate=0.1)
    space.train(steps=150, wait=True, progress=False)
    shots = {
        "compare.png": (traits(compare), ".nnv-panel--compare"),
        "point_loss.png": (traits(half), ".nnv-panel--output"),
        "layer_space.png": (traits(space), ".nnv-panel--network"),
    }
    with sync_playwright() as p:
        browser = chromium.launch(p)
        try:
            for name, (state, selector) in shots.items():
                page = browser.new_page(viewport={"width": 1040, "height": 1100})
                shoot(page, state, selector, args.out / name)
                page.close()
        finally:
            browser.close()
    print(json.dumps({"written": [str(args.out / name) for name in shots]}))


if __name__ == "__main__":
    main()
