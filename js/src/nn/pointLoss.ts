// Each point's prediction and loss from the weights the map is drawn with: the definitions of the
// engine's `evaluate` (softmax cross-entropy for classes, squared error for values), in float64.
// Computed once per (network, points, config) and shared by the map's rings, its hover read-out
// and the histogram, like the grid (gridCache.ts); buffers are reused while training.
import { activation, feature } from "./activations";
import { networkMatches, outputSize, type ModelConfig, type NetworkJSON } from "./forward";

export interface PointInput {
  x: number;
  y: number;
  label: number;
  test?: boolean;
}

export interface PointLosses {
  /** Points scored. */
  n: number;
  /** Outputs per point: class probabilities, or the predicted value (1). */
  k: number;
  /** Point i's outputs at [i*k, (i+1)*k). */
  outputs: Float64Array;
  /** Point i's loss: -log p(label), or (value - label)². */
  loss: Float64Array;
  /** 1 where the largest probability is not the label's (always 0 in regression). */
  wrong: Uint8Array;
}

interface Cached {
  net: NetworkJSON;
  data: readonly PointInput[];
  key: string;
  result: PointLosses;
}

let last: Cached | null = null;
let spare: PointLosses | null = null;

/** The losses of `data` under `net`, or null when the network does not fit the config. */
export function pointLosses(net: NetworkJSON, cfg: ModelConfig, data: readonly PointInput[]): PointLosses | null {
  if (!networkMatches(net, cfg)) return null;
  const key = JSON.stringify([cfg.features, cfg.activation, cfg.problem, cfg.num_classes]);
  if (last && last.net === net && last.data === data && last.key === key) return last.result;
  // Write into the arrays of the result before last: the last one may still be on screen.
  const result = computeLosses(net, cfg, data, spare);
  spare = last ? last.result : null;
  last = { net, data, key, result };
  return result;
}

function buffers(n: number, k: number, reuse: PointLosses | null): PointLosses {
  if (reuse && reuse.outputs.length >= n * k && reuse.loss.length >= n) return { n, k, outputs: reuse.outputs, loss: reuse.loss, wrong: reuse.wrong };
  const size = Math.max(n, 16);
  return { n, k, outputs: new Float64Array(size * k), loss: new Float64Array(size), wrong: new Uint8Array(size) };
}

/** The forward pass of every point (no cache). */
export function computeLosses(net: NetworkJSON, cfg: ModelConfig, data: readonly PointInput[], reuse: PointLosses | null = null): PointLosses {
  const n = data.length;
  const k = outputSize(cfg);
  const out = buffers(n, k, reuse);
  const feats = cfg.features.map(feature);
  const act = activation(cfg.activation);
  const widest = Math.max(feats.length, ...net.weights.map((w) => w.length));
  let a = new Float64Array(widest);
  let b = new Float64Array(widest);
  const last = net.weights.length - 1;
  const regression = cfg.problem === "regression";
  for (let i = 0; i < n; i++) {
    const p = data[i];
    for (let j = 0; j < feats.length; j++) a[j] = feats[j](p.x, p.y);
    for (let l = 0; l <= last; l++) {
      const w = net.weights[l];
      const bias = net.biases[l];
      for (let r = 0; r < w.length; r++) {
        const row = w[r];
        let sum = bias[r];
        for (let c = 0; c < row.length; c++) sum += row[c] * a[c];
        b[r] = l < last ? act(sum) : sum;
      }
      [a, b] = [b, a];
    }
    const o = i * k;
    if (regression) {
      out.outputs[o] = a[0];
      out.loss[i] = (a[0] - p.label) ** 2;
      out.wrong[i] = 0;
      continue;
    }
    // Log-softmax, max-shifted: the loss stays finite for confident predictions.
    let max = -Infinity;
    let best = 0;
    for (let j = 0; j < k; j++) {
      if (a[j] > max) {
        max = a[j];
        best = j;
      }
    }
    let sum = 0;
    for (let j = 0; j < k; j++) sum += Math.exp(a[j] - max);
    const logSum = Math.log(sum);
    for (let j = 0; j < k; j++) out.outputs[o + j] = Math.exp(a[j] - max - logSum);
    const label = p.label | 0;
    out.loss[i] = -(a[label] - max - logSum);
    out.wrong[i] = best === label ? 0 : 1;
  }
  return out;
}
