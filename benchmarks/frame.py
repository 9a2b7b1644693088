"""Per-frame JS cost of the "Seeing inside" views in Debian's Chromium; prints JSON.

Bundles benchmarks/frame_entry.ts (the real network diagram, curves and timeline modules with a
fake anywidget model) with the repo's esbuild into a temp dir, loads it in a bare page and times:

* maps: one training reply per frame for 7 inputs → 6×8 tanh → 2 classes: the diagram's frame
  (every neuron thumbnail + links: its JS, and apart the rasterising of its canvas, which Chrome
  otherwise does at commit) and the main view's 100×100 decision map (the grid the thumbnails
  sample: js/src/nn/gridCache.ts); also every node's map painted at 100×100 (TensorFlow Playground's
  per-frame work: 48–80 ms there);
* wide: the diagram and the decision map for 8 hidden layers of 64;
* chart: a history change + redraw after 100,000 steps (2,000 entries: the trait's cap; and
  100,000 entries, one per step, as a stress case);
* timeline: recording a snapshot per training reply;
* point_loss_1000_points: the data map's whole frame (decision map, 1,000 points, and with the
  per-point loss on, every point's forward pass, ring and cross) plus the loss histogram, a new
  network per frame, with the per-point loss off and on.

--src DIR measures another copy of js/src (e.g. an older version, for before/after numbers).

With --page, it measures the whole built widget instead (src/nnvisu/static/widget.js, or the
bundle in --bundle DIR) in tests/widget_page.py's bare page while training: the fake model
answers train_step requests with replies recorded from ``nnvisu.handle_message``, at most
--rate per second. For --seconds, CDP's task counters give the renderer's busy time per second
untraced; then for --seconds more, a Chrome trace gives the main thread's busy time per second
(all its tasks, and the FunctionCall + FireAnimationFrame + Commit + Paint + Layout events a
DevTools profile shows), plus replies and frames per second. --hide network,chart,... hides views
(classroom mode) to see what each costs.

Usage: python benchmarks/frame.py [--frames N] [--src DIR] [--screenshot out.png [--scene ...]]
       python benchmarks/frame.py --page [--bundle DIR] [--seconds 5] [--rate 60] [--hidden 6x8]
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import chromium  # benchmarks/chromium.py
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
ESBUILD = ROOT / "js" / "node_modules" / ".bin" / "esbuild"
PAGE = """<!doctype html><html><head><meta charset="utf-8"><style>{css}
body {{ margin: 16px; background: #fff; font-family: system-ui, sans-serif; }}
#root {{ width: 760px; display: flex; flex-direction: column; gap: 16px; }}
#root canvas.main {{ display: none; }}
</style></head><body><div class="nnvisu" id="root"></div>
<script type="module">{js}</script></body></html>"""


def bundle(outdir: Path, src: Path | None = None) -> tuple[str, str]:
    """Bundle the entry (and its CSS imports) with esbuild; return (js, css).

    ``src``: another copy of js/src to measure (e.g. an older version), instead of the repo's.
    """
    entry = ROOT / "benchmarks" / "frame_entry.ts"
    if src is not None:
        text = entry.read_text().replace('"../js/src/', f'"{src.resolve()}/')
        entry = outdir / "frame_entry.ts"
        entry.write_text(text)
    subprocess.run(
        [
            str(ESBUILD),
            str(entry),
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


# The fake kernel: train_step requests are answered from replies recorded from
# ``nnvisu.handle_message`` (a real run, so networks and losses move as in training), at most
# `rate` per second, as a fast kernel on another core would; other requests go to handle_message.
PACED_KERNEL = """
({ rate, replies }) => {
  let last = 0;
  let k = 0;
  let step = 0;
  window.kernel = async (msg) => {
    if (msg.type !== "train_step") return window.pykernel(msg);
    const r = replies[k++ % replies.length];
    step += r.steps;
    const wait = last + 1000 / rate - performance.now();
    if (wait > 0) await new Promise((done) => setTimeout(done, wait));
    last = performance.now();
    const optimizer_state = { ...r.optimizer_state, global_step: step };
    return { ...r, id: msg.id, global_step: step, optimizer_state };
  };
}
"""
# What a DevTools performance profile lists for the main thread (nested events counted too, as
# PERF_NOTES.md did); busy_ms_per_s is every top-level task of the thread (RunTask).
TRACED = (
    "FunctionCall", "FireAnimationFrame", "Commit", "Paint", "Layout",
    "UpdateLayoutTree", "PrePaint",
)  # fmt: skip


def main_thread_times(events: list[dict[str, Any]]) -> dict[str, Any]:
    """Busy ms per second of the busiest renderer main thread, by event name."""
    names = {
        (e["pid"], e["tid"]): e["args"]["name"]
        for e in events
        if e.get("ph") == "M" and e.get("name") == "thread_name"
    }
    busy: collections.Counter[tuple[int, int]] = collections.Counter()
    for e in events:
        thread = (e.get("pid"), e.get("tid"))
        if (
            e.get("ph") == "X"
            and e.get("name") == "RunTask"
            and names.get(thread) == "CrRendererMain"
        ):
            busy[thread] += e["dur"]
    main = busy.most_common(1)[0][0]
    mine = [e for e in events if (e.get("pid"), e.get("tid")) == main and e.get("ph") == "X"]
    seconds = (max(e["ts"] + e["dur"] for e in mine) - min(e["ts"] for e in mine)) / 1e6
    total: collections.Counter[str] = collections.Counter()
    count: collections.Counter[str] = collections.Counter()
    for e in mine:
        if e["name"] in TRACED:
            total[e["name"]] += e["dur"]
            count[e["name"]] += 1

    def per_s(us: float) -> float:
        return round(us / 1000 / seconds, 1)

    return {
        "traced_seconds": round(seconds, 2),
        "busy_ms_per_s": per_s(busy[main]),
        "profile_five_ms_per_s": per_s(sum(total[k] for k in TRACED[:5])),
        "by_event_ms_per_s": {k: per_s(total[k]) for k in TRACED},
        "events_per_s": {k: round(count[k] / seconds, 1) for k in TRACED},
    }


def recorded_replies(traits: dict[str, Any], count: int) -> list[dict[str, Any]]:
    """``count`` consecutive train_step replies of 5 steps from the traits' state."""
    from nnvisu import handle_message

    replies = []
    network, optimizer_state = traits["network"], traits["optimizer_state"]
    for _ in range(count):
        reply = handle_message(
            {
                "type": "train_step",
                "config": {**traits["config"], "steps": 5, "time_budget_ms": None},
                "network": network,
                "optimizer_state": optimizer_state,
                "data": traits["data"],
            }
        )
        assert reply["type"] == "train_step_result", reply
        network, optimizer_state = reply["network"], reply["optimizer_state"]
        replies.append(reply)
    return replies


def page_trace(
    bundle: Path, seconds: float, rate: float, hidden: list[int] | None, hide: list[str]
) -> dict[str, Any]:
    """Play the built widget in the bare test page; trace the renderer while it trains."""
    sys.path.insert(0, str(ROOT / "tests"))
    import widget_page  # the test harness: fake anywidget model, initial traits from NNVisu

    from nnvisu import handle_message

    traits = json.loads(widget_page.initial_json())
    if hidden is not None:
        traits["config"] = {**traits["config"], "hidden_layers": hidden}
        reply = handle_message({"type": "init_network", "config": traits["config"]})
        traits["network"] = reply["network"]
        traits["optimizer_state"] = reply["optimizer_state"]
    replies = recorded_replies(traits, 120)
    traits["classroom"] = {"hidden": hide, "lock_data": False}  # hidden views do not draw
    traits["pace"] = "max"  # the replies were recorded at max; the page's default is slower
    with sync_playwright() as p:
        browser = chromium.launch(p)
        try:
            page = browser.new_page(viewport={"width": 1300, "height": 1000})
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.expose_function("pykernel", handle_message)
            page.set_content("<!doctype html><html><body style='margin:16px'></body></html>")
            page.evaluate(PACED_KERNEL, {"rate": rate, "replies": replies})
            page.evaluate(
                widget_page.PAGE_SETUP,
                {
                    "src": (bundle / "widget.js").read_text(),
                    "css": (bundle / "widget.css").read_text(),
                    "state": traits,
                    "views": 1,
                },
            )
            page.get_by_role("button", name="Play", exact=True).click()
            page.mouse.move(0, 0)  # hover updates after each layout hit-test from where it is
            page.wait_for_timeout(2000)  # warm up: JIT, the first snapshots
            probe = "() => [window.nnv.requests('train_step').length, performance.now()]"
            # First without tracing (its overhead is not the page's): CDP's own task counters.
            cdp = page.context.new_cdp_session(page)
            cdp.send("Performance.enable")

            def metrics() -> dict[str, float]:
                return {
                    m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]
                }

            m0, p0 = metrics(), page.evaluate(probe)
            page.wait_for_timeout(seconds * 1000)
            m1, p1 = metrics(), page.evaluate(probe)
            wall = (p1[1] - p0[1]) / 1000
            untraced = {
                "replies_per_s": round((p1[0] - p0[0]) / wall, 1),
                **{
                    f"{k}_ms_per_s": round((m1[name] - m0[name]) * 1000 / wall, 1)
                    for k, name in (
                        ("busy", "TaskDuration"),
                        ("script", "ScriptDuration"),
                        ("layout", "LayoutDuration"),
                        ("style", "RecalcStyleDuration"),
                    )
                },
            }
            browser.start_tracing(
                page=page,
                categories=[
                    "devtools.timeline",
                    "disabled-by-default-devtools.timeline",
                    "toplevel",
                ],
            )
            before = page.evaluate(probe)
            page.wait_for_timeout(seconds * 1000)
            after = page.evaluate(probe)
            raw = browser.stop_tracing()
            page.get_by_role("button", name="Pause", exact=True).click()
            if errors:
                raise SystemExit("page errors:\n" + "\n".join(errors))
        finally:
            browser.close()
    result = main_thread_times(json.loads(raw)["traceEvents"])
    per_s = (after[0] - before[0]) / ((after[1] - before[1]) / 1000)
    return {
        "bundle": str(bundle),
        "hidden_layers": traits["config"]["hidden_layers"],
        "hidden_views": hide,
        "untraced": untraced,
        "replies_per_s": round(per_s, 1),
        "frames_per_s": result["events_per_s"]["FireAnimationFrame"],
        "busy_ms_per_reply": round(result["busy_ms_per_s"] / max(per_s, 1e-9), 2),
        **result,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=200)
    ap.add_argument("--screenshot", type=Path, help="save a picture of the views instead of timing")
    ap.add_argument("--scene", choices=["normal", "wide", "shallow"], default="normal")
    ap.add_argument("--src", type=Path, help="measure this copy of js/src instead of the repo's")
    ap.add_argument("--page", action="store_true", help="trace the built widget while it trains")
    ap.add_argument("--bundle", type=Path, default=ROOT / "src" / "nnvisu" / "static")
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--rate", type=float, default=60.0, help="most replies per second")
    ap.add_argument(
        "--hidden", help="hidden layers for --page, e.g. 6x8 or 4,4 (default: the widget's)"
    )
    ap.add_argument(
        "--hide",
        default="",
        help="views to hide for --page (classroom names: network,chart,timeline)",
    )
    args = ap.parse_args()
    if args.page:
        hidden = None
        if args.hidden:
            count, _, size = args.hidden.partition("x")
            hidden = [int(size)] * int(count) if size else [int(v) for v in args.hidden.split(",")]
        result = {"load_average_before": [round(v, 2) for v in os.getloadavg()]}
        result.update(
            page_trace(
                args.bundle, args.seconds, args.rate, hidden, [v for v in args.hide.split(",") if v]
            )
        )
        result["load_average_after"] = [round(v, 2) for v in os.getloadavg()]
        print(json.dumps(result, indent=2))
        return
    with tempfile.TemporaryDirectory() as tmp:
        js, css = bundle(Path(tmp), args.src)
    errors: list[str] = []
    with sync_playwright() as p:
        browser = chromium.launch(p)
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
                    "point_loss_1000_points": page.evaluate("n => bench.pointLossBench(n)", n),
                    "load_average_after": [round(v, 2) for v in os.getloadavg()],
                }
        finally:
            browser.close()
    if errors:
        raise SystemExit("page errors:\n" + "\n".join(errors))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
