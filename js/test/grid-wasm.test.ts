// The grid's WebAssembly kernel (src/nn/grid.wat, driven by src/nn/gridWasm.ts) against the
// float64 JS path it replaces: same layers for every activation, shape and grid size, its tanh
// and softmax as accurate as the JS ones, non-finite weights handled, and the committed bytes
// compiled from the committed text. (The torch fixtures run through both paths in forward.test.ts.)
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import fresh from "../src/nn/grid.wat";
import { WASM_BASE64 } from "../src/nn/gridWasmBytes";
import { activation, activationCode, applyStrided } from "../src/nn/activations";
import { ACTIVATION_INFO, ACTIVATION_NAMES, FEATURE_NAMES } from "../src/generated/catalog";
import { evaluateGrid, gridBackend, useWasmGrid, wasmGridReady, type ModelConfig, type NetworkJSON } from "../src/nn/forward";

beforeAll(async () => {
  expect(await wasmGridReady()).toBe(true);
});
afterEach(() => useWasmGrid(true));

/** Deterministic pseudo-random numbers in [0, 1) (mulberry32). */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Weights as torch initialises them (uniform in ±1/√fanIn, here ×2), rounded to float32 as the
 *  kernel sends them. */
function randomNetwork(sizes: number[], seed: number, scale = 2): NetworkJSON {
  const r = rng(seed);
  const u = (fanIn: number) => Math.fround(((2 * r() - 1) * scale) / Math.sqrt(fanIn));
  return {
    weights: sizes.slice(1).map((out, l) => Array.from({ length: out }, () => Array.from({ length: sizes[l] }, () => u(sizes[l])))),
    biases: sizes.slice(1).map((out, l) => Array.from({ length: out }, () => u(sizes[l]))),
  };
}

const FEATURES = [...FEATURE_NAMES];
/** How far the float32 kernel may be from the float64 path (see maxDiff): a few float32 ulps. */
const AGREE = 2e-6;

function config(features: number, hidden: number[], activation: string, classes: number): ModelConfig {
  return {
    features: FEATURES.slice(0, features),
    activation,
    problem: classes > 1 ? "classification" : "regression",
    num_classes: Math.max(classes, 2),
    hidden_layers: hidden,
  };
}

function both(net: NetworkJSON, cfg: ModelConfig, n: number): { wasm: Float32Array[]; js: Float32Array[] } {
  useWasmGrid(false);
  expect(gridBackend()).toBe("js");
  const js = evaluateGrid(net, cfg, n);
  useWasmGrid(true);
  expect(gridBackend()).toBe("wasm");
  return { wasm: evaluateGrid(net, cfg, n), js };
}

/** Largest |a - b| / max(1, |b|) over every layer (float32 rounding is relative: a deep linear
 *  network's values reach tens); NaN where one is NaN and the other not, or infinities differ. */
function maxDiff(a: Float32Array[], b: Float32Array[]): number {
  expect(a.map((l) => l.length)).toEqual(b.map((l) => l.length));
  let worst = 0;
  a.forEach((layer, l) => {
    for (let i = 0; i < layer.length; i++) {
      const x = layer[i];
      const y = b[l][i];
      if (Object.is(x, y) || (Number.isNaN(x) && Number.isNaN(y))) continue;
      worst = Math.max(worst, Math.abs(x - y) / Math.max(1, Math.abs(y))); // NaN if only one is NaN
    }
  });
  return worst;
}

describe("the committed kernel", () => {
  it("is grid.wat compiled (else: cd js && node wat.mjs)", () => {
    expect(WASM_BASE64).toBe(fresh);
  });
});

describe("the WebAssembly path equals the JS path", () => {
  const ACTIVATIONS = ACTIVATION_NAMES;
  const SHAPES: [number, number[], number][] = [
    [2, [], 2],
    [7, [1], 3],
    [3, [5, 3], 1],
    [7, [8, 8, 8, 8, 8, 8], 2],
    [4, [6, 1, 7], 8],
    [2, [64, 33], 5],
  ];
  for (const activation of ACTIVATIONS) {
    it(`${activation}: every shape, grids of 1 to 101 cells a side`, () => {
      SHAPES.forEach(([features, hidden, classes], s) => {
        const cfg = config(features, hidden, activation, classes);
        const net = randomNetwork([features, ...hidden, classes], 17 * s + activation.length);
        for (const n of [1, 3, 23, 101]) {
          const { wasm, js } = both(net, cfg, n);
          expect(maxDiff(wasm, js), `${hidden} ${classes} n=${n}`).toBeLessThanOrEqual(AGREE);
        }
      });
    });
  }

  it("the widest network the protocol allows: 7 inputs, 8 hidden layers of 64, 8 classes", () => {
    for (const activation of ["relu", "tanh", "gelu"]) {
      const cfg = config(7, Array(8).fill(64), activation, 8);
      const net = randomNetwork([7, ...cfg.hidden_layers, 8], 5);
      const { wasm, js } = both(net, cfg, 40);
      expect(maxDiff(wasm, js), activation).toBeLessThanOrEqual(AGREE);
    }
  });
});

describe("the kernel's functions", () => {
  /** Hidden node 0 of (x, y) → [1] → 1 regression on an n×n grid: act(w·x + w·y/7) at every
   *  cell, and the float32 pre-activation the kernel computed (0 + w·x, then + w/7·y). */
  function single(activation: string, w: number, n: number): { pre: number[]; post: Float32Array } {
    const cfg = config(2, [1], activation, 1);
    const w1 = Math.fround(w);
    const w2 = Math.fround(w / 7);
    const net = { weights: [[[w1, w2]], [[1]]], biases: [[0], [0]] };
    useWasmGrid(true);
    const layers = evaluateGrid(net, cfg, n);
    const cells = n * n;
    const pre = Array.from({ length: cells }, (_, c) => Math.fround(Math.fround(w1 * layers[0][c]) + Math.fround(w2 * layers[0][cells + c])));
    return { pre, post: layers[1] };
  }

  // Eigen's approximation is within 2.7e-7 of tanh; evaluated in float32 (as Eigen does), its
  // rounding adds up to 1e-7.
  it("tanh is within 4e-7 of Math.tanh", () => {
    const { pre, post } = single("tanh", 10.5, 400); // pre-activations -12 .. 12
    let worst = 0;
    pre.forEach((v, i) => (worst = Math.max(worst, Math.abs(post[i] - Math.tanh(v)))));
    expect(worst).toBeLessThan(4e-7);
  });

  it("sigmoid is within 3e-7 of 1 / (1 + e^-v)", () => {
    const { pre, post } = single("sigmoid", 21, 400); // -24 .. 24
    let worst = 0;
    pre.forEach((v, i) => (worst = Math.max(worst, Math.abs(post[i] - 1 / (1 + Math.exp(-v))))));
    expect(worst).toBeLessThan(3e-7);
  });

  // gelu, silu and elu in float32 too, as torch computes them: within a few float32 ulps of the
  // float64 functions, relative to max(1, |v|) (erf is Eigen's float approximation, 4.2e-7).
  it.each([
    ["gelu", 5e-7],
    ["silu", 3e-7],
    ["elu", 2e-7],
  ])("%s is within %s of the float64 activation", (name, tolerance) => {
    const { pre, post } = single(name, 21, 400); // -24 .. 24
    const fn = activation(name);
    let worst = 0;
    pre.forEach((v, i) => (worst = Math.max(worst, Math.abs(post[i] - fn(v)) / Math.max(1, Math.abs(v)))));
    expect(worst).toBeLessThan(tolerance);
  });

  it("softmax is within 3e-7 of float64's, up to logits 100 apart", () => {
    // x → 8 classes: logit k = (k - 3.5)·s·x, so the classes' spread grows across the grid.
    const cfg = config(1, [], "linear", 8);
    const net = { weights: [Array.from({ length: 8 }, (_, k) => [Math.fround((k - 3.5) * 14)])], biases: [Array(8).fill(0)] };
    useWasmGrid(true);
    const n = 301;
    const layers = evaluateGrid(net, cfg, n);
    const out = layers[layers.length - 1];
    let worst = 0;
    for (let c = 0; c < n; c++) {
      const x = Math.fround(-1 + (2 * c) / (n - 1));
      const z = net.weights[0].map(([w]) => Math.fround(w * x));
      const max = Math.max(...z);
      const e = z.map((v) => Math.exp(v - max));
      const sum = e.reduce((s, v) => s + v, 0);
      e.forEach((v, k) => (worst = Math.max(worst, Math.abs(out[k * n * n + c] - v / sum))));
    }
    expect(worst).toBeLessThan(3e-7);
  });

  it("relu maps NaN to 0 and leaky_relu keeps it, as the JS path does", () => {
    for (const activation of ACTIVATION_NAMES) {
      const cfg = config(2, [3, 2], activation, 2);
      const net = randomNetwork([2, 3, 2, 2], 11);
      net.weights[0][0][1] = NaN; // hidden node 0 is NaN everywhere
      net.weights[0][1][0] = Infinity; // node 1: ±Infinity, NaN where x = 0
      net.biases[1][1] = -Infinity;
      const { wasm, js } = both(net, cfg, 5);
      // Every hidden layer the same (NaN for NaN, ±Infinity for ±Infinity: maxDiff is NaN else); the softmax of non-finite logits may differ
      // (JS's two-class shortcut), but it is computed without throwing.
      expect(maxDiff(wasm.slice(0, 3), js.slice(0, 3)), activation).toBeLessThanOrEqual(AGREE);
      expect(wasm[3]).toHaveLength(js[3].length);
      if (activation === "relu") expect(Array.from(wasm[1].slice(0, 25))).toEqual(Array(25).fill(0));
    }
  });

  it("grows its memory from a small network to the widest and back", () => {
    for (const hidden of [[2], Array(8).fill(64), [3, 3]]) {
      const cfg = config(7, hidden, "tanh", 8);
      const net = randomNetwork([7, ...hidden, 8], hidden.length);
      const { wasm, js } = both(net, cfg, 33);
      expect(maxDiff(wasm, js)).toBeLessThanOrEqual(AGREE);
    }
  });
});

describe("every activation of Python's table (generated/catalog.ts) has a branch everywhere", () => {
  const inputs = [-6, -2, -0.5, -1e-3, 0, 1e-3, 0.3, 1.7, 5, 9];

  it("the JS function and the tiled JS path take every entry; an unknown name throws", () => {
    for (const name of ACTIVATION_NAMES) {
      expect(activationCode(name), name).toBe(ACTIVATION_INFO[name].code);
      const fn = activation(name);
      const v = Float64Array.from(inputs);
      applyStrided(name, v, inputs.length, inputs.length, 1);
      inputs.forEach((x, i) => expect(Math.abs(v[i] - fn(x)), `${name}(${x})`).toBeLessThan(4e-7));
    }
    for (const bad of ["swish", "", "toString", "__proto__"]) {
      expect(() => activation(bad)).toThrow(/unknown activation/);
      expect(() => activationCode(bad)).toThrow(/unknown activation/);
      expect(() => applyStrided(bad, new Float64Array(4), 4, 4, 1)).toThrow(/unknown activation/);
    }
  });

  it("the kernel's activate takes every entry marked wasm and traps on any other code", async () => {
    const bytes = Uint8Array.from(atob(WASM_BASE64), (ch) => ch.charCodeAt(0));
    const { instance } = await WebAssembly.instantiate(bytes);
    const k = instance.exports as unknown as { memory: WebAssembly.Memory; heap: WebAssembly.Global; activate(p: number, n: number, code: number): void };
    const at = k.heap.value as number;
    const mem = new Float32Array(k.memory.buffer, at, 12);
    const codes = new Set(ACTIVATION_NAMES.map((name) => ACTIVATION_INFO[name].code));
    for (const name of ACTIVATION_NAMES) {
      mem.fill(0);
      mem.set(inputs);
      const run = () => k.activate(at, 12, ACTIVATION_INFO[name].code);
      if (!ACTIVATION_INFO[name].wasm) {
        expect(run, name).toThrow(WebAssembly.RuntimeError); // the page applies it in JS
        continue;
      }
      run();
      const fn = activation(name);
      inputs.forEach((x, i) => expect(Math.abs(mem[i] - fn(Math.fround(x))), `${name}(${x})`).toBeLessThan(AGREE));
    }
    for (const code of [-1, Math.max(...codes) + 1, 1000]) {
      expect(() => k.activate(at, 12, code), `code ${code}`).toThrow(WebAssembly.RuntimeError);
    }
  });

  it("evaluateGrid refuses an activation the table does not have, on either path", () => {
    const net = randomNetwork([2, 3, 2], 3);
    for (const wasm of [true, false]) {
      useWasmGrid(wasm);
      expect(() => evaluateGrid(net, config(2, [3], "swish", 2), 5)).toThrow(/unknown activation/);
    }
    useWasmGrid(true);
  });
});
