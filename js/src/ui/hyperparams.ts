// Training hyperparameters, in two groups: training (learning rate, batch size, the optimizer and
// its own settings) and regularization (L1, L2, dropout). They change the next
// request's config only: live, no reset. Optimizer settings show only for the optimizers they
// apply to (torch semantics); the others keep their values, hidden.
import { OPTIMIZERS, patchConfig, readConfig, type Optimizer, type TrainConfig, type WidgetModel } from "../state";
import { CONFIG_RANGES, OPTIMIZER_INFO } from "../generated/catalog";
import { control, field, h, hint, onModel, select, showValue, uid, type Cleanup, type Option } from "./dom";
import "./hyperparams.css";

const OPTIMIZER_LABELS = Object.fromEntries(OPTIMIZERS.map((o) => [o, OPTIMIZER_INFO[o].label])) as Record<Optimizer, string>;

const LEARNING_RATES = [1e-5, 1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];
const PENALTIES = [0, 1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1];
const DROPOUTS = [0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];
const BATCH_SIZES = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512];

type NumberKey = "momentum" | "beta1" | "beta2" | "eps" | "alpha" | "weight_decay";

interface NumberParam {
  key: NumberKey;
  label: string;
  hint: string;
  min: number;
  max: number;
  minOpen: boolean;
  maxOpen: boolean;
  step: number;
  optimizers: readonly Optimizer[];
}

/** An optimizer setting's range (the protocol's), and the optimizers that read it (Python's table). */
function param(key: NumberKey, label: string, hint: string, step: number): NumberParam {
  const r = CONFIG_RANGES[key];
  const optimizers = OPTIMIZERS.filter((o) => OPTIMIZER_INFO[o].settings.includes(key));
  return { key, label, hint, step, optimizers, min: r.ge ?? r.gt ?? 0, max: r.le ?? r.lt ?? 1, minOpen: r.gt !== undefined, maxOpen: r.lt !== undefined };
}

/** Optimizer settings typed as numbers: label, valid range (open or closed ends), where they apply. */
export const NUMBER_PARAMS: readonly NumberParam[] = [
  param("momentum", "Momentum", "Share of the previous update carried into the next one", 0.05),
  param("beta1", "β₁", "Decay rate of the running average of gradients (Adam's momentum)", 0.01),
  param("beta2", "β₂", "Decay rate of the running average of squared gradients", 0.001),
  param("alpha", "α (smoothing)", "Decay rate of RMSprop's running average of squared gradients", 0.01),
  param("eps", "ε", "Added to the denominator for numerical stability", 1e-8),
  param("weight_decay", "Weight decay", "Shrinks every weight towards 0 by lr × decay each step, decoupled from the gradient", 0.001),
];

const num = (v: number): string => String(v);
const options = (values: number[], text: (v: number) => string = num): Option[] => values.map((v) => [String(v), text(v)]);
const percent = (v: number): string => `${Math.round(v * 100)}%`;

/** A titled group of fields (styles.css hides it when classroom mode hides all its fields). */
function group(title: string, fields: HTMLElement[]): HTMLElement {
  const id = uid("group");
  return h(
    "div",
    { class: "nnv-hyper-group", role: "group", "aria-labelledby": id },
    h("div", { class: "nnv-hyper-caption", id }, title),
    h("div", { class: "nnv-hyper-fields" }, ...fields),
  );
}

export function mountHyperparams(model: WidgetModel, el: HTMLElement): Cleanup {
  const set = (patch: Partial<TrainConfig>) => patchConfig(model, patch);

  const lr = select(options(LEARNING_RATES), (v) => set({ learning_rate: Number(v) }));
  const optimizer = select(OPTIMIZERS.map((o): Option => [o, OPTIMIZER_LABELS[o]]), (v) => set({ optimizer: v as Optimizer }));
  const batch = select([["full", "Full batch"], ...options(BATCH_SIZES)], (v) => set({ batch_size: v === "full" ? null : Number(v) }));
  const l1 = select(options(PENALTIES), (v) => set({ l1: Number(v) }));
  const l2 = select(options(PENALTIES), (v) => set({ l2: Number(v) }));
  const dropout = select(options(DROPOUTS, percent), (v) => set({ dropout: Number(v) }));

  const numbers = NUMBER_PARAMS.map((p) => {
    const input = h("input", { type: "number", class: "nnv-number", min: p.min, max: p.max, step: p.step, inputmode: "decimal" });
    const valid = (v: number) => Number.isFinite(v) && (p.minOpen ? v > p.min : v >= p.min) && (p.maxOpen ? v < p.max : v <= p.max);
    input.addEventListener("input", () => {
      const v = input.value.trim() === "" ? NaN : Number(input.value);
      const ok = valid(v);
      input.setAttribute("aria-invalid", String(!ok));
      // The range in the input's own title: it wins over the field's hint while the entry is wrong.
      if (ok) input.removeAttribute("title");
      else input.title = `${p.label} must be ${p.minOpen ? ">" : "≥"} ${p.min} and ${p.maxOpen ? "<" : "≤"} ${p.max}`;
      if (ok && v !== readConfig(model)[p.key]) set({ [p.key]: v });
    });
    // Leaving a field with an invalid entry shows the value in force again.
    input.addEventListener("blur", () => {
      input.value = num(readConfig(model)[p.key]);
      input.setAttribute("aria-invalid", "false");
      input.removeAttribute("title");
    });
    const root = control(p.key, hint(field(p.label, input), p.hint));
    return { ...p, input, root };
  });

  el.append(
    group("Training", [
      control("learning_rate", hint(field("Learning rate", lr), "Size of each weight update")),
      control("batch_size", hint(field("Batch size", batch), "Training points per step; a full batch uses them all")),
      control("optimizer", hint(field("Optimizer", optimizer), "How gradients turn into weight updates")),
      ...numbers.map((n) => n.root),
    ]),
    group("Regularization", [
      control("l1", hint(field("L1", l1), "Adds L1 · Σ|w| to the loss: pushes weights to exactly 0")),
      control("l2", hint(field("L2", l2), "Adds L2 · ½Σw² to the loss: keeps weights small")),
      control("dropout", hint(field("Dropout", dropout), "Share of hidden neurons switched off at random in each training step")),
    ]),
  );

  const sync = () => {
    const cfg = readConfig(model);
    showValue(lr, String(cfg.learning_rate));
    optimizer.value = cfg.optimizer;
    showValue(batch, cfg.batch_size === null ? "full" : String(cfg.batch_size));
    showValue(l1, String(cfg.l1));
    showValue(l2, String(cfg.l2));
    showValue(dropout, String(cfg.dropout), percent(cfg.dropout));
    for (const n of numbers) {
      n.root.hidden = !n.optimizers.includes(cfg.optimizer);
      // Never overwrite what the user is typing.
      if (document.activeElement !== n.input) n.input.value = num(cfg[n.key]);
    }
  };
  sync();
  return onModel(model, ["change:config"], sync);
}
