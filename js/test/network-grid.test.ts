// @vitest-environment jsdom
// One grid evaluation per network for the whole widget: gridFor memoizes evaluateGrid by network
// object, the config fields the picture depends on, and n; the diagram's thumbnails sample that
// grid (the main map's), so a training reply costs one forward pass over the plane.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type NetworkJSON, evaluateGrid } from "../src/nn/forward";
import { MAP_CELLS, gridEvaluations, gridFor } from "../src/nn/gridCache";
import { DEFAULT_CONFIG } from "../src/state";
import { mountNetwork } from "../src/ui/network";
import { FakeModel, smallNetwork } from "./fakeModel";
import { flushFrames, installDomStubs, runFrames, unmountView, widgetRoot } from "./network-dom";

const cfg = { ...DEFAULT_CONFIG };

function nudged(net: NetworkJSON, by: number): NetworkJSON {
  return { weights: net.weights.map((W) => W.map((row) => row.map((v) => v + by))), biases: net.biases };
}

describe("gridFor", () => {
  it("evaluates once per network object, config and n, and returns evaluateGrid's values", () => {
    const net = smallNetwork();
    const before = gridEvaluations();
    const grid = gridFor(net, cfg, MAP_CELLS);
    expect(gridEvaluations()).toBe(before + 1);
    expect(gridFor(net, { ...cfg }, MAP_CELLS)).toBe(grid); // an equal config object: same grid
    const trainOnly: typeof DEFAULT_CONFIG = { ...DEFAULT_CONFIG, learning_rate: 0.5, optimizer: "adam" };
    expect(gridFor(net, trainOnly, MAP_CELLS)).toBe(grid);
    expect(gridEvaluations()).toBe(before + 1);
    const fresh = evaluateGrid(net, cfg, MAP_CELLS);
    grid.forEach((layer, l) => expect(Array.from(layer)).toEqual(Array.from(fresh[l])));
  });

  it("evaluates again for a new network object, another activation or another n", () => {
    const net = smallNetwork();
    const before = gridEvaluations();
    const a = gridFor(net, cfg, MAP_CELLS);
    const b = gridFor(nudged(net, 0.1), cfg, MAP_CELLS);
    const c = gridFor(net, { ...cfg, activation: "relu" }, MAP_CELLS);
    const d = gridFor(net, cfg, 20);
    expect(gridEvaluations()).toBe(before + 4);
    expect(new Set([a, b, c, d]).size).toBe(4);
    expect(d[0].length).toBe(2 * 20 * 20);
  });
});

describe("gridFor's recycled arrays", () => {
  const same = (a: Float32Array[], b: Float32Array[]) => a.forEach((layer, l) => expect(Array.from(layer)).toEqual(Array.from(b[l])));

  it("rewrite an old grid's arrays for a new network, keep recent grids intact, re-evaluate the old one", () => {
    const first = nudged(smallNetwork(), 0.05);
    const firstGrid = gridFor(first, cfg, MAP_CELLS);
    const nets = Array.from({ length: 12 }, (_, i) => nudged(first, 0.01 * (i + 1)));
    const grids = nets.map((net) => gridFor(net, cfg, MAP_CELLS));
    const arrays = new Set([firstGrid, ...grids].flatMap((g) => g));
    expect(arrays.size).toBeLessThan(13 * firstGrid.length); // some were reused...
    // ...but the latest few networks' grids still hold their own values,
    for (let i = 8; i < 12; i++) same(grids[i], evaluateGrid(nets[i], cfg, MAP_CELLS));
    expect(gridFor(nets[11], cfg, MAP_CELLS)).toBe(grids[11]);
    // and a network whose arrays went to another is evaluated again, correctly.
    const before = gridEvaluations();
    const again = gridFor(first, cfg, MAP_CELLS);
    expect(gridEvaluations()).toBe(before + 1);
    same(again, evaluateGrid(first, cfg, MAP_CELLS));
  });
});

describe("the diagram shares the main map's grid", () => {
  let model: FakeModel;
  let root: HTMLDivElement;
  let cleanup: () => void;

  beforeEach(() => {
    installDomStubs();
    model = new FakeModel();
    let el: HTMLDivElement;
    ({ root, el } = widgetRoot());
    cleanup = mountNetwork(model, el);
    flushFrames();
  });
  afterEach(() => unmountView(cleanup, root));

  it("one evaluation per network change, however many changes arrive per frame", () => {
    const live = () => model.get("network");
    expect(gridFor(live(), cfg, MAP_CELLS)).toBeDefined();
    for (let reply = 1; reply <= 5; reply++) {
      const before = gridEvaluations();
      // Three replies within one frame: only the last network is drawn.
      for (let k = 0; k < 3; k++) model.set("network", nudged(live(), 0.01));
      expect(runFrames()).toBe(1);
      expect(gridEvaluations()).toBe(before + 1);
      // The main map asking for the same network in the same frame costs nothing more.
      gridFor(live(), cfg, MAP_CELLS);
      expect(gridEvaluations()).toBe(before + 1);
    }
  });

  it("does not redraw when nothing it shows changed", () => {
    flushFrames();
    const before = gridEvaluations();
    model.set("config", { ...model.get("config"), learning_rate: 0.1 }); // not in the picture
    model.set("metrics", { ...model.get("metrics"), train_loss: 0.2 });
    flushFrames();
    expect(gridEvaluations()).toBe(before);
  });
});
