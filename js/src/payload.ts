// Trait values → protocol payloads. The protocol rejects unknown fields (typo protection), so
// whatever extra keys a trait may carry are left out here, in one place.
import type { NetworkJSON } from "./nn/forward";
import { DEFAULT_CONFIG, type OptimizerState, type Point, type TrainConfig } from "./state";
import { isObject } from "./protocol";

const CONFIG_KEYS = Object.keys(DEFAULT_CONFIG) as (keyof TrainConfig)[];

export function toProtocolConfig(cfg: TrainConfig): TrainConfig {
  const out: Record<string, unknown> = {};
  for (const key of CONFIG_KEYS) out[key] = cfg[key];
  return out as unknown as TrainConfig;
}

export function toProtocolNetwork(net: NetworkJSON): NetworkJSON {
  return { weights: net.weights, biases: net.biases };
}

export function toProtocolData(points: readonly Point[]): Point[] {
  return points.map(({ x, y, label, test }) => ({ x, y, label, test: Boolean(test) }));
}

/** The optimizer state to send, or undefined when the trait holds none yet (`{}`). */
export function usableOptimizerState(state: unknown): OptimizerState | undefined {
  return isObject(state) && typeof state.optimizer === "string" ? (state as unknown as OptimizerState) : undefined;
}

/** Same weights and biases? By value: a kernel echo replaces the object with an equal copy. */
export function sameNetwork(a: NetworkJSON | undefined, b: NetworkJSON | undefined): boolean {
  if (a === b) return true;
  if (!a || !b) return false;
  return sameNested(a.weights, b.weights) && sameNested(a.biases, b.biases);
}

type Nested = number | readonly Nested[];

function sameNested(a: Nested, b: Nested): boolean {
  if (typeof a === "number" || typeof b === "number") return a === b;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!sameNested(a[i], b[i])) return false;
  return true;
}

// The packed wire form (docs/protocol.md): numbers in bulk as base64 little-endian arrays.
// A training loop sends the same points in every request (the protocol is stateless): packed
// they are a third of the bytes and cost one base64 step instead of a JSON list per point.

/** A network (or an optimizer buffer shaped like one) in the packed form. */
export interface PackedNetwork {
  /** Layer widths: inputs, hidden layers..., outputs. */
  sizes: number[];
  /** Every weight matrix (row-major, out×in) then every bias, as float32. */
  f32: string;
}

/** Points in the packed form. */
export interface PackedPoints {
  count: number;
  x: string;
  y: string;
  /** uint8 class indices (classification) or float32 values (regression). */
  label: string;
  /** Bit i (least significant first) set when point i is a test point; absent: none. */
  test?: string;
}

export function isPackedNetwork(v: unknown): v is PackedNetwork {
  return isObject(v) && Array.isArray(v.sizes) && typeof v.f32 === "string";
}

/** Bytes → base64 (chunked: String.fromCharCode takes a bounded number of arguments). */
export function toBase64(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

export function fromBase64(text: string): Uint8Array {
  const raw = atob(text);
  const bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  return bytes;
}

function f32Base64(values: ArrayLike<number>): string {
  const view = new DataView(new ArrayBuffer(values.length * 4));
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i], true);
  return toBase64(new Uint8Array(view.buffer));
}

function f32Values(text: string): Float64Array {
  const bytes = fromBase64(text);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float64Array(bytes.byteLength >> 2);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

/** The packed form each network unpacked from a reply came in: the training loop sends back
 *  what the server sent, so it is not encoded again (networks are replaced, never edited). */
const packedForms = new WeakMap<NetworkJSON, PackedNetwork>();

/** The packed form of a network (float32: what the engine computes in anyway). */
export function packNetwork(net: NetworkJSON): PackedNetwork {
  const known = packedForms.get(net);
  if (known) return known;
  const flat: number[] = [];
  for (const w of net.weights) for (const row of w) for (const v of row) flat.push(v);
  for (const b of net.biases) for (const v of b) flat.push(v);
  const sizes = [net.weights[0]?.[0]?.length ?? 0, ...net.weights.map((w) => w.length)];
  return { sizes, f32: f32Base64(flat) };
}

/** A packed network as nested lists (each value exactly the float32 the server sent). */
export function unpackNetwork(packed: PackedNetwork): NetworkJSON {
  const values = f32Values(packed.f32);
  const { sizes } = packed;
  const weights: number[][][] = [];
  const biases: number[][] = [];
  let at = 0;
  for (let l = 1; l < sizes.length; l++) {
    const rows: number[][] = [];
    for (let k = 0; k < sizes[l]; k++) {
      rows.push(Array.from(values.subarray(at, at + sizes[l - 1])));
      at += sizes[l - 1];
    }
    weights.push(rows);
  }
  for (let l = 1; l < sizes.length; l++) {
    biases.push(Array.from(values.subarray(at, at + sizes[l])));
    at += sizes[l];
  }
  const net = { weights, biases };
  packedForms.set(net, packed);
  return net;
}

/** A network from a reply, in either form, as nested lists. */
export function networkOf(v: NetworkJSON | PackedNetwork): NetworkJSON {
  return isPackedNetwork(v) ? unpackNetwork(v) : v;
}

type Buffers = Record<string, NetworkJSON | PackedNetwork>;
type AnyOptimizerState = Omit<OptimizerState, "buffers"> & { buffers: Buffers };

export function packOptimizerState(state: OptimizerState): AnyOptimizerState {
  const buffers: Buffers = {};
  for (const [name, buf] of Object.entries(state.buffers ?? {})) buffers[name] = isPackedNetwork(buf) ? buf : packNetwork(buf);
  return { optimizer: state.optimizer, step: state.step, global_step: state.global_step, buffers };
}

export function unpackOptimizerState(state: AnyOptimizerState): OptimizerState {
  const buffers: Record<string, NetworkJSON> = {};
  for (const [name, buf] of Object.entries(state.buffers ?? {})) buffers[name] = networkOf(buf);
  return { ...state, buffers };
}

const packedPoints = new WeakMap<readonly Point[], Map<string, PackedPoints | null>>();

/** The packed form of the points (cached per points array: the trait is replaced, never
 *  edited in place), or null when they cannot be packed faithfully (a class label that is not
 *  an integer in 0..255): the list form then lets the server name the bad value. */
export function packPoints(points: readonly Point[], problem: string): PackedPoints | null {
  let byProblem = packedPoints.get(points);
  if (!byProblem) packedPoints.set(points, (byProblem = new Map()));
  let packed = byProblem.get(problem);
  if (packed === undefined) {
    packed = pack(points, problem === "regression");
    byProblem.set(problem, packed);
  }
  return packed;
}

function pack(points: readonly Point[], regression: boolean): PackedPoints | null {
  const n = points.length;
  const xs = new Float64Array(n);
  const ys = new Float64Array(n);
  const tests = new Uint8Array((n + 7) >> 3);
  let anyTest = false;
  for (let i = 0; i < n; i++) {
    const p = points[i];
    xs[i] = p.x;
    ys[i] = p.y;
    if (p.test) {
      tests[i >> 3] |= 1 << (i & 7);
      anyTest = true;
    }
  }
  let label: string;
  if (regression) label = f32Base64(points.map((p) => p.label));
  else {
    const labels = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const v = points[i].label;
      if (!Number.isInteger(v) || v < 0 || v > 255) return null;
      labels[i] = v;
    }
    label = toBase64(labels);
  }
  const out: PackedPoints = { count: n, x: f32Base64(xs), y: f32Base64(ys), label };
  if (anyTest) out.test = toBase64(tests);
  return out;
}
