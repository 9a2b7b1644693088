// The widget's synced state: one TypeScript interface mirroring the Python traits (declared and
// documented in src/nnvisu/widget.py), the model API both hosts provide, and defaults for
// missing keys.
// Names, limits and defaults shared with Python come from generated/catalog.ts.
import {
  ACTIVATION_NAMES,
  CONFIG_DEFAULTS,
  FEATURE_NAMES,
  DATASET_DEFAULTS,
  LIMITS,
  OPTIMIZER_NAMES,
  PROBLEMS,
  VIEW_DEFAULTS,
  type FeatureName,
  type OptimizerName,
} from "./generated/catalog";
import type { ModelConfig, NetworkJSON } from "./nn/forward";
import type { Timeline } from "./history";

export type Problem = (typeof PROBLEMS)[number];

export const FEATURES = FEATURE_NAMES;
/** How the input features are shown (feature chips, the diagram's input column)... */
export const FEATURE_LABELS: Record<FeatureName, string> = {
  x: "x",
  y: "y",
  x2: "x²",
  y2: "y²",
  xy: "xy",
  sinx: "sin x",
  siny: "sin y",
};
/** ...and how accessible names say those that screen readers read inconsistently. */
export const FEATURE_SPOKEN: Record<string, string> = { x2: "x squared", y2: "y squared", xy: "x times y" };
export const ACTIVATIONS = ACTIVATION_NAMES;
export const OPTIMIZERS = OPTIMIZER_NAMES;
export type Optimizer = OptimizerName;

export const MAX_CLASSES = LIMITS.max_classes;
export const MAX_HIDDEN_LAYERS = LIMITS.max_hidden_layers;
export const MAX_NEURONS = LIMITS.max_neurons;
export const MAX_POINTS = LIMITS.max_points;
export { MAX_SEED } from "./generated/catalog";

/** A full protocol config (Python fills every key at construction). */
export interface TrainConfig extends ModelConfig {
  optimizer: Optimizer;
  learning_rate: number;
  momentum: number;
  beta1: number;
  beta2: number;
  eps: number;
  alpha: number;
  weight_decay: number;
  l1: number;
  l2: number;
  dropout: number;
  batch_size: number | null;
  steps: number;
  time_budget_ms: number | null;
  seed: number;
}

export interface Point {
  x: number;
  y: number;
  /** Class index (classification) or target value (regression). */
  label: number;
  test: boolean;
}

export interface ParamBuffers {
  weights: number[][][];
  biases: number[][];
}

export interface OptimizerState {
  optimizer: string;
  step: number;
  global_step: number;
  buffers: Record<string, ParamBuffers>;
}

export interface Metrics {
  train_loss: number | null;
  test_loss: number | null;
  accuracy: number | null;
  test_accuracy: number | null;
  global_step: number;
  epoch: number;
}

export interface HistoryEntry {
  step: number;
  train_loss: number | null;
  test_loss: number | null;
  accuracy: number | null;
  test_accuracy: number | null;
}

export interface Status {
  state: "idle" | "training" | "error";
  message: string;
}

export interface DatasetSettings {
  name: string;
  n: number;
  noise: number;
  num_classes: number;
  seed: number;
  test_ratio: number;
}

export interface ViewSettings {
  show_test: boolean;
  discretize: boolean;
  tool: "add" | "erase";
  selected_class: number;
  /** Label of new points in regression. */
  value: number;
  eraser_radius: number;
  /** Ring each point by its current loss and mark the misclassified ones (ui/pointLoss.ts). */
  point_loss: boolean;
  /** The loss chart's y axis. */
  log_scale: boolean;
}

/** Classroom mode (the `classroom` trait): a teacher hides control groups and can lock the data. */
export interface Classroom {
  /** data-control names to hide (src/nnvisu/classroom.py lists them). */
  hidden: string[];
  /** Learners cannot edit, generate or re-split the points. */
  lock_data: boolean;
}

export interface Traits {
  data: Point[];
  config: TrainConfig;
  network: NetworkJSON;
  optimizer_state: OptimizerState | Record<string, never>;
  metrics: Metrics;
  history: HistoryEntry[];
  status: Status;
  playing: boolean;
  dataset: DatasetSettings;
  view: ViewSettings;
  /** Weight snapshots across the run (history.ts keeps the decimation rule). */
  timeline: Timeline;
  /** Classroom mode: hidden control groups and a data lock (ui/classroom.ts). */
  classroom: Classroom;
  /** Two runs compared side by side (compare/state.ts); `active` false when none. */
  comparison?: import("./compare/state").Comparison;
  /** Play's pace: "step" | "epoch" | "10_epochs" | "max" (pace.ts). */
  pace: string;
  /** What one press of Step trains: "step" | "epoch" | "10_epochs". */
  step_size: string;
}

/** The part of anywidget's model API the frontend uses; the standalone host implements the same. */
export interface WidgetModel {
  get<K extends keyof Traits>(key: K): Traits[K];
  set<K extends keyof Traits>(key: K, value: Traits[K]): void;
  // `never[]` parameters accept any listener: events carry different payloads.
  on(event: string, callback: (...args: never[]) => void): void;
  off(event?: string | null, callback?: ((...args: never[]) => void) | null): void;
  save_changes(): void;
  send(content: object): void;
}

export const DEFAULT_CONFIG: TrainConfig = {
  ...CONFIG_DEFAULTS,
  features: [...CONFIG_DEFAULTS.features],
  hidden_layers: [...CONFIG_DEFAULTS.hidden_layers],
};

export const DEFAULT_METRICS: Metrics = {
  train_loss: null,
  test_loss: null,
  accuracy: null,
  test_accuracy: null,
  global_step: 0,
  epoch: 0,
};

export const DEFAULT_DATASET: DatasetSettings = { ...DATASET_DEFAULTS };

export const DEFAULT_VIEW: ViewSettings = { ...VIEW_DEFAULTS };

// Readers fill keys the model lacks (older saved notebooks, a host still starting), so the UI
// never sees undefined.
export const readConfig = (m: WidgetModel): TrainConfig => ({ ...DEFAULT_CONFIG, ...m.get("config") });
export const readMetrics = (m: WidgetModel): Metrics => ({ ...DEFAULT_METRICS, ...m.get("metrics") });
export const readDataset = (m: WidgetModel): DatasetSettings => ({ ...DEFAULT_DATASET, ...m.get("dataset") });
export const readView = (m: WidgetModel): ViewSettings => ({ ...DEFAULT_VIEW, ...m.get("view") });
export const readData = (m: WidgetModel): Point[] => m.get("data") ?? [];
export const readHistory = (m: WidgetModel): HistoryEntry[] => m.get("history") ?? [];

/** Set and sync one trait: discrete user edits go straight to the kernel. */
export function commit<K extends keyof Traits>(m: WidgetModel, key: K, value: Traits[K]): void {
  m.set(key, value);
  m.save_changes();
}

/** Merge a patch into the config (or view) trait and sync it. */
export function patchConfig(m: WidgetModel, patch: Partial<TrainConfig>): void {
  commit(m, "config", { ...readConfig(m), ...patch });
}

export function patchView(m: WidgetModel, patch: Partial<ViewSettings>): void {
  commit(m, "view", { ...readView(m), ...patch });
}

/** Show a failed request in the status line; `source` starts the message and names who failed. */
export function showError(m: WidgetModel, source: string, detail: string): void {
  commit(m, "status", { state: "error", message: `${source}: ${detail}` });
}

/** Take down an error `source` showed, once that source succeeds again. */
export function clearError(m: WidgetModel, source: string): void {
  const status = m.get("status");
  if (status?.state === "error" && status.message.startsWith(`${source}:`)) {
    commit(m, "status", { state: m.get("playing") ? "training" : "idle", message: "" });
  }
}

/** The fields that fix the network's shapes: an edit to any of them needs a new network. */
export function architectureKey(cfg: ModelConfig): string {
  const outputs = cfg.problem === "classification" ? cfg.num_classes : 1;
  return JSON.stringify([cfg.features, cfg.hidden_layers, cfg.problem, outputs]);
}
