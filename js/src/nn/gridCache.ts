/**
 * One grid evaluation per network for the whole widget. The decision map, a focused neuron's
 * large map and every thumbnail of the network diagram read the same evaluateGrid result: the
 * first view to draw a new network computes it, the others in that frame (and later frames, until
 * the next network) get it back. Networks are keyed by object identity (the traits are replaced,
 * never mutated), so a lookup costs a WeakMap access and a short string, not a comparison of
 * every weight; an old network's grids are collected with it.
 */
import { type ModelConfig, type NetworkJSON, evaluateGrid } from "./forward";

/** Cells per side of the grid the views share (the contract's map resolution). */
export const MAP_CELLS = 100;

interface Entry {
  key: string;
  layers: Float32Array[];
}

/** At most this many (config, n) results per network: a network is drawn with one config. */
const PER_NETWORK = 2;
const grids = new WeakMap<NetworkJSON, Entry[]>();
let evaluations = 0;

/** What of the config the grid depends on (not the optimizer, the learning rate, ...). */
function keyOf(cfg: ModelConfig, n: number): string {
  return JSON.stringify([n, cfg.features, cfg.activation, cfg.problem, cfg.num_classes, cfg.hidden_layers]);
}

/**
 * evaluateGrid(net, cfg, n), computed once per network object, config and n.
 * Treat the arrays as read-only: every view of the widget shares them.
 */
export function gridFor(net: NetworkJSON, cfg: ModelConfig, n: number): Float32Array[] {
  const key = keyOf(cfg, n);
  let entries = grids.get(net);
  const hit = entries?.find((e) => e.key === key);
  if (hit) return hit.layers;
  const layers = evaluateGrid(net, cfg, n);
  evaluations++;
  if (!entries) grids.set(net, (entries = []));
  entries.unshift({ key, layers });
  if (entries.length > PER_NETWORK) entries.pop();
  return layers;
}

/** How many times gridFor has evaluated a grid (for tests and benchmarks). */
export function gridEvaluations(): number {
  return evaluations;
}
