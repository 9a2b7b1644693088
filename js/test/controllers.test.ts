// The controllers that talk to the kernel besides the loop: reshaping, metrics refresh, data
// generation, and the request client itself — against the fake model.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { DataGenerator, FALLBACK_CATALOGUE, normalizeSettings } from "../src/datasets";
import { MetricsRefresher, REFRESH_DELAY_MS } from "../src/metricsRefresher";
import { ClientClosed, ProtocolClient, REQUEST_TIMEOUT_MS, RequestTimeout } from "../src/protocolClient";
import { ProtocolError } from "../src/protocol";
import { Reshaper } from "../src/reshaper";
import { FakeModel, smallNetwork } from "./fakeModel";

let model: FakeModel;
let client: ProtocolClient;

beforeEach(() => {
  vi.useFakeTimers();
  model = new FakeModel();
  client = new ProtocolClient(model);
});

afterEach(() => {
  client.dispose();
  vi.useRealTimers();
});

const last = (type: string) => model.requests(type)[model.requests(type).length - 1];
const tick = () => vi.advanceTimersByTimeAsync(0);

/** A network of the shapes a config asks for (what init_network would return). */
function networkFor(features: number, hidden: number[], outputs: number) {
  const sizes = [features, ...hidden, outputs];
  return {
    weights: sizes.slice(1).map((out, l) => Array.from({ length: out }, () => Array(sizes[l]).fill(0.5))),
    biases: sizes.slice(1).map((out) => Array(out).fill(0)),
  };
}

describe("ProtocolClient", () => {
  it("resolves the reply with its id and checks its shape", async () => {
    const p = client.request({ type: "info" });
    const sent = last("info");
    expect(sent.id).toMatch(/^[a-z0-9]+:1$/);
    model.reply({ type: "info_result", id: sent.id, datasets: {} });
    await expect(p).resolves.toMatchObject({ type: "info_result" });
  });

  it("turns error replies and malformed replies into ProtocolError", async () => {
    const a = client.request({ type: "info" });
    model.reply({ type: "error", id: last("info").id, code: "invalid", message: "bad", field: "config.x" });
    await expect(a).rejects.toMatchObject({ name: "ProtocolError", code: "invalid", field: "config.x" });
    const b = client.request({ type: "info" });
    model.reply({ type: "info_result", id: last("info").id, datasets: 3 });
    await expect(b).rejects.toBeInstanceOf(ProtocolError);
  });

  it("times out and ignores the late reply", async () => {
    const p = client.request({ type: "info" });
    const caught = p.catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(REQUEST_TIMEOUT_MS + 1);
    expect(await caught).toBeInstanceOf(RequestTimeout);
    model.reply({ type: "info_result", id: last("info").id, datasets: {} }); // no throw, no effect
  });

  it("rejects pending requests with ClientClosed on dispose", async () => {
    const p = client.request({ type: "info" });
    client.dispose();
    await expect(p).rejects.toBeInstanceOf(ClientClosed);
    expect(model.listenerCount("msg:custom")).toBe(0);
  });
});

describe("Reshaper", () => {
  let reshaper: Reshaper;
  beforeEach(() => {
    reshaper = new Reshaper(model, client);
  });
  afterEach(() => reshaper.dispose());

  it("asks for a reshaped network with the previous one when the architecture changes", async () => {
    const old = model.get("network");
    model.set("config", { ...model.get("config"), features: ["x", "y", "xy"] });
    const req = last("init_network");
    expect(req.network).toEqual(old);
    expect(req.previous_features).toEqual(["x", "y"]);
    model.reply({ type: "network", id: req.id, network: networkFor(3, [4, 4], 2), optimizer_state: { optimizer: "sgd", step: 0, global_step: 0, buffers: {} } });
    await tick();
    expect(model.get("network").weights[0][0]).toHaveLength(3);
    expect(model.get("metrics").global_step).toBe(0);
    expect(model.get("history")).toEqual([]);
  });

  it("ignores edits that keep the shapes (learning rate, optimizer)", () => {
    model.set("config", { ...model.get("config"), learning_rate: 0.1, optimizer: "adam" });
    expect(model.requests("init_network")).toHaveLength(0);
  });

  it("keeps one request in flight and catches up with the latest config", async () => {
    const cfg = model.get("config");
    model.set("config", { ...cfg, hidden_layers: [4, 4, 4] });
    model.set("config", { ...cfg, hidden_layers: [4, 4, 4, 4] });
    expect(model.requests("init_network")).toHaveLength(1);
    model.reply({ type: "network", id: last("init_network").id, network: networkFor(2, [4, 4, 4], 2), optimizer_state: {} });
    await tick();
    const second = last("init_network");
    expect(model.requests("init_network")).toHaveLength(2);
    expect((second.config as { hidden_layers: number[] }).hidden_layers).toEqual([4, 4, 4, 4]);
    expect((second.network as { weights: unknown[] }).weights).toHaveLength(4); // the 3-layer one
  });

  it("reset bumps the seed and asks for fresh weights (no previous network)", () => {
    reshaper.resetWeights();
    expect(model.get("config").seed).toBe(1);
    const req = last("init_network");
    expect(req).not.toHaveProperty("network");
    expect((req.config as { seed: number }).seed).toBe(1);
  });

  it("adopts a fitting network someone else set, and drops its own duplicate answer", async () => {
    model.set("config", { ...model.get("config"), hidden_layers: [5] });
    const req = last("init_network");
    const theirs = networkFor(2, [5], 2);
    model.set("network", theirs); // another view of the model was answered first
    model.reply({ type: "network", id: req.id, network: networkFor(2, [5], 2), optimizer_state: {} });
    await tick();
    expect(model.get("network")).toBe(theirs);
  });

  it("shows a refusal once and does not retry the same architecture", async () => {
    model.set("config", { ...model.get("config"), hidden_layers: [99] });
    model.reply({ type: "error", id: last("init_network").id, code: "invalid", message: "hidden_layers[0]=99 is out of range", field: "config.hidden_layers" });
    await tick();
    expect(model.get("status")).toMatchObject({ state: "error" });
    expect(model.get("status").message).toMatch(/hidden_layers/);
    expect(model.requests("init_network")).toHaveLength(1);
  });
});

describe("MetricsRefresher", () => {
  let refresher: MetricsRefresher;
  beforeEach(() => {
    refresher = new MetricsRefresher(model, client);
  });
  afterEach(() => refresher.dispose());

  it("evaluates once after a burst of edits while paused", async () => {
    for (let i = 0; i < 5; i++) model.set("data", [...model.get("data"), { x: i / 10, y: 0, label: 0, test: false }]);
    await vi.advanceTimersByTimeAsync(REFRESH_DELAY_MS);
    expect(model.requests("evaluate")).toHaveLength(1);
    model.reply({ type: "evaluate_result", id: last("evaluate").id, train_loss: 0.25, test_loss: 0.5, accuracy: 1, test_accuracy: 0.5 });
    await tick();
    expect(model.get("metrics")).toMatchObject({ train_loss: 0.25, test_loss: 0.5, accuracy: 1, test_accuracy: 0.5, global_step: 0 });
  });

  it("stays quiet while playing and for metrics a train_step already made fresh", async () => {
    model.set("playing", true);
    model.set("data", []);
    await vi.advanceTimersByTimeAsync(REFRESH_DELAY_MS * 2);
    expect(model.requests("evaluate")).toHaveLength(0);
    const net = smallNetwork();
    const data = model.get("data");
    refresher.markFresh(net, data);
    model.set("network", net);
    model.set("playing", false);
    await vi.advanceTimersByTimeAsync(REFRESH_DELAY_MS * 2);
    expect(model.requests("evaluate")).toHaveLength(0);
  });
});

describe("DataGenerator", () => {
  it("clamps the class count to the dataset's range", () => {
    const s = { name: "xor", n: 100, noise: 0, num_classes: 5, seed: 0, test_ratio: 0.5 };
    expect(normalizeSettings(s, FALLBACK_CATALOGUE).num_classes).toBe(2);
    expect(normalizeSettings({ ...s, name: "spiral", num_classes: 12 }, FALLBACK_CATALOGUE).num_classes).toBe(8);
    expect(normalizeSettings({ ...s, name: "nope" }, FALLBACK_CATALOGUE).name).toBe("circle");
  });

  it("applies the latest generation only, and follows the dataset's problem", async () => {
    const gen = new DataGenerator(model, client);
    void gen.generate({ name: "spiral", num_classes: 3 });
    void gen.generate({ name: "plane" });
    const [first, second] = model.requests("generate_data");
    expect(first).toMatchObject({ dataset: "spiral", num_classes: 3 });
    model.reply({ type: "data", id: second.id, data: [{ x: 0, y: 0, label: 0.5, test: false }], problem: "regression", num_classes: 1 });
    model.reply({ type: "data", id: first.id, data: [], problem: "classification", num_classes: 3 });
    await tick();
    expect(model.get("data")).toEqual([{ x: 0, y: 0, label: 0.5, test: false }]);
    expect(model.get("config").problem).toBe("regression");
    expect(model.get("dataset").name).toBe("plane");
  });

  it("regenerate draws a new seed", () => {
    const gen = new DataGenerator(model, client);
    void gen.regenerate();
    expect(last("generate_data").seed).toBe(1);
  });
});
