/**
 * M4 downsampling for line charts: per pixel-column bucket keep the first, lowest, highest and
 * last point. A polyline through them covers exactly the pixels the full series would, so the
 * chart costs O(width) to stroke whatever the run length (Jugel et al., VLDB 2014).
 */

export interface Series {
  x: Float64Array;
  y: Float64Array;
  length: number;
}

/**
 * Downsample (xs, ys) into at most 4·buckets points over [x0, x1].
 * xs must be ascending; points with a non-finite y are skipped (gaps in optional metrics).
 */
export function downsampleM4(
  xs: ArrayLike<number>,
  ys: ArrayLike<number>,
  buckets: number,
  x0 = xs[0],
  x1 = xs[xs.length - 1],
): Series {
  const n = Math.min(xs.length, ys.length);
  const nb = Math.max(1, Math.floor(buckets));
  const cap = Math.min(n, 4 * nb);
  const out: Series = { x: new Float64Array(cap), y: new Float64Array(cap), length: 0 };
  const push = (i: number): void => {
    if (out.length === cap) return; // only reachable when xs is not ascending
    out.x[out.length] = xs[i];
    out.y[out.length] = ys[i];
    out.length++;
  };
  if (n <= 4 * nb) {
    for (let i = 0; i < n; i++) if (Number.isFinite(ys[i])) push(i);
    return out;
  }
  // One pass: buckets are contiguous runs of ascending xs, so each needs only comparisons.
  const width = (x1 - x0) / nb;
  let i = 0;
  for (let b = 0; b < nb && i < n; b++) {
    const edge = b === nb - 1 ? Infinity : x0 + (b + 1) * width;
    let first = -1;
    let lo = -1;
    let hi = -1;
    let last = -1;
    for (; i < n && xs[i] < edge; i++) {
      const y = ys[i];
      if (!(y - y === 0)) continue; // NaN or ±Infinity: a gap
      if (first < 0) first = lo = hi = i;
      else if (y < ys[lo]) lo = i;
      else if (y > ys[hi]) hi = i;
      last = i;
    }
    if (first < 0) continue;
    // Emit in index order, each point once.
    const a = lo < hi ? lo : hi;
    const c = lo < hi ? hi : lo;
    push(first);
    if (a !== first) push(a);
    if (c !== a) push(c);
    if (last !== c) push(last);
  }
  return out;
}
