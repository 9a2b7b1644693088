/**
 * Loss (and accuracy) curves on a canvas. Series are M4-downsampled to the plot's pixel width,
 * so a draw costs O(width) in strokes and O(entries) in one linear scan, whatever the run length.
 */
import type { ChartData } from "./data";
import { downsampleM4 } from "./downsample";
import { type Scale, formatCount, formatStep, formatValue, lossScale, niceTicks, unit } from "./scale";

export interface Panel {
  kind: "loss" | "accuracy";
  top: number;
  height: number;
  scale: Scale;
}

export interface Geometry {
  left: number;
  right: number;
  /** Step range shown along x. */
  x0: number;
  x1: number;
  height: number;
  panels: Panel[];
}

const PAD = { left: 40, right: 10, top: 6, bottom: 18, between: 20 };

export function geometry(d: ChartData, width: number, height: number, log: boolean): Geometry {
  const n = d.steps.length;
  const x0 = n > 0 ? d.steps[0] : 0;
  const x1 = n > 1 ? d.steps[n - 1] : x0 + 1;
  const inner = Math.max(10, height - PAD.top - PAD.bottom);
  const lossH = d.hasAccuracy ? Math.round((inner - PAD.between) * 0.62) : inner;
  const panels: Panel[] = [{ kind: "loss", top: PAD.top, height: lossH, scale: lossScale(d.lossMin, d.lossMax, log) }];
  if (d.hasAccuracy) {
    const top = PAD.top + lossH + PAD.between;
    panels.push({ kind: "accuracy", top, height: inner - lossH - PAD.between, scale: accuracyScale });
  }
  return { left: PAD.left, right: Math.max(PAD.left + 10, width - PAD.right), x0, x1, height, panels };
}

const accuracyScale: Scale = { lo: 0, hi: 1, log: false, ticks: [0, 0.5, 1] };

export interface Theme {
  text: string;
  grid: string;
  train: string;
  test: string;
  font: string;
}

function xAt(g: Geometry, step: number): number {
  return g.left + ((step - g.x0) / (g.x1 - g.x0 || 1)) * (g.right - g.left);
}

function yAt(p: Panel, v: number): number {
  const u = Math.min(1, Math.max(0, unit(p.scale, v)));
  return p.top + p.height * (1 - u);
}

/** Index of the entry whose step is nearest to `step` (steps ascending); -1 when empty. */
export function nearestIndex(steps: Float64Array, step: number): number {
  let lo = 0;
  let hi = steps.length - 1;
  if (hi < 0) return -1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (steps[mid] <= step) lo = mid;
    else hi = mid;
  }
  return Math.abs(steps[hi] - step) < Math.abs(steps[lo] - step) ? hi : lo;
}

function seriesOf(d: ChartData, p: Panel): [Float64Array, Float64Array] {
  return p.kind === "loss" ? [d.train, d.test] : [d.accuracy, d.testAccuracy];
}

export function drawChart(ctx: CanvasRenderingContext2D, d: ChartData, g: Geometry, t: Theme, width: number): void {
  ctx.clearRect(0, 0, width, g.height);
  ctx.font = t.font;
  ctx.lineWidth = 1;
  for (const p of g.panels) {
    drawAxes(ctx, g, p, t);
    const [train, test] = seriesOf(d, p);
    drawSeries(ctx, d.steps, test, g, p, t.test);
    drawSeries(ctx, d.steps, train, g, p, t.train);
  }
  // Step ticks under the last panel.
  const last = g.panels[g.panels.length - 1];
  ctx.fillStyle = t.text;
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  for (const s of niceTicks(g.x0, g.x1, Math.max(2, Math.floor((g.right - g.left) / 70)))) {
    ctx.fillText(formatStep(s), xAt(g, s), last.top + last.height + 4);
  }
}

function drawAxes(ctx: CanvasRenderingContext2D, g: Geometry, p: Panel, t: Theme): void {
  ctx.strokeStyle = t.grid;
  ctx.fillStyle = t.text;
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  ctx.beginPath();
  for (const v of p.scale.ticks) {
    const y = Math.round(yAt(p, v)) + 0.5;
    ctx.moveTo(g.left, y);
    ctx.lineTo(g.right, y);
    ctx.fillText(p.kind === "accuracy" ? `${Math.round(v * 100)}%` : formatValue(v), g.left - 5, y);
  }
  ctx.stroke();
}

function drawSeries(
  ctx: CanvasRenderingContext2D,
  steps: Float64Array,
  values: Float64Array,
  g: Geometry,
  p: Panel,
  colour: string,
): void {
  const pts = downsampleM4(steps, values, Math.max(1, Math.round(g.right - g.left)), g.x0, g.x1);
  if (pts.length === 0) return;
  ctx.strokeStyle = colour;
  ctx.lineWidth = 1.6;
  ctx.lineJoin = "round";
  ctx.beginPath();
  for (let i = 0; i < pts.length; i++) {
    const x = xAt(g, pts.x[i]);
    const y = yAt(p, pts.y[i]);
    if (i === 0) ctx.moveTo(x, y);
    else ctx.lineTo(x, y);
  }
  if (pts.length === 1) ctx.lineTo(xAt(g, pts.x[0]) + 1, yAt(p, pts.y[0]));
  ctx.stroke();
  ctx.lineWidth = 1;
}

/** The hover read-out's marks: a vertical rule at entry i and a dot on each series. */
export function drawCursor(ctx: CanvasRenderingContext2D, d: ChartData, g: Geometry, t: Theme, i: number): void {
  const x = Math.round(xAt(g, d.steps[i])) + 0.5;
  const first = g.panels[0];
  const last = g.panels[g.panels.length - 1];
  ctx.strokeStyle = t.text;
  ctx.globalAlpha = 0.5;
  ctx.beginPath();
  ctx.moveTo(x, first.top);
  ctx.lineTo(x, last.top + last.height);
  ctx.stroke();
  ctx.globalAlpha = 1;
  for (const p of g.panels) {
    const [train, test] = seriesOf(d, p);
    for (const [values, colour] of [[test, t.test], [train, t.train]] as const) {
      if (!Number.isFinite(values[i])) continue;
      ctx.fillStyle = colour;
      ctx.beginPath();
      ctx.arc(x, yAt(p, values[i]), 3, 0, 2 * Math.PI);
      ctx.fill();
    }
  }
}

/** The read-out text for entry i. */
export function describe(d: ChartData, i: number): string {
  const parts = [`step ${formatCount(d.steps[i])}`];
  const add = (label: string, v: number, pct = false): void => {
    if (Number.isFinite(v)) parts.push(`${label} ${pct ? `${(v * 100).toFixed(1)}%` : formatValue(v)}`);
  };
  add("train loss", d.train[i]);
  add("test loss", d.test[i]);
  add("train accuracy", d.accuracy[i], true);
  add("test accuracy", d.testAccuracy[i], true);
  return parts.join(" · ");
}
