// The space a hidden layer sees (after ConvNetJS's classify2d): where the layer maps the input
// grid's lines and the points. A layer of 2 neurons is drawn in its own coordinates; a wider one
// is projected to 2-D by PCA, fitted once per network and turned (rotated or mirrored) to match
// the previous projection as closely as possible, so the picture holds still between frames and
// only the network's own change moves it.
import { activation, feature } from "./activations";
import type { ModelConfig, NetworkJSON } from "./forward";

/** Lines of the input grid per direction, and samples along each line. */
export const GRID_LINES = 11;
export const LINE_SAMPLES = 41;

/** The input grid's lines as points: GRID_LINES horizontal, then GRID_LINES vertical lines. */
export function gridLinePoints(): { xs: Float64Array; ys: Float64Array } {
  const count = 2 * GRID_LINES * LINE_SAMPLES;
  const xs = new Float64Array(count);
  const ys = new Float64Array(count);
  let i = 0;
  for (let dir = 0; dir < 2; dir++) {
    for (let l = 0; l < GRID_LINES; l++) {
      const fixed = -1 + (2 * l) / (GRID_LINES - 1);
      for (let s = 0; s < LINE_SAMPLES; s++) {
        const along = -1 + (2 * s) / (LINE_SAMPLES - 1);
        xs[i] = dir === 0 ? along : fixed;
        ys[i] = dir === 0 ? fixed : along;
        i++;
      }
    }
  }
  return { xs, ys };
}

/** Activations (count × width, row-major) of hidden layer `layer` (0 = the first) at the points. */
export function hiddenActivations(net: NetworkJSON, cfg: ModelConfig, xs: ArrayLike<number>, ys: ArrayLike<number>, layer: number): Float64Array {
  const count = xs.length;
  const width = net.weights[layer].length;
  const out = new Float64Array(count * width);
  const feats = cfg.features.map(feature);
  const act = activation(cfg.activation);
  const widest = Math.max(feats.length, ...net.weights.slice(0, layer + 1).map((w) => w.length));
  let a = new Float64Array(widest);
  let b = new Float64Array(widest);
  for (let i = 0; i < count; i++) {
    for (let j = 0; j < feats.length; j++) a[j] = feats[j](xs[i], ys[i]);
    for (let l = 0; l <= layer; l++) {
      const w = net.weights[l];
      const bias = net.biases[l];
      for (let r = 0; r < w.length; r++) {
        const row = w[r];
        let sum = bias[r];
        for (let c = 0; c < row.length; c++) sum += row[c] * a[c];
        b[r] = act(sum);
      }
      [a, b] = [b, a];
    }
    out.set(a.subarray(0, width), i * width);
  }
  return out;
}

/** A 2-D linear projection of a d-dimensional layer: centre and two orthonormal axes (rows). */
export interface Projection {
  d: number;
  mean: Float64Array;
  axes: [Float64Array, Float64Array];
}

/** The identity view of a 2-neuron layer (and of 1 neuron: its value along x). */
function identity(d: number): Projection {
  const x = new Float64Array(d);
  const y = new Float64Array(d);
  x[0] = 1;
  if (d > 1) y[1] = 1;
  return { d, mean: new Float64Array(d), axes: [x, y] };
}

/**
 * The projection of `acts` (count × d) to draw: the neurons themselves for d ≤ 2; else the two
 * principal axes, turned to match `previous` (same d) as closely as possible.
 */
export function fitProjection(acts: Float64Array, d: number, previous: Projection | null): Projection {
  if (d <= 2) return identity(d);
  const count = acts.length / d;
  const mean = new Float64Array(d);
  for (let i = 0; i < count; i++) for (let j = 0; j < d; j++) mean[j] += acts[i * d + j];
  for (let j = 0; j < d; j++) mean[j] /= Math.max(1, count);
  const cov = new Float64Array(d * d);
  const row = new Float64Array(d);
  for (let i = 0; i < count; i++) {
    for (let j = 0; j < d; j++) row[j] = acts[i * d + j] - mean[j];
    for (let j = 0; j < d; j++) {
      const v = row[j];
      if (v === 0) continue;
      for (let k = j; k < d; k++) cov[j * d + k] += v * row[k];
    }
  }
  for (let j = 0; j < d; j++) for (let k = 0; k < j; k++) cov[j * d + k] = cov[k * d + j];
  const first = topEigenvector(cov, d, previous?.d === d ? previous.axes[0] : null);
  deflate(cov, d, first);
  const second = topEigenvector(cov, d, previous?.d === d ? previous.axes[1] : null);
  orthogonalise(second, first);
  const fitted: Projection = { d, mean, axes: [first, second] };
  return previous && previous.d === d ? aligned(fitted, previous) : fitted;
}

/** Power iteration from `start` (or a fixed vector): the unit eigenvector of the largest eigenvalue. */
function topEigenvector(m: Float64Array, d: number, start: Float64Array | null): Float64Array {
  let v = new Float64Array(d);
  if (start) v.set(start);
  else for (let j = 0; j < d; j++) v[j] = 1 + j / d;
  let w = new Float64Array(d);
  normalise(v);
  for (let iter = 0; iter < 60; iter++) {
    w.fill(0);
    for (let j = 0; j < d; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += m[j * d + k] * v[k];
      w[j] = s;
    }
    if (normalise(w) === 0) return v; // a zero matrix: any direction will do
    let change = 0;
    for (let j = 0; j < d; j++) change += Math.abs(w[j] - v[j]);
    [v, w] = [w, v];
    if (change < 1e-9) break;
  }
  return v;
}

function normalise(v: Float64Array): number {
  let n = 0;
  for (let j = 0; j < v.length; j++) n += v[j] * v[j];
  n = Math.sqrt(n);
  if (n > 0) for (let j = 0; j < v.length; j++) v[j] /= n;
  return n;
}

function deflate(m: Float64Array, d: number, v: Float64Array): void {
  let lambda = 0;
  for (let j = 0; j < d; j++) for (let k = 0; k < d; k++) lambda += v[j] * m[j * d + k] * v[k];
  for (let j = 0; j < d; j++) for (let k = 0; k < d; k++) m[j * d + k] -= lambda * v[j] * v[k];
}

function orthogonalise(v: Float64Array, against: Float64Array): void {
  let dot = 0;
  for (let j = 0; j < v.length; j++) dot += v[j] * against[j];
  for (let j = 0; j < v.length; j++) v[j] -= dot * against[j];
  if (normalise(v) === 0) {
    // Rank one: any unit vector orthogonal to the first axis.
    v.fill(0);
    v[Math.abs(against[0]) < 0.9 ? 0 : 1] = 1;
    orthogonalise(v, against);
  }
}

/**
 * `fitted` turned within its plane (a rotation or a mirror) to best match `previous`: the 2×2
 * orthogonal R maximising trace(R·M), M = fitted·previousᵀ (orthogonal Procrustes, solved in
 * closed form for both kinds of R).
 */
export function aligned(fitted: Projection, previous: Projection): Projection {
  const [q0, q1] = fitted.axes;
  const [p0, p1] = previous.axes;
  const dot = (a: Float64Array, b: Float64Array) => a.reduce((s, v, j) => s + v * b[j], 0);
  const m00 = dot(q0, p0);
  const m01 = dot(q0, p1);
  const m10 = dot(q1, p0);
  const m11 = dot(q1, p1);
  // Rotation [[c, -s], [s, c]]: trace = c(m00 + m11) + s(m01 - m10).
  const ra = m00 + m11;
  const rb = m01 - m10;
  // Mirror [[c, s], [s, -c]]: trace = c(m00 - m11) + s(m01 + m10).
  const fa = m00 - m11;
  const fb = m01 + m10;
  const mirror = Math.hypot(fa, fb) > Math.hypot(ra, rb);
  const theta = mirror ? Math.atan2(fb, fa) : Math.atan2(rb, ra);
  const c = Math.cos(theta);
  const s = Math.sin(theta);
  const r = mirror ? [c, s, s, -c] : [c, -s, s, c];
  const a0 = new Float64Array(fitted.d);
  const a1 = new Float64Array(fitted.d);
  for (let j = 0; j < fitted.d; j++) {
    a0[j] = r[0] * q0[j] + r[1] * q1[j];
    a1[j] = r[2] * q0[j] + r[3] * q1[j];
  }
  return { d: fitted.d, mean: fitted.mean, axes: [a0, a1] };
}

/** Project `acts` (count × d) to 2-D: [x0, y0, x1, y1, ...]. */
export function project(acts: Float64Array, proj: Projection, out = new Float64Array((2 * acts.length) / proj.d)): Float64Array {
  const d = proj.d;
  const count = acts.length / d;
  const [a0, a1] = proj.axes;
  for (let i = 0; i < count; i++) {
    let x = 0;
    let y = 0;
    for (let j = 0; j < d; j++) {
      const v = acts[i * d + j] - proj.mean[j];
      x += v * a0[j];
      y += v * a1[j];
    }
    out[2 * i] = x;
    out[2 * i + 1] = y;
  }
  return out;
}
