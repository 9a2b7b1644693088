// @vitest-environment jsdom
// The settings controls against the fake model: optimizer settings shown only where they apply
// (and not brought back by classroom mode), number entry, grouping, the activation beside the
// architecture, and the metrics header's fixed-width number formats.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_CONFIG, readConfig } from "../src/state";
import { mountArchitecture } from "../src/ui/architecture";
import { applyClassroom } from "../src/ui/classroom";
import { mountHyperparams, NUMBER_PARAMS } from "../src/ui/hyperparams";
import { formatLoss, mountMetrics } from "../src/ui/metrics";
import { FakeModel } from "./fakeModel";

let model: FakeModel;
let root: HTMLDivElement;
let cleanup: () => void;

beforeEach(() => {
  model = new FakeModel({ config: { ...DEFAULT_CONFIG, optimizer: "adam" } });
  root = document.createElement("div");
  root.className = "nnvisu";
  document.body.append(root);
});

afterEach(() => {
  cleanup();
  root.remove();
});

/** The control a label names, as a user (or a screen reader) finds it. */
function byLabel<T extends HTMLElement>(text: string): T {
  const label = [...root.querySelectorAll("label")].find((l) => l.textContent === text);
  if (!label) throw new Error(`no label ${text}`);
  return root.querySelector<T>(`#${label.htmlFor}`)!;
}

const group = (name: string) => root.querySelector<HTMLElement>(`[data-control="${name}"]`)!;
const applicable = (name: string) => !group(name).hidden;
const shown = () => NUMBER_PARAMS.filter((p) => applicable(p.key)).map((p) => p.key);

function choose(select: HTMLSelectElement, value: string): void {
  select.value = value;
  select.dispatchEvent(new Event("change"));
}

describe("training settings", () => {
  beforeEach(() => {
    cleanup = mountHyperparams(model, root);
  });

  it("shows only the chosen optimizer's settings and keeps the others' values", () => {
    expect(shown()).toEqual(["beta1", "beta2", "eps"]);
    choose(byLabel("Optimizer"), "sgd");
    expect(readConfig(model).optimizer).toBe("sgd");
    expect(shown()).toEqual(["momentum"]);
    choose(byLabel("Optimizer"), "rmsprop");
    expect(shown()).toEqual(["momentum", "alpha", "eps"]);
    choose(byLabel("Optimizer"), "adamw");
    expect(shown()).toEqual(["beta1", "beta2", "eps", "weight_decay"]);
    expect(readConfig(model).beta1).toBe(DEFAULT_CONFIG.beta1);
    expect(byLabel<HTMLInputElement>("Momentum").value).toBe(String(DEFAULT_CONFIG.momentum));
  });

  it("classroom mode does not bring back a setting the optimizer does not use", () => {
    applyClassroom(root, { hidden: ["l1"], lock_data: false });
    applyClassroom(root, { hidden: [], lock_data: false });
    expect(shown()).toEqual(["beta1", "beta2", "eps"]);
  });

  it("puts the settings in two titled groups", () => {
    const groups = [...root.querySelectorAll<HTMLElement>("[role=group]")];
    const title = (g: HTMLElement) => document.getElementById(g.getAttribute("aria-labelledby")!)?.textContent;
    expect(groups.map(title)).toEqual(["Training", "Regularization"]);
    const names = (g: HTMLElement) => [...g.querySelectorAll<HTMLElement>("[data-control]")].map((c) => c.dataset.control);
    expect(names(groups[0])).toEqual(["learning_rate", "batch_size", "optimizer", ...NUMBER_PARAMS.map((p) => p.key)]);
    expect(names(groups[1])).toEqual(["l1", "l2", "dropout"]);
  });

  it("takes a valid number as typed, flags an invalid one and restores it on leaving", () => {
    const beta2 = byLabel<HTMLInputElement>("β₂");
    beta2.focus();
    beta2.value = "0.99";
    beta2.dispatchEvent(new Event("input"));
    expect(readConfig(model).beta2).toBe(0.99);
    beta2.value = "1.5";
    beta2.dispatchEvent(new Event("input"));
    expect(beta2.getAttribute("aria-invalid")).toBe("true");
    expect(beta2.title).toMatch(/β₂ must be ≥ 0 and < 1/);
    expect(readConfig(model).beta2).toBe(0.99);
    beta2.dispatchEvent(new Event("blur"));
    expect(beta2.value).toBe("0.99");
    expect(beta2.getAttribute("aria-invalid")).toBe("false");
  });

  it("explains every setting on hover", () => {
    for (const field of root.querySelectorAll<HTMLElement>(".nnv-field")) expect(field.title).not.toBe("");
  });
});

describe("architecture", () => {
  beforeEach(() => {
    cleanup = mountArchitecture(model, root);
  });

  it("holds the activation, in sync with the config both ways", () => {
    const activation = byLabel<HTMLSelectElement>("Activation");
    expect(activation.closest("[data-control]")?.getAttribute("data-control")).toBe("activation");
    expect(activation.value).toBe("tanh");
    choose(activation, "relu");
    expect(readConfig(model).activation).toBe("relu");
    model.set("config", { ...readConfig(model), activation: "gelu" });
    expect(activation.value).toBe("gelu");
  });
});

describe("metrics", () => {
  beforeEach(() => {
    cleanup = mountMetrics(model, root);
  });

  it("formats losses in 3 significant digits and at most 7 characters", () => {
    const cases: [number | null, string][] = [
      [null, "—"],
      [0, "0"],
      [0.6931, "0.693"],
      [0.002571, "0.00257"],
      [7.0234e-6, "7.02e-6"],
      [0.00099996, "1.00e-3"],
      [12.345, "12.3"],
      [999.7, "1000"],
      [12345.6, "12346"],
      [2.5e7, "2.50e7"],
    ];
    for (const [v, text] of cases) expect(formatLoss(v)).toBe(text);
    for (let e = -9; e <= 9; e += 0.37) expect(formatLoss(1.2345 * 10 ** e).length).toBeLessThanOrEqual(7);
  });

  it("shows the live values and hides accuracy for regression", () => {
    model.set("metrics", { train_loss: 7.02e-6, test_loss: 0.00257, accuracy: 1, test_accuracy: 0.9833, global_step: 18460, epoch: 1846 });
    const values = [...root.querySelectorAll("dd")].map((d) => d.textContent);
    expect(values).toEqual(["18,460", "1,846", "7.02e-6", "0.00257", "100.0%", "98.3%"]);
    model.set("config", { ...readConfig(model), problem: "regression" });
    expect([...root.querySelectorAll<HTMLElement>(".nnv-metric")].map((m) => m.hidden)).toEqual([false, false, false, false, true, true]);
  });
});
