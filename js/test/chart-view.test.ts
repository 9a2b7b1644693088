// @vitest-environment jsdom
// Curves: history → columns (incremental), axes, the read-out, and the view's controls.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ChartBuilder } from "../src/chart/data";
import { describe as describeEntry, geometry, nearestIndex } from "../src/chart/draw";
import { lossScale, niceTicks, unit } from "../src/chart/scale";
import type { HistoryEntry } from "../src/state";
import { mountChart } from "../src/ui/chart";
import { FakeModel } from "./fakeModel";
import { flushFrames, installDomStubs, runFrames, unmountView, widgetRoot } from "./network-dom";

const entry = (step: number, loss: number | null, acc: number | null = null): HistoryEntry => ({
  step,
  train_loss: loss,
  test_loss: loss === null ? null : loss * 1.1,
  accuracy: acc,
  test_accuracy: acc,
});

describe("ChartBuilder", () => {
  it("reads only new entries when history grows, and matches a full rebuild", () => {
    const spy = vi.fn();
    const tracked = Array.from({ length: 50 }, (_, i) =>
      new Proxy(entry(i * 10, 1 / (i + 1)), { get: (t, k) => (spy(), t[k as keyof HistoryEntry]) }),
    );
    const builder = new ChartBuilder();
    builder.update(tracked);
    spy.mockClear();
    const history = [...tracked, entry(500, 0.01, 0.9)];
    const data = builder.update(history);
    expect(spy).not.toHaveBeenCalled(); // entries already converted are not read again
    const full = new ChartBuilder().update(history);
    expect(Array.from(data.steps)).toEqual(Array.from(full.steps));
    expect(Array.from(data.test)).toEqual(Array.from(full.test));
    expect(data.lossMax).toBe(1.1);
    expect(data.lossMin).toBe(0.01);
    expect(data.hasAccuracy).toBe(true);
  });

  it("rebuilds when history is replaced (decimated or cleared), and grows past its capacity", () => {
    const builder = new ChartBuilder();
    const long = Array.from({ length: 300 }, (_, i) => entry(i, 2 - i / 300));
    expect(builder.update(long).steps.length).toBe(300);
    const thinned = long.filter((_, i) => i % 2 === 0);
    const d = builder.update(thinned);
    expect(Array.from(d.steps.subarray(0, 3))).toEqual([0, 2, 4]);
    expect(builder.update([]).steps.length).toBe(0);
  });

  it("leaves null metrics as gaps", () => {
    const d = new ChartBuilder().update([entry(1, null), entry(2, 0.5)]);
    expect(Number.isNaN(d.train[0])).toBe(true);
    expect(d.lossMin).toBe(0.5);
    expect(d.hasAccuracy).toBe(false);
  });
});

describe("scales and read-out", () => {
  it("linear loss axis starts at 0 with round ticks; log axis spans whole decades", () => {
    const lin = lossScale(0.02, 0.73, false);
    expect(lin.lo).toBe(0);
    expect(lin.hi).toBeGreaterThanOrEqual(0.73);
    expect(lin.ticks).toEqual(niceTicks(0, lin.hi, 4));
    const log = lossScale(0.0031, 0.7, true);
    expect(log.lo).toBeCloseTo(0.001, 12);
    expect(log.hi).toBeCloseTo(1, 12);
    expect(unit(log, 0.01)).toBeCloseTo(1 / 3, 9);
    expect(unit(log, 0)).toBe(0); // non-positive values sit at the bottom
  });

  it("finds the nearest step and describes it", () => {
    const d = new ChartBuilder().update([entry(0, 1, 0.5), entry(100, 0.5, 0.75), entry(1000, 0.25, 0.875)]);
    expect(nearestIndex(d.steps, 40)).toBe(0);
    expect(nearestIndex(d.steps, 60)).toBe(1);
    expect(nearestIndex(d.steps, 1e9)).toBe(2);
    expect(describeEntry(d, 2)).toBe("step 1,000 · train loss 0.25 · test loss 0.275 · train accuracy 87.5% · test accuracy 87.5%");
  });

  it("adds an accuracy panel only when there is accuracy", () => {
    const withAcc = new ChartBuilder().update([entry(0, 1, 0.5), entry(1, 0.5, 0.6)]);
    const without = new ChartBuilder().update([entry(0, 1), entry(1, 0.5)]);
    expect(geometry(withAcc, 600, 160, false).panels.map((p) => p.kind)).toEqual(["loss", "accuracy"]);
    expect(geometry(without, 600, 160, false).panels.map((p) => p.kind)).toEqual(["loss"]);
  });
});

describe("mountChart", () => {
  let model: FakeModel;
  let el: HTMLDivElement;
  let root: HTMLDivElement;
  let cleanup: () => void;

  beforeEach(() => {
    installDomStubs();
    model = new FakeModel({ history: [entry(0, 0.7, 0.5), entry(50, 0.4, 0.8)] });
    ({ root, el } = widgetRoot());
    cleanup = mountChart(model, el);
    flushFrames();
  });
  afterEach(() => unmountView(cleanup, root));

  const readout = () => el.querySelector(".nnv-curves-readout")!.textContent;

  it("shows the latest values, follows history, and has an accessible log-scale toggle", () => {
    expect(readout()).toMatch(/^step 50 · train loss 0.4/);
    model.set("history", [...model.get("history"), entry(80, 0.3, 0.9)]);
    flushFrames();
    expect(readout()).toMatch(/^step 80 · train loss 0.3/);
    const log = el.querySelector<HTMLInputElement>('input[type="checkbox"]')!;
    expect(log.closest("label")!.textContent).toContain("Log scale");
    expect(el.querySelector(".nnv-curves-plot")!.getAttribute("aria-label")).toContain("step 80");
  });

  it("redraws at most ~10 times a second while history changes every frame, and shows the last", () => {
    const shown = new Set<string>();
    let history = model.get("history");
    for (let f = 1; f <= 60; f++) {
      history = [...history, entry(50 + f, 0.4 - f / 1000, 0.8)];
      model.set("history", history);
      vi.advanceTimersByTime(1000 / 60);
      runFrames();
      shown.add(readout()!);
    }
    expect(shown.size).toBeLessThanOrEqual(11);
    flushFrames();
    expect(readout()).toMatch(/^step 110 ·/);
  });

  it("writes the read-out only when it changes", () => {
    const writes = vi.fn();
    new MutationObserver(writes).observe(el, { attributes: true, childList: true, characterData: true, subtree: true });
    model.set("history", [...model.get("history")]); // a new array, the same entries
    flushFrames();
    return Promise.resolve().then(() => expect(writes).not.toHaveBeenCalled());
  });

  it("moves the read-out with arrow keys on the focused plot", () => {
    const plot = el.querySelector<HTMLElement>(".nnv-curves-plot")!;
    expect(plot.tabIndex).toBe(0);
    plot.dispatchEvent(new KeyboardEvent("keydown", { key: "Home" }));
    expect(readout()).toMatch(/^step 0 ·/);
    plot.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowRight" }));
    expect(readout()).toMatch(/^step 50 ·/);
    plot.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape" }));
    expect(readout()).toMatch(/^step 50 ·/);
  });

  it("stops listening on cleanup", () => {
    cleanup();
    expect(model.listenerCount("change:history")).toBe(0);
    cleanup = () => undefined;
  });
});
