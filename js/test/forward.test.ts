// The JS forward pass against torch (tests/make_forward_fixtures.py): every activation, every
// input feature, 0–6 hidden layers, 2–8 classes and regression, max abs diff <= 1e-5. The grid
// runs through both of its paths: the float32 WebAssembly kernel and the float64 JS.
import { ACTIVATION_NAMES, FEATURE_NAMES } from "../src/generated/catalog";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import raw from "../../tests/fixtures/forward.json";
import { erf } from "../src/nn/erf";
import {
  evaluateGrid,
  gridBackend,
  gridCoord,
  networkMatches,
  useWasmGrid,
  wasmGridReady,
  type ModelConfig,
  type NetworkJSON,
} from "../src/nn/forward";
import { forwardPoint } from "./forwardPoint";

const BACKENDS = ["wasm", "js"] as const;
type Backend = (typeof BACKENDS)[number];

beforeAll(async () => {
  expect(await wasmGridReady()).toBe(true); // Node has WebAssembly SIMD: the kernel must load
});
afterEach(() => useWasmGrid(true));

function use(backend: Backend): void {
  useWasmGrid(backend === "wasm");
  expect(gridBackend()).toBe(backend);
}

interface Case {
  name: string;
  config: ModelConfig;
  network: NetworkJSON;
  inputs: [number, number][];
  layers: number[][][]; // [layer][point][node]
}
const fixture = raw as unknown as { grid_n: number; erf: [number, number][]; cases: Case[] };
const TOL = 1e-5;

function maxDiff(c: Case, got: (layer: number, point: number, node: number) => number, points: number): number {
  let worst = 0;
  c.layers.forEach((layer, l) => {
    for (let p = 0; p < points; p++) {
      layer[p].forEach((want, k) => {
        worst = Math.max(worst, Math.abs(got(l, p, k) - want));
      });
    }
  });
  return worst;
}

describe("fixture coverage", () => {
  it("spans every activation, feature, class count and both problems", () => {
    const cfgs = fixture.cases.map((c) => c.config);
    expect(new Set(cfgs.map((c) => c.activation))).toEqual(new Set(ACTIVATION_NAMES));
    expect(new Set(cfgs.flatMap((c) => c.features))).toEqual(new Set(FEATURE_NAMES));
    expect(cfgs.some((c) => c.features.length === 7)).toBe(true);
    expect(new Set(cfgs.map((c) => c.hidden_layers.length))).toEqual(new Set([0, 1, 2, 3, 6]));
    expect(cfgs.some((c) => c.problem === "regression")).toBe(true);
    expect(Math.max(...cfgs.map((c) => c.num_classes))).toBe(8);
  });
});

describe("erf", () => {
  it("matches torch.erf to 1e-10", () => {
    for (const [x, want] of fixture.erf) expect(Math.abs(erf(x) - want)).toBeLessThan(1e-10);
  });
  it("is odd and saturates", () => {
    expect(Math.abs(erf(0))).toBeLessThan(1e-11);
    expect(erf(-0.3)).toBeCloseTo(-erf(0.3), 15);
    expect(erf(40)).toBe(1);
    expect(erf(-Infinity)).toBe(-1);
  });
});

describe.each(fixture.cases.map((c) => [c.name, c] as const))("%s", (_name, c) => {
  it("networkMatches its config", () => {
    expect(networkMatches(c.network, c.config)).toBe(true);
  });

  it("forwardPoint equals torch", () => {
    const out = c.inputs.map(([x, y]) => forwardPoint(c.network, c.config, x, y));
    expect(maxDiff(c, (l, p, k) => out[p][l][k], c.inputs.length)).toBeLessThanOrEqual(TOL);
  });

  it.each(BACKENDS)("evaluateGrid equals torch at the grid points (%s)", (backend) => {
    use(backend);
    const n = fixture.grid_n;
    const cells = n * n;
    const layers = evaluateGrid(c.network, c.config, n);
    expect(layers.map((a) => a.length)).toEqual(c.layers.map((l) => l[0].length * cells));
    expect(maxDiff(c, (l, p, k) => layers[l][k * cells + p], cells)).toBeLessThanOrEqual(TOL);
  });
});

describe("grid layout", () => {
  it("puts row 0 at y = +1 and col 0 at x = -1", () => {
    expect(c0()).toEqual([-1, 1]);
    function c0() {
      const cfg: ModelConfig = { features: ["x", "y"], activation: "linear", problem: "regression", num_classes: 1, hidden_layers: [] };
      const net = { weights: [[[1, 0]]], biases: [[0]] };
      const [inputs] = evaluateGrid(net, cfg, 3);
      return [inputs[0], inputs[9]];
    }
  });
  it("includes both ends of [-1, 1]", () => {
    expect([gridCoord(0, 5), gridCoord(2, 5), gridCoord(4, 5)]).toEqual([-1, 0, 1]);
  });
  it("networkMatches rejects wrong shapes", () => {
    const cfg: ModelConfig = { features: ["x", "y"], activation: "tanh", problem: "classification", num_classes: 2, hidden_layers: [3] };
    const good = { weights: [[[1, 2], [3, 4], [5, 6]], [[1, 2, 3], [4, 5, 6]]], biases: [[0, 0, 0], [0, 0]] };
    expect(networkMatches(good, cfg)).toBe(true);
    expect(networkMatches(good, { ...cfg, num_classes: 3 })).toBe(false);
    expect(networkMatches(good, { ...cfg, hidden_layers: [3, 3] })).toBe(false);
    expect(networkMatches(good, { ...cfg, features: ["x"] })).toBe(false);
    expect(networkMatches(undefined, cfg)).toBe(false);
  });
});

describe("the grid's fast paths", () => {
  it("fastTanh is within 3e-7 of Math.tanh everywhere", async () => {
    const { fastTanh } = await import("../src/nn/activations");
    let worst = 0;
    for (let i = 0; i <= 200_000; i++) {
      const x = -30 + (60 * i) / 200_000;
      worst = Math.max(worst, Math.abs(fastTanh(x) - Math.tanh(x)));
    }
    expect(worst).toBeLessThan(3e-7);
    expect(fastTanh(Infinity)).toBeCloseTo(1, 6);
    expect(Number.isNaN(fastTanh(NaN))).toBe(true);
  });

  it.each(BACKENDS)("writes into the caller's arrays where they fit, fresh ones where not (%s)", (backend) => {
    use(backend);
    const cfg: ModelConfig = { features: ["x", "y"], activation: "tanh", problem: "classification", num_classes: 2, hidden_layers: [3] };
    const net = { weights: [[[1, 2], [3, 4], [5, 6]], [[1, 2, 3], [4, 5, 6]]], biases: [[0, 0, 0], [0, 0]] };
    const changed = structuredClone(net);
    changed.weights[1][0][2] = 3.5;
    const first = evaluateGrid(net, cfg, 10);
    const want = evaluateGrid(changed, cfg, 10);
    const into = [first[0], first[1], new Float32Array(5)]; // the last one is too short
    const got = evaluateGrid(changed, cfg, 10, into);
    expect(got[0]).toBe(first[0]);
    expect(got[1]).toBe(first[1]);
    expect(got[2]).not.toBe(into[2]);
    got.forEach((layer, l) => expect(Array.from(layer)).toEqual(Array.from(want[l])));
  });

  it.each(BACKENDS)("a network without weight matrices evaluates to its inputs instead of throwing (%s)", (backend) => {
    use(backend);
    const cfg: ModelConfig = { features: ["x", "y"], activation: "tanh", problem: "classification", num_classes: 2, hidden_layers: [] };
    const layers = evaluateGrid({ weights: [], biases: [] }, cfg, 4);
    expect(layers).toHaveLength(1);
    expect(Array.from(layers[0].slice(0, 4))).toEqual([-1, -1 / 3, 1 / 3, 1].map(Math.fround));
  });
});
