// The pictures of a comparison: each run's decision map with the points, and one chart with both
// runs' loss curves (train dashed, test solid) and accuracy (thin, right axis 0–100%).
import { networkMatches } from "../nn/forward";
import { gridFor } from "../nn/gridCache";
import type { Point } from "../state";
import { paintMap } from "../ui/mapImage";
import { contrastOutline, cssColor, diverging, PALETTE, type RGB } from "../ui/colors";
import type { CompareRun } from "./state";

/** Map cells per side: small maps, two side by side. */
const CELLS = 60;
/** The two runs' colours in the chart. */
export const RUN_COLOURS = ["#1f6feb", "#d9480f"] as const;

const tile = typeof document !== "undefined" ? document.createElement("canvas") : null;

export function drawRunMap(canvas: HTMLCanvasElement, run: CompareRun, data: readonly Point[], showTest: boolean): void {
  const ctx = canvas.getContext("2d");
  const dpr = window.devicePixelRatio || 1;
  const size = Math.max(1, Math.round((canvas.clientWidth || 200) * dpr));
  if (canvas.width !== size) canvas.width = canvas.height = size;
  if (!ctx || !tile) return;
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, size, size);
  if (networkMatches(run.network, run.config)) {
    const layers = gridFor(run.network, run.config, CELLS);
    tile.width = tile.height = CELLS;
    const tctx = tile.getContext("2d");
    const image = tctx?.createImageData(CELLS, CELLS);
    if (tctx && image) {
      paintMap(layers[layers.length - 1], run.config, CELLS, false, image.data);
      tctx.putImageData(image, 0, 0);
      const cell = size / (CELLS - 1);
      ctx.globalAlpha = 0.72;
      ctx.imageSmoothingEnabled = true;
      ctx.drawImage(tile, -cell / 2, -cell / 2, CELLS * cell, CELLS * cell);
      ctx.globalAlpha = 1;
    }
  }
  const rgb: RGB = [0, 0, 0];
  const r = 3 * dpr;
  for (const p of data) {
    if (p.test && !showTest) continue;
    const c = run.config.problem === "regression" ? diverging(p.label, rgb) : (PALETTE[p.label] ?? PALETTE[PALETTE.length - 1]);
    ctx.beginPath();
    ctx.arc(((p.x + 1) / 2) * size, ((1 - p.y) / 2) * size, r, 0, 2 * Math.PI);
    if (p.test) {
      ctx.strokeStyle = cssColor(c);
      ctx.lineWidth = 1.5 * dpr;
      ctx.stroke();
    } else {
      ctx.fillStyle = cssColor(c);
      ctx.fill();
      ctx.strokeStyle = contrastOutline(c);
      ctx.lineWidth = 0.75 * dpr;
      ctx.stroke();
    }
  }
}

/** Both runs' curves against steps in one chart. */
export function drawCompareChart(canvas: HTMLCanvasElement, runs: readonly CompareRun[], axis: string): void {
  const ctx = canvas.getContext("2d");
  const dpr = window.devicePixelRatio || 1;
  const width = canvas.clientWidth || 400;
  const height = canvas.clientHeight || 160;
  if (canvas.width !== Math.round(width * dpr)) canvas.width = Math.round(width * dpr);
  if (canvas.height !== Math.round(height * dpr)) canvas.height = Math.round(height * dpr);
  if (!ctx) return;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, width, height);
  const left = 34;
  const right = 34;
  const top = 6;
  const bottom = 18;
  const w = width - left - right;
  const hgt = height - top - bottom;
  let maxStep = 1;
  let maxLoss = 1e-9;
  for (const run of runs) {
    for (const r of run.history) {
      maxStep = Math.max(maxStep, r.step);
      for (const v of [r.train_loss, r.test_loss]) if (v !== null && Number.isFinite(v)) maxLoss = Math.max(maxLoss, v);
    }
  }
  const x = (step: number) => left + (step / maxStep) * w;
  const yLoss = (v: number) => top + hgt - (Math.min(v, maxLoss) / maxLoss) * hgt;
  const yAcc = (v: number) => top + hgt - v * hgt;
  ctx.strokeStyle = axis;
  ctx.fillStyle = axis;
  ctx.lineWidth = 1;
  ctx.beginPath();
  ctx.moveTo(left, top);
  ctx.lineTo(left, top + hgt);
  ctx.lineTo(left + w, top + hgt);
  ctx.lineTo(left + w, top);
  ctx.stroke();
  ctx.font = "10px system-ui, sans-serif";
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  ctx.fillText(maxLoss.toPrecision(2), left - 3, top + 4);
  ctx.fillText("0", left - 3, top + hgt);
  ctx.textAlign = "left";
  ctx.fillText("100%", left + w + 3, top + 4);
  ctx.fillText("0%", left + w + 3, top + hgt);
  ctx.textAlign = "center";
  ctx.textBaseline = "bottom";
  ctx.fillText(`step ${maxStep.toLocaleString("en-US")}`, left + w / 2, height);
  const line = (run: CompareRun, key: "train_loss" | "test_loss" | "accuracy" | "test_accuracy", y: (v: number) => number) => {
    ctx.beginPath();
    let started = false;
    for (const r of run.history) {
      const v = r[key];
      if (v === null || !Number.isFinite(v)) continue;
      if (started) ctx.lineTo(x(r.step), y(v));
      else ctx.moveTo(x(r.step), y(v));
      started = true;
    }
    ctx.stroke();
  };
  runs.forEach((run, i) => {
    ctx.strokeStyle = RUN_COLOURS[i];
    ctx.lineWidth = 2;
    ctx.setLineDash([]);
    line(run, "test_loss", yLoss);
    ctx.setLineDash([5, 3]);
    line(run, "train_loss", yLoss);
    ctx.setLineDash([]);
    ctx.globalAlpha = 0.45;
    ctx.lineWidth = 1;
    line(run, "test_accuracy", yAcc);
    line(run, "accuracy", yAcc);
    ctx.globalAlpha = 1;
  });
}
