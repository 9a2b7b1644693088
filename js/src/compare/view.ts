// "Compare": duplicate the current setup into a second run, change what you want on either side,
// and train both in lockstep on the same points from the same seed. Two maps side by side, one
// chart with both runs' curves, and a one-line verdict. Any setting of either run may change
// while they play (a change of layers or inputs rebuilds that run's network, keeping the weights
// it shares, as the main view does).
import { ACTIVATION_INFO, ACTIVATION_NAMES, CONFIG_RANGES, OPTIMIZER_INFO, OPTIMIZER_NAMES } from "../generated/catalog";
import { Redraw, setText } from "../chart/redraw";
import type { Requester } from "../protocolClient";
import { architectureKey, commit, readConfig, readData, readView, showError, type TrainConfig, type WidgetModel } from "../state";
import { button, h, onModel, type Cleanup } from "../ui/dom";
import { CompareLoop } from "./loop";
import { drawCompareChart, drawRunMap, RUN_COLOURS } from "./draw";
import { differences, readComparison, verdict, writeComparison, type CompareRun, type Comparison } from "./state";
import "./compare.css";

const SOURCE = "Compare";
const RUN_NAMES = ["A", "B"] as const;

/** Fresh runs of `configs`, each from its config's seeded network. */
async function freshRuns(client: Requester, configs: TrainConfig[]): Promise<CompareRun[]> {
  return Promise.all(
    configs.map(async (config) => {
      const init = await client.request({ type: "init_network", config });
      const metrics = { train_loss: null, test_loss: null, accuracy: null, test_accuracy: null, global_step: 0, epoch: 0 };
      return { config, network: init.network, optimizer_state: init.optimizer_state, metrics, history: [] };
    }),
  );
}

interface Field {
  root: HTMLElement;
  show(cfg: TrainConfig): void;
}

/** One run's settings: every change goes through `apply` as a config patch. */
function settingsForm(index: number, apply: (patch: Partial<TrainConfig>) => void): { root: HTMLElement; show(cfg: TrainConfig): void } {
  const label = (text: string, control: HTMLElement) => h("label", { class: "nnv-compare-field" }, h("span", {}, text), control);
  const fields: Field[] = [];
  const choice = (name: "optimizer" | "activation", text: string, options: readonly (readonly [string, string])[]) => {
    const el = h("select", { class: "nnv-select", "aria-label": `${text} of run ${RUN_NAMES[index]}` }, ...options.map(([v, t]) => h("option", { value: v }, t)));
    el.addEventListener("change", () => apply({ [name]: el.value } as Partial<TrainConfig>));
    fields.push({ root: label(text, el), show: (cfg) => void (el.value = String(cfg[name])) });
  };
  const number = (name: "learning_rate" | "momentum" | "l1" | "l2" | "dropout", text: string) => {
    const range = CONFIG_RANGES[name];
    const el = h("input", { type: "number", step: "any", class: "nnv-compare-number", "aria-label": `${text} of run ${RUN_NAMES[index]}`, min: range.ge ?? range.gt ?? "", max: range.le ?? range.lt ?? "" });
    el.addEventListener("change", () => {
      const v = Number(el.value);
      const ok = el.value !== "" && Number.isFinite(v) && (range.gt === undefined || v > range.gt) && (range.ge === undefined || v >= range.ge) && (range.lt === undefined || v < range.lt) && (range.le === undefined || v <= range.le);
      el.setAttribute("aria-invalid", ok ? "false" : "true");
      if (ok) apply({ [name]: v } as Partial<TrainConfig>);
    });
    fields.push({ root: label(text, el), show: (cfg) => void (document.activeElement !== el && (el.value = String(cfg[name]))) });
  };
  const list = (name: "hidden_layers" | "features", text: string, parse: (s: string) => unknown[] | null) => {
    const el = h("input", { type: "text", class: "nnv-compare-text", "aria-label": `${text} of run ${RUN_NAMES[index]}` });
    el.addEventListener("change", () => {
      const v = parse(el.value);
      el.setAttribute("aria-invalid", v ? "false" : "true");
      if (v) apply({ [name]: v } as Partial<TrainConfig>);
    });
    fields.push({ root: label(text, el), show: (cfg) => void (document.activeElement !== el && (el.value = (cfg[name] as unknown[]).join(", "))) });
  };
  const batch = h("input", { type: "number", min: 1, max: 10000, step: 1, placeholder: "full", class: "nnv-compare-number", "aria-label": `Batch size of run ${RUN_NAMES[index]}` });
  batch.addEventListener("change", () => {
    const v = batch.value === "" ? null : Number(batch.value);
    const ok = v === null || (Number.isInteger(v) && v >= 1 && v <= 10000);
    batch.setAttribute("aria-invalid", ok ? "false" : "true");
    if (ok) apply({ batch_size: v });
  });
  choice("optimizer", "Optimizer", OPTIMIZER_NAMES.map((n) => [n, OPTIMIZER_INFO[n].label] as const));
  number("learning_rate", "Learning rate");
  number("momentum", "Momentum");
  choice("activation", "Activation", ACTIVATION_NAMES.map((n) => [n, ACTIVATION_INFO[n].label] as const));
  list("hidden_layers", "Hidden layers", (s) => {
    const parts = s.split(/[\s,]+/).filter(Boolean).map(Number);
    return parts.length <= 8 && parts.every((n) => Number.isInteger(n) && n >= 1 && n <= 64) ? parts : null;
  });
  list("features", "Inputs", (s) => {
    const parts = s.split(/[\s,]+/).filter(Boolean);
    const known = ["x", "y", "x2", "y2", "xy", "sinx", "siny"];
    return parts.length > 0 && parts.every((p) => known.includes(p)) && new Set(parts).size === parts.length ? parts : null;
  });
  number("l1", "L1");
  number("l2", "L2");
  number("dropout", "Dropout");
  fields.push({ root: label("Batch size", batch), show: (cfg) => void (document.activeElement !== batch && (batch.value = cfg.batch_size === null ? "" : String(cfg.batch_size))) });
  return { root: h("div", { class: "nnv-compare-settings" }, ...fields.map((f) => f.root)), show: (cfg) => fields.forEach((f) => f.show(cfg)) };
}

export function mountCompare(model: WidgetModel, el: HTMLElement, client: Requester): Cleanup {
  const loop = new CompareLoop(model, client);
  const start = button("Compare", { class: "nnv-button", title: "Train a copy of this setup with other settings, side by side" }, () => void begin());
  const intro = h("div", { class: "nnv-compare-intro" }, start, h("span", { class: "nnv-compare-hint" }, "Duplicate this setup into a second run, change its settings, and train both side by side on the same points from the same seed."));

  const play = button("Play both", { class: "nnv-button nnv-button--primary", "aria-pressed": "false" }, () => {
    const c = readComparison(model);
    if (!c.active) return;
    if (!c.playing && model.get("playing")) commit(model, "playing", false); // one trainer at a time
    writeComparison(model, { ...c, playing: !c.playing });
  });
  const restart = button("Restart both", { class: "nnv-button", title: "Both runs again from their seeded start" }, () => void restartRuns());
  const close = button("Close", { class: "nnv-button nnv-button--quiet", title: "End the comparison" }, () => writeComparison(model, { active: false, playing: false, runs: [] }));

  const sides = [0, 1].map((i) => {
    const canvas = h("canvas", { class: "nnv-compare-map", role: "img", "aria-label": `Decision map of run ${RUN_NAMES[i]}` });
    const title = h("h4", { class: "nnv-compare-title", style: `color:${RUN_COLOURS[i]}` });
    const stats = h("p", { class: "nnv-compare-stats" });
    const form = settingsForm(i, (patch) => void change(i, patch));
    const root = h("div", { class: "nnv-compare-side", "data-run": i }, title, canvas, stats, h("details", { class: "nnv-compare-details", open: i === 1 }, h("summary", {}, "Settings"), form.root));
    return { root, canvas, title, stats, form };
  });
  const chart = h("canvas", { class: "nnv-compare-chart", role: "img", "aria-label": "Loss and accuracy of both runs" });
  const legend = h(
    "p",
    { class: "nnv-compare-legend" },
    ...RUN_NAMES.map((n, i) => h("span", { style: `color:${RUN_COLOURS[i]}` }, `■ ${n}`)),
    " — solid: test loss · dashed: train loss · thin: accuracy (right axis)",
  );
  const verdictLine = h("p", { class: "nnv-compare-verdict", role: "status" });
  const body = h(
    "div",
    { class: "nnv-compare-body" },
    h("div", { class: "nnv-compare-bar" }, play, restart, close),
    h("div", { class: "nnv-compare-sides" }, ...sides.map((s) => s.root)),
    chart,
    legend,
    verdictLine,
  );
  el.classList.add("nnv-compare");
  el.append(h("h3", { class: "nnv-panel-title" }, "Compare two runs"), intro, body);

  async function begin(): Promise<void> {
    const config = readConfig(model);
    try {
      const runs = await freshRuns(client, [config, { ...config }]);
      if (model.get("playing")) commit(model, "playing", false);
      writeComparison(model, { active: true, playing: false, runs });
    } catch (err) {
      showError(model, SOURCE, err instanceof Error ? err.message : String(err));
    }
  }

  async function restartRuns(): Promise<void> {
    const c = readComparison(model);
    if (!c.active) return;
    try {
      const runs = await freshRuns(client, c.runs.map((r) => r.config));
      writeComparison(model, { ...readComparison(model), runs });
    } catch (err) {
      showError(model, SOURCE, err instanceof Error ? err.message : String(err));
    }
  }

  async function change(index: number, patch: Partial<TrainConfig>): Promise<void> {
    const c = readComparison(model);
    if (!c.active) return;
    const run = c.runs[index];
    const config = { ...run.config, ...patch };
    let next: CompareRun = { ...run, config };
    if (architectureKey(config) !== architectureKey(run.config)) {
      // New layers or inputs: a network of the new shape keeping the weights both share.
      try {
        const init = await client.request({ type: "init_network", config, network: run.network, previous_features: run.config.features });
        next = { ...next, network: init.network, optimizer_state: { ...init.optimizer_state, global_step: run.optimizer_state.global_step } };
      } catch (err) {
        showError(model, SOURCE, err instanceof Error ? err.message : String(err));
        return;
      }
    }
    const now = readComparison(model);
    if (!now.active) return;
    writeComparison(model, { ...now, runs: now.runs.map((r, i) => (i === index ? { ...next, metrics: r.metrics, history: r.history } : r)) });
  }

  const draw = (): void => {
    const c: Comparison = readComparison(model);
    intro.hidden = c.active;
    body.hidden = !c.active;
    el.dataset.active = String(c.active);
    if (!c.active) return;
    const data = readData(model);
    const showTest = readView(model).show_test;
    const changed = differences(c.runs[0].config, c.runs[1].config);
    sides.forEach((side, i) => {
      const run = c.runs[i];
      setText(side.title, i === 0 ? "A · this setup" : `B · ${changed || "same settings: change some below"}`);
      drawRunMap(side.canvas, run, data, showTest);
      const m = run.metrics;
      const fmt = (v: number | null, pct = false) => (v === null ? "–" : pct ? `${(100 * v).toFixed(1)}%` : v.toFixed(4));
      setText(side.stats, `step ${m.global_step} · train loss ${fmt(m.train_loss)} · test loss ${fmt(m.test_loss)}${m.accuracy === null ? "" : ` · test accuracy ${fmt(m.test_accuracy, true)}`}`);
      side.stats.dataset.testLoss = m.test_loss === null ? "" : String(m.test_loss);
      side.form.show(run.config);
    });
    drawCompareChart(chart, c.runs, getComputedStyle(el).getPropertyValue("--nnv-fg-muted").trim() || "#57606a");
    setText(verdictLine, verdict(c.runs[0].history, c.runs[1].history, "A", changed ? `B (${changed})` : "B"));
    setText(play, c.playing ? "Pause both" : "Play both");
    play.setAttribute("aria-pressed", String(c.playing));
  };
  const redraw = new Redraw(draw, 50);
  const off = [
    onModel(model, ["change:comparison", "change:data", "change:view"], () => redraw.request()),
    // Play in the main view takes over: one trainer at a time.
    onModel(model, ["change:playing"], () => {
      const c = readComparison(model);
      if (model.get("playing") && c.playing) writeComparison(model, { ...c, playing: false });
    }),
  ];
  redraw.soon();
  return () => {
    redraw.cancel();
    loop.dispose();
    for (const o of off) o();
    el.replaceChildren();
  };
}
