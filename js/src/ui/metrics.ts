// Counters and live metrics (step, epoch, losses, accuracies) and the status line.
import { readConfig, readMetrics, type WidgetModel } from "../state";
import { h, onModel, type Cleanup } from "./dom";

function formatLoss(v: number | null): string {
  if (v === null || !Number.isFinite(v)) return "—";
  if (v !== 0 && Math.abs(v) < 1e-3) return v.toExponential(2);
  return Math.abs(v) < 1000 ? v.toFixed(3) : v.toPrecision(4);
}

function formatAccuracy(v: number | null): string {
  return v === null || !Number.isFinite(v) ? "—" : `${(v * 100).toFixed(1)}%`;
}

const formatCount = (v: number): string => Math.round(v).toLocaleString("en-US");
const formatEpoch = (v: number): string => (v < 100 ? v.toFixed(1) : formatCount(v));

export function mountMetrics(model: WidgetModel, el: HTMLElement): Cleanup {
  const item = (label: string, cls = "") => {
    const value = h("dd", { class: "nnv-metric-value" });
    el.append(h("div", { class: `nnv-metric ${cls}`.trim() }, h("dt", {}, label), value));
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
