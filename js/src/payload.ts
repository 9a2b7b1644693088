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
