// evaluateGrid's speed on the draw path (not a timed test: `npx vitest bench --run`), through
// each of its paths: the WebAssembly SIMD kernel (the default) and the float64 JS fallback.
import { bench, describe } from "vitest";
import { evaluateGrid, useWasmGrid, wasmGridReady, type ModelConfig, type NetworkJSON } from "../src/nn/forward";

if (!(await wasmGridReady())) throw new Error("no WebAssembly SIMD: the kernel did not load");
const BACKENDS = ["wasm", "js"] as const;

const sizes = [7, 8, 8, 8, 8, 8, 8, 8];
let shift = 0;
/** A new network every call (a training reply): nothing cached can be reused. */
function network(s: number[] = sizes): NetworkJSON {
  shift += 1e-3;
  return {
    weights: s.slice(1).map((out, l) => Array.from({ length: out }, (_, k) => Array.from({ length: s[l] }, (_, j) => Math.sin(k * 7 + j + l + shift)))),
    biases: s.slice(1).map((out) => Array.from({ length: out }, (_, k) => 0.1 * k)),
  };
}

describe("evaluateGrid 100×100, 7 features, 6 hidden layers of 8, 8 classes, new weights each frame", () => {
  for (const activation of ["relu", "tanh", "gelu"]) {
    const cfg: ModelConfig = { features: ["x", "y", "x2", "y2", "xy", "sinx", "siny"], activation, problem: "classification", num_classes: 8, hidden_layers: sizes.slice(1, -1) };
    for (const backend of BACKENDS) {
      bench(`${activation}: every layer (${backend})`, () => {
        useWasmGrid(backend === "wasm");
        evaluateGrid(network(), cfg, 100);
      });
    }
  }
});

const SETUPS = [["tfp 4-2 tanh", [4, 2], "tanh"], ["6x8 relu", [8, 8, 8, 8, 8, 8], "relu"]] as const;

for (const [title, evaluate] of [["every layer (the shared grid): the benchmark setups", evaluateGrid]] as const) {
  describe(title, () => {
    for (const [name, hidden, activation] of SETUPS) {
      const s = [2, ...hidden, 2];
      const cfg: ModelConfig = { features: ["x", "y"], activation, problem: "classification", num_classes: 2, hidden_layers: [...hidden] };
      for (const backend of BACKENDS) {
        bench(`${name} (${backend})`, () => {
          useWasmGrid(backend === "wasm");
          evaluate(network(s), cfg, 100);
        });
      }
    }
  });
}

describe("the widest network: 7 features, 8 hidden layers of 64, 8 classes", () => {
  const s = [7, ...Array(8).fill(64), 8];
  const cfg: ModelConfig = { features: ["x", "y", "x2", "y2", "xy", "sinx", "siny"], activation: "tanh", problem: "classification", num_classes: 8, hidden_layers: s.slice(1, -1) };
  for (const backend of BACKENDS) {
    bench(`tanh (${backend})`, () => {
      useWasmGrid(backend === "wasm");
      evaluateGrid(network(s), cfg, 100);
    }, { iterations: 5, time: 0 });
  }
});
