/** Pure edits of the network and the feature set, as the diagram applies them. */
import type { NetworkJSON } from "../../nn/forward";
import { FEATURES } from "../../state";

/** A copy of `net` with weights[layer][to][from] = value (only the touched row is copied). */
export function withWeight(net: NetworkJSON, layer: number, to: number, from: number, value: number): NetworkJSON {
  return {
    weights: net.weights.map((W, l) =>
      l === layer ? W.map((row, j) => (j === to ? row.map((v, i) => (i === from ? value : v)) : row)) : W,
    ),
    biases: net.biases,
  };
}

/** A copy of `net` with biases[layer][node] = value. */
export function withBias(net: NetworkJSON, layer: number, node: number, value: number): NetworkJSON {
  return {
    weights: net.weights,
    biases: net.biases.map((b, l) => (l === layer ? b.map((v, i) => (i === node ? value : v)) : b)),
  };
}

/** Largest |value| the editor accepts: the protocol only needs finite numbers, this keeps typos sane. */
const MAX_EDIT = 1000;

/** The number typed into an editor, or null when it is not a finite value within ±MAX_EDIT. */
export function parseValue(text: string): number | null {
  if (text.trim() === "") return null;
  const v = Number(text);
  return Number.isFinite(v) && Math.abs(v) <= MAX_EDIT ? v : null;
}

/**
 * The feature list after switching `name` on or off, in display order; null when that would
 * leave no input at all (the protocol needs at least one).
 */
export function toggleFeature(features: readonly string[], name: string): string[] | null {
  const on = new Set(features);
  if (on.has(name)) on.delete(name);
  else on.add(name);
  const next = FEATURES.filter((f) => on.has(f));
  return next.length > 0 ? next : null;
}
