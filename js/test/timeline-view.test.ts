// @vitest-environment jsdom
// The timeline view: seeking previews snapshots without touching the network trait, Live
// returns, Resume branches the run; the TimelineWriter writes the trait only when a snapshot is due.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { emptyTimeline, recordSnapshot, resumeFrom, type Timeline } from "../src/history";
import type { NetworkJSON } from "../src/nn/forward";
import { PREVIEW_NETWORK } from "../src/ui/network/events";
import { readTimeline, TimelineWriter } from "../src/timelineLog";
import { epochAt, mountTimeline, nearestTick, tickPositions } from "../src/ui/timeline";
import { FakeModel, smallNetwork } from "./fakeModel";
import { flushFrames, installDomStubs, raw, unmountView, widgetRoot } from "./network-dom";

/** The default 2-4-4-2 network, tagged so snapshots differ. */
function tagged(tag: number): NetworkJSON {
  const net = smallNetwork();
  net.biases[0][0] = tag;
  return net;
}

function timelineOf(steps: number[]): Timeline {
  let tl = emptyTimeline();
  for (const s of steps) tl = recordSnapshot(tl, { global_step: s, network: tagged(s), train_loss: 1 / (s + 1), test_loss: null });
  return tl;
}

let model: FakeModel;
let el: HTMLDivElement;
let root: HTMLDivElement;
let cleanup: () => void;
let previews: ({ network: NetworkJSON } | null)[];

beforeEach(() => {
  installDomStubs();
  model = new FakeModel({
    history: [0, 10, 20, 30, 40].map((step) => ({ step, train_loss: 1, test_loss: null, accuracy: null, test_accuracy: null })),
  });
  raw(model).set("timeline", timelineOf([10, 20, 30, 40]));
  ({ root, el } = widgetRoot());
  previews = [];
  root.addEventListener(PREVIEW_NETWORK, (e) => previews.push((e as CustomEvent).detail));
  cleanup = mountTimeline(model, el);
  flushFrames();
});

afterEach(() => unmountView(cleanup, root));

const seek = () => el.querySelector<HTMLInputElement>('input[type="range"]')!;
const button = (name: string) => [...el.querySelectorAll("button")].find((b) => b.textContent === name)!;
const seekTo = (v: number) => {
  seek().value = String(v);
  seek().dispatchEvent(new Event("input"));
};

describe("timeline view", () => {
  it("is a seekbar named History, at Live, with one position per snapshot", () => {
    expect(seek().getAttribute("aria-label")).toBe("History");
    expect(seek().max).toBe("4");
    expect(seek().value).toBe("4");
    expect(seek().getAttribute("aria-valuetext")).toBe("Live");
    expect(button("Resume from here").disabled).toBe(true);
    expect(button("Live").disabled).toBe(true);
  });

  it("seeking previews the snapshot's network and leaves the network trait alone", () => {
    const live = model.get("network");
    seekTo(1);
    expect(previews[previews.length - 1]).toEqual({ network: tagged(20) });
    expect(model.get("network")).toBe(live);
    expect(seek().getAttribute("aria-valuetext")).toMatch(/^Step 20 · train loss/);
    expect(button("Resume from here").disabled).toBe(false);
    button("Live").click();
    expect(previews[previews.length - 1]).toBeNull();
    expect(seek().value).toBe("4");
  });

  it("keeps showing the same snapshot while training adds more", () => {
    seekTo(2); // step 30
    const more = recordSnapshot(readTimeline(model), { global_step: 50, network: tagged(50), train_loss: 0.1, test_loss: null });
    raw(model).set("timeline", more);
    expect(seek().max).toBe("5");
    expect(seek().value).toBe("2");
    expect(el.querySelector(".nnv-tl-status")!.textContent).toMatch(/^Step 30/);
  });

  it("writes nothing when a new timeline value shows the same", () => {
    seekTo(2);
    flushFrames();
    const writes = vi.fn();
    new MutationObserver(writes).observe(el, { attributes: true, childList: true, characterData: true, subtree: true });
    raw(model).set("timeline", { ...readTimeline(model) });
    flushFrames();
    return Promise.resolve().then(() => expect(writes).not.toHaveBeenCalled());
  });

  it("Resume from here branches the run at the snapshot", () => {
    seekTo(1); // step 20
    button("Resume from here").click();
    expect(model.get("network")).toEqual(tagged(20));
    expect(model.get("optimizer_state")).toEqual({ optimizer: "sgd", step: 0, global_step: 20, buffers: {} });
    const tl = readTimeline(model);
    expect(tl.branch).toBe(1);
    expect(tl.snapshots[tl.snapshots.length - 1]).toMatchObject({ step: 20, branch: 1, parent: 1 });
    expect(model.get("history").map((h) => h.step)).toEqual([0, 10, 20]);
    // Full batch over the fake model's 2 training points: one epoch a step.
    expect(model.get("metrics")).toMatchObject({ global_step: 20, epoch: 20 });
    expect(model.saves).toBeGreaterThan(0);
    // Back to Live, on the new branch: its lineage is 10, 20 (fork) — 30 and 40 are elsewhere.
    expect(previews[previews.length - 1]).toBeNull();
    expect(seek().max).toBe("2");
  });

  it("lists branches for the keyboard once there are several, and previews the one picked", () => {
    const select = el.querySelector<HTMLSelectElement>('select[aria-label="Branch"]')!;
    expect(select.hidden).toBe(true);
    seekTo(1);
    button("Resume from here").click();
    expect(select.hidden).toBe(false);
    expect([...select.options].map((o) => o.text)).toEqual(["Branch 1: steps 10–40", "Branch 2: steps 20–20 · current"]);
    select.value = "0";
    select.dispatchEvent(new Event("change"));
    expect(previews[previews.length - 1]).toEqual({ network: tagged(40) });
    expect(seek().max).toBe("4");
  });

  it("cannot preview or resume a snapshot of another architecture", () => {
    model.set("config", { ...model.get("config"), hidden_layers: [3] });
    seekTo(0);
    expect(previews[previews.length - 1]).toBeNull();
    expect(button("Resume from here").disabled).toBe(true);
    expect(el.querySelector(".nnv-tl-status")!.textContent).toMatch(/other architecture/);
  });

  it("clicking the strip picks the nearest tick", () => {
    const snaps = readTimeline(model).snapshots;
    const p = tickPositions(snaps, 640);
    expect(nearestTick(snaps, 640, p.x[2] + 1, p.y[2])).toBe(2);
    expect(p.x[0]).toBeLessThan(p.x[3]);
  });

  it("ends the preview and stops listening on cleanup", () => {
    seekTo(0);
    cleanup();
    expect(previews[previews.length - 1]).toBeNull();
    expect(model.listenerCount("change:timeline")).toBe(0);
    cleanup = () => undefined;
  });
});

describe("TimelineWriter", () => {
  let clock = 0;
  const writers = new WeakMap<FakeModel, TimelineWriter>();
  const writer = (m: FakeModel): TimelineWriter => {
    if (!writers.has(m)) writers.set(m, new TimelineWriter(m, () => clock));
    return writers.get(m)!;
  };
  const rec = (m: FakeModel, step: number, now: number) => {
    clock = now;
    writer(m).record({ global_step: step, network: tagged(step), train_loss: 0.5, test_loss: null });
  };
  const flushTimeline = (m: FakeModel) => writer(m).flush();

  it("writes the trait at most once a second, and flushTimeline writes what is held back", () => {
    const m = new FakeModel();
    const sets = vi.spyOn(m, "set");
    rec(m, 5, 0);
    expect(readTimeline(m).snapshots.map((s) => s.step)).toEqual([5]);
    rec(m, 10, 300);
    rec(m, 15, 600);
    expect(sets).toHaveBeenCalledTimes(1);
    rec(m, 20, 1000);
    expect(readTimeline(m).snapshots.map((s) => s.step)).toEqual([5, 10, 15, 20]);
    rec(m, 25, 1100);
    flushTimeline(m);
    expect(readTimeline(m).snapshots.map((s) => s.step)).toEqual([5, 10, 15, 20, 25]);
    expect(sets).toHaveBeenCalledTimes(3);
    flushTimeline(m); // nothing new: no write
    expect(sets).toHaveBeenCalledTimes(3);
  });

  it("starts from the trait again when someone else replaced it (a resume)", () => {
    const m = new FakeModel();
    rec(m, 5, 0);
    rec(m, 10, 2000);
    const resumed = resumeFrom(readTimeline(m), 0).timeline;
    raw(m).set("timeline", resumed);
    rec(m, 7, 2100); // held back, on top of the resumed timeline
    flushTimeline(m);
    const tl = readTimeline(m);
    expect(tl.branch).toBe(1);
    expect(tl.snapshots.map((s) => [s.step, s.branch])).toEqual([[5, 0], [10, 0], [5, 1], [7, 1]]);
  });

  it("treats a malformed trait as an empty timeline", () => {
    const m = new FakeModel();
    raw(m).set("timeline", { interval: "x", snapshots: 3 });
    expect(readTimeline(m)).toEqual(emptyTimeline());
  });
});

describe("epochAt", () => {
  const points = (train: number, test: number) =>
    Array.from({ length: train + test }, (_, i) => ({ x: 0, y: 0, label: 0, test: i >= train }));

  it("counts as train_step replies do: steps × batch / training points", () => {
    expect(epochAt(null, points(30, 30), 12)).toBe(12);
    expect(epochAt(10, points(30, 5), 12)).toBe(4);
    expect(epochAt(64, points(30, 0), 3)).toBe(3); // a batch larger than the data is full batch
    expect(epochAt(10, points(0, 4), 12)).toBe(0);
  });
});
