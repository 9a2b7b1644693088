// Counters and live metrics (step, epoch, losses, accuracies) and the status line.
import { readConfig, readMetrics, type WidgetModel } from "../state";
import { h, onModel, type Cleanup } from "./dom";
import "./metrics.css";

/** A loss in 3 significant digits and at most 7 characters, so the header never reflows while
 *  training: 0.693, 0.00257, 12.3, 1234, 7.02e-6. */
export function formatLoss(v: number | null): string {
  if (v === null || !Number.isFinite(v)) return "—";
  if (v === 0) return "0";
  const a = Math.abs(v);
  // toPrecision(3) turns to exponents from 999.5 up: whole numbers read better there.
  if (a >= 999.5 && a < 99_999.5) return String(Math.round(v));
  if (a >= 1e-3 && a < 999.5) return v.toPrecision(3);
  return v.toExponential(2).replace("e+", "e");
}

export function formatAccuracy(v: number | null): string {
  return v === null || !Number.isFinite(v) ? "—" : `${(v * 100).toFixed(1)}%`;
}

const formatCount = (v: number): string => Math.round(v).toLocaleString("en-US");
export const formatEpoch = (v: number): string => (v < 100 ? v.toFixed(1) : formatCount(v));

const HINTS: Record<string, string> = {
  Step: "Weight updates so far",
  Epoch: "Passes through the training points so far",
  "Train loss": "Loss on the training points (without the regularization penalty)",
  "Test loss": "Loss on the held-out test points, never trained on",
  "Train accuracy": "Share of training points classified correctly",
  "Test accuracy": "Share of test points classified correctly",
};

export function mountMetrics(model: WidgetModel, el: HTMLElement): Cleanup {
  const item = (label: string, cls = "") => {
    const value = h("dd", { class: "nnv-metric-value" });
    el.append(h("div", { class: `nnv-metric ${cls}`.trim(), title: HINTS[label] }, h("dt", {}, label), value));
    return value;
  };
  const step = item("Step");
  const epoch = item("Epoch");
  const trainLoss = item("Train loss", "nnv-metric--train");
  const testLoss = item("Test loss", "nnv-metric--test");
  const trainAcc = item("Train accuracy", "nnv-metric--train");
  const testAcc = item("Test accuracy", "nnv-metric--test");
  const accuracyItems = [trainAcc.parentElement!, testAcc.parentElement!];

  const sync = () => {
    const m = readMetrics(model);
    step.textContent = formatCount(m.global_step);
    epoch.textContent = formatEpoch(m.epoch);
    trainLoss.textContent = formatLoss(m.train_loss);
    testLoss.textContent = formatLoss(m.test_loss);
    trainAcc.textContent = formatAccuracy(m.accuracy);
    testAcc.textContent = formatAccuracy(m.test_accuracy);
    const regression = readConfig(model).problem === "regression";
    for (const node of accuracyItems) node.hidden = regression;
  };
  sync();
  return onModel(model, ["change:metrics", "change:config"], sync);
}

/** The status line: errors in plain words, announced politely to screen readers. */
export function mountStatus(model: WidgetModel, el: HTMLElement): Cleanup {
  el.setAttribute("role", "status");
  el.setAttribute("aria-live", "polite");
  const sync = () => {
    const status = model.get("status") ?? { state: "idle", message: "" };
    el.textContent = status.message;
    el.classList.toggle("nnv-status--error", status.state === "error");
  };
  sync();
  return onModel(model, ["change:status"], sync);
}
