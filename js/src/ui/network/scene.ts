/**
 * What one frame of the diagram shows (pure): every node's map from ONE evaluateGrid call on a
 * small grid, and the drawn links. The grid shrinks for big networks so a frame stays cheap.
 */
import { type ModelConfig, type NetworkJSON, evaluateGrid, outputSize } from "../../nn/forward";
import { FEATURES } from "../../state";
import { type LinkGap, buildLinks } from "./links";

export interface Scene {
  cfg: ModelConfig;
  net: NetworkJSON;
  /** Nodes per diagram column: all input features, each hidden layer, the outputs. */
  counts: number[];
  gaps: LinkGap[];
  /** Grid cells per side of every map. */
  n: number;
  /** evaluateGrid(net, cfg, n). */
  grid: Float32Array[];
}

export const MIN_CELLS = 6;
export const MAX_CELLS = 20;
/** Multiply-adds one frame of maps may cost (~2–3 ms of JS). */
const WORK_BUDGET = 3_000_000;

export function columnCounts(cfg: ModelConfig): number[] {
  return [FEATURES.length, ...cfg.hidden_layers, outputSize(cfg)];
}

/** Cells per side: about one per device pixel of a thumbnail, within the work budget. */
export function gridSize(net: NetworkJSON, thumbnailDevicePx: number): number {
  let work = 0;
  for (const W of net.weights) work += W.length * (W[0]?.length ?? 0) + W.length;
  const affordable = Math.floor(Math.sqrt(WORK_BUDGET / Math.max(1, work)));
  return Math.max(MIN_CELLS, Math.min(MAX_CELLS, Math.ceil(thumbnailDevicePx), affordable));
}

export function buildScene(net: NetworkJSON, cfg: ModelConfig, thumbnailDevicePx: number): Scene {
  const n = gridSize(net, thumbnailDevicePx);
  return { cfg, net, counts: columnCounts(cfg), gaps: buildLinks(net, cfg), n, grid: evaluateGrid(net, cfg, n) };
}

/** The evaluateGrid (layer, node) a diagram node shows; null for an inactive input feature. */
export function gridNode(cfg: ModelConfig, column: number, node: number): { layer: number; node: number } | null {
  if (column > 0) return { layer: column, node };
  const i = cfg.features.indexOf(FEATURES[node]);
  return i >= 0 ? { layer: 0, node: i } : null;
}

const featureMaps = new Map<number, Float32Array>();

/** Every feature's map on an n×n grid (weights-independent, so cached): inactive inputs show these. */
function allFeatureMaps(n: number): Float32Array {
  let maps = featureMaps.get(n);
  if (!maps) {
    const cfg: ModelConfig = { features: [...FEATURES], activation: "linear", problem: "regression", num_classes: 1, hidden_layers: [] };
    maps = evaluateGrid({ weights: [], biases: [] }, cfg, n)[0];
    featureMaps.set(n, maps);
  }
  return maps;
}

/** The values a diagram node shows: its block of the grid (or of the feature maps if inactive). */
export function nodeValues(scene: Scene, column: number, node: number): { values: Float32Array; offset: number } {
  const cells = scene.n * scene.n;
  const g = gridNode(scene.cfg, column, node);
  if (g) return { values: scene.grid[g.layer], offset: g.node * cells };
  return { values: allFeatureMaps(scene.n), offset: node * cells };
}
