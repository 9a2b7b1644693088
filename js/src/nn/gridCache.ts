/**
 * One grid evaluation per network for the whole widget. The decision map, a focused neuron's
 * large map and every thumbnail of the network diagram read the same evaluateGrid result: the
 * first view to draw a new network computes it, the others in that frame (and later frames, until
 * the next network) get it back. Networks are keyed by object identity (the traits are replaced,
 * never mutated), so a lookup costs a WeakMap access and a short string, not a comparison of
 * every weight.
 *
 * While training, every frame brings a new network: its grid (57 layers of 40 KB for 6×8 at
 * 100×100) is written into the arrays of the grid evaluated RECYCLE_AFTER evaluations ago,
 * which is forgotten first (asking for its network again evaluates anew). First writes into
 * fresh arrays cost ~20× more than rewriting warm ones, and the garbage would be megabytes a
 * second. A grid stays intact for RECYCLE_AFTER - 1 further evaluations: several frames, as
 * views draw at most one or two networks per frame (the trained one, a previewed snapshot).
 */
import { type ModelConfig, type NetworkJSON, evaluateGrid } from "./forward";

/** Cells per side of the grid the views share (docs/design.md: maps are 100×100). */
export const MAP_CELLS = 100;

interface Entry {
  key: string;
  layers: Float32Array[];
  net: NetworkJSON;
}

/** At most this many (config, n) results per network: a network is drawn with one config. */
const PER_NETWORK = 2;
const grids = new WeakMap<NetworkJSON, Entry[]>();
let evaluations = 0;
const RECYCLE_AFTER = 6;
/** The latest evaluations, oldest first: the next one reuses the first one's arrays. */
const recent: Entry[] = [];

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
  let reuse: Float32Array[] = [];
  if (recent.length >= RECYCLE_AFTER) {
    const old = recent.shift() as Entry;
    const list = grids.get(old.net);
    if (list?.includes(old)) list.splice(list.indexOf(old), 1);
    reuse = old.layers;
  }
  const entry = { key, layers: evaluateGrid(net, cfg, n, reuse), net };
  evaluations++;
  recent.push(entry);
  if (!entries) grids.set(net, (entries = []));
  entries.unshift(entry);
  if (entries.length > PER_NETWORK) entries.pop();
  return entry.layers;
}

/** How many times gridFor has evaluated a grid (for tests and benchmarks). */
export function gridEvaluations(): number {
  return evaluations;
}
