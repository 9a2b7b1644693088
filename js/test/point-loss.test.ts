// Each point's probabilities and loss (nn/pointLoss.ts) against torch (the forward fixtures), and
// the histogram's binning.
import { describe, expect, it } from "vitest";
import raw from "../../tests/fixtures/forward.json";
import { computeLosses, pointLosses } from "../src/nn/pointLoss";
import type { ModelConfig, NetworkJSON } from "../src/nn/forward";
import { lossHistogram } from "../src/ui/lossHistogram";
import { ringRadius, RING_LOSS_CAP } from "../src/ui/pointLoss";

interface Case {
  name: string;
  config: ModelConfig;
  network: NetworkJSON;
  inputs: [number, number][];
  layers: number[][][];
}
const fixture = raw as unknown as { cases: Case[] };

describe("point losses", () => {
  it("give torch's outputs and their cross-entropy or squared error for every case", () => {
    for (const c of fixture.cases) {
      const k = c.config.problem === "classification" ? c.config.num_classes : 1;
      const data = c.inputs.map(([x, y], i) => ({ x, y, label: c.config.problem === "classification" ? i % k : 0.25, test: i % 2 === 1 }));
      const got = computeLosses(c.network, c.config, data);
      const want = c.layers[c.layers.length - 1];
      data.forEach((p, i) => {
        for (let j = 0; j < k; j++) expect(Math.abs(got.outputs[i * k + j] - want[i][j])).toBeLessThan(1e-5);
        if (c.config.problem === "classification") {
          expect(Math.abs(got.loss[i] - -Math.log(want[i][p.label]))).toBeLessThan(1e-4 * Math.max(1, got.loss[i]));
          const best = want[i].indexOf(Math.max(...want[i]));
          expect(got.wrong[i]).toBe(best === p.label ? 0 : 1);
        } else {
          expect(Math.abs(got.loss[i] - (want[i][0] - 0.25) ** 2)).toBeLessThan(1e-5);
          expect(got.wrong[i]).toBe(0);
        }
      });
    }
  });

  it("are computed once per network and points, and refuse a network that does not fit", () => {
    const c = fixture.cases.find((x) => x.config.problem === "classification")!;
    const data = c.inputs.map(([x, y]) => ({ x, y, label: 0 }));
    const a = pointLosses(c.network, c.config, data);
    expect(pointLosses(c.network, c.config, data)).toBe(a);
    expect(pointLosses(c.network, { ...c.config, hidden_layers: [...c.config.hidden_layers, 3] }, data)).toBeNull();
  });
});

describe("loss histogram", () => {
  it("bins train and test apart, the overflow into the last bin", () => {
    const scored = { n: 4, k: 2, outputs: new Float64Array(8), loss: Float64Array.from([0, 0.1, 50, 0.1]), wrong: Uint8Array.from([0, 0, 1, 0]) };
    const data = [{ x: 0, y: 0, label: 0 }, { x: 0, y: 0, label: 0 }, { x: 0, y: 0, label: 1 }, { x: 0, y: 0, label: 0, test: true }];
    const hist = lossHistogram(scored, data, false, 4);
    expect(hist.train).toEqual([2, 0, 0, 1]);
    expect(hist.test).toEqual([1, 0, 0, 0]);
    expect([hist.trainCount, hist.testCount, hist.trainWrong, hist.testWrong]).toEqual([3, 1, 1, 0]);
  });

  it("ring radii grow with the loss up to a cap", () => {
    expect(ringRadius(0)).toBeLessThan(ringRadius(0.5));
    expect(ringRadius(RING_LOSS_CAP)).toBe(ringRadius(100));
  });
});
