/**
 * What one frame of the diagram shows (pure): every node's thumbnail, sampled from the grid the
 * whole widget shares (gridFor: the decision map's evaluation, so a network change costs ONE
 * forward pass over the plane whatever the number of neurons), and the drawn links.
 */
import { type ModelConfig, type NetworkJSON, gridCoord, outputSize } from "../../nn/forward";
import { feature } from "../../nn/activations";
import { MAP_CELLS, gridFor } from "../../nn/gridCache";
import { FEATURES } from "../../state";
import { type LinkGap, buildLinks } from "./links";

export interface Scene {
  cfg: ModelConfig;
  net: NetworkJSON;
  /** Nodes per diagram column: all input features, each hidden layer, the outputs. */
  counts: number[];
  gaps: LinkGap[];
  /** Cells per side of every thumbnail. */
  n: number;
  /** Cells per side of the shared grid the thumbnails sample. */
  gridN: number;
  /** gridFor(net, cfg, gridN): every node over the plane. */
  grid: Float32Array[];
  /** Every node's n×n thumbnail, node after node in display order (column by column). */
  thumbs: Float32Array;
}

export const MIN_CELLS = 6;
/** About one cell per device pixel of a thumbnail, up to this: every thumbnail is painted
 *  every frame, and smoothing scales them up well. */
export const MAX_CELLS = 20;

export function columnCounts(cfg: ModelConfig): number[] {
  return [FEATURES.length, ...cfg.hidden_layers, outputSize(cfg)];
}

/** Cells per side of a thumbnail `thumbnailDevicePx` device pixels wide. */
export function thumbnailCells(thumbnailDevicePx: number): number {
  return Math.max(MIN_CELLS, Math.min(MAX_CELLS, Math.ceil(thumbnailDevicePx)));
}

/** Which row (and column) of a gridN grid thumbnail row i of n samples: both ends included,
 *  as the grid's own cells are, so a thumbnail spans the same [-1, 1]² as the main map. */
export function sampledIndex(i: number, n: number, gridN: number): number {
  return n > 1 ? Math.round((i * (gridN - 1)) / (n - 1)) : 0;
}

export function buildScene(
  net: NetworkJSON,
  cfg: ModelConfig,
  thumbnailDevicePx: number,
  reuse?: Float32Array,
  gridN = MAP_CELLS,
): Scene {
  const n = thumbnailCells(thumbnailDevicePx);
  const counts = columnCounts(cfg);
  const grid = gridFor(net, cfg, gridN);
  const size = counts.reduce((a, b) => a + b, 0) * n * n;
  const thumbs = reuse && reuse.length === size ? reuse : new Float32Array(size);
  const scene: Scene = { cfg, net, counts, gaps: buildLinks(net, cfg), n, gridN, grid, thumbs };
  const index = Uint32Array.from({ length: n }, (_, i) => sampledIndex(i, n, gridN));
  const cells = gridN * gridN;
  let at = 0;
  for (let column = 0; column < counts.length; column++) {
    for (let node = 0; node < counts[column]; node++, at += n * n) {
      const g = gridNode(cfg, column, node);
      if (g) sample(grid[g.layer], g.node * cells, gridN, index, thumbs, at);
      else sample(allFeatureMaps(gridN), node * cells, gridN, index, thumbs, at);
    }
  }
  return scene;
}

/** out[at + r·n + c] = values[offset + index[r]·gridN + index[c]] for an n×n thumbnail. */
function sample(values: Float32Array, offset: number, gridN: number, index: Uint32Array, out: Float32Array, at: number): void {
  const n = index.length;
  for (let r = 0; r < n; r++) {
    const row = offset + index[r] * gridN;
    const o = at + r * n;
    for (let c = 0; c < n; c++) out[o + c] = values[row + index[c]];
  }
}

/** The evaluateGrid (layer, node) a diagram node shows; null for an inactive input feature. */
export function gridNode(cfg: ModelConfig, column: number, node: number): { layer: number; node: number } | null {
  if (column > 0) return { layer: column, node };
  const i = cfg.features.indexOf(FEATURES[node]);
  return i >= 0 ? { layer: 0, node: i } : null;
}

const featureMaps = new Map<number, Float32Array>();

/** Every feature of FEATURES on the n×n grid (weights-independent, so computed once): inactive
 *  inputs show these, dimmed. Same cells and values as evaluateGrid's input layer. */
function allFeatureMaps(n: number): Float32Array {
  let maps = featureMaps.get(n);
  if (!maps) {
    const cells = n * n;
    maps = new Float32Array(FEATURES.length * cells);
    FEATURES.forEach((name, j) => {
      const f = feature(name);
      for (let c = 0; c < cells; c++) maps![j * cells + c] = f(gridCoord(c % n, n), -gridCoord(Math.floor(c / n), n));
    });
    featureMaps.set(n, maps);
  }
  return maps;
}
