// Under the loss chart: how the loss is spread over the points, train against test, from the
// network the map draws (the live one, or the timeline's preview). Each set's bars are fractions
// of its own points, so a test set of another size compares fairly; losses past the last bin's
// edge count in the last bin. Redraws at most every REDRAW_GAP_MS while training.
import { networkMatches, type NetworkJSON } from "../nn/forward";
import { pointLosses, type PointInput, type PointLosses } from "../nn/pointLoss";
import { REDRAW_GAP_MS, Redraw, setText } from "../chart/redraw";
import { readConfig, readData, type WidgetModel } from "../state";
import { h, onModel, type Cleanup } from "./dom";
import { PREVIEW_NETWORK, listen, type PreviewDetail } from "./network/events";
import { RING_LOSS_CAP } from "./pointLoss";
import "./lossHistogram.css";

export const HISTOGRAM_BINS = 16;

export interface Histogram {
  /** Upper edge of the last bin (losses beyond it count there). */
  hi: number;
  train: number[];
  test: number[];
  trainCount: number;
  testCount: number;
  trainWrong: number;
  testWrong: number;
}

/** Bin the points' losses into `bins` bins over [0, hi], train and test apart. */
export function lossHistogram(scored: PointLosses, data: readonly PointInput[], regression: boolean, bins = HISTOGRAM_BINS): Histogram {
  let hi = RING_LOSS_CAP * 1.5;
  if (regression) {
    hi = 0;
    for (let i = 0; i < scored.n; i++) hi = Math.max(hi, scored.loss[i]);
    hi = hi > 0 ? hi : 1;
  }
  const out: Histogram = { hi, train: new Array<number>(bins).fill(0), test: new Array<number>(bins).fill(0), trainCount: 0, testCount: 0, trainWrong: 0, testWrong: 0 };
  for (let i = 0; i < scored.n; i++) {
    const bin = Math.min(bins - 1, Math.floor((scored.loss[i] / hi) * bins));
    if (data[i].test) {
      out.test[bin]++;
      out.testCount++;
      out.testWrong += scored.wrong[i];
    } else {
      out.train[bin]++;
      out.trainCount++;
      out.trainWrong += scored.wrong[i];
    }
  }
  return out;
}

export function mountLossHistogram(model: WidgetModel, el: HTMLElement): Cleanup {
  const canvas = h("canvas", { class: "nnv-losshist-plot", role: "img", "aria-label": "Histogram of the loss of each point, train and test" });
  const caption = h("p", { class: "nnv-losshist-caption" });
  el.classList.add("nnv-losshist");
  el.append(
    h(
      "div",
      { class: "nnv-losshist-head" },
      h("span", { class: "nnv-losshist-title" }, "Loss per point"),
      h("span", { class: "nnv-curves-key nnv-curves-key-train" }, "train"),
      h("span", { class: "nnv-curves-key nnv-curves-key-test" }, "test"),
    ),
    canvas,
    caption,
  );
  let preview: NetworkJSON | null = null;

  const draw = (): void => {
    const cfg = readConfig(model);
    const net = preview && networkMatches(preview, cfg) ? preview : model.get("network");
    const data = readData(model);
    const scored = pointLosses(net, cfg, data);
    const ctx = canvas.getContext("2d");
    const width = canvas.clientWidth || 300;
    const height = canvas.clientHeight || 70;
    const dpr = window.devicePixelRatio || 1;
    if (canvas.width !== Math.round(width * dpr)) canvas.width = Math.round(width * dpr);
    if (canvas.height !== Math.round(height * dpr)) canvas.height = Math.round(height * dpr);
    if (!ctx) return;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, width, height);
    if (!scored || scored.n === 0) {
      setText(caption, "No points to score.");
      return;
    }
    const regression = cfg.problem === "regression";
    const hist = lossHistogram(scored, data, regression);
    const style = getComputedStyle(el);
    const colour = (name: string, fallback: string) => style.getPropertyValue(name).trim() || fallback;
    const train = colour("--nnv-train", colour("--nnv-fg", "#1f2328"));
    const test = colour("--nnv-test", "#7c3aed");
    const axis = colour("--nnv-fg-muted", "#57606a");
    const bins = hist.train.length;
    const plotH = height - 14;
    const slot = width / bins;
    const peak = Math.max(1e-9, ...hist.train.map((c) => c / Math.max(1, hist.trainCount)), ...hist.test.map((c) => c / Math.max(1, hist.testCount)));
    const bar = (counts: number[], total: number, offset: number, fill: string) => {
      ctx.fillStyle = fill;
      counts.forEach((c, b) => {
        if (!c) return;
        const barH = Math.max(1, (c / total / peak) * (plotH - 2));
        ctx.fillRect(b * slot + offset, plotH - barH, slot * 0.42, barH);
      });
    };
    if (hist.trainCount) bar(hist.train, hist.trainCount, slot * 0.06, train);
    if (hist.testCount) bar(hist.test, hist.testCount, slot * 0.52, test);
    ctx.fillStyle = axis;
    ctx.fillRect(0, plotH, width, 1);
    ctx.font = "10px system-ui, sans-serif";
    ctx.textBaseline = "bottom";
    ctx.textAlign = "left";
    ctx.fillText("0", 0, height);
    ctx.textAlign = "right";
    ctx.fillText(`≥ ${hist.hi.toPrecision(2)}`, width, height);
    const sums = [0, 0]; // train, test
    for (let i = 0; i < scored.n; i++) sums[data[i].test ? 1 : 0] += scored.loss[i];
    const part = (name: string, count: number, wrong: number, sum: number) => {
      if (!count) return `no ${name} points`;
      const mean = (sum / count).toFixed(3);
      return regression ? `${name}: mean loss ${mean}` : `${name}: ${wrong} of ${count} misclassified, mean loss ${mean}`;
    };
    setText(caption, `${part("train", hist.trainCount, hist.trainWrong, sums[0])} · ${part("test", hist.testCount, hist.testWrong, sums[1])}`);
    canvas.dataset.train = hist.train.join(",");
    canvas.dataset.test = hist.test.join(",");
  };
  const redraw = new Redraw(draw, REDRAW_GAP_MS);
  const resize = typeof ResizeObserver === "function" ? new ResizeObserver(() => redraw.soon()) : null;
  resize?.observe(canvas);
  const off = [
    onModel(model, ["change:network", "change:data"], () => redraw.request()),
    onModel(model, ["change:config"], () => redraw.soon()),
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
