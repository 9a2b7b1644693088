"""Training speed and map frame rate as the page delivers them, in Debian's Chromium; prints JSON.

Drives the real frontend twice per setup: the standalone page (``python -m nnvisu.server
--port 0`` started as a subprocess) and ``NNVisu()`` in a real JupyterLab (tests/
jupyter_harness.py). Setups: TensorFlow Playground's default (2 inputs -> 4 -> 2 -> 2 tanh,
circle n=500 noise 0, half test, batch 10, lr 0.03, SGD) and the same with 6 hidden layers of
8 relu. The page state is written before load (localStorage for the standalone page; the
constructor's arguments in the notebook), then the page's own Play button is pressed.

Measured in the page, by a script injected before the page's own (nothing in the bundle is
changed for the benchmark):

* steps/s and epochs/s delivered to the page: the "Step" counter the view shows (its model's
  global_step), sampled by a MutationObserver; epochs = steps * batch / training points;
* map frames/s: animation frames in which the decision map was redrawn (a 100x100
  putImageData inside a requestAnimationFrame callback);
* JS time per map frame: the duration of every requestAnimationFrame callback of that frame
  (decision map, neuron maps of the network diagram, curves, ...), and of the decision map's
  own callback; also the main thread's busy fraction (CDP Performance.getMetrics).

In the same run, in this process, on the same problems: a plain stateful torch loop (modules,
torch.optim, autograd) and the stateless protocol loop as the page drives it (``handle_json``
with the page's requests and time budget; see link.py), plus the Adam 10-5 moons reference.

    python benchmarks/browser.py [--seconds 8] [--only standalone|jupyter|python]
                                 [--setups tfp,relu6x8]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch
from playwright.sync_api import Browser, Page, sync_playwright
from torch import nn

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))

import chromium  # noqa: E402
import link  # noqa: E402  (the frontend-emulating protocol client)
import plain_torch  # noqa: E402

from nnvisu import datasets  # noqa: E402

VIEWPORT = {"width": 1400, "height": 1100}

SETUPS: dict[str, dict[str, Any]] = {
    "tfp": {"hidden_layers": [4, 2], "activation": "tanh"},
    "relu6x8": {"hidden_layers": [8] * 6, "activation": "relu"},
}
# The targets per setup: epochs/s delivered to the page, at a map frame rate; and the
# TensorFlow Playground figures they are measured against (its own app, these machines).
TARGETS = {
    "tfp": {"epochs_per_s": 300, "map_fps": 55},
    "relu6x8": {"epochs_per_s": 150, "map_fps": 55},
}
TF_PLAYGROUND = {
    "tfp": {"epochs_per_s": 59.6, "fps": 59.7},
    "relu6x8": {"epochs_per_s": 20.3, "fps": 20},
}
COMMON = {
    "features": ["x", "y"],
    "optimizer": "sgd",
    "learning_rate": 0.03,
    "batch_size": 10,
    "problem": "classification",
    "num_classes": 2,
}
DATASET = {"name": "circle", "n": 500, "noise": 0.0, "num_classes": 2, "seed": 0, "test_ratio": 0.5}
TRAIN_POINTS = 250

# Injected before the page's scripts: per-frame accounting of requestAnimationFrame callbacks,
# map redraws (putImageData of the 100x100 decision map), and the view's Step counter.
INSTRUMENT = r"""
(() => {
  const B = { frames: [], steps: [], recording: false };
  window.__bench = B;
  let frame = null;
  let inCallback = false;
  const close = () => { if (frame && B.recording) B.frames.push(frame); frame = null; };
  const raf = window.requestAnimationFrame.bind(window);
  window.requestAnimationFrame = (cb) => raf((ts) => {
    if (!frame || frame.ts !== ts) { close(); frame = { ts, js: 0, map: false, mapJs: 0 }; }
    const f = frame;
    const t0 = performance.now();
    const wasMap = f.map;
    inCallback = true;
    try { cb(ts); } finally {
      inCallback = false;
      const dt = performance.now() - t0;
      f.js += dt;
      if (f.map && !wasMap) f.mapJs += dt;
    }
  });
  const put = CanvasRenderingContext2D.prototype.putImageData;
  CanvasRenderingContext2D.prototype.putImageData = function (img, ...rest) {
    if (inCallback && frame && img.width === 100 && img.height === 100) frame.map = true;
    return put.call(this, img, ...rest);
  };
  const watch = () => {
    const dd = document.querySelector("dl.nnv-metrics dd");
    if (!dd) { setTimeout(watch, 50); return; }
    const read = () => {
      const v = Number(dd.textContent.replace(/[^0-9]/g, ""));
      if (B.recording) B.steps.push([performance.now(), v]);
    };
    new MutationObserver(read).observe(dd, { childList: true, characterData: true, subtree: true });
  };
  watch();
  B.start = () => { B.frames = []; B.steps = []; B.recording = true; B.t0 = performance.now();
    const dd = document.querySelector("dl.nnv-metrics dd");
    B.steps.push([B.t0, Number(dd.textContent.replace(/[^0-9]/g, ""))]); };
  B.stop = () => { close(); B.recording = false; B.t1 = performance.now();
    return { t0: B.t0, t1: B.t1, frames: B.frames, steps: B.steps }; };
})();
"""


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q * (len(s) - 1))))]


def summarise(raw: dict[str, Any], busy: float | None) -> dict[str, Any]:
    seconds = (raw["t1"] - raw["t0"]) / 1000
    steps = raw["steps"]
    (_, sa), (tb, sb) = steps[0], steps[-1]
    # Rate between the first and the last change seen (the counter moves in jumps).
    first_change = next((s for s in steps if s[1] != sa), steps[-1])
    span = (tb - first_change[0]) / 1000
    rate = (sb - first_change[1]) / span if span > 0 else 0.0
    map_frames = [f for f in raw["frames"] if f["map"]]
    js = [f["js"] for f in map_frames]
    map_js = [f["mapJs"] for f in map_frames]
    return {
        "seconds": round(seconds, 2),
        "steps_per_s": round(rate),
        "epochs_per_s": round(rate * COMMON["batch_size"] / TRAIN_POINTS, 1),
        "step_updates_per_s": round(
            sum(1 for a, b in zip(steps, steps[1:], strict=False) if b[1] != a[1]) / seconds, 1
        ),
        # The displayed step going backwards: a stale state overwrote a newer one.
        "step_regressions": sum(1 for a, b in zip(steps, steps[1:], strict=False) if b[1] < a[1]),
        "raf_frames_per_s": round(len(raw["frames"]) / seconds, 1),
        "map_frames_per_s": round(len(map_frames) / seconds, 1),
        "js_ms_per_map_frame": {
            "mean": round(sum(js) / max(1, len(js)), 2),
            "p50": round(percentile(js, 0.5), 2),
            "p95": round(percentile(js, 0.95), 2),
        },
        "decision_map_callback_ms": {
            "mean": round(sum(map_js) / max(1, len(map_js)), 2),
            "p95": round(percentile(map_js, 0.95), 2),
        },
        "main_thread_busy": None if busy is None else round(busy, 2),
    }


def failure(error: BaseException) -> dict[str, Any]:
    """What a setup that failed reports in the JSON (the traceback goes to stderr)."""
    traceback.print_exception(error, file=sys.stderr)
    return {"error": f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"}


def measure_playing(page: Page, root: str, warmup: float, seconds: float) -> dict[str, Any]:
    """Press Play inside ``root``, let it warm up, record for ``seconds``, press Pause."""
    page.locator(root).get_by_role("button", name="Play", exact=True).click()
    page.locator(root).get_by_role("button", name="Pause").wait_for()
    time.sleep(warmup)
    cdp = page.context.new_cdp_session(page)
    cdp.send("Performance.enable")

    def task_seconds() -> float:
        metrics = cdp.send("Performance.getMetrics")["metrics"]
        return float(next(m["value"] for m in metrics if m["name"] == "TaskDuration"))

    busy0, wall0 = task_seconds(), time.monotonic()
    page.evaluate("window.__bench.start()")
    time.sleep(seconds)
    raw = page.evaluate("window.__bench.stop()")
    busy = (task_seconds() - busy0) / (time.monotonic() - wall0)
    page.locator(root).get_by_role("button", name="Pause").click()
    page.locator(root).get_by_role("button", name="Play", exact=True).wait_for()
    cdp.detach()
    return summarise(raw, busy)


# ---------------------------------------------------------------------------------------------
# The standalone page


@contextmanager
def standalone_server() -> Iterator[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "nnvisu.server", "--port", "0", "--log-level", "warning"],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        match = re.search(r"(http://\S+?/)", line)
        if not match:
            raise SystemExit(f"the server did not start: {line!r}")
        yield match.group(1)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def stored_state(setup: dict[str, Any], dataset: dict[str, Any] = DATASET) -> str:
    """localStorage entries (the page's own format) for a setup; the page fetches data/network."""
    config = {**COMMON, **setup}
    entries = {
        "nnvisu:config": {"v": 1, "values": {"config": config}},
        "nnvisu:data": {"v": 1, "values": {"dataset": dataset}},
        # Play at "max": as fast as the server trains (the page's default pace is slower).
        "nnvisu:extra": {"v": 1, "values": {"pace": "max"}},
    }
    sets = "".join(
        f"localStorage.setItem({json.dumps(k)}, {json.dumps(json.dumps(v))});"
        for k, v in entries.items()
    )
    return (
        f"if (!sessionStorage.getItem('bench')) {{ sessionStorage.setItem('bench', '1'); {sets} }}"
    )


def bench_standalone(
    browser: Browser, setups: list[str], warmup: float, seconds: float
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with standalone_server() as url:
        for name in setups:
            context = browser.new_context(viewport=VIEWPORT)
            errors: list[str] = []
            try:
                context.add_init_script(stored_state(SETUPS[name]))
                context.add_init_script(INSTRUMENT)
                page = context.new_page()
                page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
                page.goto(url)
                page.get_by_role("button", name="Play", exact=True).wait_for(timeout=60_000)
                page.wait_for_function("document.querySelector('canvas.nnv-map') !== null")
                time.sleep(1.0)
                out[name] = measure_playing(page, "main", warmup, seconds)
            except Exception as error:  # one failed setup keeps the others' results
                out[name] = failure(error)
            finally:
                context.close()
            if errors:
                out[name]["page_errors"] = errors
    return out


# ---------------------------------------------------------------------------------------------
# NNVisu() in JupyterLab

# The panel of notebook `path`, activated, once it is ready to run: its file loaded, its cells
# rendered, its kernel idle. Looked up by path, not as the current widget: JupyterLab may
# restore an earlier notebook from the workspace and show it first.
NOTEBOOK_READY = """(path) => {
  const app = window.jupyterapp;
  if (!app) return false;
  const panel = Array.from(app.shell.widgets("main")).find((w) => w.context?.path === path);
  if (!panel || !panel.context.isReady || !panel.content?.widgets?.length) return false;
  if (panel.sessionContext?.session?.kernel?.status !== "idle") return false;
  if (app.shell.currentWidget !== panel) {
    app.shell.activateById(panel.id);
    return false;
  }
  return true;
}"""
# Runs every cell of the current notebook once it is `path` (false: another one is current).
RUN_ALL = """(path) => {
  const app = window.jupyterapp;
  if (app.shell.currentWidget?.context?.path !== path) return false;
  void app.commands.execute("notebook:run-all-cells");
  return true;
}"""


def bench_jupyter(
    browser: Browser, setups: list[str], warmup: float, seconds: float
) -> dict[str, Any]:
    from jupyter_harness import running_jupyterlab, write_notebook

    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp, running_jupyterlab(Path(tmp)) as lab:
        for name in setups:
            setup = {**COMMON, **SETUPS[name]}
            args = ", ".join(
                f"{k}={v!r}" for k, v in setup.items() if k not in ("problem", "num_classes")
            )
            code = (
                "from nnvisu import NNVisu\n"
                f"w = NNVisu(dataset='circle', n=500, noise=0.0, test_ratio=0.5, seed=0, {args})\n"
                "w.pace = 'max'\nw"
            )
            notebook = f"{name}.ipynb"
            write_notebook(Path(tmp) / notebook, [code])
            context = browser.new_context(viewport=VIEWPORT)
            errors: list[str] = []
            page: Page | None = None
            try:
                context.add_init_script(INSTRUMENT)
                page = context.new_page()
                page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
                page.set_default_timeout(90_000)
                page.goto(lab.url(f"lab/tree/{notebook}"))
                page.wait_for_function(NOTEBOOK_READY, arg=notebook, timeout=120_000)
                if not page.evaluate(RUN_ALL, notebook):
                    raise RuntimeError(f"{notebook} stopped being the current notebook")
                widget = ".jp-OutputArea-output .nnvisu"
                page.locator(widget).get_by_role("button", name="Play", exact=True).wait_for()
                page.wait_for_function(NOTEBOOK_READY, arg=notebook)
                time.sleep(1.0)
                out[name] = measure_playing(page, widget, warmup, seconds)
            except Exception as error:  # one failed setup keeps the others' results
                out[name] = failure(error)
            finally:
                close_notebook(lab, page, notebook)
                context.close()
            if errors:
                out[name]["page_errors"] = errors
    return out


def close_notebook(lab: Any, page: Page | None, notebook: str) -> None:
    """Close the notebook's panels and shut its kernel down, so the next setup starts clean."""
    if page is not None:
        try:
            page.evaluate("window.jupyterapp?.commands.execute('application:close-all')")
        except Exception as error:  # the page may be what failed
            print(f"could not close the panels of {notebook}: {error}", file=sys.stderr)
    for s in lab.api("sessions"):
        if s["path"] == notebook:
            lab.api(f"sessions/{s['id']}", method="DELETE")


# ---------------------------------------------------------------------------------------------
# In this process: a plain torch loop and the protocol loop on the same problems


def problem_points(
    dataset: str = "circle", n: int = 500, noise: float = 0.0, test_ratio: float = 0.5
) -> list[dict[str, Any]]:
    xs, ys = datasets.generate(dataset, n, noise, 2, 0)
    return datasets.to_points(xs, ys, test_ratio, 0)


def plain_loop(config: dict[str, Any], points: list[dict[str, Any]]) -> Callable[[int], None]:
    """What a user writes: nn.Sequential, torch.optim, autograd, a shuffled copy per epoch."""
    torch.manual_seed(config.get("seed", 0))
    train = [p for p in points if not p["test"]]
    x = torch.tensor([[p["x"], p["y"]] for p in train], dtype=torch.float32)
    y = torch.tensor([p["label"] for p in train])
    act = {"tanh": nn.Tanh, "relu": nn.ReLU}[config["activation"]]
    sizes = [2, *config["hidden_layers"], 2]
    layers: list[nn.Module] = []
    for a, b in zip(sizes, sizes[1:], strict=False):
        layers += [nn.Linear(a, b), act()]
    model = nn.Sequential(*layers[:-1])
    lr = config["learning_rate"]
    opt = (
        torch.optim.Adam(model.parameters(), lr=lr)
        if config["optimizer"] == "adam"
        else torch.optim.SGD(model.parameters(), lr=lr)
    )
    return plain_torch.training_loop(model, opt, x, y, config.get("batch_size"))


def steps_per_s(run: Callable[[int], Any], chunk: int, seconds: float) -> float:
    run(chunk)  # warm up
    done, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        got = run(chunk)
        done += got if isinstance(got, int) else chunk
    return done / (time.perf_counter() - t0)


def bench_python(setups: list[str], seconds: float, rounds: int = 3) -> dict[str, Any]:
    torch.set_num_threads(1)
    cases = {name: ({**COMMON, **SETUPS[name]}, problem_points()) for name in setups}
    cases["adam_10-5_moons200_fullbatch"] = (
        {
            **COMMON,
            "hidden_layers": [10, 5],
            "activation": "tanh",
            "optimizer": "adam",
            "learning_rate": 0.03,
            "batch_size": None,
        },
        problem_points("moons", 200, 0.1),
    )
    out: dict[str, Any] = {}
    for name, (config, points) in cases.items():
        best: dict[str, float] = {}
        for _ in range(rounds):  # alternate the two, keep each one's best round
            for key, run, chunk in [
                ("plain", plain_loop(config, points), 100),
                ("protocol", link.InProcessLoop(config, points).run_steps, 100),
            ]:
                best[key] = max(best.get(key, 0.0), steps_per_s(run, chunk, seconds))
        n_train = sum(not p["test"] for p in points)
        batch = config["batch_size"] or n_train
        out[name] = {
            "plain_torch_steps_per_s": round(best["plain"]),
            "plain_torch_epochs_per_s": round(best["plain"] * batch / n_train, 1),
            "protocol_steps_per_s": round(best["protocol"]),
            "protocol_epochs_per_s": round(best["protocol"] * batch / n_train, 1),
            "protocol_over_plain": round(best["protocol"] / best["plain"], 2),
        }
    return out


def targets(result: dict[str, Any]) -> dict[str, Any]:
    """Each page run against its target, TensorFlow Playground and this run's plain torch loop."""
    out: dict[str, Any] = {}
    for host in ("standalone", "jupyter"):
        for name, run in result.get(host, {}).items():
            if name not in TARGETS or "error" in run:
                continue
            goal, ref = TARGETS[name], TF_PLAYGROUND[name]
            row = {
                "epochs_per_s": run["epochs_per_s"],
                "map_fps": run["map_frames_per_s"],
                "target": goal,
                "met": run["epochs_per_s"] >= goal["epochs_per_s"]
                and run["map_frames_per_s"] >= goal["map_fps"],
                "epochs_over_tf_playground": round(run["epochs_per_s"] / ref["epochs_per_s"], 2),
            }
            plain = result.get("in_process", {}).get(name)
            if plain:  # the loop as the page drives it, against the plain loop (target >= 0.9)
                row["page_steps_over_plain_torch"] = round(
                    run["steps_per_s"] / plain["plain_torch_steps_per_s"], 2
                )
            out[f"{host}/{name}"] = row
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=8.0, help="measurement window per run")
    ap.add_argument("--warmup", type=float, default=3.0, help="seconds of play before measuring")
    ap.add_argument("--only", choices=["standalone", "jupyter", "python"], action="append")
    ap.add_argument("--setups", default="tfp,relu6x8")
    args = ap.parse_args()
    setups = args.setups.split(",")
    unknown = [name for name in setups if name not in SETUPS]
    if unknown:
        ap.error(f"unknown setup(s) {', '.join(unknown)}; known: {', '.join(SETUPS)}")
    only = set(args.only or ["standalone", "jupyter", "python"])
    result: dict[str, Any] = {
        "benchmark": "browser",
        "torch": torch.__version__,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_average_before": [round(v, 2) for v in os.getloadavg()],
        "references": {f"tf_playground_{name}": ref for name, ref in TF_PLAYGROUND.items()},
    }
    started = time.monotonic()
    if "python" in only:
        result["in_process"] = bench_python(setups, 1.0)
    if only & {"standalone", "jupyter"}:
        with sync_playwright() as p:
            browser = chromium.launch(p)
            try:
                for host, bench in [("standalone", bench_standalone), ("jupyter", bench_jupyter)]:
                    if host in only:
                        try:
                            result[host] = bench(browser, setups, args.warmup, args.seconds)
                        except Exception as error:  # e.g. JupyterLab did not start
                            result[host] = {"error": failure(error)["error"]}
            finally:
                browser.close()
    result["targets"] = targets(result)
    result["failed"] = failed(result)
    result["load_average_after"] = [round(v, 2) for v in os.getloadavg()]
    result["seconds"] = round(time.monotonic() - started, 1)
    print(json.dumps(result, indent=2))
    if result["failed"]:
        sys.exit(1)


def failed(result: dict[str, Any]) -> list[str]:
    """The hosts and setups that failed, as "host" or "host/setup" (each says why in the JSON)."""
    out: list[str] = []
    for host in ("standalone", "jupyter"):
        runs = result.get(host, {})
        if "error" in runs:
            out.append(host)
            continue
        out += [f"{host}/{name}" for name, run in runs.items() if "error" in run]
    return out


if __name__ == "__main__":
    main()
