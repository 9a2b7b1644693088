// The forward pass that draws every map from the weights the kernel sends (the numerical
// definitions are in docs/design.md). evaluateGrid is on the draw path: flat typed arrays,
// node-major layout and no allocation per cell; it runs in float32 WebAssembly SIMD
// (gridWasm.ts) where that is available, else in the float64 JS below.
import { applyStrided, feature } from "./activations";
import { computeWasm, wasmAvailable, wasmReady } from "./gridWasm";
import { layerArrays } from "./layerArrays";

export interface NetworkJSON {
  weights: number[][][];
  biases: number[][];
}

export interface ModelConfig {
  features: string[];
  activation: string;
  problem: "classification" | "regression";
  num_classes: number;
  hidden_layers: number[];
}

/** Output units the config asks for: one per class, or one regression value. */
export function outputSize(cfg: ModelConfig): number {
  return cfg.problem === "classification" ? cfg.num_classes : 1;
}

/** True when the network's shapes are exactly the ones the config describes. */
export function networkMatches(net: NetworkJSON | null | undefined, cfg: ModelConfig): boolean {
  if (!net || !Array.isArray(net.weights) || !Array.isArray(net.biases)) return false;
  const sizes = [cfg.features.length, ...cfg.hidden_layers, outputSize(cfg)];
  if (net.weights.length !== sizes.length - 1 || net.biases.length !== sizes.length - 1) return false;
  return net.weights.every(
    (w, l) =>
      w.length === sizes[l + 1] &&
      net.biases[l].length === sizes[l + 1] &&
      w.every((row) => row.length === sizes[l]),
  );
}

/** Grid coordinate of column (or, negated, row) i of n: both ends of [-1, 1] included. */
export function gridCoord(i: number, n: number): number {
  return n > 1 ? -1 + (2 * i) / (n - 1) : 0;
}

/** Evaluate every node on an n×n grid over [-1,1]² (cell index = row*n + col; row 0 is y = +1 (top), col 0 is x = -1).
 *  Returns one Float32Array per layer, node-major (value of node k at cell c is arr[k*n*n + c]):
 *  [input features, hidden layer 1 (post-activation), ..., outputs (softmax probabilities, or the regression value)].
 *  `into`: arrays to write the layers into where their lengths fit (fresh ones where not), for
 *  a caller that recycles its results (gridCache.ts): rewriting arrays already in memory is
 *  ~20× cheaper than first writes into new ones. */
export function evaluateGrid(net: NetworkJSON, cfg: ModelConfig, n: number, into: Float32Array[] = []): Float32Array[] {
  return compute(net, sizesOf(net, cfg), cfg, n, into);
}

function sizesOf(net: NetworkJSON, cfg: ModelConfig): number[] {
  return [cfg.features.length, ...net.weights.map((w) => w.length)];
}

/** Which path evaluateGrid takes: the float32 WebAssembly SIMD kernel (gridWasm.ts) once it is
 *  instantiated, else (and always after useWasmGrid(false)) the float64 JS below. */
export function gridBackend(): "wasm" | "js" {
  return wasmAllowed && wasmAvailable() ? "wasm" : "js";
}

/** Resolves once the WebAssembly kernel is ready (true) or known to be unavailable (false). */
export function wasmGridReady(): Promise<boolean> {
  return wasmReady;
}

let wasmAllowed = true;

/** Allow the WebAssembly kernel (the default) or force the JS path (tests, comparisons). */
export function useWasmGrid(allowed: boolean): void {
  wasmAllowed = allowed;
}

/** Cells evaluated together through the whole network: one tile's activations stay in cache. */
const TILE = 512;

/** Layer l's weights as rows of `stride` columns (zero-padded to a multiple of the kernel's
 *  block of inputs), so each kernel reads its inputs once per cell into locals. */
interface Dense {
  nIn: number;
  nOut: number;
  block: number;
  stride: number;
  w: Float64Array;
  bias: Float64Array;
}

function blockFor(nIn: number): number {
  return nIn <= 2 ? 2 : nIn <= 4 ? 4 : 8;
}

function compute(net: NetworkJSON, sizes: number[], cfg: ModelConfig, n: number, into: Float32Array[]): Float32Array[] {
  const cells = n * n;
  const inputs = featureGrid(cfg.features, n);
  const last = net.weights.length - 1;
  if (wasmAllowed && last >= 0) {
    const fast = computeWasm(net, sizes, cfg, n, inputs.f32, into);
    if (fast) return fast;
  }
  const classify = cfg.problem === "classification";
  const dense: Dense[] = net.weights.map((rows, l) => {
    const nIn = sizes[l];
    const block = blockFor(nIn);
    const stride = Math.ceil(nIn / block) * block;
    const w = new Float64Array(rows.length * stride);
    rows.forEach((row, k) => w.set(row, k * stride));
    return { nIn, nOut: rows.length, block, stride, w, bias: Float64Array.from(net.biases[l]) };
  });
  // Cell-major activations: a[i*S + j] is node j at the tile's cell i; padded nodes stay 0.
  const S = Math.max(...dense.map((d) => d.stride), ...sizes.map((v) => Math.ceil(v / 8) * 8));
  const layers = layerArrays(sizes, cells, into);
  layers[0].set(inputs.f32);
  if (last < 0) return layers; // no weight matrices: the map is the inputs themselves
  let a = new Float64Array(S * TILE);
  let b = new Float64Array(S * TILE);
  const relu = cfg.activation === "relu";
  for (let c0 = 0; c0 < cells; c0 += TILE) {
    const t = Math.min(TILE, cells - c0);
    for (let j = 0; j < sizes[0]; j++) {
      const src = inputs.f64;
      for (let i = 0, at = j; i < t; i++, at += S) a[at] = src[j * cells + c0 + i];
    }
    zeroPadding(a, sizes[0], dense[0].stride, S, t);
    for (let l = 0; l <= last; l++) {
      const d = dense[l];
      const fuseRelu = relu && l < last; // relu is applied as the kernel writes
      if (d.block === 2) dense2(a, b, d, S, t, fuseRelu);
      else if (d.block === 4) dense4(a, b, d, S, t, fuseRelu);
      else for (let j0 = 0; j0 < d.stride; j0 += 8) dense8(a, b, d, S, t, j0, fuseRelu && j0 + 8 >= d.stride);
      if (l < last) {
        if (!relu) applyStrided(cfg.activation, b, d.nOut, S, t);
        zeroPadding(b, d.nOut, dense[l + 1].stride, S, t);
      } else if (classify) softmaxTile(b, d.nOut, S, t);
      const out = layers[l + 1];
      for (let k = 0; k < d.nOut; k++) for (let i = 0, at = k; i < t; i++, at += S) out[k * cells + c0 + i] = b[at];
      const swap = a;
      a = b;
      b = swap;
    }
  }
  return layers;
}

/** Nodes [from, to) of every cell of the tile set to 0: padded inputs the next kernel reads
 *  (its padded weights are 0, and 0·v is 0 only for a finite v). */
function zeroPadding(v: Float64Array, from: number, to: number, S: number, t: number): void {
  if (from >= to) return;
  for (let i = 0, at = 0; i < t; i++, at += S) for (let k = from; k < to; k++) v[at + k] = 0;
}

// Dense kernels: pre-activations b[i*S + k] = bias[k] + w[k][0]·a0 + w[k][1]·a1 + ..., summed
// left to right as torch's float64 reference does (then relu, when `relu`). The tile's inputs are read once
// per cell into locals.
function dense2(a: Float64Array, b: Float64Array, d: Dense, S: number, t: number, relu: boolean): void {
  const { w, bias, nOut } = d;
  for (let i = 0, ai = 0; i < t; i++, ai += S) {
    const a0 = a[ai];
    const a1 = a[ai + 1];
    for (let k = 0, r = 0; k < nOut; k++, r += 2) {
      const v = bias[k] + w[r] * a0 + w[r + 1] * a1;
      b[ai + k] = relu ? (v > 0 ? v : 0) : v;
    }
  }
}

function dense4(a: Float64Array, b: Float64Array, d: Dense, S: number, t: number, relu: boolean): void {
  const { w, bias, nOut } = d;
  for (let i = 0, ai = 0; i < t; i++, ai += S) {
    const a0 = a[ai];
    const a1 = a[ai + 1];
    const a2 = a[ai + 2];
    const a3 = a[ai + 3];
    for (let k = 0, r = 0; k < nOut; k++, r += 4) {
      const v = bias[k] + w[r] * a0 + w[r + 1] * a1 + w[r + 2] * a2 + w[r + 3] * a3;
      b[ai + k] = relu ? (v > 0 ? v : 0) : v;
    }
  }
}

/** Inputs j0..j0+7: the first block starts from the bias, later ones add to the partial sums. */
function dense8(a: Float64Array, b: Float64Array, d: Dense, S: number, t: number, j0: number, relu: boolean): void {
  const { w, bias, nOut, stride } = d;
  const first = j0 === 0;
  for (let i = 0, ai = 0; i < t; i++, ai += S) {
    const x = ai + j0;
    const a0 = a[x];
    const a1 = a[x + 1];
    const a2 = a[x + 2];
    const a3 = a[x + 3];
    const a4 = a[x + 4];
    const a5 = a[x + 5];
    const a6 = a[x + 6];
    const a7 = a[x + 7];
    for (let k = 0, r = j0; k < nOut; k++, r += stride) {
      const s = first ? bias[k] : b[ai + k];
      const v = s + w[r] * a0 + w[r + 1] * a1 + w[r + 2] * a2 + w[r + 3] * a3 + w[r + 4] * a4 + w[r + 5] * a5 + w[r + 6] * a6 + w[r + 7] * a7;
      b[ai + k] = relu ? (v > 0 ? v : 0) : v;
    }
  }
}

/** Softmax over the classes of each of `t` cells (class k of cell i at v[i*S + k]). */
function softmaxTile(v: Float64Array, classes: number, S: number, t: number): void {
  if (classes === 2) {
    // Two classes: p0 = 1 / (1 + e^(z1 - z0)), one exp per cell.
    for (let i = 0, at = 0; i < t; i++, at += S) {
      const p0 = 1 / (1 + Math.exp(v[at + 1] - v[at]));
      v[at] = p0;
      v[at + 1] = 1 - p0;
    }
    return;
  }
  for (let i = 0, at = 0; i < t; i++, at += S) {
    let max = -Infinity;
    for (let k = 0; k < classes; k++) max = Math.max(max, v[at + k]);
    let sum = 0;
    for (let k = 0; k < classes; k++) sum += (v[at + k] = Math.exp(v[at + k] - max));
    for (let k = 0; k < classes; k++) v[at + k] /= sum;
  }
}

interface FeatureGrid {
  f64: Float64Array;
  f32: Float32Array;
}
const featureGrids = new Map<string, FeatureGrid>();
const MAX_FEATURE_GRIDS = 8;

/** The input features on an n×n grid (weights-independent, so computed once per grid). */
function featureGrid(features: string[], n: number): FeatureGrid {
  const key = `${n}:${features.join(",")}`;
  let grid = featureGrids.get(key);
  if (!grid) {
    const cells = n * n;
    const f64 = new Float64Array(features.length * cells);
    features.forEach((name, j) => {
      const fn = feature(name);
      for (let c = 0; c < cells; c++) f64[j * cells + c] = fn(gridCoord(c % n, n), -gridCoord(Math.floor(c / n), n));
    });
    grid = { f64, f32: Float32Array.from(f64) };
    if (featureGrids.size >= MAX_FEATURE_GRIDS) featureGrids.delete(featureGrids.keys().next().value as string);
    featureGrids.set(key, grid);
  }
  return grid;
}
