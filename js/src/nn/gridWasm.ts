// The grid evaluation in float32 WebAssembly SIMD (grid.wat): evaluateGrid's fast path, 4 cells
// per instruction. The module is instantiated asynchronously when this module loads; until it is
// ready, or where WebAssembly, its SIMD or its compilation (a Content-Security-Policy without
// 'wasm-unsafe-eval', as in some VS Code webviews) is unavailable, computeWasm returns null and
// forward.ts keeps its float64 JS path. float32 is what torch computes in: every layer stays
// within 1e-5 of torch (test/forward.test.ts runs the fixtures through both paths).
import { activation, activationCode } from "./activations";
import { ACTIVATION_INFO, type ActivationName } from "../generated/catalog";
import type { ModelConfig, NetworkJSON } from "./forward";
import { WASM_BASE64 } from "./gridWasmBytes";
import { layerArrays } from "./layerArrays";

interface Kernel {
  memory: WebAssembly.Memory;
  /** The first byte past the kernel's own constants: ours from there. */
  heap: WebAssembly.Global;
  dense(src: number, dst: number, w: number, b: number, nIn: number, nOut: number, T: number, count: number): void;
  activate(p: number, n: number, code: number): void;
  softmax(p: number, classes: number, T: number, count: number): void;
}

let kernel: Kernel | null = null;

/** Resolves to true once the kernel is instantiated, false if it cannot be (never rejects). */
export const wasmReady: Promise<boolean> = instantiate();

async function instantiate(): Promise<boolean> {
  try {
    if (typeof WebAssembly !== "object") return false;
    const bytes = Uint8Array.from(atob(WASM_BASE64), (ch) => ch.charCodeAt(0));
    if (!WebAssembly.validate(bytes)) return false; // no SIMD here
    const { instance } = await WebAssembly.instantiate(bytes);
    kernel = instance.exports as unknown as Kernel;
    return true;
  } catch {
    return false; // compilation refused (CSP) or failed: the JS path it is
  }
}

/** True when computeWasm can run now. */
export function wasmAvailable(): boolean {
  return kernel !== null;
}

/** Cells of a tile: a multiple of 16 (the kernel's block) and an odd number of 64-byte cache
 *  lines (25), so that the kernel's loads of one cell block from 64 nodes, T·4 bytes apart, fall
 *  in different L1 sets (T = 512 maps them to 2 sets of 8 ways: 64×64 layers ran 1.5× slower);
 *  100×100 is 25 tiles. A tile of 64 nodes is 100 KB. */
const T = 400;

const roundUp = (v: number, m: number) => Math.ceil(v / m) * m;

/**
 * evaluateGrid's layers (see forward.ts) computed by the kernel, or null when it is not ready or
 * the network is not one it takes (a layer without nodes, rows of another length than the layer
 * before, memory that cannot grow). `inputs` is the features' grid, node-major. The network has
 * at least one weight matrix.
 */
export function computeWasm(
  net: NetworkJSON,
  sizes: number[],
  cfg: ModelConfig,
  n: number,
  inputs: Float32Array,
  into: Float32Array[] = [],
): Float32Array[] | null {
  const k = kernel;
  const last = net.weights.length - 1;
  if (!k || last < 0 || sizes.some((s) => !(s >= 1))) return null;
  for (let l = 0; l <= last; l++) {
    if (net.biases[l]?.length !== sizes[l + 1] || net.weights[l].some((row) => row.length !== sizes[l])) return null;
  }
  // Memory (in floats): each layer's weights, rows paired and interleaved for the kernel's two
  // nodes at a time (an odd layer gets a zero row), then the biases, then two tiles.
  const wAt: number[] = [];
  const bAt: number[] = [];
  let at = (k.heap.value as number) / 4;
  for (let l = 0; l <= last; l++) {
    wAt.push(at);
    at += roundUp(sizes[l + 1], 2) * sizes[l];
  }
  for (let l = 0; l <= last; l++) {
    bAt.push(at);
    at += roundUp(sizes[l + 1], 2);
  }
  const S = Math.max(...sizes.map((s) => roundUp(s, 2)));
  let a = roundUp(at, 4);
  let b = a + S * T;
  const bytes = (b + S * T) * 4;
  const have = k.memory.buffer.byteLength;
  if (bytes > have) {
    try {
      k.memory.grow(Math.ceil((bytes - have) / 65536));
    } catch {
      return null;
    }
  }
  const mem = new Float32Array(k.memory.buffer);
  for (let l = 0; l <= last; l++) {
    const nIn = sizes[l];
    const rows = net.weights[l];
    for (let r = 0; r < roundUp(rows.length, 2); r++) {
      const row = rows[r];
      const base = wAt[l] + (r >> 1) * 2 * nIn + (r & 1);
      for (let j = 0; j < nIn; j++) mem[base + 2 * j] = row ? row[j] : 0;
      mem[bAt[l] + r] = row ? net.biases[l][r] : 0;
    }
  }

  const cells = n * n;
  const layers = layerArrays(sizes, cells, into);
  layers[0].set(inputs);
  // grid.wat's `activate` takes the table's codes; activations without a loop there (the
  // table's `wasm` false) run in JS on the kernel's memory. An unknown name throws here.
  const code = activationCode(cfg.activation);
  const fn = ACTIVATION_INFO[cfg.activation as ActivationName].wasm ? null : activation(cfg.activation);
  const classify = cfg.problem === "classification";
  for (let c0 = 0; c0 < cells; c0 += T) {
    const t = Math.min(T, cells - c0);
    const count = roundUp(t, 16); // cells past t hold the previous tile's values: never read
    for (let j = 0; j < sizes[0]; j++) mem.set(inputs.subarray(j * cells + c0, j * cells + c0 + t), a + j * T);
    for (let l = 0; l <= last; l++) {
      const nOut = sizes[l + 1];
      k.dense(4 * a, 4 * b, 4 * wAt[l], 4 * bAt[l], sizes[l], nOut, T, count);
      if (l < last) {
        if (fn) {
          for (let node = 0; node < nOut; node++) {
            for (let i = b + node * T, end = i + t; i < end; i++) mem[i] = fn(mem[i]);
          }
        } else k.activate(4 * b, nOut * T, code);
      } else if (classify) k.softmax(4 * b, nOut, T, count);
      const out = layers[l + 1];
      for (let node = 0; node < nOut; node++) out.set(mem.subarray(b + node * T, b + node * T + t), node * cells + c0);
      const swap = a;
      a = b;
      b = swap;
    }
  }
  return layers;
}
