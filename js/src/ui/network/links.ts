/**
 * Links between diagram columns (pure): which ones are drawn and how they look.
 * Colour says the weight's sign; width and opacity grow with |w|, saturating, so tiny weights
 * fade out. Wide layers keep only their strongest links (up to MAX_LINKS_PER_GAP per gap).
 */
import { REDRAW_GAP_MS } from "../../chart/redraw";
import type { ModelConfig, NetworkJSON } from "../../nn/forward";
import { FEATURES } from "../../state";

export const LEVELS = 12;
export const MAX_LINKS_PER_GAP = 600;

/** The share of the main thread the link layer may take while training. */
export const LINK_SHARE = 0.1;

/**
 * Least time between two link-layer redraws that training drives, from what the last one cost
 * (drawing, and rasterising, which Chrome does when the layer is first copied: ~1 ms per 100
 * anti-aliased curves in software): REDRAW_GAP_MS, longer when links are that costly, at most 1 s.
 */
export function linkGapMs(lastCostMs: number): number {
  return Math.min(1000, Math.max(REDRAW_GAP_MS, lastCostMs / LINK_SHARE));
}

/** The drawn links between column g and g + 1 (from/to are display indices within the columns). */
export interface LinkGap {
  from: Uint16Array;
  to: Uint16Array;
  w: Float32Array;
  /** Links the layer really has (count ≥ from.length when thinned). */
  total: number;
}

/** |w| mapped to [0, 1): 1 − e^−|w|, so |w| = 1 is 0.63 and anything beyond ~3 looks "strong". */
export function strength(w: number): number {
  return 1 - Math.exp(-Math.abs(w));
}

/** Quantised strength: links of one sign and level are stroked as one path. */
export function linkLevel(w: number): number {
  return Math.min(LEVELS - 1, Math.floor(strength(w) * LEVELS));
}

/** Crowded gaps get thinner, fainter links so the picture stays readable. */
export function densityFactor(count: number): number {
  return Math.min(1, Math.max(0.2, 12 / Math.sqrt(Math.max(1, count))));
}

export interface LevelStyle {
  width: number;
  alpha: number;
}

export function levelStyle(level: number, density: number): LevelStyle {
  const s = (level + 0.5) / LEVELS;
  return {
    width: (0.4 + 3.4 * s) * Math.max(0.5, density),
    alpha: Math.min(1, (0.06 + 0.84 * s) * density),
  };
}

/** Style of a single weight (the level's style), for highlighting and for tests. */
export function linkStyle(w: number, density = 1): LevelStyle & { positive: boolean } {
  return { ...levelStyle(linkLevel(w), density), positive: w >= 0 };
}

/**
 * Collect every gap's links. Column 0 shows all FEATURES: weights into layer 1 come from the
 * active features' columns of W0 (config order); inactive features have no links.
 */
export function buildLinks(net: NetworkJSON, cfg: ModelConfig, maxPerGap = MAX_LINKS_PER_GAP): LinkGap[] {
  const inputRow = FEATURES.map((f) => cfg.features.indexOf(f));
  return net.weights.map((W, g) => {
    const fromCount = g === 0 ? FEATURES.length : (W[0]?.length ?? 0);
    const sourceOf = (d: number): number => (g === 0 ? inputRow[d] : d);
    const total = g === 0 ? W.length * cfg.features.length : W.length * fromCount;
    const threshold = total > maxPerGap ? dropThreshold(W, total - maxPerGap) : -1;
    const from: number[] = [];
    const to: number[] = [];
    const w: number[] = [];
    for (let j = 0; j < W.length && from.length < maxPerGap; j++) {
      for (let d = 0; d < fromCount && from.length < maxPerGap; d++) {
        const i = sourceOf(d);
        if (i < 0) continue;
        const v = W[j][i];
        if (Math.abs(v) <= threshold) continue;
        from.push(d);
        to.push(j);
        w.push(v);
      }
    }
    return { from: Uint16Array.from(from), to: Uint16Array.from(to), w: Float32Array.from(w), total };
  });
}

/** The `drop`-th smallest |w| in the matrix: links at or below it are left out. */
function dropThreshold(W: number[][], drop: number): number {
  const all = new Float32Array(W.reduce((n, row) => n + row.length, 0));
  let k = 0;
  for (const row of W) for (const v of row) all[k++] = Math.abs(v);
  return select(all, Math.min(all.length, drop) - 1);
}

/** The k-th smallest value (0-based) by quickselect: O(n), where sorting 4,096 weights per frame was not. */
function select(a: Float32Array, k: number): number {
  let lo = 0;
  let hi = a.length - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i++] = a[j];
        a[j--] = t;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k];
  }
  return a[k];
}
