// "Layer space": the input grid's lines and the points as a chosen hidden layer maps them (after
// ConvNetJS's classify2d). 2 neurons: the layer's own axes; more: a PCA projection that holds
// still between frames (nn/layerSpace.ts). Follows training and the timeline's preview; the view
// zooms smoothly to fit what it draws.
import { networkMatches, type NetworkJSON } from "../nn/forward";
import { fitProjection, gridLinePoints, GRID_LINES, hiddenActivations, LINE_SAMPLES, project, type Projection } from "../nn/layerSpace";
import { Redraw, setText } from "../chart/redraw";
import { readConfig, readData, readView, type WidgetModel } from "../state";
import { contrastOutline, cssColor, diverging, PALETTE, type RGB } from "./colors";
import { h, onModel, type Cleanup } from "./dom";
import { PREVIEW_NETWORK, listen, type PreviewDetail } from "./network/events";
import "./layerSpace.css";

/** Least time between two redraws while training (the PCA fit is the costly part). */
const GAP_MS = 50;
/** How far the view moves toward the new fit each frame (1: at once). */
const EASE = 0.35;
const POINT_RADIUS = 3; // CSS px

interface Frame {
  cx: number;
  cy: number;
  half: number;
}

export function mountLayerSpace(model: WidgetModel, el: HTMLElement): Cleanup {
  const select = h("select", { class: "nnv-select nnv-layerspace-select", "aria-label": "Hidden layer to look at" });
  const canvas = h("canvas", { class: "nnv-layerspace-plot", role: "img", "aria-label": "The input grid and the points as the chosen hidden layer sees them" });
  const caption = h("p", { class: "nnv-layerspace-caption" });
  el.classList.add("nnv-layerspace");
  el.append(h("div", { class: "nnv-layerspace-head" }, h("span", { class: "nnv-layerspace-title" }, "Layer space"), select), canvas, caption);

  const grid = gridLinePoints();
  let preview: NetworkJSON | null = null;
  let layer = 0;
  let projection: Projection | null = null;
  let shown: Frame | null = null;
  let layerKey: string | null = null;

  const options = () => {
    const hidden = readConfig(model).hidden_layers;
    const key = hidden.join(",");
    if (key === layerKey) return;
    layerKey = key;
    select.replaceChildren(...hidden.map((n, l) => h("option", { value: l }, `Hidden layer ${l + 1} (${n} neuron${n === 1 ? "" : "s"}${n > 2 ? ", PCA" : ""})`)));
    layer = Math.min(layer, Math.max(0, hidden.length - 1));
    select.value = String(layer);
    select.disabled = hidden.length === 0;
    projection = null;
    shown = null;
  };

  const draw = (): void => {
    options();
    const cfg = readConfig(model);
    const net = preview && networkMatches(preview, cfg) ? preview : model.get("network");
    const ctx = canvas.getContext("2d");
    const css = canvas.clientWidth || 240;
    const dpr = window.devicePixelRatio || 1;
    const size = Math.max(1, Math.round(css * dpr));
    if (canvas.width !== size) canvas.width = canvas.height = size;
    if (!ctx) return;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, size, size);
    if (cfg.hidden_layers.length === 0) {
      setText(caption, "The network has no hidden layer: add one to see the space it makes.");
      delete canvas.dataset.projection;
      return;
    }
    if (!networkMatches(net, cfg)) return; // a reshape is on its way
    const data = readData(model);
    const showTest = readView(model).show_test;
    const pts = data.filter((p) => showTest || !p.test);
    const d = net.weights[layer].length;
    const lineActs = hiddenActivations(net, cfg, grid.xs, grid.ys, layer);
    const pointActs = hiddenActivations(net, cfg, Float64Array.from(pts, (p) => p.x), Float64Array.from(pts, (p) => p.y), layer);
    // Fitted on what is drawn: the grid's lines and the points.
    const all = new Float64Array(lineActs.length + pointActs.length);
    all.set(lineActs);
    all.set(pointActs, lineActs.length);
    projection = fitProjection(all, d, projection);
    const lines = project(lineActs, projection);
    const points = project(pointActs, projection);
    const target = fit(lines, points);
    shown = shown ? ease(shown, target) : target;
    const settled = Math.abs(shown.half - target.half) < 1e-3 * target.half && Math.abs(shown.cx - target.cx) < 1e-3 * target.half && Math.abs(shown.cy - target.cy) < 1e-3 * target.half;
    if (!settled) redraw.soon();

    const style = getComputedStyle(el);
    const colour = (name: string, fallback: string) => style.getPropertyValue(name).trim() || fallback;
    ctx.fillStyle = colour("--nnv-map-bg", "#fff");
    ctx.fillRect(0, 0, size, size);
    const frame = shown;
    const toX = (x: number) => ((x - frame.cx) / (2 * frame.half) + 0.5) * size;
    const toY = (y: number) => (0.5 - (y - frame.cy) / (2 * frame.half)) * size;
    ctx.lineWidth = dpr;
    ctx.strokeStyle = colour("--nnv-fg-muted", "#57606a");
    ctx.globalAlpha = 0.55;
    ctx.beginPath();
    for (let l = 0; l < 2 * GRID_LINES; l++) {
      for (let s = 0; s < LINE_SAMPLES; s++) {
        const i = l * LINE_SAMPLES + s;
        const x = toX(lines[2 * i]);
        const y = toY(lines[2 * i + 1]);
        if (s === 0) ctx.moveTo(x, y);
        else ctx.lineTo(x, y);
      }
    }
    ctx.stroke();
    ctx.globalAlpha = 1;
    const rgb: RGB = [0, 0, 0];
    const r = POINT_RADIUS * dpr;
    pts.forEach((p, i) => {
      const c = cfg.problem === "regression" ? diverging(p.label, rgb) : (PALETTE[p.label] ?? PALETTE[PALETTE.length - 1]);
      ctx.beginPath();
      ctx.arc(toX(points[2 * i]), toY(points[2 * i + 1]), r, 0, 2 * Math.PI);
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
    });
    canvas.dataset.projection = d > 2 ? "pca" : "neurons";
    canvas.dataset.layer = String(layer);
    // Where the view stands (centre and half-width in layer units), for tests and tools.
    canvas.dataset.frame = settled ? JSON.stringify([frame.cx, frame.cy, frame.half]) : "";
    setText(
      caption,
      d > 2
        ? `Hidden layer ${layer + 1}: its ${d} neurons projected on their two main directions (PCA), turned to follow the last frame.`
        : `Hidden layer ${layer + 1}: ${d === 2 ? "neuron 1 across, neuron 2 up" : "its one neuron across"}. Lines: the input grid, bent as the layer bends it.`,
    );
  };
  const redraw = new Redraw(draw, GAP_MS);

  select.addEventListener("change", () => {
    layer = Number(select.value);
    projection = null;
    shown = null;
    redraw.soon();
  });
  const resize = typeof ResizeObserver === "function" ? new ResizeObserver(() => redraw.soon()) : null;
  resize?.observe(canvas);
  const off = [
    onModel(model, ["change:network"], () => redraw.request()),
    onModel(model, ["change:config", "change:data", "change:view"], () => redraw.soon()),
    listen<PreviewDetail>(el, PREVIEW_NETWORK, (d) => {
      preview = d?.network ?? null;
      redraw.soon();
    }),
  ];
  redraw.soon();
  return () => {
    redraw.cancel();
    resize?.disconnect();
    for (const o of off) o();
    el.replaceChildren();
  };
}

/** The square that holds every projected line sample and point, with a margin. */
function fit(lines: Float64Array, points: Float64Array): Frame {
  let x0 = Infinity;
  let x1 = -Infinity;
  let y0 = Infinity;
  let y1 = -Infinity;
  for (const xy of [lines, points]) {
    for (let i = 0; i < xy.length; i += 2) {
      x0 = Math.min(x0, xy[i]);
      x1 = Math.max(x1, xy[i]);
      y0 = Math.min(y0, xy[i + 1]);
      y1 = Math.max(y1, xy[i + 1]);
    }
  }
  const half = Math.max(1e-6, x1 - x0, y1 - y0) * 0.55;
  return { cx: (x0 + x1) / 2, cy: (y0 + y1) / 2, half };
}

function ease(from: Frame, to: Frame): Frame {
  return { cx: from.cx + EASE * (to.cx - from.cx), cy: from.cy + EASE * (to.cy - from.cy), half: from.half + EASE * (to.half - from.half) };
}
