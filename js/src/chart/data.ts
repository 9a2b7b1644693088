/** The `history` trait as column arrays for drawing, kept up to date incrementally. */
import type { HistoryEntry } from "../state";

export interface ChartData {
  steps: Float64Array;
  train: Float64Array;
  test: Float64Array;
  accuracy: Float64Array;
  testAccuracy: Float64Array;
  /** Smallest positive and largest loss (for the axis). */
  lossMin: number;
  lossMax: number;
  hasAccuracy: boolean;
}

const COLUMNS = ["steps", "train", "test", "accuracy", "testAccuracy"] as const;

const num = (v: number | null | undefined): number => (typeof v === "number" ? v : NaN);

/**
 * Converts history to columns. When the new array extends the previous one (the training loop
 * appends: same first and last-seen entry objects), only the new entries are read, so a
 * change costs O(new entries) rather than O(run length).
 */
export class ChartBuilder {
  private source: readonly HistoryEntry[] = [];
  private store: Record<(typeof COLUMNS)[number], Float64Array> = fresh(64);
  private data: ChartData = this.view(0, Infinity, -Infinity, false);

  update(history: readonly HistoryEntry[]): ChartData {
    const n = history.length;
    const m = this.source.length;
    const appended = m > 0 && n >= m && history[0] === this.source[0] && history[m - 1] === this.source[m - 1];
    let from = m;
    let { lossMin, lossMax, hasAccuracy } = this.data;
    if (!appended) {
      from = 0;
      lossMin = Infinity;
      lossMax = -Infinity;
      hasAccuracy = false;
    }
    if (n > this.store.steps.length) this.grow(n, from);
    const { steps, train, test, accuracy, testAccuracy } = this.store;
    for (let i = from; i < n; i++) {
      const h = history[i];
      steps[i] = h.step;
      const tr = (train[i] = num(h.train_loss));
      const te = (test[i] = num(h.test_loss));
      accuracy[i] = num(h.accuracy);
      testAccuracy[i] = num(h.test_accuracy);
      if (tr > 0 && tr < lossMin) lossMin = tr; // NaN compares false: gaps are skipped
      if (te > 0 && te < lossMin) lossMin = te;
      if (tr > lossMax && tr < Infinity) lossMax = tr;
      if (te > lossMax && te < Infinity) lossMax = te;
      if (h.accuracy != null || h.test_accuracy != null) hasAccuracy = true;
    }
    this.source = history;
    this.data = this.view(n, lossMin, lossMax, hasAccuracy);
    return this.data;
  }

  private grow(n: number, keep: number): void {
    const next = fresh(Math.max(n, 2 * this.store.steps.length));
    for (const c of COLUMNS) next[c].set(this.store[c].subarray(0, keep));
    this.store = next;
  }

  private view(n: number, lossMin: number, lossMax: number, hasAccuracy: boolean): ChartData {
    const s = this.store;
    return {
      steps: s.steps.subarray(0, n),
      train: s.train.subarray(0, n),
      test: s.test.subarray(0, n),
      accuracy: s.accuracy.subarray(0, n),
      testAccuracy: s.testAccuracy.subarray(0, n),
      lossMin,
      lossMax,
      hasAccuracy,
    };
  }
}

function fresh(capacity: number): Record<(typeof COLUMNS)[number], Float64Array> {
  return {
    steps: new Float64Array(capacity),
    train: new Float64Array(capacity),
    test: new Float64Array(capacity),
    accuracy: new Float64Array(capacity),
    testAccuracy: new Float64Array(capacity),
  };
}
