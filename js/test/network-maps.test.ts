// Neuron maps: each thumbnail shows exactly evaluateGrid's values for its node (sampled from the
// widget's shared grid), through the right colour table; edits copy only what they touch;
// keyboard moves stay inside the diagram.
import { describe, expect, it } from "vitest";
import { type ModelConfig, type NetworkJSON, evaluateGrid, gridCoord } from "../src/nn/forward";
import { MAP_CELLS } from "../src/nn/gridCache";
import { feature } from "../src/nn/activations";
import { FEATURES } from "../src/state";
import { PALETTE, diverging } from "../src/ui/colors";
import { toggleFeature, parseValue, withBias, withWeight } from "../src/ui/network/edit";
import { moveFocus } from "../src/ui/network/keys";
import { classColouring, colouringFor, divergingColouring, paintMap } from "../src/ui/network/maps";
import { describeHit } from "../src/ui/network/names";
import { MAX_CELLS, MIN_CELLS, type Scene, buildScene, gridNode, sampledIndex, thumbnailCells } from "../src/ui/network/scene";

/** The values a diagram node's thumbnail shows: its n×n block of Scene.thumbs (thumbnails are
 *  stored node after node, column by column). */
function nodeValues(scene: Scene, column: number, node: number): { values: Float32Array; offset: number } {
  let index = node;
  for (let c = 0; c < column; c++) index += scene.counts[c];
  return { values: scene.thumbs, offset: index * scene.n * scene.n };
}

const cfg: ModelConfig = { features: ["xy", "x", "siny"], activation: "tanh", problem: "classification", num_classes: 3, hidden_layers: [5, 4] };

function net(c: ModelConfig): NetworkJSON {
  const sizes = [c.features.length, ...c.hidden_layers, c.problem === "classification" ? c.num_classes : 1];
  return {
    weights: sizes.slice(1).map((out, l) => Array.from({ length: out }, (_, j) => Array.from({ length: sizes[l] }, (_, i) => Math.sin(1 + l * 7 + j * 3 + i)))),
    biases: sizes.slice(1).map((out, l) => Array.from({ length: out }, (_, j) => 0.3 * Math.cos(l + j))),
  };
}

describe("neuron maps", () => {
  const network = net(cfg);
  const scene = buildScene(network, cfg, 16);
  const n = scene.n;
  const cells = n * n;
  const N = MAP_CELLS;
  const reference = evaluateGrid(network, cfg, N);

  it("every thumbnail is its node's values at the sampled cells of the shared 100×100 grid", () => {
    expect(scene.gridN).toBe(N);
    expect(n).toBe(16);
    scene.counts.forEach((count, column) => {
      for (let node = 0; node < count; node++) {
        const { values, offset } = nodeValues(scene, column, node);
        const mine = values.subarray(offset, offset + cells);
        const g = gridNode(cfg, column, node);
        for (let r = 0; r < n; r++) {
          for (let c = 0; c < n; c++) {
            const [R, C] = [sampledIndex(r, n, N), sampledIndex(c, n, N)];
            if (g) {
              expect(mine[r * n + c]).toBe(reference[g.layer][g.node * N * N + R * N + C]);
            } else {
              // An inactive input shows its feature anyway (dimmed): feature(x, y) at that cell.
              const f = feature(FEATURES[node]);
              expect(mine[r * n + c]).toBeCloseTo(f(gridCoord(C, N), -gridCoord(R, N)), 6);
            }
          }
        }
      }
    });
  });

  it("samples both edges of the plane, evenly", () => {
    expect([0, 1, 2, 14, 15].map((i) => sampledIndex(i, 16, 100))).toEqual([0, 7, 13, 92, 99]);
    expect(Array.from({ length: 34 }, (_, i) => sampledIndex(i, 34, 100))).toEqual(Array.from({ length: 34 }, (_, i) => 3 * i));
  });

  it("maps display columns to evaluateGrid layers (inputs by feature name)", () => {
    expect(gridNode(cfg, 0, FEATURES.indexOf("x"))).toEqual({ layer: 0, node: 1 });
    expect(gridNode(cfg, 0, FEATURES.indexOf("xy"))).toEqual({ layer: 0, node: 0 });
    expect(gridNode(cfg, 0, FEATURES.indexOf("y"))).toBeNull();
    expect(gridNode(cfg, 2, 3)).toEqual({ layer: 2, node: 3 });
  });

  it("paints each cell with its value's colour: diverging for neurons, class colour for outputs", () => {
    const layer = 1;
    const node = 2;
    const rgba = new Uint8ClampedArray(N * N * 4);
    const colouring = colouringFor(cfg, layer, node);
    expect(colouring).toEqual(divergingColouring());
    paintMap(reference[layer], node * N * N, N, colouring, rgba, N, 0, 0);
    const lut = colouring.lut;
    for (const c of [0, 17, N * N - 1]) {
      const v = reference[layer][node * N * N + c];
      const i = Math.round(((Math.max(-1, Math.min(1, v)) + 1) / 2) * 255);
      expect(Array.from(rgba.subarray(4 * c, 4 * c + 3))).toEqual(Array.from(lut.subarray(3 * i, 3 * i + 3)));
      expect(rgba[4 * c + 3]).toBe(255);
    }
    // The table is the shared diverging scale: -1 and +1 at its ends.
    expect(Array.from(lut.subarray(0, 3))).toEqual(diverging(-1).map(Math.round));
    expect(Array.from(lut.subarray(255 * 3))).toEqual(diverging(1).map(Math.round));
    const out = colouringFor(cfg, 3, 2);
    expect(out).toEqual(classColouring(2));
    expect(Array.from(out.lut.subarray(255 * 3, 256 * 3))).toEqual(PALETTE[2]);
    expect(colouringFor({ ...cfg, problem: "regression" }, 3, 0)).toEqual(divergingColouring());
  });

  it("repeats the edge into a one-pixel border (no bleeding between atlas tiles)", () => {
    const values = Float32Array.from({ length: 4 }, (_, i) => (i % 2 ? 1 : -1));
    const rgba = new Uint8ClampedArray(4 * 4 * 4);
    paintMap(values, 0, 2, divergingColouring(), rgba, 4, 0, 0, 1);
    const px = (x: number, y: number) => Array.from(rgba.subarray((y * 4 + x) * 4, (y * 4 + x) * 4 + 3));
    expect(px(0, 0)).toEqual(px(1, 1)); // corner = first cell
    expect(px(3, 1)).toEqual(px(2, 1)); // right border = last column
  });

  it("has about one cell per device pixel of a thumbnail, within bounds", () => {
    expect(thumbnailCells(12.2)).toBe(13);
    expect(thumbnailCells(88)).toBe(MAX_CELLS);
    expect(thumbnailCells(3)).toBe(MIN_CELLS);
  });
});

describe("edits", () => {
  const network = net(cfg);

  it("withWeight/withBias copy only the touched row and leave the original alone", () => {
    const w = withWeight(network, 1, 2, 3, 9);
    expect(w.weights[1][2][3]).toBe(9);
    expect(network.weights[1][2][3]).not.toBe(9);
    expect(w.weights[0]).toBe(network.weights[0]);
    expect(w.weights[1][1]).toBe(network.weights[1][1]);
    expect(w.biases).toBe(network.biases);
    const b = withBias(network, 2, 1, -4);
    expect(b.biases[2][1]).toBe(-4);
    expect(b.biases[0]).toBe(network.biases[0]);
    expect(b.weights).toBe(network.weights);
  });

  it("parseValue accepts finite numbers within ±1000 only", () => {
    expect(parseValue("0.5")).toBe(0.5);
    expect(parseValue(" -3e2 ")).toBe(-300);
    for (const bad of ["", "abc", "1e5", "NaN", "Infinity"]) expect(parseValue(bad)).toBeNull();
  });

  it("toggleFeature keeps display order and refuses to remove the last input", () => {
    expect(toggleFeature(["xy", "x"], "y")).toEqual(["x", "y", "xy"]);
    expect(toggleFeature(["x", "y"], "x")).toEqual(["y"]);
    expect(toggleFeature(["x"], "x")).toBeNull();
  });

  it("describes a link with its value, from → to", () => {
    const hit = { kind: "link" as const, gap: 0, index: 0, from: FEATURES.indexOf("siny"), to: 1 };
    expect(describeHit(cfg, network, hit, true)).toBe(
      `Weight from input sin y to layer 1 neuron 2: ${+network.weights[0][1][2].toPrecision(3)} · click to edit`,
    );
    expect(describeHit(cfg, network, { kind: "bias", column: 3, node: 0 }, false)).toMatch(/^Bias of output class 1: [^·]+$/);
    expect(describeHit(cfg, network, { kind: "node", column: 0, node: 0 }, true, "press Enter")).toBe("Input x: on · press Enter to switch off");
  });
});

describe("moveFocus", () => {
  const counts = [7, 4, 64, 2];
  it("moves within a column and clamps at its ends", () => {
    expect(moveFocus(counts, { column: 1, node: 0 }, "ArrowUp")).toEqual({ column: 1, node: 0 });
    expect(moveFocus(counts, { column: 1, node: 3 }, "ArrowDown")).toEqual({ column: 1, node: 3 });
    expect(moveFocus(counts, { column: 2, node: 5 }, "End")).toEqual({ column: 2, node: 63 });
  });
  it("moves across columns at the same relative height, staying inside", () => {
    expect(moveFocus(counts, { column: 1, node: 3 }, "ArrowRight")).toEqual({ column: 2, node: 63 });
    expect(moveFocus(counts, { column: 2, node: 32 }, "ArrowRight")).toEqual({ column: 3, node: 1 });
    expect(moveFocus(counts, { column: 0, node: 2 }, "ArrowLeft")).toEqual({ column: 0, node: 2 });
    expect(moveFocus(counts, { column: 3, node: 0 }, "ArrowRight")).toEqual({ column: 3, node: 0 });
    expect(moveFocus(counts, { column: 3, node: 0 }, "a")).toBeNull();
  });
});
