/** Axis scales and ticks for the curves (pure). */

export interface Scale {
  lo: number;
  hi: number;
  log: boolean;
  ticks: number[];
}

/** Round-number ticks (1, 2, 5 × 10^k) covering [lo, hi] with about `count` steps. */
export function niceTicks(lo: number, hi: number, count: number): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) ticks.push(Math.round(v / step) * step);
  return ticks;
}

/**
 * The loss axis: linear from 0 to a round maximum, or logarithmic between the decades around
 * the positive values (non-positive values cannot be shown on a log axis).
 */
export function lossScale(min: number, max: number, log: boolean): Scale {
  if (log) {
    const lo = 10 ** Math.floor(Math.log10(min > 0 && Number.isFinite(min) ? min : 1e-3));
    const hi = Math.max(lo * 10, 10 ** Math.ceil(Math.log10(max > 0 && Number.isFinite(max) ? max : 1)));
    const decades = Math.round(Math.log10(hi / lo));
    const stride = Math.ceil(decades / 5);
    const ticks: number[] = [];
    for (let d = 0; d <= decades; d += stride) ticks.push(lo * 10 ** d);
    return { lo, hi, log, ticks };
  }
  const top = max > 0 && Number.isFinite(max) ? max : 1;
  const ticks = niceTicks(0, top, 4);
  const hi = Math.max(top, ticks[ticks.length - 1]);
  return { lo: 0, hi, log, ticks: niceTicks(0, hi, 4) };
}

/** Position of v in [0, 1] along the scale (log scales clamp non-positive values to the bottom). */
export function unit(s: Scale, v: number): number {
  if (s.log) return v > 0 ? Math.log(v / s.lo) / Math.log(s.hi / s.lo) : 0;
  return (v - s.lo) / (s.hi - s.lo);
}

/** Short labels: 1.2k, 30k, 1.5M for steps; 3 significant digits for values. */
export function formatStep(v: number): string {
  if (v >= 1e6) return `${+(v / 1e6).toPrecision(3)}M`;
  if (v >= 1e4) return `${+(v / 1e3).toPrecision(3)}k`;
  return String(Math.round(v));
}

/** An integer with thousands separators, as toLocaleString("en-US") writes it (which is slow). */
export function formatCount(v: number): string {
  return String(Math.round(v)).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

export function formatValue(v: number): string {
  if (v === 0) return "0";
  const a = Math.abs(v);
  return a >= 1e4 || a < 1e-3 ? v.toExponential(1) : String(+v.toPrecision(3));
}
