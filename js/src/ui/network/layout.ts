/**
 * Geometry of the network diagram (pure): one column per layer — the seven possible input
 * features, each hidden layer, the outputs — with square neuron thumbnails that shrink as
 * layers widen, and links drawn as Bézier curves across the gaps between columns.
 */

export const MARGIN = { left: 44, right: 12, top: 24, bottom: 8 };
const MAX_SIZE = 44;
/** Least distance between nodes of a column when there is room: one line of label text. */
const LABEL_PITCH = 16;
/** Biases get their own marker (and hit target) only on thumbnails at least this large. */
const MIN_BIAS_SIZE = 12;

export interface Column {
  /** Centre x of every thumbnail in the column. */
  x: number;
  /** Centre y of each thumbnail, top to bottom. */
  ys: number[];
}

export interface Layout {
  width: number;
  height: number;
  /** Thumbnail side in CSS pixels (the same for every node). */
  size: number;
  columns: Column[];
}

/** Lay out `counts[c]` nodes in column c, all inside width × height. */
export function computeLayout(width: number, height: number, counts: readonly number[]): Layout {
  const cols = counts.length;
  const spanX = Math.max(1, width - MARGIN.left - MARGIN.right);
  const spanY = Math.max(1, height - MARGIN.top - MARGIN.bottom);
  const most = Math.max(1, ...counts);
  const slot = spanY / most;
  // A thumbnail takes at most 45% of the distance between columns: the rest is for links.
  const byWidth = cols > 1 ? (0.45 * spanX) / (cols - 1 + 0.45) : spanX;
  const size = Math.min(MAX_SIZE, 0.78 * slot, byWidth);
  const pitch = Math.min(slot, 1.6 * size);
  const gap = cols > 1 ? (spanX - size) / (cols - 1) : 0;
  const columns = counts.map((count, c) => {
    // Short columns (the seven inputs beside 64-wide layers) spread out so labels fit.
    const step = Math.max(pitch, Math.min(spanY / Math.max(1, count), LABEL_PITCH));
    const top = MARGIN.top + (spanY - count * step) / 2 + step / 2;
    return {
      x: MARGIN.left + size / 2 + c * gap,
      ys: Array.from({ length: count }, (_, i) => top + i * step),
    };
  });
  return { width, height, size, columns };
}

/** Diagram height for these columns: taller for wide layers, within reason. */
export function preferredHeight(counts: readonly number[]): number {
  return Math.round(Math.min(560, Math.max(300, MARGIN.top + MARGIN.bottom + 10 * Math.max(...counts))));
}

export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

export function nodeBox(layout: Layout, column: number, node: number): Box {
  const s = layout.size;
  return { x: layout.columns[column].x - s / 2, y: layout.columns[column].ys[node] - s / 2, w: s, h: s };
}

/** Small square straddling the thumbnail's bottom-left corner, or null when thumbnails are too small. */
export function biasBox(layout: Layout, column: number, node: number): Box | null {
  const s = layout.size;
  if (s < MIN_BIAS_SIZE) return null;
  const b = Math.min(9, Math.max(4, 0.28 * s));
  const n = nodeBox(layout, column, node);
  return { x: n.x - b / 2, y: n.y + n.h - b / 2, w: b, h: b };
}

/** x range of the links between column g and g + 1: from the right edge to the next left edge. */
export function gapSpan(layout: Layout, g: number): [number, number] {
  const half = layout.size / 2;
  return [layout.columns[g].x + half, layout.columns[g + 1].x - half];
}

/**
 * Links are cubic Béziers with horizontal tangents (control points at the gap's middle):
 *   x(t) = x0 + d·(1.5t − 1.5t² + t³),   y(t) = y0 + (y1 − y0)·(3t² − 2t³).
 * x(t) depends only on the gap, so one t serves every link in it: hit-testing is O(links in gap).
 */
export function curveT(u: number): number {
  const v = Math.min(1, Math.max(0, u));
  let t = v;
  for (let k = 0; k < 6; k++) {
    const g = 1.5 * t - 1.5 * t * t + t * t * t - v;
    t -= g / (1.5 - 3 * t + 3 * t * t); // derivative ≥ 0.75: Newton is safe
  }
  return Math.min(1, Math.max(0, t));
}

/** The curve's blend s(t) = 3t² − 2t³ and the slope factor (ds/dt)/(dx/dt) for a unit-width gap. */
export function curveBlend(t: number): { s: number; slope: number } {
  return { s: t * t * (3 - 2 * t), slope: (6 * t - 6 * t * t) / (1.5 - 3 * t + 3 * t * t) };
}
