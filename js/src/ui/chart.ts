/**
 * Loss curves (train and test) and, for classification, accuracy, against steps, from the
 * `history` trait. Redraws only when history, size or the log toggle change, and while training
 * (a new history entry per reply) at most every REDRAW_GAP_MS: history is read when drawing,
 * not at every change. Hovering (or arrow keys on the focused plot) moves a read-out on an overlay
 * canvas, which is left alone while nothing is pointed at. Texts are written only when they change.
 */
import { ChartBuilder, type ChartData } from "../chart/data";
import { type Geometry, type Theme, describe, drawChart, drawCursor, geometry, nearestIndex } from "../chart/draw";
import { REDRAW_GAP_MS, Redraw, setAttr, setText } from "../chart/redraw";
import { type WidgetModel, patchView, readHistory, readView } from "../state";
import "./chart.css";

export function mountChart(model: WidgetModel, el: HTMLElement): () => void {
  el.classList.add("nnv-curves");
  el.innerHTML = `
    <div class="nnv-curves-head">
      <span class="nnv-curves-title">Loss</span>
      <span class="nnv-curves-key nnv-curves-key-train">train</span>
      <span class="nnv-curves-key nnv-curves-key-test">test</span>
      <label class="nnv-curves-log"><input type="checkbox" /> Log scale</label>
    </div>
    <div class="nnv-curves-plot" tabindex="0" role="img">
      <canvas class="nnv-curves-base"></canvas>
      <canvas class="nnv-curves-overlay"></canvas>
    </div>
    <div class="nnv-curves-readout"></div>`;
  const plot = el.querySelector<HTMLDivElement>(".nnv-curves-plot")!;
  const base = el.querySelector<HTMLCanvasElement>(".nnv-curves-base")!;
  const overlay = el.querySelector<HTMLCanvasElement>(".nnv-curves-overlay")!;
  const logBox = el.querySelector<HTMLInputElement>(".nnv-curves-log input")!;
  const readout = el.querySelector<HTMLDivElement>(".nnv-curves-readout")!;
  const title = el.querySelector<HTMLSpanElement>(".nnv-curves-title")!;

  const builder = new ChartBuilder();
  let data: ChartData = builder.update(readHistory(model));
  /** History changed since `data` was built: it is read again at the next draw. */
  let stale = false;
  let geo: Geometry | null = null;
  let theme: Theme | null = null;
  let cursor = -1; // entry under the pointer / keyboard cursor, -1 for none
  let width = 0;
  let height = 0;
  let overlayEmpty = true;

  const draw = (): void => {
    const ctx = base.getContext("2d");
    if (!ctx || width === 0) return;
    if (stale) {
      data = builder.update(readHistory(model));
      stale = false;
    }
    theme ??= readTheme(el);
    geo = geometry(data, width, height, logBox.checked);
    ctx.setTransform(devicePixelRatio, 0, 0, devicePixelRatio, 0, 0);
    drawChart(ctx, data, geo, theme, width);
    setText(title, data.hasAccuracy ? "Loss and accuracy" : "Loss");
    drawOverlay();
  };
  const redraw = new Redraw(draw, REDRAW_GAP_MS);

  const drawOverlay = (): void => {
    const ctx = overlay.getContext("2d");
    if (!ctx || !geo || !theme) return;
    const n = data.steps.length;
    if (cursor >= n) cursor = -1;
    if (cursor >= 0 || !overlayEmpty) {
      ctx.setTransform(devicePixelRatio, 0, 0, devicePixelRatio, 0, 0);
      ctx.clearRect(0, 0, width, height);
      if (cursor >= 0) drawCursor(ctx, data, geo, theme, cursor);
      overlayEmpty = cursor < 0;
    }
    const shown = cursor >= 0 ? cursor : n - 1;
    const text = shown >= 0 ? describe(data, shown) : "No training yet";
    setText(readout, text);
    setAttr(plot, "aria-label", `Loss curves. ${text}`);
  };

  const onHistory = (): void => {
    stale = true;
    redraw.request();
  };
  const onPointer = (e: PointerEvent): void => {
    if (!geo || data.steps.length === 0) return;
    const x = e.clientX - plot.getBoundingClientRect().left;
    const step = geo.x0 + ((x - geo.left) / (geo.right - geo.left)) * (geo.x1 - geo.x0);
    cursor = nearestIndex(data.steps, step);
    drawOverlay();
  };
  const onLeave = (): void => {
    cursor = -1;
    drawOverlay();
  };
  const onKey = (e: KeyboardEvent): void => {
    const n = data.steps.length;
    if (n === 0 || !geo) return;
    const page = Math.max(1, Math.round(n / 10));
    const moves: Record<string, number> = { ArrowLeft: -1, ArrowRight: 1, PageDown: -page, PageUp: page };
    const from = cursor >= 0 ? cursor : n - 1;
    if (e.key in moves) cursor = Math.min(n - 1, Math.max(0, from + moves[e.key]));
    else if (e.key === "Home") cursor = 0;
    else if (e.key === "End") cursor = n - 1;
    else if (e.key === "Escape") cursor = -1;
    else return;
    e.preventDefault();
    drawOverlay();
  };

  const resize = new ResizeObserver((entries) => {
    // The observer's own measurement (clientWidth is the fallback for stand-ins without one).
    const box = entries.length > 0 ? entries[entries.length - 1].contentRect : null;
    width = box ? box.width : plot.clientWidth;
    height = box ? box.height : plot.clientHeight;
    for (const c of [base, overlay]) {
      c.width = Math.round(width * devicePixelRatio);
      c.height = Math.round(height * devicePixelRatio);
    }
    overlayEmpty = true; // resizing cleared it
    theme = null; // a theme switch usually comes with a re-layout
    redraw.soon();
  });
  resize.observe(plot);
  model.on("change:history", onHistory);
  // The choice is the view trait's log_scale: it persists (page storage, notebook) and syncs.
  const showLog = (): void => {
    const on = readView(model).log_scale === true;
    if (logBox.checked !== on) {
      logBox.checked = on;
      redraw.soon();
    }
  };
  showLog();
  const onLog = (): void => {
    patchView(model, { log_scale: logBox.checked });
    redraw.soon();
  };
  logBox.addEventListener("change", onLog);
  model.on("change:view", showLog);
  plot.addEventListener("pointermove", onPointer);
  plot.addEventListener("pointerleave", onLeave);
  plot.addEventListener("keydown", onKey);
  plot.addEventListener("blur", onLeave);

  return () => {
    redraw.cancel();
    resize.disconnect();
    model.off("change:history", onHistory);
    model.off("change:view", showLog);
    el.replaceChildren();
    el.classList.remove("nnv-curves");
  };
}

function readTheme(el: HTMLElement): Theme {
  const css = getComputedStyle(el);
  const v = (name: string, fallback: string): string => css.getPropertyValue(name).trim() || fallback;
  return {
    text: v("--nnv-fg-muted", "#57606a"),
    grid: v("--nnv-border", "rgba(127, 127, 127, 0.18)"),
    // Not class colours: the curves must not read as "class 0" and "class 1".
    train: v("--nnv-train", v("--nnv-fg", "#1f2328")),
    test: v("--nnv-test", "#7c3aed"),
    font: `11px ${css.fontFamily || "system-ui, sans-serif"}`,
  };
}
