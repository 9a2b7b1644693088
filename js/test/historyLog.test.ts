import { describe, expect, it } from "vitest";
import { appendHistory, HISTORY_CAP } from "../src/historyLog";
import type { HistoryEntry } from "../src/state";

const entry = (step: number): HistoryEntry => ({ step, train_loss: 1 / step, test_loss: null, accuracy: null, test_accuracy: null });

describe("appendHistory", () => {
  it("appends without mutating the input", () => {
    const h = [entry(1)];
    const next = appendHistory(h, entry(2));
    expect(next.map((e) => e.step)).toEqual([1, 2]);
    expect(h).toHaveLength(1);
    expect(next).not.toBe(h);
  });

  it("caps at 2000 entries by dropping every second one when full", () => {
    let h: HistoryEntry[] = [];
    for (let s = 1; s <= HISTORY_CAP; s++) h = appendHistory(h, entry(s));
    expect(h).toHaveLength(HISTORY_CAP);
    h = appendHistory(h, entry(HISTORY_CAP + 1));
    expect(h).toHaveLength(HISTORY_CAP / 2 + 1);
    expect(h.slice(0, 3).map((e) => e.step)).toEqual([1, 3, 5]);
    expect(h[h.length - 1].step).toBe(HISTORY_CAP + 1);
  });

  it("never exceeds the cap and keeps the whole run's span", () => {
    let h: HistoryEntry[] = [];
    let longest = 0;
    for (let s = 1; s <= 10_000; s++) {
      h = appendHistory(h, entry(s), 100);
      longest = Math.max(longest, h.length);
    }
    expect(longest).toBe(100);
    expect(h[0].step).toBe(1);
    expect(h[h.length - 1].step).toBe(10_000);
    const steps = h.map((e) => e.step);
    expect([...steps].sort((a, b) => a - b)).toEqual(steps);
  });
});
