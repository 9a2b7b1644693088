// The watched model's decision map: the kernel's grid painted with the playground's decision
// map painter (probabilities blended in the class colours), the points on top, in the data's
// own coordinates. Shows the live frame, or the timeline's snapshot while one is scrubbed.
import { PALETTE, contrastOutline, cssColor, diverging, type RGB } from "../ui/colors";
import { h, type Cleanup } from "../ui/dom";
import { paintMap } from "../ui/mapImage";
import { mapValues, type Bytes, type WatchModel } from "./model";

/** As the playground's map: drawn this opaque, so the points stand out from it. */
const MAP_ALPHA = 0.72;
const POINT_RADIUS = 4.5; // CSS px

export interface WatchMap {
  /** Show these map bytes (a snapshot) instead of the live frame; null goes back to live. */
  show(map: Bytes | null): void;
  cleanup: Cleanup;
}

export function mountWatchMap(model: WatchModel, el: HTMLElement): WatchMap {
  const canvas = h("canvas", { class: "nnv-map nnv-watch-map", role: "img", "aria-label": "Decision map of the watched model" });
  const caption = h("p", { class: "nnv-map-caption" });
  el.append(h("div", { class: "nnv-map-frame" }, canvas), caption);
  const ctx = canvas.getContext("2d");
  const image = document.createElement("canvas");
  let pinned: Bytes | null = null;
  let raf = 0;

  /** Cells a side of the map last painted (a snapshot's maps are smaller than the live one's). */
  let painted = 0;
  const paint = (): boolean => {
    const info = model.get("watch");
    const n = pinned ? info.snapshot_resolution : info.resolution;
    const values = mapValues(pinned ?? model.get("frame")?.map ?? null, info, n);
    if (!values) return false;
    painted = n;
    image.width = image.height = n;
    const ictx = image.getContext("2d");
    if (!ictx) return false;
    const pixels = new ImageData(n, n);
    paintMap(values, { problem: info.problem }, n, false, pixels.data);
    ictx.putImageData(pixels, 0, 0);
    return true;
  };

  const draw = (): void => {
    raf = 0;
    if (!ctx) return;
    const dpr = window.devicePixelRatio || 1;
    const size = Math.max(1, Math.round((canvas.clientWidth || 320) * dpr));
    if (canvas.width !== size) canvas.width = canvas.height = size;
    const style = getComputedStyle(canvas);
    ctx.fillStyle = style.getPropertyValue("--nnv-map-bg").trim() || "#fff";
    ctx.fillRect(0, 0, size, size);
    const info = model.get("watch");
    if (paint()) {
      // Grid samples sit on cell corners (both edges included): centre each pixel on its sample.
      const n = painted;
      const cell = size / (n - 1);
      ctx.globalAlpha = MAP_ALPHA;
      ctx.imageSmoothingEnabled = true;
      ctx.drawImage(image, -cell / 2, -cell / 2, n * cell, n * cell);
      ctx.globalAlpha = 1;
    }
    drawPoints(ctx, size, dpr);
    const [x0, x1, y0, y1] = info.bounds;
    caption.textContent = `x from ${x0.toPrecision(3)} to ${x1.toPrecision(3)}, y from ${y0.toPrecision(3)} to ${y1.toPrecision(3)}`;
  };

  const drawPoints = (c: CanvasRenderingContext2D, size: number, dpr: number): void => {
    const info = model.get("watch");
    const [x0, x1, y0, y1] = info.bounds;
    const r = POINT_RADIUS * dpr;
    const rgb: RGB = [0, 0, 0];
    for (const p of model.get("data") ?? []) {
      const colour = info.problem === "regression" ? diverging(p.label, rgb) : (PALETTE[p.label] ?? PALETTE[PALETTE.length - 1]);
      const px = ((p.x - x0) / (x1 - x0)) * size;
      const py = ((y1 - p.y) / (y1 - y0)) * size;
      c.beginPath();
      c.arc(px, py, r, 0, 2 * Math.PI);
      if (p.test) {
        c.strokeStyle = contrastOutline(colour);
        c.lineWidth = 4 * dpr;
        c.stroke();
        c.strokeStyle = cssColor(colour);
        c.lineWidth = 2 * dpr;
        c.stroke();
      } else {
        c.fillStyle = cssColor(colour);
        c.fill();
        c.strokeStyle = contrastOutline(colour);
        c.lineWidth = dpr;
        c.stroke();
      }
    }
  };

  const schedule = (): void => {
    if (!raf) raf = requestAnimationFrame(draw);
  };
  const events = ["change:frame", "change:data", "change:watch"];
  for (const e of events) model.on(e, schedule);
  const resize = new ResizeObserver(schedule);
  resize.observe(canvas);
  schedule();
  return {
    show(map) {
      pinned = map;
      schedule();
    },
    cleanup: () => {
      if (raf) cancelAnimationFrame(raf);
      resize.disconnect();
      for (const e of events) model.off(e, schedule);
    },
  };
}
