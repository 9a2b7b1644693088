// The comparison's pure parts: the verdict (the same rule as Python's), what B changed, history.
import { describe, expect, it } from "vitest";
import { appendHistory, differences, HISTORY_LIMIT, verdict } from "../src/compare/state";
import { DEFAULT_CONFIG, type HistoryEntry } from "../src/state";

const rec = (step: number, test_loss: number | null, train_loss = 1): HistoryEntry => ({ step, train_loss, test_loss, accuracy: null, test_accuracy: null });

describe("verdict", () => {
  it("names the run with the lower test loss and the step from which it led", () => {
    const a = [rec(0, 0.7), rec(10, 0.5), rec(20, 0.4)];
    const b = [rec(0, 0.7), rec(10, 0.3), rec(20, 0.2)];
    expect(verdict(a, b, "A", "B (optimizer adam)")).toBe("B (optimizer adam) reached the lower test loss: 0.2000 against 0.4000 for A, below A's best from step 10 on.");
    expect(verdict(b, a)).toMatch(/^A reached the lower test loss/);
  });

  it("falls back to the training loss without test points, and waits for both runs", () => {
    expect(verdict([rec(5, null, 0.2)], [rec(5, null, 0.3)])).toMatch(/^A reached the lower train loss/);
    expect(verdict([], [])).toBe("No train loss yet: train both runs.");
  });
});

describe("differences and history", () => {
  it("lists the settings B changed", () => {
    expect(differences(DEFAULT_CONFIG, { ...DEFAULT_CONFIG, optimizer: "adam", hidden_layers: [8], batch_size: 10 })).toBe("optimizer adam, hidden layers [8], batch size 10");
    expect(differences(DEFAULT_CONFIG, { ...DEFAULT_CONFIG })).toBe("");
  });

  it("keeps at most HISTORY_LIMIT records, halving the oldest first", () => {
    let h = Array.from({ length: HISTORY_LIMIT }, (_, i) => rec(i, 1));
    h = appendHistory(h, { train_loss: 1, test_loss: 1, accuracy: null, test_accuracy: null, global_step: HISTORY_LIMIT, epoch: 0 });
    expect(h.length).toBe(HISTORY_LIMIT / 2 + 1);
    expect(h[0].step).toBe(0);
    expect(h[h.length - 1].step).toBe(HISTORY_LIMIT);
  });
});
