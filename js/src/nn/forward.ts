// The forward pass that draws every map from the weights the kernel sends (see the contract's
// numerical definitions). evaluateGrid is on the draw path: flat typed arrays, node-major
// layout and no allocation per cell.
import { activation, feature } from "./activations";

export interface NetworkJSON {
  weights: number[][][];
  biases: number[][];
}

export interface ModelConfig {
  features: string[];
  activation: string;
  problem: "classification" | "regression";
  num_classes: number;
  hidden_layers: number[];
}

/** Output units the config asks for: one per class, or one regression value. */
export function outputSize(cfg: ModelConfig): number {
  return cfg.problem === "classification" ? cfg.num_classes : 1;
}

/** True when the network's shapes are exactly the ones the config describes. */
export function networkMatches(net: NetworkJSON | null | undefined, cfg: ModelConfig): boolean {
  if (!net || !Array.isArray(net.weights) || !Array.isArray(net.biases)) return false;
  const sizes = [cfg.features.length, ...cfg.hidden_layers, outputSize(cfg)];
  if (net.weights.length !== sizes.length - 1 || net.biases.length !== sizes.length - 1) return false;
  return net.weights.every(
    (w, l) =>
      w.length === sizes[l + 1] &&
      net.biases[l].length === sizes[l + 1] &&
      w.every((row) => row.length === sizes[l]),
  );
}

/** Grid coordinate of column (or, negated, row) i of n: both ends of [-1, 1] included. */
export function gridCoord(i: number, n: number): number {
  return n > 1 ? -1 + (2 * i) / (n - 1) : 0;
}

/** Evaluate every node on an n×n grid over [-1,1]² (cell index = row*n + col; row 0 is y = +1 (top), col 0 is x = -1).
 *  Returns one Float32Array per layer, node-major (value of node k at cell c is arr[k*n*n + c]):
 *  [input features, hidden layer 1 (post-activation), ..., outputs (softmax probabilities, or the regression value)]. */
export function evaluateGrid(net: NetworkJSON, cfg: ModelConfig, n: number): Float32Array[] {
  const cells = n * n;
  const features = cfg.features.map(feature);
  const act = activation(cfg.activation);
  const classify = cfg.problem === "classification";
  // Weights flattened row-major, so each cell's pass runs over contiguous float64 memory.
  const ws = net.weights.map((w) => Float64Array.from(w.flat()));
  const bs = net.biases.map((b) => Float64Array.from(b));
  const sizes = [features.length, ...net.weights.map((w) => w.length)];
  const layers = sizes.map((size) => new Float32Array(size * cells));
  // Cell by cell through the whole network: each cell's activations stay in two small
  // scratch vectors (in cache), which is several times faster than layer-wide sweeps.
  const width = Math.max(...sizes);
  let a = new Float64Array(width);
  let b = new Float64Array(width);
  const last = ws.length - 1;
  for (let c = 0; c < cells; c++) {
    const x = gridCoord(c % n, n);
    const y = -gridCoord(Math.floor(c / n), n);
    const input = layers[0];
    for (let j = 0; j < features.length; j++) input[j * cells + c] = a[j] = features[j](x, y);
    for (let l = 0; l <= last; l++) {
      const w = ws[l];
      const bias = bs[l];
      const nIn = sizes[l];
      const nOut = sizes[l + 1];
      for (let k = 0; k < nOut; k++) {
        let sum = bias[k];
        const row = k * nIn;
        for (let j = 0; j < nIn; j++) sum += w[row + j] * a[j];
        b[k] = l < last ? act(sum) : sum;
      }
      if (l === last && classify) softmaxInPlace(b, nOut);
      const out = layers[l + 1];
      for (let k = 0; k < nOut; k++) out[k * cells + c] = b[k];
      const t = a;
      a = b;
      b = t;
    }
  }
  return layers;
}

/** One point, float64 all the way: same list of layers, each Float64Array. */
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
