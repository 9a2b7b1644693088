// evaluateGrid's speed on the draw path (not a timed test: `npx vitest bench --run`).
import { bench, describe } from "vitest";
import { evaluateGrid, evaluateOutput, type ModelConfig, type NetworkJSON } from "../src/nn/forward";

const sizes = [7, 8, 8, 8, 8, 8, 8, 8];
let shift = 0;
/** A new network every call (a training reply): nothing cached can be reused. */
function network(): NetworkJSON {
  shift += 1e-3;
  return {
    weights: sizes.slice(1).map((out, l) => Array.from({ length: out }, (_, k) => Array.from({ length: sizes[l] }, (_, j) => Math.sin(k * 7 + j + l + shift)))),
    biases: sizes.slice(1).map((out) => Array.from({ length: out }, (_, k) => 0.1 * k)),
  };
}

describe("evaluateGrid 100×100, 7 features, 6 hidden layers of 8, 8 classes, new weights each frame", () => {
  for (const activation of ["relu", "tanh", "gelu"]) {
    const cfg: ModelConfig = { features: ["x", "y", "x2", "y2", "xy", "sinx", "siny"], activation, problem: "classification", num_classes: 8, hidden_layers: sizes.slice(1, -1) };
    bench(`${activation}: every layer`, () => {
      evaluateGrid(network(), cfg, 100);
    });
    bench(`${activation}: output only (the decision map)`, () => {
      evaluateOutput(network(), cfg, 100);
    });
  }
});

describe("the decision maps of the benchmark setups (2 inputs, 2 classes)", () => {
  for (const [name, hidden, activation] of [["tfp 4-2 tanh", [4, 2], "tanh"], ["6x8 relu", [8, 8, 8, 8, 8, 8], "relu"]] as const) {
    const s = [2, ...hidden, 2];
    const cfg: ModelConfig = { features: ["x", "y"], activation, problem: "classification", num_classes: 2, hidden_layers: [...hidden] };
    bench(name, () => {
      shift += 1e-3;
      const net = {
        weights: s.slice(1).map((out, l) => Array.from({ length: out }, (_, k) => Array.from({ length: s[l] }, (_, j) => Math.sin(k * 7 + j + l + shift)))),
        biases: s.slice(1).map((out) => Array.from({ length: out }, (_, k) => 0.1 * k)),
      };
      evaluateOutput(net, cfg, 100);
    });
  }
});

describe("every layer (the shared grid): the benchmark setups", () => {
  for (const [name, hidden, activation] of [["tfp 4-2 tanh", [4, 2], "tanh"], ["6x8 relu", [8, 8, 8, 8, 8, 8], "relu"]] as const) {
    const s = [2, ...hidden, 2];
    const cfg: ModelConfig = { features: ["x", "y"], activation, problem: "classification", num_classes: 2, hidden_layers: [...hidden] };
    bench(name, () => {
      shift += 1e-3;
      const net = {
        weights: s.slice(1).map((out, l) => Array.from({ length: out }, (_, k) => Array.from({ length: s[l] }, (_, j) => Math.sin(k * 7 + j + l + shift)))),
        biases: s.slice(1).map((out) => Array.from({ length: out }, (_, k) => 0.1 * k)),
      };
      evaluateGrid(net, cfg, 100);
    });
  }
});
