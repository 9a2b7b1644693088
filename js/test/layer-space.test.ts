// The space a layer sees: activations against torch (the forward fixtures), PCA axes, and the
// alignment that keeps the projection still between frames.
import { describe, expect, it } from "vitest";
import raw from "../../tests/fixtures/forward.json";
import type { ModelConfig, NetworkJSON } from "../src/nn/forward";
import { aligned, fitProjection, gridLinePoints, GRID_LINES, hiddenActivations, LINE_SAMPLES, project, type Projection } from "../src/nn/layerSpace";

interface Case {
  config: ModelConfig;
  network: NetworkJSON;
  inputs: [number, number][];
  layers: number[][][];
}
const fixture = raw as unknown as { cases: Case[] };

describe("hidden activations", () => {
  it("equal torch's for every hidden layer of every case", () => {
    for (const c of fixture.cases) {
      const xs = c.inputs.map((p) => p[0]);
      const ys = c.inputs.map((p) => p[1]);
      c.config.hidden_layers.forEach((width, l) => {
        const got = hiddenActivations(c.network, c.config, xs, ys, l);
        const want = c.layers[l + 1];
        want.forEach((row, i) => row.forEach((v, k) => expect(Math.abs(got[i * width + k] - v)).toBeLessThan(1e-5)));
      });
    }
  });

  it("grid lines: horizontal then vertical, each sampled end to end", () => {
    const { xs, ys } = gridLinePoints();
    expect(xs.length).toBe(2 * GRID_LINES * LINE_SAMPLES);
    expect([xs[0], ys[0], xs[LINE_SAMPLES - 1], ys[LINE_SAMPLES - 1]]).toEqual([-1, -1, 1, -1]);
    const v = GRID_LINES * LINE_SAMPLES;
    expect([xs[v], ys[v], xs[v + LINE_SAMPLES - 1], ys[v + LINE_SAMPLES - 1]]).toEqual([-1, -1, -1, 1]);
  });
});

/** Points on a tilted plane in 4-D plus a little noise along a third direction. */
function planeData(angle: number, n = 200): Float64Array {
  const out = new Float64Array(n * 4);
  for (let i = 0; i < n; i++) {
    const a = Math.cos(i * 0.7) * 3;
    const b = Math.sin(i * 1.3) * 1.5;
    const c = Math.cos(i * 2.1) * 0.05;
    const u = [Math.cos(angle), Math.sin(angle), 0, 0];
    const w = [-Math.sin(angle), Math.cos(angle), 0, 0];
    for (let j = 0; j < 4; j++) out[i * 4 + j] = a * u[j] + b * w[j] + (j === 2 ? c : 0) + 1;
  }
  return out;
}

describe("projection", () => {
  it("uses a 2-neuron layer's own axes", () => {
    const p = fitProjection(Float64Array.from([1, 2, 3, 4]), 2, null);
    expect(Array.from(project(Float64Array.from([1, 2, 3, 4]), p))).toEqual([1, 2, 3, 4]);
  });

  it("finds the two main directions of a wider layer", () => {
    const p = fitProjection(planeData(0), 4, null);
    expect(Math.abs(p.axes[0][0])).toBeCloseTo(1, 4); // the samples of a and b correlate a little
    expect(Math.abs(p.axes[1][1])).toBeCloseTo(1, 4);
    const dot = p.axes[0].reduce((s, v, j) => s + v * p.axes[1][j], 0);
    expect(Math.abs(dot)).toBeLessThan(1e-9);
  });

  it("holds still: a refit of slightly moved activations turns to match the previous axes", () => {
    const first = fitProjection(planeData(0), 4, null);
    const next = fitProjection(planeData(0.05), 4, first);
    // Without alignment the axes may flip sign; aligned they stay within the small turn.
    expect(next.axes[0].reduce((s, v, j) => s + v * first.axes[0][j], 0)).toBeGreaterThan(0.99);
    expect(next.axes[1].reduce((s, v, j) => s + v * first.axes[1][j], 0)).toBeGreaterThan(0.99);
  });

  it("undoes a flip and a swap of the axes", () => {
    const prev: Projection = { d: 3, mean: new Float64Array(3), axes: [Float64Array.from([1, 0, 0]), Float64Array.from([0, 1, 0])] };
    const flipped: Projection = { d: 3, mean: new Float64Array(3), axes: [Float64Array.from([0, -1, 0]), Float64Array.from([1, 0, 0])] };
    const got = aligned(flipped, prev);
    expect(Array.from(got.axes[0]).map((v) => +v.toFixed(12) + 0)).toEqual([1, 0, 0]);
    expect(Array.from(got.axes[1]).map((v) => +v.toFixed(12) + 0)).toEqual([0, 1, 0]);
    const mirrored: Projection = { d: 3, mean: new Float64Array(3), axes: [Float64Array.from([1, 0, 0]), Float64Array.from([0, -1, 0])] };
    expect(Array.from(aligned(mirrored, prev).axes[1]).map((v) => +v.toFixed(12) + 0)).toEqual([0, 1, 0]);
  });
});
