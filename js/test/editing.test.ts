import { describe, expect, it } from "vitest";
import { newPoint, withoutNear, withPoint } from "../src/ui/editing";
import { MAX_POINTS, type Point } from "../src/state";

const cfg = { problem: "classification" as const, num_classes: 3 };
const view = { selected_class: 2, value: -0.4 };

describe("point editing", () => {
  it("new points take the selected class, clamped to the class count and the map", () => {
    expect(newPoint(0.3, 1.4, cfg, view, { test_ratio: 0 }, () => 0.5)).toEqual({ x: 0.3, y: 1, label: 2, test: false });
    expect(newPoint(0, 0, { ...cfg, num_classes: 2 }, view, { test_ratio: 0 }, () => 0.5).label).toBe(1);
  });

  it("regression points take the picked value", () => {
    expect(newPoint(0, 0, { problem: "regression", num_classes: 2 }, view, { test_ratio: 0 }, () => 0.5).label).toBe(-0.4);
  });

  it("a new point is a test point with probability test_ratio", () => {
    expect(newPoint(0, 0, cfg, view, { test_ratio: 0.3 }, () => 0.29).test).toBe(true);
    expect(newPoint(0, 0, cfg, view, { test_ratio: 0.3 }, () => 0.3).test).toBe(false);
    let tests = 0;
    let seed = 1;
    const rng = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    for (let i = 0; i < 4000; i++) tests += newPoint(0, 0, cfg, view, { test_ratio: 0.25 }, rng).test ? 1 : 0;
    expect(tests / 4000).toBeGreaterThan(0.22);
    expect(tests / 4000).toBeLessThan(0.28);
  });

  it("erasing removes points within the radius only, and returns the same list when nothing is near", () => {
    const data: Point[] = [
      { x: 0, y: 0, label: 0, test: false },
      { x: 0.09, y: 0, label: 1, test: true },
      { x: 0.5, y: 0.5, label: 1, test: false },
    ];
    expect(withoutNear(data, 0, 0, 0.1)).toEqual([data[2]]);
    expect(withoutNear(data, -0.9, -0.9, 0.1)).toBe(data);
  });

  it("stops at the protocol's point limit", () => {
    const full = Array.from({ length: MAX_POINTS }, () => ({ x: 0, y: 0, label: 0, test: false }));
    expect(withPoint(full, full[0])).toBeNull();
    expect(withPoint([], full[0])).toEqual([full[0]]);
  });
});
