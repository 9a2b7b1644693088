import { describe, expect, it } from "vitest";
import { argmax, argmaxColor, blendClasses, contrastOutline, diverging, PALETTE, quantize } from "../src/ui/colors";

describe("PALETTE", () => {
  it("has 8 distinct colours", () => {
    expect(PALETTE).toHaveLength(8);
    expect(new Set(PALETTE.map((c) => c.join()))).toHaveProperty("size", 8);
  });
});

describe("blendClasses", () => {
  it("a 50/50 cell is the mean of the two colours", () => {
    const [a, b] = PALETTE;
    expect(blendClasses([0.5, 0.5])).toEqual([(a[0] + b[0]) / 2, (a[1] + b[1]) / 2, (a[2] + b[2]) / 2]);
  });
  it("a certain cell is exactly its class colour", () => {
    for (let k = 0; k < 8; k++) {
      const probs = Array.from({ length: 8 }, (_, i) => (i === k ? 1 : 0));
      expect(blendClasses(probs)).toEqual(PALETTE[k]);
    }
  });
  it("is the probability-weighted mean for many classes and writes into out", () => {
    const probs = [0.2, 0.3, 0.5];
    const out: [number, number, number] = [9, 9, 9];
    const ret = blendClasses(probs, out);
    expect(ret).toBe(out);
    for (let i = 0; i < 3; i++) {
      expect(out[i]).toBeCloseTo(0.2 * PALETTE[0][i] + 0.3 * PALETTE[1][i] + 0.5 * PALETTE[2][i], 10);
    }
  });
});

describe("discretize", () => {
  it("takes the most probable class's colour", () => {
    expect(argmax([0.1, 0.6, 0.3])).toBe(1);
    expect(argmaxColor([0.1, 0.6, 0.3])).toEqual(PALETTE[1]);
    expect(argmaxColor([0.2, 0.1, 0.05, 0.65])).toEqual(PALETTE[3]);
  });
  it("breaks ties toward the first class", () => {
    expect(argmax([0.5, 0.5])).toBe(0);
  });
  it("snaps regression values to bands", () => {
    expect(quantize(0.3)).toBe(0.25);
    expect(quantize(-0.9)).toBe(-1);
    expect(quantize(0)).toBe(0);
  });
});

describe("diverging", () => {
  it("is neutral at 0, orange at -1, blue at +1, clamped beyond", () => {
    expect(diverging(0)).toEqual([247, 247, 247]);
    expect(diverging(-1)).toEqual([213, 94, 0]);
    expect(diverging(1)).toEqual([0, 114, 178]);
    expect(diverging(5)).toEqual(diverging(1));
    expect(diverging(-5)).toEqual(diverging(-1));
  });
  it("is linear on each side and monotone in blue", () => {
    const mid = diverging(0.5);
    expect(mid[2]).toBeCloseTo((247 + 178) / 2, 10);
    const blues = [-1, -0.5, 0, 0.5, 1].map((v) => diverging(v)[0]);
    expect(blues[0]).toBeGreaterThan(blues[4]);
  });
  it("treats NaN as 0", () => {
    expect(diverging(NaN)).toEqual([247, 247, 247]);
  });
});

describe("contrastOutline", () => {
  it("is dark on light fills and white on dark fills", () => {
    expect(contrastOutline([240, 228, 66])).toBe("#1b1b1b");
    expect(contrastOutline([0, 114, 178])).toBe("#ffffff");
  });
});
