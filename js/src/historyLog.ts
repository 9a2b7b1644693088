// The `history` trait's bound: at most HISTORY_CAP entries. When full, every second entry is
// dropped, so the log always spans the whole run at a resolution that halves as it grows.
import type { HistoryEntry } from "./state";

export const HISTORY_CAP = 2000;

/** A new array with `entry` appended (never mutates: the model detects changes by identity). */
export function appendHistory(history: readonly HistoryEntry[], entry: HistoryEntry, cap = HISTORY_CAP): HistoryEntry[] {
  const kept = history.length >= cap ? history.filter((_, i) => i % 2 === 0) : history;
  return [...kept, entry];
}
