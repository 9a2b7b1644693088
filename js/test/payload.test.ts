// The packed wire form: networks, optimizer state and points, to base64 and back.
import { describe, expect, it } from "vitest";
import {
  fromBase64,
  networkOf,
  packNetwork,
  packOptimizerState,
  packPoints,
  toBase64,
  unpackNetwork,
  unpackOptimizerState,
} from "../src/payload";
import { smallNetwork } from "./fakeModel";

const f32 = (text: string) => Array.from(new Float32Array(fromBase64(text).buffer));

describe("packed networks", () => {
  it("round-trip exactly for float32 values, in the engine's flat layout", () => {
    const net = { weights: [[[1, 2], [3, 4], [5, 6]], [[7, 8, 9]]], biases: [[0.5, -0.25, 0.125], [1e-7]] };
    const packed = packNetwork(net);
    expect(packed.sizes).toEqual([2, 3, 1]);
    expect(f32(packed.f32)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 0.5, -0.25, 0.125, Math.fround(1e-7)]);
    expect(unpackNetwork(packed)).toEqual({ ...net, biases: [[0.5, -0.25, 0.125], [Math.fround(1e-7)]] });
  });

  it("rounds other numbers to float32 (what the engine computes in) and keeps lists as they are", () => {
    const net = smallNetwork();
    const back = unpackNetwork(packNetwork(net));
    expect(back.weights[0][0][0]).toBe(Math.fround(net.weights[0][0][0]));
    expect(networkOf(net)).toBe(net);
  });

  it("sends a network unpacked from a reply back in the form it came, without encoding it again", () => {
    const fromServer = packNetwork(smallNetwork());
    const net = unpackNetwork(fromServer);
    expect(packNetwork(net)).toBe(fromServer);
    expect(packNetwork(structuredClone(net))).toEqual(fromServer); // what encoding it gives
  });

  it("packs and unpacks optimizer buffers", () => {
    const net = smallNetwork();
    const state = { optimizer: "adam", step: 3, global_step: 9, buffers: { exp_avg: net, exp_avg_sq: net } };
    const packed = packOptimizerState(state);
    expect(packed).toMatchObject({ optimizer: "adam", step: 3, global_step: 9 });
    expect(Object.keys(packed.buffers)).toEqual(["exp_avg", "exp_avg_sq"]);
    expect(unpackOptimizerState(packed).buffers.exp_avg).toEqual(unpackNetwork(packNetwork(net)));
  });
});

describe("packed points", () => {
  const points = [
    { x: 0.5, y: -0.25, label: 1, test: false },
    { x: -1, y: 1, label: 0, test: true },
    { x: 0.1, y: 0.2, label: 2, test: false },
  ];

  it("are parallel arrays: float32 coordinates, uint8 labels, a bitmask of test points", () => {
    const p = packPoints(points, "classification");
    expect(p).not.toBeNull();
    expect(p?.count).toBe(3);
    expect(f32(p!.x)).toEqual([0.5, -1, Math.fround(0.1)]);
    expect(f32(p!.y)).toEqual([-0.25, 1, Math.fround(0.2)]);
    expect(Array.from(fromBase64(p!.label))).toEqual([1, 0, 2]);
    expect(Array.from(fromBase64(p!.test!))).toEqual([0b010]);
  });

  it("regression labels are float32, no test field without test points, cached per array", () => {
    const reg = points.map((p) => ({ ...p, label: p.label / 3, test: false }));
    const p = packPoints(reg, "regression");
    expect(f32(p!.label)).toEqual(reg.map((q) => Math.fround(q.label)));
    expect(p).not.toHaveProperty("test");
    expect(packPoints(reg, "regression")).toBe(p);
  });

  it("are not packed when a class label does not fit a byte (the list form names it)", () => {
    expect(packPoints([{ x: 0, y: 0, label: 0.5, test: false }], "classification")).toBeNull();
    expect(packPoints([{ x: 0, y: 0, label: 300, test: false }], "classification")).toBeNull();
  });

  it("base64 round-trips any bytes, large ones too", () => {
    const bytes = Uint8Array.from({ length: 100_000 }, (_, i) => (i * 7919) & 255);
    expect(fromBase64(toBase64(bytes))).toEqual(bytes);
  });
});
