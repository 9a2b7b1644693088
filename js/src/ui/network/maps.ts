/**
 * Neuron maps: a node's values over the plane (one block of evaluateGrid's output) painted
 * through a 256-entry colour table. Inputs and hidden units use the diverging scale over
 * [-1, 1]; classification outputs fade from neutral to their class colour with probability.
 */
import type { ModelConfig } from "../../nn/forward";
import { PALETTE, diverging } from "../colors";

/** 256 RGB entries, flat. */
export type Lut = Uint8ClampedArray;

export interface MapColouring {
  lut: Lut;
  /** Value drawn with the table's first entry; `hi` gets the last. */
  lo: number;
  hi: number;
}

let divergingLut: Lut | null = null;
const classLuts = new Map<number, Lut>();

function buildLut(colour: (t: number) => readonly number[]): Lut {
  const lut = new Uint8ClampedArray(256 * 3);
  for (let i = 0; i < 256; i++) lut.set(colour(i / 255), i * 3);
  return lut;
}

export function divergingColouring(): MapColouring {
  divergingLut ??= buildLut((t) => diverging(2 * t - 1));
  return { lut: divergingLut, lo: -1, hi: 1 };
}

export function classColouring(k: number): MapColouring {
  let lut = classLuts.get(k);
  if (!lut) {
    const zero = diverging(0);
    const c = PALETTE[k % PALETTE.length];
    lut = buildLut((t) => zero.map((z, i) => z + (c[i] - z) * t));
    classLuts.set(k, lut);
  }
  return { lut, lo: 0, hi: 1 };
}

/** Colouring of node `node` of evaluateGrid layer `layer` (0 inputs, then hidden, last outputs). */
export function colouringFor(cfg: ModelConfig, layer: number, node: number): MapColouring {
  const output = layer === cfg.hidden_layers.length + 1;
  return output && cfg.problem === "classification" ? classColouring(node) : divergingColouring();
}

/** The table as whole RGBA pixels in the platform's byte order: one 32-bit store a pixel. */
const pixelLuts = new WeakMap<Lut, Uint32Array>();
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function pixelLut(lut: Lut): Uint32Array {
  let px = pixelLuts.get(lut);
  if (!px) {
    px = new Uint32Array(256);
    for (let i = 0; i < 256; i++) {
      const [r, g, b] = [lut[3 * i], lut[3 * i + 1], lut[3 * i + 2]];
      px[i] = LITTLE_ENDIAN ? ((255 << 24) | (b << 16) | (g << 8) | r) >>> 0 : ((r << 24) | (g << 16) | (b << 8) | 255) >>> 0;
    }
    pixelLuts.set(lut, px);
  }
  return px;
}

/**
 * Paint an n×n map (values[offset + cell]) into an RGBA buffer `stride` pixels wide at (dx, dy),
 * with a one-pixel border repeating the edge so smoothed scaling does not bleed between tiles.
 */
export function paintMap(
  values: Float32Array,
  offset: number,
  n: number,
  c: MapColouring,
  rgba: Uint8ClampedArray,
  stride: number,
  dx: number,
  dy: number,
  border = 0,
): void {
  const lut = pixelLut(c.lut);
  const pixels = new Uint32Array(rgba.buffer, rgba.byteOffset, rgba.length >> 2);
  const lo = c.lo;
  const scale = 255 / (c.hi - c.lo);
  // Math.round for t in (0, 255); NaN and t <= 0 take the first entry.
  const pixel = (v: number) => {
    const t = (v - lo) * scale;
    return lut[t > 0 ? (t < 255 ? (t + 0.5) | 0 : 255) : 0];
  };
  for (let r = -border; r < n + border; r++) {
    const row = offset + (r < 0 ? 0 : r >= n ? n - 1 : r) * n;
    let p = (dy + r + border) * stride + dx;
    for (let col = -border; col < 0; col++) pixels[p++] = pixel(values[row]);
    for (let i = row, end = row + n; i < end; i++) pixels[p++] = pixel(values[i]);
    for (let col = 0; col < border; col++) pixels[p++] = pixel(values[row + n - 1]);
  }
}

/**
 * Draw one node's map from evaluateGrid(net, cfg, n) output, scaled to fill `canvas`:
 * lets the main view show a focused neuron large, coloured exactly like its thumbnail.
 */
export function renderNodeMap(
  canvas: HTMLCanvasElement,
  grid: Float32Array[],
  n: number,
  layer: number,
  node: number,
  cfg: ModelConfig,
): void {
  const ctx = canvas.getContext("2d");
  if (!ctx) return;
  const image = new ImageData(n, n);
  paintMap(grid[layer], node * n * n, n, colouringFor(cfg, layer, node), image.data, n, 0, 0);
  if (canvas.width === n && canvas.height === n) {
    ctx.putImageData(image, 0, 0);
    return;
  }
  const tile = document.createElement("canvas");
  tile.width = tile.height = n;
  tile.getContext("2d")?.putImageData(image, 0, 0);
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(tile, 0, 0, canvas.width, canvas.height);
}
