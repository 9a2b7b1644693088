// @vitest-environment jsdom
// The watch view: the kernel's bytes read back, and the view's DOM (the line saying where the
// training happens, layers with maps or reasons, the timeline, metrics) against a fake model.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { mountWatch } from "../src/watch/app";
import { float16, isWatchModel, mapValues, neuronValues, type WatchInfo, type WatchModel, type WatchTraits } from "../src/watch/model";
import { flushFrames, installDomStubs, widgetRoot } from "./network-dom";

const INFO: WatchInfo = {
  problem: "classification",
  classes: 2,
  bounds: [-2, 2, -1, 3],
  resolution: 2,
  neuron_resolution: 2,
  snapshot_resolution: 2,
  model: "ResidualMLP",
  where: "Training runs in your own Python loop: this view only watches it.",
};

type Listener = (...args: never[]) => void;

class FakeWatch implements WatchModel {
  private listeners = new Map<string, Set<Listener>>();
  constructor(private state: WatchTraits) {}
  get<K extends keyof WatchTraits>(key: K): WatchTraits[K] {
    return this.state[key];
  }
  set<K extends keyof WatchTraits>(key: K, value: WatchTraits[K]): void {
    this.state[key] = value;
    for (const f of this.listeners.get(`change:${key}`) ?? []) (f as () => void)();
  }
  on(event: string, f: Listener): void {
    if (!this.listeners.has(event)) this.listeners.set(event, new Set());
    this.listeners.get(event)!.add(f);
  }
  off(event?: string | null, f?: Listener | null): void {
    if (event && f) this.listeners.get(event)?.delete(f);
  }
  count(): number {
    return [...this.listeners.values()].reduce((n, s) => n + s.size, 0);
  }
}

function traits(): WatchTraits {
  return {
    watch: { ...INFO },
    data: [
      { x: 0, y: 0, label: 0, test: false },
      { x: 1, y: 2, label: 1, test: true },
    ],
    frame: {
      step: 7,
      map: new DataView(new Uint8Array([0, 255, 128, 64, 255, 0, 127, 191]).buffer),
      layers: [
        { name: "inp", type: "Linear", units: 2, reason: "" },
        { name: "norm", type: "BatchNorm1d", units: 0, reason: "BatchNorm1d rescales its inputs: no neurons of its own" },
      ],
      maps: [new DataView(new Uint8Array(8).buffer), null],
      error: null,
    },
    snapshots: [
      { step: 0, train_loss: 0.7, test_loss: 0.71, map: new Uint8Array(8) },
      { step: 5, train_loss: 0.5, test_loss: 0.52, map: new Uint8Array(8) },
      { step: 7, train_loss: 0.4, test_loss: 0.45, map: new Uint8Array(8) },
    ],
    history: [{ step: 7, train_loss: 0.4, test_loss: 0.45, accuracy: 0.8, test_accuracy: 0.75 }],
    metrics: { train_loss: 0.4, test_loss: 0.45, accuracy: 0.8, test_accuracy: 0.75, global_step: 7, epoch: 0 },
    status: { state: "watching", message: "step 7" },
  };
}

describe("bytes from the kernel", () => {
  it("reads float16 values", () => {
    expect(float16(0x3c00)).toBe(1);
    expect(float16(0xc000)).toBe(-2);
    expect(float16(0x3555)).toBeCloseTo(0.33325, 5);
    expect(float16(0x0001)).toBeCloseTo(5.96e-8, 10);
    expect(float16(0x7c00)).toBe(Infinity);
    expect(Number.isNaN(float16(0x7e00))).toBe(true);
  });

  it("turns uint8 probabilities and float16 values into the map painter's layout", () => {
    const probs = mapValues(new DataView(new Uint8Array([0, 255, 51, 102, 255, 0, 204, 153]).buffer), INFO)!;
    expect(Array.from(probs)).toEqual(Array.from(new Float32Array([0, 1, 0.2, 0.4, 1, 0, 0.8, 0.6])));
    expect(mapValues(new Uint8Array(7), INFO)).toBeNull(); // not 2 classes × 2×2 cells
    expect(mapValues(null, INFO)).toBeNull();
    const regression = { ...INFO, problem: "regression" as const };
    const half = new Uint8Array([0x00, 0x3c, 0x00, 0xc0, 0x00, 0x00, 0x00, 0x38]);
    expect(Array.from(mapValues(half.buffer, regression)!)).toEqual([1, -2, 0, 0.5]);
  });

  it("reads neuron maps over [-1, 1]", () => {
    expect(Array.from(neuronValues(new Uint8Array([0, 255])))).toEqual([-1, 1]);
  });

  it("tells the watch view's model from the playground's", () => {
    expect(isWatchModel(new FakeWatch(traits()) as never)).toBe(true);
    expect(isWatchModel({ get: () => undefined } as never)).toBe(false);
  });
});

describe("the watch view", () => {
  beforeEach(() => installDomStubs());
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
    vi.unstubAllGlobals();
    document.body.replaceChildren();
  });

  it("says where training happens, shows no playground training controls, and lists layers", () => {
    const model = new FakeWatch(traits());
    const { root, el } = widgetRoot();
    const cleanup = mountWatch(model, el);
    flushFrames();
    expect(root.querySelector(".nnv-watch-where")!.textContent).toBe(INFO.where);
    expect(root.querySelector(".nnv-watch-title")!.textContent).toBe("Watching ResidualMLP");
    expect(root.querySelector(".nnv-transport, .nnv-hyper, [data-control='learning_rate']")).toBeNull();
    const rows = [...root.querySelectorAll(".nnv-watch-layer")];
    expect(rows.map((r) => r.querySelector(".nnv-watch-layer-name")!.textContent)).toEqual(["inp Linear", "norm BatchNorm1d"]);
    expect(rows[0].querySelector("canvas")!.getAttribute("aria-label")).toBe("2 neuron maps of inp (Linear)");
    expect(rows[1].querySelector("canvas")).toBeNull();
    expect(rows[1].textContent).toContain("No neuron maps: BatchNorm1d rescales its inputs");
    const epoch = [...root.querySelectorAll<HTMLElement>(".nnv-metric")].find((m) => m.querySelector("dt")!.textContent === "Epoch")!;
    expect(epoch.hidden).toBe(true);
    expect(root.querySelector(".nnv-metrics")!.textContent).toContain("80.0%");
    cleanup();
    expect(model.count()).toBe(0);
  });

  it("scrubs back through snapshots and returns to live", () => {
    const model = new FakeWatch(traits());
    const { root, el } = widgetRoot();
    mountWatch(model, el);
    flushFrames();
    const slider = root.querySelector<HTMLInputElement>(".nnv-watch-scrub")!;
    const live = root.querySelector<HTMLButtonElement>(".nnv-watch-live")!;
    const readout = root.querySelector(".nnv-watch-readout")!;
    expect(slider.max).toBe("2");
    expect(live.disabled).toBe(true);
    slider.value = "1";
    slider.dispatchEvent(new Event("input"));
    expect(readout.textContent).toContain("Step 5");
    expect(readout.textContent).toContain("snapshot 2 of 3");
    expect(live.disabled).toBe(false);
    // New snapshots keep the shown one in place.
    model.set("snapshots", [...model.get("snapshots"), { step: 9, train_loss: 0.3, test_loss: 0.4, map: new Uint8Array(8) }]);
    expect(slider.value).toBe("1");
    live.click();
    expect(slider.value).toBe("3");
    expect(readout.textContent).toContain("Live");
  });

  it("shows the model's error in the status line and hides accuracy for regression", () => {
    const state = traits();
    state.watch = { ...INFO, problem: "regression" };
    const model = new FakeWatch(state);
    const { root, el } = widgetRoot();
    mountWatch(model, el);
    flushFrames();
    model.set("status", { state: "error", message: "the model raised on the map's grid: RuntimeError: boom" });
    const status = root.querySelector(".nnv-status")!;
    expect(status.textContent).toContain("RuntimeError: boom");
    expect(status.classList.contains("nnv-status--error")).toBe(true);
    const accuracy = [...root.querySelectorAll<HTMLElement>(".nnv-metric")].filter((m) => m.querySelector("dt")!.textContent!.includes("accuracy"));
    expect(accuracy.every((m) => m.hidden)).toBe(true);
  });
});
