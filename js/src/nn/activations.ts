// The contract's numerical definitions of input features and hidden-layer activations.
import { erf } from "./erf";

export type Activation = (v: number) => number;

const SQRT1_2 = Math.SQRT1_2;

const ACTIVATION_FNS: Record<string, Activation> = {
  relu: (v) => (v > 0 ? v : 0),
  tanh: Math.tanh,
  sigmoid: (v) => 1 / (1 + Math.exp(-v)),
  linear: (v) => v,
  leaky_relu: (v) => (v >= 0 ? v : 0.01 * v),
  elu: (v) => (v > 0 ? v : Math.expm1(v)),
  gelu: (v) => 0.5 * v * (1 + erf(v * SQRT1_2)),
  silu: (v) => v / (1 + Math.exp(-v)),
  sine: Math.sin,
};

export function activation(name: string): Activation {
  const fn = ACTIVATION_FNS[name];
  if (!fn) throw new Error(`unknown activation "${name}"`);
  return fn;
}

type Feature = (x: number, y: number) => number;

const FEATURE_FNS: Record<string, Feature> = {
  x: (x) => x,
  y: (_x, y) => y,
  x2: (x) => x * x,
  y2: (_x, y) => y * y,
  xy: (x, y) => x * y,
  sinx: (x) => Math.sin(x),
  siny: (_x, y) => Math.sin(y),
};

export function feature(name: string): Feature {
  const fn = FEATURE_FNS[name];
  if (!fn) throw new Error(`unknown input feature "${name}"`);
  return fn;
}
