// The output layer of an evaluateGrid result → RGBA pixels of the decision map.
import type { ModelConfig } from "../nn/forward";
import { argmaxColor, diverging, PALETTE, quantize, type RGB } from "./colors";

/** Fill `pixels` (n×n RGBA, row 0 at the top) from the output layer of an n×n grid evaluation. */
export function paintMap(output: Float32Array, cfg: Pick<ModelConfig, "problem">, n: number, discretize: boolean, pixels: Uint8ClampedArray): void {
  const cells = n * n;
  const rgb: RGB = [0, 0, 0];
  if (cfg.problem === "regression") {
    for (let c = 0; c < cells; c++) {
      diverging(discretize ? quantize(output[c]) : output[c], rgb);
      put(pixels, c, rgb);
    }
    return;
  }
  const k = output.length / cells;
  if (discretize) {
    const probs = new Float32Array(k); // one scratch vector for all cells
    for (let c = 0; c < cells; c++) {
      for (let i = 0; i < k; i++) probs[i] = output[i * cells + c];
      argmaxColor(probs, rgb);
      put(pixels, c, rgb);
    }
    return;
  }
  // The probability-weighted mean of the class colours (blendClasses), class by class over
  // every cell: tight loops, no call per cell.
  const r = new Float64Array(cells);
  const g = new Float64Array(cells);
  const b = new Float64Array(cells);
  for (let i = 0; i < k; i++) {
    const [cr, cg, cb] = PALETTE[i];
    const o = i * cells;
    for (let c = 0; c < cells; c++) {
      const p = output[o + c];
      r[c] += p * cr;
      g[c] += p * cg;
      b[c] += p * cb;
    }
  }
  for (let c = 0, o = 0; c < cells; c++, o += 4) {
    pixels[o] = r[c];
    pixels[o + 1] = g[c];
    pixels[o + 2] = b[c];
    pixels[o + 3] = 255;
  }
}

function put(pixels: Uint8ClampedArray, c: number, [r, g, b]: RGB): void {
  const o = 4 * c;
  pixels[o] = r;
  pixels[o + 1] = g;
  pixels[o + 2] = b;
  pixels[o + 3] = 255;
}
