// How fast Play trains and how much Step trains (the `pace` and `step_size` traits). Pace
// belongs to the page: the server trains as fast as it is asked, and the loop asks for one
// optimizer step, one epoch or ten epochs per display frame, or as much as its time budget
// allows ("max"). Pure functions: no DOM.
import type { Point, WidgetModel } from "./state";

export const PACES = ["step", "epoch", "10_epochs", "max"] as const;
export type Pace = (typeof PACES)[number];
export const STEP_SIZES = ["step", "epoch", "10_epochs"] as const;
export type StepSize = (typeof STEP_SIZES)[number];

/** The default shows the boundary forming over a few seconds on the default setup (the
 *  circle, full batch: ten steps a frame); "max" is one click away. */
export const DEFAULT_PACE: Pace = "10_epochs";
/** TensorFlow Playground's Step is one epoch. */
export const DEFAULT_STEP_SIZE: StepSize = "epoch";

export const PACE_LABELS: Record<Pace, string> = {
  step: "1 step",
  epoch: "1 epoch",
  "10_epochs": "10 epochs",
  max: "Max",
};
export const PACE_HINTS: Record<Pace, string> = {
  step: "One optimizer step per display frame: watch every update",
  epoch: "One pass over the training points per display frame (TensorFlow Playground's pace)",
  "10_epochs": "Ten passes over the training points per display frame",
  max: "As fast as the server trains",
};
export const STEP_SIZE_LABELS: Record<StepSize, string> = { step: "1 step", epoch: "1 epoch", "10_epochs": "10 epochs" };

/** The protocol's cap on steps per request. */
const MAX_STEPS = 100_000;

export function readPace(model: WidgetModel): Pace {
  const v = model.get("pace");
  return (PACES as readonly unknown[]).includes(v) ? (v as Pace) : DEFAULT_PACE;
}

export function readStepSize(model: WidgetModel): StepSize {
  const v = model.get("step_size");
  return (STEP_SIZES as readonly unknown[]).includes(v) ? (v as StepSize) : DEFAULT_STEP_SIZE;
}

/** Optimizer steps of one epoch: the minibatches that cover the training points once. */
export function stepsPerEpoch(data: readonly Point[], batchSize: number | null): number {
  let train = 0;
  for (const p of data) if (!p.test) train++;
  if (train === 0 || batchSize === null || batchSize >= train) return 1;
  return Math.ceil(train / batchSize);
}

/** Optimizer steps of one unit ("step", "epoch", "10_epochs"), within the protocol's cap. */
export function stepsOf(unit: StepSize, data: readonly Point[], batchSize: number | null): number {
  if (unit === "step") return 1;
  const epoch = stepsPerEpoch(data, batchSize);
  return Math.min(MAX_STEPS, unit === "epoch" ? epoch : 10 * epoch);
}
