"""Per-frame JS cost of the "Seeing inside" views in Debian's Chromium; prints JSON.

Bundles benchmarks/frame_entry.ts (the real network diagram, curves and timeline modules with a
fake anywidget model) with the repo's esbuild into a temp dir, loads it in a bare page and times:

* maps: one training reply per frame for 7 inputs → 6×8 tanh → 2 classes: the diagram's frame
  (every neuron thumbnail + links) and the main view's 100×100 decision map; also every node's
  map painted at 100×100 (TensorFlow Playground's per-frame work: 48–80 ms there);
* wide: the diagram for 8 hidden layers of 64;
* chart: a history change + redraw after 100,000 steps (2,000 entries: the trait's cap; and
  100,000 entries, one per step, as a stress case);
* timeline: recording a snapshot per training reply.

Usage: python benchmarks/frame.py [--frames N] [--screenshot out.png [--scene normal|wide|shallow]]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
ESBUILD = ROOT / "js" / "node_modules" / ".bin" / "esbuild"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PAGE = """<!doctype html><html><head><meta charset="utf-8"><style>{css}
body {{ margin: 16px; background: #fff; font-family: system-ui, sans-serif; }}
#root {{ width: 760px; display: flex; flex-direction: column; gap: 16px; }}
#root canvas.main {{ display: none; }}
</style></head><body><div class="nnvisu" id="root"></div>
<script type="module">{js}</script></body></html>"""


def bundle(outdir: Path) -> tuple[str, str]:
    """Bundle the entry (and its CSS imports) with esbuild; return (js, css)."""
    subprocess.run(
        [
            str(ESBUILD),
            str(ROOT / "benchmarks" / "frame_entry.ts"),
            "--bundle",
            "--format=esm",
            "--target=es2020",
            f"--outdir={outdir}",
            "--log-level=warning",
        ],
        check=True,
        cwd=ROOT / "js",
    )
    css = outdir / "frame_entry.css"
    return (outdir / "frame_entry.js").read_text(), css.read_text() if css.exists() else ""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=200)
    ap.add_argument("--screenshot", type=Path, help="save a picture of the views instead of timing")
    ap.add_argument("--scene", choices=["normal", "wide", "shallow"], default="normal")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        js, css = bundle(Path(tmp))
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 800, "height": 1200})
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.set_content(PAGE.format(css=css, js=js))
            page.wait_for_function("window.bench !== undefined")
            if args.screenshot:
                page.evaluate("kind => bench.scene(kind)", args.scene)
                page.locator("#root").screenshot(path=str(args.screenshot))
                result: dict[str, object] = {"screenshot": str(args.screenshot)}
            else:
                n = args.frames
                result = {
                    # Timings share the CPU with everything else: report how busy it was.
                    "load_average_before": [round(v, 2) for v in os.getloadavg()],
                    "maps": page.evaluate("n => bench.mapsBench(n)", n),
                    "wide": page.evaluate("n => bench.wideBench(n)", max(20, n // 4)),
                    "chart_2000_entries": page.evaluate("n => bench.chartBench(n, 2000)", n),
                    "chart_100000_entries": page.evaluate("n => bench.chartBench(n, 100000)", n),
                    "timeline": page.evaluate("n => bench.timelineBench(n)", 5 * n),
                    "load_average_after": [round(v, 2) for v in os.getloadavg()],
                }
        finally:
            browser.close()
    if errors:
        raise SystemExit("page errors:\n" + "\n".join(errors))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
