// Colours for classes and regression values. Class colours are Okabe–Ito's colour-blind-safe
// set (black softened to dark grey so it stays visible on the dark theme's background).
export type RGB = [number, number, number];

export const PALETTE: readonly RGB[] = [
  [0, 114, 178], // blue
  [230, 159, 0], // orange
  [0, 158, 115], // bluish green
  [204, 121, 167], // reddish purple
  [86, 180, 233], // sky blue
  [213, 94, 0], // vermillion
  [240, 228, 66], // yellow
  [64, 64, 64], // black (softened)
];

/** The probability-weighted mean of the class colours: a 50/50 cell is exactly the mean of two
 *  colours, so uncertainty reads as a mix rather than a fade. Writes into `out` (no allocation). */
export function blendClasses(probs: ArrayLike<number>, out: RGB = [0, 0, 0]): RGB {
  let r = 0;
  let g = 0;
  let b = 0;
  for (let k = 0; k < probs.length; k++) {
    const p = probs[k];
    const c = PALETTE[k];
    r += p * c[0];
    g += p * c[1];
    b += p * c[2];
  }
  out[0] = r;
  out[1] = g;
  out[2] = b;
  return out;
}

/** Index of the most probable class (the first one on ties). */
export function argmax(probs: ArrayLike<number>): number {
  let best = 0;
  for (let k = 1; k < probs.length; k++) if (probs[k] > probs[best]) best = k;
  return best;
}

/** The discretized view: the most probable class's colour. */
export function argmaxColor(probs: ArrayLike<number>, out: RGB = [0, 0, 0]): RGB {
  const c = PALETTE[argmax(probs)];
  out[0] = c[0];
  out[1] = c[1];
  out[2] = c[2];
  return out;
}

// Diverging scale for regression, TensorFlow Playground's convention: orange below zero,
// blue above, a neutral light grey at zero.
const NEGATIVE: RGB = [213, 94, 0];
const ZERO: RGB = [247, 247, 247];
const POSITIVE: RGB = [0, 114, 178];

/** Colour of a regression value: linear from -1 (orange) through 0 (grey) to +1 (blue), clamped. */
export function diverging(v: number, out: RGB = [0, 0, 0]): RGB {
  const t = Number.isNaN(v) ? 0 : Math.max(-1, Math.min(1, v));
  const end = t < 0 ? NEGATIVE : POSITIVE;
  const a = Math.abs(t);
  out[0] = ZERO[0] + (end[0] - ZERO[0]) * a;
  out[1] = ZERO[1] + (end[1] - ZERO[1]) * a;
  out[2] = ZERO[2] + (end[2] - ZERO[2]) * a;
  return out;
}

/** Bands of the discretized regression view: values snap to multiples of 1/REGRESSION_BANDS. */
const REGRESSION_BANDS = 4;

export function quantize(v: number): number {
  return Math.round(v * REGRESSION_BANDS) / REGRESSION_BANDS;
}

/** Relative luminance (sRGB, WCAG) of a colour, 0..1. */
function luminance([r, g, b]: RGB): number {
  const lin = (v: number) => {
    const s = v / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}

/** An outline colour that stands out against a fill: near-black on light fills, white on dark. */
export function contrastOutline(fill: RGB): string {
  return luminance(fill) > 0.3 ? "#1b1b1b" : "#ffffff";
}

export function cssColor([r, g, b]: RGB): string {
  return `rgb(${Math.round(r)}, ${Math.round(g)}, ${Math.round(b)})`;
}
