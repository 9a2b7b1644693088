// Training hyperparameters. They change the next request's config only: live, no reset.
// Optimizer-specific settings are shown for the optimizers they apply to (torch semantics).
import { ACTIVATIONS, OPTIMIZERS, patchConfig, readConfig, type Optimizer, type TrainConfig, type WidgetModel } from "../state";
import { control, field, h, onModel, select, showValue, type Cleanup, type Option } from "./dom";

const ACTIVATION_LABELS: Record<string, string> = {
  relu: "ReLU",
  tanh: "Tanh",
  sigmoid: "Sigmoid",
  linear: "Linear",
  leaky_relu: "Leaky ReLU",
  elu: "ELU",
  gelu: "GELU",
  silu: "SiLU",
  sine: "Sine",
};
const OPTIMIZER_LABELS: Record<Optimizer, string> = { sgd: "SGD", adam: "Adam", adamw: "AdamW", rmsprop: "RMSprop" };

const LEARNING_RATES = [1e-5, 1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];
const PENALTIES = [0, 1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1];
const DROPOUTS = [0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];
const BATCH_SIZES = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512];

type NumberKey = "momentum" | "beta1" | "beta2" | "eps" | "alpha" | "weight_decay";

/** Optimizer settings typed as numbers: label, valid range (open or closed ends), where they apply. */
const NUMBER_PARAMS: { key: NumberKey; label: string; min: number; max: number; maxOpen: boolean; minOpen: boolean; step: number; optimizers: Optimizer[] }[] = [
  { key: "momentum", label: "Momentum", min: 0, max: 1, minOpen: false, maxOpen: true, step: 0.05, optimizers: ["sgd", "rmsprop"] },
  { key: "beta1", label: "β₁", min: 0, max: 1, minOpen: false, maxOpen: true, step: 0.01, optimizers: ["adam", "adamw"] },
  { key: "beta2", label: "β₂", min: 0, max: 1, minOpen: false, maxOpen: true, step: 0.001, optimizers: ["adam", "adamw"] },
  { key: "alpha", label: "α (smoothing)", min: 0, max: 1, minOpen: false, maxOpen: true, step: 0.01, optimizers: ["rmsprop"] },
  { key: "eps", label: "ε", min: 0, max: 1, minOpen: true, maxOpen: false, step: 1e-8, optimizers: ["adam", "adamw", "rmsprop"] },
  { key: "weight_decay", label: "Weight decay", min: 0, max: 1, minOpen: false, maxOpen: false, step: 0.001, optimizers: ["adamw"] },
];

const num = (v: number): string => String(v);
const wide = (el: HTMLElement): HTMLElement => {
  el.classList.add("nnv-field--wide");
  return el;
};
const options = (values: number[], text: (v: number) => string = num): Option[] => values.map((v) => [String(v), text(v)]);

export function mountHyperparams(model: WidgetModel, el: HTMLElement): Cleanup {
  const set = (patch: Partial<TrainConfig>) => patchConfig(model, patch);

  const lr = select(options(LEARNING_RATES), (v) => set({ learning_rate: Number(v) }));
  const optimizer = select(OPTIMIZERS.map((o): Option => [o, OPTIMIZER_LABELS[o]]), (v) => set({ optimizer: v as Optimizer }));
  const activation = select(ACTIVATIONS.map((a): Option => [a, ACTIVATION_LABELS[a]]), (v) => set({ activation: v }));
  const batch = select([["full", "Full batch"], ...options(BATCH_SIZES)], (v) => set({ batch_size: v === "full" ? null : Number(v) }));
  const l1 = select(options(PENALTIES), (v) => set({ l1: Number(v) }));
  const l2 = select(options(PENALTIES), (v) => set({ l2: Number(v) }));
  const dropout = select(options(DROPOUTS, (v) => `${Math.round(v * 100)}%`), (v) => set({ dropout: Number(v) }));

  const numbers = NUMBER_PARAMS.map((p) => {
    const input = h("input", { type: "number", class: "nnv-number", min: p.min, max: p.max, step: p.step, inputmode: "decimal" });
    const valid = (v: number) => Number.isFinite(v) && (p.minOpen ? v > p.min : v >= p.min) && (p.maxOpen ? v < p.max : v <= p.max);
    input.addEventListener("input", () => {
      const v = input.value.trim() === "" ? NaN : Number(input.value);
      const ok = valid(v);
      input.setAttribute("aria-invalid", String(!ok));
      input.title = ok ? "" : `${p.label} must be ${p.minOpen ? ">" : "≥"} ${p.min} and ${p.maxOpen ? "<" : "≤"} ${p.max}`;
      if (ok && v !== readConfig(model)[p.key]) set({ [p.key]: v });
    });
    // Leaving a field with an invalid entry shows the value in force again.
    input.addEventListener("blur", () => {
      input.value = num(readConfig(model)[p.key]);
      input.setAttribute("aria-invalid", "false");
      input.title = "";
    });
    const root = control(p.key, field(p.label, input));
    root.classList.add("nnv-field--number");
    return { ...p, input, root };
  });

  el.append(
    control("learning_rate", field("Learning rate", lr)),
    control("optimizer", field("Optimizer", optimizer)),
    ...numbers.map((n) => n.root),
    control("activation", field("Activation", activation)),
    control("batch_size", wide(field("Batch size", batch))),
    control("l1", field("L1", l1)),
    control("l2", field("L2", l2)),
    control("dropout", field("Dropout", dropout)),
  );

  const sync = () => {
    const cfg = readConfig(model);
    showValue(lr, String(cfg.learning_rate));
    optimizer.value = cfg.optimizer;
    activation.value = cfg.activation;
    showValue(batch, cfg.batch_size === null ? "full" : String(cfg.batch_size));
    showValue(l1, String(cfg.l1));
    showValue(l2, String(cfg.l2));
    showValue(dropout, String(cfg.dropout), `${Math.round(cfg.dropout * 100)}%`);
    for (const n of numbers) {
      n.root.hidden = !n.optimizers.includes(cfg.optimizer);
      // Never overwrite what the user is typing.
      if (document.activeElement !== n.input) n.input.value = num(cfg[n.key]);
    }
  };
  sync();
  return onModel(model, ["change:config"], sync);
}
