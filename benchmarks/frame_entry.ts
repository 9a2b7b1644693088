// Bundled by benchmarks/frame.py into a bare page: the real diagram, chart and timeline modules
// against a fake anywidget model, plus the main view's decision-map work, timed per frame.
import type { ModelConfig, NetworkJSON } from "../js/src/nn/forward";
import { gridFor } from "../js/src/nn/gridCache";
import { blendClasses, type RGB } from "../js/src/ui/colors";
import { mountChart } from "../js/src/ui/chart";
import { mountNetwork } from "../js/src/ui/network";
import { readTimeline, TimelineWriter } from "../js/src/timelineLog";
import { mountTimeline } from "../js/src/ui/timeline";
import { resumeFrom } from "../js/src/history";
import { colouringFor, paintMap } from "../js/src/ui/network/maps";
import { DEFAULT_CONFIG, DEFAULT_VIEW, type HistoryEntry, type Point, type WidgetModel } from "../js/src/state";
import { mountDataCanvas } from "../js/src/ui/canvas";
import { mountLossHistogram } from "../js/src/ui/lossHistogram";

type Handler = (...args: never[]) => void;

class FakeModel {
  private handlers = new Map<string, Set<Handler>>();
  constructor(private state: Record<string, unknown>) {}
  get(key: string): unknown {
    return this.state[key];
  }
  set(key: string, value: unknown): void {
    this.state[key] = value;
    for (const h of this.handlers.get(`change:${key}`) ?? []) (h as () => void)();
  }
  on(event: string, h: Handler): void {
    if (!this.handlers.has(event)) this.handlers.set(event, new Set());
    this.handlers.get(event)!.add(h);
  }
  off(event?: string | null, h?: Handler | null): void {
    if (event && h) this.handlers.get(event)?.delete(h);
  }
  save_changes(): void {}
  send(): void {}
}

/** Deterministic pseudo-random numbers (mulberry32). */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomNetwork(sizes: number[], seed: number): NetworkJSON {
  const r = rng(seed);
  const u = (fanIn: number) => (2 * r() - 1) * (2 / Math.sqrt(fanIn));
  return {
    weights: sizes.slice(1).map((out, l) => Array.from({ length: out }, () => Array.from({ length: sizes[l] }, () => u(sizes[l])))),
    biases: sizes.slice(1).map((out, l) => Array.from({ length: out }, () => u(sizes[l]) * 0.5)),
  };
}

function nudge(net: NetworkJSON, r: () => number): NetworkJSON {
  const d = () => (r() - 0.5) * 0.02;
  return { weights: net.weights.map((W) => W.map((row) => row.map((v) => v + d()))), biases: net.biases.map((b) => b.map((v) => v + d())) };
}

function history(steps: number, entries: number): HistoryEntry[] {
  return Array.from({ length: entries }, (_, i) => {
    const step = Math.round(((i + 1) / entries) * steps);
    const base = 0.69 * Math.exp(-step / 8000) + 0.02;
    const noise = 0.01 * Math.sin(i * 1.7);
    return { step, train_loss: base + noise, test_loss: base * 1.15 + noise, accuracy: 1 - base / 1.4, test_accuracy: 0.98 - base / 1.3 };
  });
}

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  const ms = (v: number) => +v.toFixed(2);
  return { min_ms: ms(s[0]), median_ms: ms(q(0.5)), p95_ms: ms(q(0.95)), frames: s.length };
};

/** Time every requestAnimationFrame callback, summed per frame: the views' whole per-frame JS. */
const frameTimes = new Map<number, number>();
const rawRaf = window.requestAnimationFrame.bind(window);
window.requestAnimationFrame = (cb) =>
  rawRaf((t) => {
    const start = performance.now();
    cb(t);
    frameTimes.set(t, (frameTimes.get(t) ?? 0) + performance.now() - start);
  });
const rafTimes = (): number[] => [...frameTimes.values()];
const nextFrame = () => new Promise<void>((r) => rawRaf(() => r()));

const ALL = ["x", "y", "x2", "y2", "xy", "sinx", "siny"];

function setup(hidden: number[], classes: number, historyEntries: number, steps: number, features = ALL) {
  const cfg = { ...DEFAULT_CONFIG, features, hidden_layers: hidden, num_classes: classes, activation: "tanh" };
  const net = randomNetwork([cfg.features.length, ...hidden, classes], 1);
  const model = new FakeModel({
    config: cfg,
    network: net,
    history: history(steps, historyEntries),
    timeline: { interval: 1, branch: 0, snapshots: [] },
  });
  const root = document.getElementById("root")!;
  root.innerHTML = `<div class="nnv-network"></div><div class="nnv-chart"></div><div class="nnv-timeline"></div><canvas class="main" width="400" height="400"></canvas>`;
  const m = model as unknown as WidgetModel;
  const cleanups = [
    mountNetwork(m, root.querySelector(".nnv-network")!),
    mountChart(m, root.querySelector(".nnv-chart")!),
    mountTimeline(m, root.querySelector(".nnv-timeline")!),
  ];
  return { cfg: cfg as ModelConfig, model, net, cleanups, main: root.querySelector<HTMLCanvasElement>("canvas.main")! };
}

/** The main view's decision map: the widget's shared 100×100 grid (ui/canvas.ts asks gridFor too),
 *  classes blended, drawn 4× scaled. */
function decisionMap(net: NetworkJSON, cfg: ModelConfig, main: HTMLCanvasElement, image: ImageData, tile: HTMLCanvasElement): Float32Array[] {
  const n = 100;
  const grid = gridFor(net, cfg, n);
  const out = grid[grid.length - 1];
  const k = cfg.num_classes;
  const probs = new Float32Array(k);
  const rgb: RGB = [0, 0, 0];
  const cells = n * n;
  for (let c = 0; c < cells; c++) {
    for (let j = 0; j < k; j++) probs[j] = out[j * cells + c];
    blendClasses(probs, rgb);
    image.data[4 * c] = rgb[0];
    image.data[4 * c + 1] = rgb[1];
    image.data[4 * c + 2] = rgb[2];
    image.data[4 * c + 3] = 255;
  }
  tile.getContext("2d")!.putImageData(image, 0, 0);
  main.getContext("2d")!.drawImage(tile, 0, 0, main.width, main.height);
  return grid;
}

/** TensorFlow Playground's workload: every node's map at 100×100, each painted into its own image. */
function allMapsFull(grid: Float32Array[], cfg: ModelConfig, images: ImageData[]): void {
  let t = 0;
  grid.forEach((layer, l) => {
    const count = layer.length / 10000;
    for (let k = 0; k < count; k++) paintMap(layer, k * 10000, 100, colouringFor(cfg, l, k), images[t++].data, 100, 0, 0);
  });
}

async function mapsBench(frames: number) {
  const { cfg, model, net, cleanups, main } = setup([8, 8, 8, 8, 8, 8], 2, 2000, 100_000);
  const image = new ImageData(100, 100);
  const tile = document.createElement("canvas");
  tile.width = tile.height = 100;
  const images = Array.from({ length: 7 + 48 + 2 }, () => new ImageData(100, 100));
  const r = rng(7);
  let current = net;
  for (let i = 0; i < 10; i++) await nextFrame(); // settle layout, warm up
  const decision: number[] = [];
  const full: number[] = [];
  const raster: number[] = [];
  const diagramCtx = document.querySelector<HTMLCanvasElement>(".nnv-net-base")!.getContext("2d")!;
  frameTimes.clear();
  for (let f = 0; f < frames; f++) {
    current = nudge(current, r);
    model.set("network", current); // what a training reply does
    const start = performance.now();
    const grid = decisionMap(current, cfg, main, image, tile);
    decision.push(performance.now() - start);
    const s2 = performance.now();
    allMapsFull(grid, cfg, images);
    full.push(performance.now() - s2 + decision[decision.length - 1]);
    await nextFrame();
    // Canvas draw calls are recorded and rasterised when the frame is committed, on the main
    // thread too: reading a pixel back rasterises the diagram now, so it can be timed.
    const s3 = performance.now();
    diagramCtx.getImageData(0, 0, 1, 1);
    raster.push(performance.now() - s3);
  }
  const diagram = rafTimes();
  cleanups.forEach((c) => c());
  const total = diagram.map((d, i) => d + (decision[i] ?? 0));
  return {
    network: "7 inputs, 6 hidden layers of 8 (tanh), 2 classes",
    diagram_frame: stats(diagram),
    diagram_raster: stats(raster),
    decision_map_100: stats(decision),
    diagram_plus_decision_map: stats(total),
    all_node_maps_and_decision_at_100: stats(full),
  };
}

async function wideBench(frames: number) {
  const { cfg, model, net, cleanups, main } = setup([64, 64, 64, 64, 64, 64, 64, 64], 8, 10, 100);
  const image = new ImageData(100, 100);
  const tile = document.createElement("canvas");
  tile.width = tile.height = 100;
  const r = rng(3);
  let current = net;
  for (let i = 0; i < 5; i++) await nextFrame();
  frameTimes.clear();
  const decision: number[] = [];
  const raster: number[] = [];
  const diagramCtx = document.querySelector<HTMLCanvasElement>(".nnv-net-base")!.getContext("2d")!;
  for (let f = 0; f < frames; f++) {
    current = nudge(current, r);
    model.set("network", current);
    // The main map evaluates the grid (all layers) whatever the diagram does.
    const start = performance.now();
    decisionMap(current, cfg, main, image, tile);
    decision.push(performance.now() - start);
    await nextFrame();
    const s3 = performance.now();
    diagramCtx.getImageData(0, 0, 1, 1);
    raster.push(performance.now() - s3);
  }
  cleanups.forEach((c) => c());
  return {
    network: "7 inputs, 8 hidden layers of 64, 8 classes",
    diagram_frame: stats(rafTimes()),
    diagram_raster: stats(raster),
    decision_map_100: stats(decision),
  };
}

async function chartBench(frames: number, entries: number) {
  const { model, cleanups } = setup([4], 2, entries, 100_000);
  for (let i = 0; i < 5; i++) await nextFrame();
  frameTimes.clear();
  const onSet: number[] = [];
  const full = history(100_000, entries);
  for (let f = 0; f < frames; f++) {
    const h = full.slice(0, entries - frames + f);
    const start = performance.now();
    model.set("history", h); // the chart reads the trait on change
    onSet.push(performance.now() - start);
    await nextFrame();
  }
  cleanups.forEach((c) => c());
  // Frames also include the (tiny) diagram and timeline; the chart dominates after a history change.
  // Redraws are throttled: the cost per history change is the handlers plus the frames' share.
  const drawn = rafTimes();
  const perChange = (onSet.reduce((a, b) => a + b, 0) + drawn.reduce((a, b) => a + b, 0)) / onSet.length;
  return {
    steps: 100_000,
    history_entries: entries,
    change_handler: stats(onSet),
    frame: stats(drawn),
    chart_ms_per_change: +perChange.toFixed(3),
  };
}

async function timelineBench(replies: number) {
  const { model, net, cleanups } = setup([8, 8, 8, 8, 8, 8], 2, 10, 100);
  const r = rng(5);
  let current = net;
  const times: number[] = [];
  const writer = new TimelineWriter(model as unknown as WidgetModel);
  for (let i = 1; i <= replies; i++) {
    current = nudge(current, r);
    const start = performance.now();
    writer.record({ global_step: i * 25, network: current, train_loss: 1 / i, test_loss: null });
    times.push(performance.now() - start);
  }
  await nextFrame();
  cleanups.forEach((c) => c());
  return { replies, record_reply: stats(times) };
}

/** The data map and the loss histogram with 1,000 points and a new network every frame: the map's
 *  whole frame (decision map, points, rings and crosses) with the per-point loss on and off, and
 *  the histogram's redraws (throttled to ~10 a second while training). */
async function pointLossBench(frames: number) {
  const hidden = [8, 8];
  const cfg = { ...DEFAULT_CONFIG, hidden_layers: hidden, num_classes: 2, activation: "tanh" };
  const r = rng(11);
  const data: Point[] = Array.from({ length: 1000 }, (_, i) => {
    const x = 2 * r() - 1;
    const y = 2 * r() - 1;
    return { x, y, label: x * y > 0 ? 1 : 0, test: i % 2 === 1 };
  });
  const run = async (pointLoss: boolean) => {
    const net = randomNetwork([2, ...hidden, 2], 4);
    const model = new FakeModel({
      config: cfg, network: net, data, view: { ...DEFAULT_VIEW, point_loss: pointLoss },
      dataset: {}, status: { state: "idle", message: "" }, classroom: { hidden: [], lock_data: false },
    });
    const root = document.getElementById("root")!;
    root.innerHTML = `<div class="nnv-canvas" style="width:330px"></div><div class="nnv-losshist"></div>`;
    const m = model as unknown as WidgetModel;
    const off = [mountDataCanvas(m, root.querySelector(".nnv-canvas")!), mountLossHistogram(m, root.querySelector(".nnv-losshist")!)];
    let current = net;
    for (let i = 0; i < 10; i++) await nextFrame();
    frameTimes.clear();
    for (let f = 0; f < frames; f++) {
      current = nudge(current, r);
      model.set("network", current);
      await nextFrame();
    }
    const times = rafTimes();
    off.forEach((c) => c());
    return stats(times);
  };
  const off = await run(false);
  const on = await run(true);
  return { points: 1000, network: "2 inputs, 8-8 tanh, 2 classes", map_frame_loss_off: off, map_frame_loss_on: on };
}

async function scene(kind: string) {
  const { model, net } =
    kind === "wide"
      ? setup([64, 64, 64, 64, 64, 64, 64, 64], 8, 1500, 20_000)
      : kind === "shallow"
        ? setup([], 2, 1500, 20_000, ["x", "y"])
        : setup([6, 6, 4], 3, 1500, 20_000, ["x", "y", "x2", "xy", "siny"]);
  let current = net;
  const r = rng(9);
  const m = model as unknown as WidgetModel;
  const writer = new TimelineWriter(m);
  const train = (from: number, to: number) => {
    for (let i = from; i <= to; i++) {
      current = nudge(current, r);
      writer.record({ global_step: i * 60, network: current, train_loss: 0.7 / Math.sqrt(i), test_loss: null });
    }
    writer.flush();
  };
  train(1, 300);
  // Two branches, to show the fork marks.
  for (const at of [0.3, 0.6]) {
    const tl = readTimeline(m);
    const fork = resumeFrom(tl, Math.floor(at * tl.snapshots.length));
    model.set("timeline", fork.timeline);
    train(fork.global_step / 60 + 1, fork.global_step / 60 + 60);
  }
  for (let i = 0; i < 5; i++) await nextFrame();
}

Object.assign(window, { bench: { mapsBench, wideBench, chartBench, timelineBench, pointLossBench, scene } });
