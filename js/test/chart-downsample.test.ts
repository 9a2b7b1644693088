import { describe, expect, it } from "vitest";
import { downsampleM4 } from "../src/chart/downsample";

const range = (n: number) => Float64Array.from({ length: n }, (_, i) => i);

describe("downsampleM4", () => {
  it("returns small inputs unchanged (minus non-finite gaps)", () => {
    const out = downsampleM4([0, 1, 2, 3], [5, NaN, 7, 8], 10);
    expect(Array.from(out.x.subarray(0, out.length))).toEqual([0, 2, 3]);
    expect(Array.from(out.y.subarray(0, out.length))).toEqual([5, 7, 8]);
  });

  it("bounds the output by 4 points per bucket whatever the length", () => {
    for (const n of [1_000, 100_000]) {
      const xs = range(n);
      const ys = xs.map((x) => Math.sin(x / 37) + 0.001 * x);
      const out = downsampleM4(xs, ys, 300);
      expect(out.length).toBeLessThanOrEqual(1200);
      expect(out.length).toBeGreaterThan(300);
    }
  });

  it("keeps the extremes, the first and the last point", () => {
    const n = 50_000;
    const xs = range(n);
    const ys = xs.map((x) => Math.cos(x * 0.013) * Math.exp(-x / 20_000));
    ys[12_345] = 9; // a spike
    ys[40_000] = -9; // a dip
    const out = downsampleM4(xs, ys, 200);
    const oy = Array.from(out.y.subarray(0, out.length));
    const ox = Array.from(out.x.subarray(0, out.length));
    expect(oy).toContain(9);
    expect(oy).toContain(-9);
    expect(ox[0]).toBe(0);
    expect(ox[ox.length - 1]).toBe(n - 1);
    // x stays ascending, so the polyline never folds back.
    expect(ox).toEqual([...ox].sort((a, b) => a - b));
  });

  it("keeps every bucket's min and max (pixel-exact envelope)", () => {
    const n = 10_000;
    const xs = range(n);
    const ys = xs.map((x) => Math.sin(x * 0.7) * (1 + x / n));
    const buckets = 100;
    const out = downsampleM4(xs, ys, buckets);
    for (let b = 0; b < buckets; b++) {
      const lo = Math.ceil((b * (n - 1)) / buckets);
      const hi = Math.ceil(((b + 1) * (n - 1)) / buckets);
      const inBucket = Array.from(ys.subarray(lo, b === buckets - 1 ? n : hi));
      const kept = [];
      for (let k = 0; k < out.length; k++) if (out.x[k] >= lo && out.x[k] < (b === buckets - 1 ? n : hi)) kept.push(out.y[k]);
      expect(Math.max(...kept)).toBe(Math.max(...inBucket));
      expect(Math.min(...kept)).toBe(Math.min(...inBucket));
    }
  });
});
