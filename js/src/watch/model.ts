// The watch view's traits (nnvisu.watcher.WatchView) and how their bytes are read. The kernel
// evaluates the user's model; these arrays are what the page draws.
import type { HistoryEntry, Metrics, Point } from "../state";

export interface WatchInfo {
  problem: "classification" | "regression";
  classes: number;
  /** [x_min, x_max, y_min, y_max] of the drawn square. */
  bounds: [number, number, number, number];
  resolution: number;
  neuron_resolution: number;
  /** Cells a side of the timeline snapshots' maps. */
  snapshot_resolution: number;
  model: string;
  where: string;
}

/** Bytes as they arrive: a DataView from ipywidgets, or an array/buffer from elsewhere. */
export type Bytes = DataView | ArrayBuffer | Uint8Array;

export interface LayerInfo {
  name: string;
  type: string;
  units: number;
  reason: string;
}

export interface Frame {
  step: number;
  map: Bytes | null;
  layers: LayerInfo[];
  maps: (Bytes | null)[];
  error: string | null;
}

export interface WatchSnapshot {
  step: number;
  train_loss: number | null;
  test_loss: number | null;
  map: Bytes;
}

export interface WatchStatus {
  state: "idle" | "watching" | "error";
  message: string;
}

export interface WatchTraits {
  watch: WatchInfo;
  data: Point[];
  frame: Frame;
  snapshots: WatchSnapshot[];
  history: HistoryEntry[];
  metrics: Metrics;
  status: WatchStatus;
}

export interface WatchModel {
  get<K extends keyof WatchTraits>(key: K): WatchTraits[K];
  on(event: string, callback: (...args: never[]) => void): void;
  off(event?: string | null, callback?: ((...args: never[]) => void) | null): void;
}

/** True for a model of the watch view (its `watch` trait is set); the playground has none. */
export function isWatchModel(model: { get(key: never): unknown }): boolean {
  const info = (model.get as (key: string) => unknown)("watch");
  return typeof info === "object" && info !== null && "bounds" in info;
}

export function asBytes(value: Bytes): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (value instanceof DataView) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  return new Uint8Array(value);
}

/**
 * The map's values, node-major (class k at cell c is out[k * cells + c]) as the decision-map
 * painter takes them: uint8 probabilities / 255 for classification, float16 values for
 * regression. Null when the bytes do not hold an n×n map of this problem (n: the live map's
 * resolution unless given, e.g. a snapshot's).
 */
export function mapValues(data: Bytes | null, info: WatchInfo, n = info.resolution): Float32Array | null {
  if (!data) return null;
  const bytes = asBytes(data);
  const cells = n * n;
  if (info.problem === "regression") {
    if (bytes.length !== 2 * cells) return null;
    const out = new Float32Array(cells);
    for (let c = 0; c < cells; c++) out[c] = float16(bytes[2 * c] | (bytes[2 * c + 1] << 8));
    return out;
  }
  if (bytes.length !== info.classes * cells) return null;
  const out = new Float32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = bytes[i] / 255;
  return out;
}

/** A layer's neuron maps: bytes over [-1, 1] back to values, node-major. */
export function neuronValues(data: Bytes): Float32Array {
  const bytes = asBytes(data);
  const out = new Float32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = bytes[i] / 127.5 - 1;
  return out;
}

/** An IEEE 754 half-precision number from its 16 bits. */
export function float16(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 31) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}
