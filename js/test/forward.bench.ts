// evaluateGrid's speed on the draw path (not a timed test: `npx vitest bench --run`).
import { bench, describe } from "vitest";
import { evaluateGrid, type ModelConfig, type NetworkJSON } from "../src/nn/forward";

const sizes = [7, 8, 8, 8, 8, 8, 8, 8];
const net: NetworkJSON = {
  weights: sizes.slice(1).map((out, l) => Array.from({ length: out }, (_, k) => Array.from({ length: sizes[l] }, (_, j) => Math.sin(k * 7 + j + l)))),
  biases: sizes.slice(1).map((out) => Array.from({ length: out }, (_, k) => 0.1 * k)),
};

describe("evaluateGrid 100×100, 7 features, 6 hidden layers of 8, 8 classes", () => {
  for (const activation of ["relu", "tanh", "gelu"]) {
    const cfg: ModelConfig = { features: ["x", "y", "x2", "y2", "xy", "sinx", "siny"], activation, problem: "classification", num_classes: 8, hidden_layers: sizes.slice(1, -1) };
    bench(activation, () => {
      evaluateGrid(net, cfg, 100);
    });
  }
});
