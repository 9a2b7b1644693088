// The numerical definitions of input features and hidden-layer activations (docs/protocol.md).
// Activations come from Python's table (generated/catalog.ts: names, codes, formulas); an
// unknown name or code throws.
import { ACTIVATION_FNS, ACTIVATION_INFO, type ActivationName, type FeatureName } from "../generated/catalog";

export type Activation = (v: number) => number;

function known(name: string): name is ActivationName {
  return Object.prototype.hasOwnProperty.call(ACTIVATION_FNS, name);
}

export function activation(name: string): Activation {
  if (!known(name)) throw new Error(`unknown activation "${name}"`);
  return ACTIVATION_FNS[name];
}

/** An activation's integer code (Python's, and the WebAssembly kernel's). */
export function activationCode(name: string): number {
  if (!known(name)) throw new Error(`unknown activation "${name}"`);
  return ACTIVATION_INFO[name].code;
}

type Feature = (x: number, y: number) => number;

const FEATURE_FNS: Record<FeatureName, Feature> = {
  x: (x) => x,
  y: (_x, y) => y,
  x2: (x) => x * x,
  y2: (_x, y) => y * y,
  xy: (x, y) => x * y,
  sinx: (x) => Math.sin(x),
  siny: (_x, y) => Math.sin(y),
};

export function feature(name: string): Feature {
  const fn = Object.prototype.hasOwnProperty.call(FEATURE_FNS, name) ? FEATURE_FNS[name as FeatureName] : undefined;
  if (!fn) throw new Error(`unknown input feature "${name}"`);
  return fn;
}

/** tanh to within 2.7e-7 (absolute), about twice as fast as Math.tanh in V8: Eigen's float
 *  rational approximation (odd degree 13 over even degree 6), evaluated in float64. For the
 *  grid maps only (the tests' float64 reference keeps Math.tanh). */
export function fastTanh(v: number): number {
  const x = v > 7.90531110763549805 ? 7.90531110763549805 : v < -7.90531110763549805 ? -7.90531110763549805 : v;
  const x2 = x * x;
  let p = -2.76076847742355e-16;
  p = p * x2 + 2.00018790482477e-13;
  p = p * x2 + -8.60467152213735e-11;
  p = p * x2 + 5.12229709037114e-8;
  p = p * x2 + 1.48572235717979e-5;
  p = p * x2 + 6.37261928875436e-4;
  p = p * x2 + 4.89352455891786e-3;
  let q = 1.19825839466702e-6;
  q = q * x2 + 1.18534705686654e-4;
  q = q * x2 + 2.268434632439e-3;
  q = q * x2 + 4.89352518554385e-3;
  return (p * x) / q;
}

const CODE = {
  relu: ACTIVATION_INFO.relu.code,
  tanh: ACTIVATION_INFO.tanh.code,
  sigmoid: ACTIVATION_INFO.sigmoid.code,
  linear: ACTIVATION_INFO.linear.code,
  leaky_relu: ACTIVATION_INFO.leaky_relu.code,
};

/** Apply activation `name` in place to the first `width` of every `stride` values of
 *  v[0 .. rows*stride) (cell-major tiles): tight loops for the common activations, the
 *  per-value function (activation(name)) for the rest; an unknown name throws. */
export function applyStrided(name: string, v: Float64Array, width: number, stride: number, rows: number): void {
  const end = rows * stride;
  switch (activationCode(name)) {
    case CODE.relu:
      for (let at = 0; at < end; at += stride) for (let i = at; i < at + width; i++) if (!(v[i] > 0)) v[i] = 0; // NaN -> 0 like `v > 0 ? v : 0`
      return;
    case CODE.tanh:
      for (let at = 0; at < end; at += stride) for (let i = at; i < at + width; i++) v[i] = fastTanh(v[i]);
      return;
    case CODE.sigmoid: // 1 / (1 + e^-v) = (1 + tanh(v/2)) / 2
      for (let at = 0; at < end; at += stride) for (let i = at; i < at + width; i++) v[i] = 0.5 + 0.5 * fastTanh(0.5 * v[i]);
      return;
    case CODE.linear:
      return;
    case CODE.leaky_relu:
      for (let at = 0; at < end; at += stride) for (let i = at; i < at + width; i++) if (!(v[i] >= 0)) v[i] *= 0.01;
      return;
    default: {
      const fn = activation(name);
      for (let at = 0; at < end; at += stride) for (let i = at; i < at + width; i++) v[i] = fn(v[i]);
    }
  }
}
