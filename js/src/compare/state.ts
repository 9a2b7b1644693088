// The `comparison` trait: two runs of the same points from the same seed, trained in lockstep by
// compare_step requests (docs/protocol.md). Run 0 is the setup the learner had when they pressed
// Compare, run 1 the copy they change; the widget's own network is left alone.
import type { NetworkJSON } from "../nn/forward";
import type { HistoryEntry, Metrics, OptimizerState, TrainConfig, WidgetModel } from "../state";

export interface CompareRun {
  config: TrainConfig;
  network: NetworkJSON;
  optimizer_state: OptimizerState;
  metrics: Metrics;
  history: HistoryEntry[];
}

export interface Comparison {
  active: boolean;
  playing: boolean;
  runs: CompareRun[];
}

export const NO_COMPARISON: Comparison = { active: false, playing: false, runs: [] };
/** The most history records a run keeps; beyond it every other one is dropped (as Python does). */
export const HISTORY_LIMIT = 2000;

export function readComparison(m: WidgetModel): Comparison {
  const c = m.get("comparison");
  return c && c.active && Array.isArray(c.runs) && c.runs.length === 2 ? c : NO_COMPARISON;
}

export function writeComparison(m: WidgetModel, c: Comparison): void {
  m.set("comparison", c);
  m.save_changes();
}

/** `history` plus a record of a reply's metrics, halved when over the limit. */
export function appendHistory(history: HistoryEntry[], m: Metrics): HistoryEntry[] {
  const next = [...history, { step: m.global_step, train_loss: m.train_loss, test_loss: m.test_loss, accuracy: m.accuracy, test_accuracy: m.test_accuracy }];
  return next.length > HISTORY_LIMIT ? next.filter((_, i) => i % 2 === 0) : next;
}

/** The settings in which `b` differs from `a`, in words ("optimizer adam, l2 0.01"). */
export function differences(a: TrainConfig, b: TrainConfig): string {
  const keys = ["optimizer", "learning_rate", "momentum", "activation", "hidden_layers", "features", "l1", "l2", "dropout", "batch_size"] as const;
  const show = (v: unknown) => (Array.isArray(v) ? `[${v.join(", ")}]` : v === null ? "full batch" : String(v));
  return keys
    .filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]))
    .map((k) => `${k.replace("_", " ")} ${show(b[k])}`)
    .join(", ");
}

function lowest(history: HistoryEntry[], key: "test_loss" | "train_loss"): number | null {
  let best: number | null = null;
  for (const r of history) if (r[key] !== null && (best === null || (r[key] as number) < best)) best = r[key];
  return best;
}

/**
 * One line: which run reached the lower test loss (the training loss without test points), by
 * how much, and from which step on it stayed below the other's best. The same rule as Python's
 * `Comparison.verdict`.
 */
export function verdict(a: HistoryEntry[], b: HistoryEntry[], nameA = "A", nameB = "B"): string {
  const key = lowest(a, "test_loss") !== null ? "test_loss" : "train_loss";
  const bestA = lowest(a, key);
  const bestB = lowest(b, key);
  const label = key.replace("_", " ");
  if (bestA === null || bestB === null) return `No ${label} yet: train both runs.`;
  if (bestA === bestB) return `${nameA} and ${nameB} reached the same lowest ${label}, ${bestA.toPrecision(4)}.`;
  const [winner, loser, history, bar] = bestA < bestB ? [nameA, nameB, a, bestB] : [nameB, nameA, b, bestA];
  const when = history.find((r) => r[key] !== null && (r[key] as number) < bar)?.step ?? 0;
  return `${winner} reached the lower ${label}: ${Math.min(bestA, bestB).toPrecision(4)} against ${Math.max(bestA, bestB).toPrecision(4)} for ${loser}, below ${loser}'s best from step ${when} on.`;
}
