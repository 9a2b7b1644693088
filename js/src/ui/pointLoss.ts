// The loss of every point on the data map: with the view's `point_loss` toggle on, a ring around
// each point whose size grows with its current loss and a cross on each misclassified point; and,
// toggle or not, a read-out of the point under the pointer (label, predicted probabilities or
// value, loss). Drawn from the same network as the map (the live one, or the timeline's preview).
import { networkMatches, type NetworkJSON } from "../nn/forward";
import { pointLosses, type PointLosses } from "../nn/pointLoss";
import { readConfig, readData, readView, type Point, type WidgetModel } from "../state";
import { h, onModel, type Cleanup } from "./dom";
import { PREVIEW_NETWORK, listen, type PreviewDetail } from "./network/events";
import "./pointLoss.css";

/** A loss of this much (or more) gets the largest ring: -log(0.1), a 10% probability of the label. */
export const RING_LOSS_CAP = Math.log(10);
/** Ring radius (CSS px) around a point of zero loss, and at the cap. */
const RING_MIN = 6;
const RING_MAX = 16;
/** A point is under the pointer within this many CSS px of its centre. */
const HOVER_PX = 8;

/** Radius in CSS px of the ring around a point of this loss. */
export function ringRadius(loss: number): number {
  const t = Math.min(1, Math.sqrt(Math.max(0, loss) / RING_LOSS_CAP));
  return RING_MIN + (RING_MAX - RING_MIN) * t;
}

export interface PointLossLayer {
  /** Draw rings and marks on the map (CSS px `size` square, at `dpr`) if the toggle is on. */
  draw(ctx: CanvasRenderingContext2D, size: number, dpr: number, fg: string): void;
  /** The pointer moved to data coordinates `at` (null: it left) over a map `cssSize` px wide. */
  hover(at: { x: number; y: number } | null, cssSize: number): void;
  dispose: Cleanup;
}

/** The network the map draws: the timeline's preview when it fits the config, else the live one. */
function shownNetwork(model: WidgetModel, preview: NetworkJSON | null): NetworkJSON {
  return preview && networkMatches(preview, readConfig(model)) ? preview : model.get("network");
}

/**
 * Mount the layer on the map's `frame` (the read-out is an element in it); `changed` asks the
 * map for a redraw.
 */
export function mountPointLoss(model: WidgetModel, frame: HTMLElement, changed: () => void): PointLossLayer {
  const tip = h("div", { class: "nnv-point-tip", role: "status", hidden: "" });
  frame.append(tip);
  let preview: NetworkJSON | null = null;
  let hovered: { at: { x: number; y: number }; css: number } | null = null;

  const losses = (): PointLosses | null => pointLosses(shownNetwork(model, preview), readConfig(model), readData(model));

  function nearest(at: { x: number; y: number }, css: number): number {
    const data = readData(model);
    const showTest = readView(model).show_test;
    const reach = ((2 * HOVER_PX) / css) ** 2;
    let best = -1;
    let bestD = reach;
    for (let i = 0; i < data.length; i++) {
      if (data[i].test && !showTest) continue;
      const d = (data[i].x - at.x) ** 2 + (data[i].y - at.y) ** 2;
      if (d <= bestD) {
        bestD = d;
        best = i;
      }
    }
    return best;
  }

  function updateTip(): void {
    const index = hovered ? nearest(hovered.at, hovered.css) : -1;
    const scored = index >= 0 ? losses() : null;
    if (!hovered || index < 0 || !scored) {
      tip.hidden = true;
      delete tip.dataset.index;
      return;
    }
    const p = readData(model)[index];
    tip.replaceChildren(...describePoint(p, index, scored, readConfig(model).problem === "regression"));
    tip.dataset.index = String(index);
    tip.dataset.loss = String(scored.loss[index]);
    const css = hovered.css;
    const left = ((p.x + 1) / 2) * css;
    const top = ((1 - p.y) / 2) * css;
    tip.style.left = `${Math.min(left + 12, css - 150)}px`;
    tip.style.top = `${top > css / 2 ? top - 12 : top + 12}px`;
    tip.style.transform = top > css / 2 ? "translateY(-100%)" : "";
    tip.hidden = false;
  }

  const off = [
    listen<PreviewDetail>(frame, PREVIEW_NETWORK, (d) => {
      preview = d?.network ?? null;
      updateTip();
      changed();
    }),
    onModel(model, ["change:network", "change:data", "change:config"], updateTip),
  ];

  return {
    draw(ctx, size, dpr, fg) {
      if (!readView(model).point_loss) return;
      const scored = losses();
      if (!scored) return;
      const data = readData(model);
      const showTest = readView(model).show_test;
      ctx.save();
      ctx.strokeStyle = fg;
      ctx.globalAlpha = 0.7;
      ctx.lineWidth = 1.25 * dpr;
      ctx.beginPath();
      for (let i = 0; i < scored.n; i++) {
        const p = data[i];
        if (p.test && !showTest) continue;
        const px = ((p.x + 1) / 2) * size;
        const py = ((1 - p.y) / 2) * size;
        const r = ringRadius(scored.loss[i]) * dpr;
        ctx.moveTo(px + r, py);
        ctx.arc(px, py, r, 0, 2 * Math.PI);
      }
      ctx.stroke();
      // Misclassified points: a cross over the point, in the map's foreground colour.
      ctx.globalAlpha = 1;
      ctx.lineWidth = 2 * dpr;
      ctx.beginPath();
      const arm = 3.5 * dpr;
      for (let i = 0; i < scored.n; i++) {
        const p = data[i];
        if (!scored.wrong[i] || (p.test && !showTest)) continue;
        const px = ((p.x + 1) / 2) * size;
        const py = ((1 - p.y) / 2) * size;
        ctx.moveTo(px - arm, py - arm);
        ctx.lineTo(px + arm, py + arm);
        ctx.moveTo(px + arm, py - arm);
        ctx.lineTo(px - arm, py + arm);
      }
      ctx.stroke();
      ctx.restore();
    },
    hover(at, cssSize) {
      hovered = at ? { at, css: cssSize } : null;
      updateTip();
    },
    dispose() {
      for (const o of off) o();
      tip.remove();
    },
  };
}

/** The read-out's lines for point `index`. */
function describePoint(p: Point, index: number, scored: PointLosses, regression: boolean): HTMLElement[] {
  const k = scored.k;
  const out = scored.outputs.subarray(index * k, index * k + k);
  const set = p.test ? "test" : "train";
  const lines = [h("div", { class: "nnv-point-tip-head" }, `${set} point · ${regression ? `target ${p.label.toFixed(3)}` : `class ${p.label + 1}`}`)];
  if (regression) {
    lines.push(h("div", {}, `predicted ${out[0].toFixed(3)}`));
  } else {
    const probs = Array.from(out, (v, j) => `${j + 1}: ${v.toFixed(3)}`).join("  ");
    lines.push(h("div", { class: "nnv-point-tip-probs" }, `p(class) ${probs}`));
    if (scored.wrong[index]) lines.push(h("div", { class: "nnv-point-tip-wrong" }, "misclassified"));
  }
  lines.push(h("div", { class: "nnv-point-tip-loss" }, `loss ${scored.loss[index].toFixed(4)}`));
  return lines;
}
