// The forward pass of one point in float64 all the way: the reference the tests hold the grid
// evaluation (float64 JS and float32 WebAssembly) to, itself checked against torch.
import { activation, feature } from "../src/nn/activations";
import type { ModelConfig, NetworkJSON } from "../src/nn/forward";

/** One point's layers, as evaluateGrid lists them (features, hidden layers, outputs). */
export function forwardPoint(net: NetworkJSON, cfg: ModelConfig, x: number, y: number): Float64Array[] {
  const layers = [Float64Array.from(cfg.features, (name) => feature(name)(x, y))];
  const act = activation(cfg.activation);
  const last = net.weights.length - 1;
  net.weights.forEach((w, l) => {
    const prev = layers[layers.length - 1];
    const out = Float64Array.from(w, (row, k) => {
      let sum = net.biases[l][k];
      for (let j = 0; j < row.length; j++) sum += row[j] * prev[j];
      return l < last ? act(sum) : sum;
    });
    if (l === last && cfg.problem === "classification") softmaxInPlace(out, out.length);
    layers.push(out);
  });
  return layers;
}

/** Softmax of the first `len` entries of v, in place (max-shifted for stability). */
function softmaxInPlace(v: Float64Array, len: number): void {
  let max = -Infinity;
  for (let i = 0; i < len; i++) max = Math.max(max, v[i]);
  let sum = 0;
  for (let i = 0; i < len; i++) sum += (v[i] = Math.exp(v[i] - max));
  for (let i = 0; i < len; i++) v[i] /= sum;
}
