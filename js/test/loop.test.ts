// The training loop against a fake model and the real ProtocolClient: one request in flight,
// pause, late replies, errors, timeouts, throttled saves, and `playing` changed from outside.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { BUSY_RETRY_MS, MAX_BUDGET_MS, MIN_BUDGET_MS, Pacer, SAVE_INTERVAL_MS, TrainingLoop } from "../src/loop";
import { networkOf, type PackedNetwork, type PackedPoints } from "../src/payload";
import { ProtocolClient, REQUEST_TIMEOUT_MS } from "../src/protocolClient";
import { FakeModel, trainReply } from "./fakeModel";

let model: FakeModel;
let client: ProtocolClient;
let loop: TrainingLoop;
let clock: number;

beforeEach(() => {
  vi.useFakeTimers();
  clock = 0;
  model = new FakeModel();
  client = new ProtocolClient(model);
  loop = new TrainingLoop(model, client, { now: () => clock });
});

afterEach(() => {
  loop.dispose();
  client.dispose();
  vi.useRealTimers();
});

const trainRequests = () => model.requests("train_step");
const sent = (net: unknown) => networkOf(net as PackedNetwork);
const float32 = (net: { weights: number[][][]; biases: number[][] }) => ({
  weights: net.weights.map((w) => w.map((row) => row.map(Math.fround))),
  biases: net.biases.map((b) => b.map(Math.fround)),
});
/** Packed points back as a list (coordinates float32). */
function points(p: PackedPoints): { x: number; y: number; label: number; test: boolean }[] {
  const bytes = (s: string) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
  const f32 = (s: string) => Array.from(new Float32Array(bytes(s).buffer));
  const [xs, ys, labels, tests] = [f32(p.x), f32(p.y), bytes(p.label), p.test ? bytes(p.test) : new Uint8Array(1)];
  return xs.map((x, i) => ({ x, y: ys[i], label: labels[i], test: Boolean((tests[i >> 3] >> (i & 7)) & 1) }));
}
const lastRequest = () => trainRequests()[trainRequests().length - 1];

async function answer(overrides: Record<string, unknown> = {}): Promise<void> {
  clock += 25;
  model.reply(trainReply(lastRequest(), overrides));
  await vi.advanceTimersByTimeAsync(0);
}

describe("TrainingLoop", () => {
  it("keeps exactly one request in flight while playing", async () => {
    loop.play();
    expect(model.get("playing")).toBe(true);
    expect(trainRequests()).toHaveLength(1);
    loop.play(); // a second press does not start a second stream
    expect(trainRequests()).toHaveLength(1);
    await answer();
    expect(trainRequests()).toHaveLength(2);
    await answer();
    expect(trainRequests()).toHaveLength(3);
  });

  it("sends a full protocol request with a time budget and step cap, ids with the view id", () => {
    loop.play();
    const req = lastRequest();
    expect(req.id).toMatch(new RegExp(`^${client.viewId}:\\d+$`));
    const config = req.config as Record<string, unknown>;
    expect(config.time_budget_ms).toBeGreaterThanOrEqual(12);
    expect(config.time_budget_ms).toBeLessThanOrEqual(30);
    expect(config.steps).toBe(1);
    // The packed wire form (float32, what the engine computes in), the same values.
    expect(sent(req.network)).toEqual(float32(model.get("network")));
    expect(points(req.data as PackedPoints)).toEqual(model.get("data").map((p) => ({ ...p, x: Math.fround(p.x), y: Math.fround(p.y) })));
    expect(req.packed).toBe(true);
    expect(req).not.toHaveProperty("optimizer_state"); // the trait holds none yet
  });

  it("applies a reply to the traits: network, optimizer state, metrics, history", async () => {
    loop.play();
    await answer();
    expect(model.get("network").weights[0][0][0]).toBeCloseTo(Math.fround(Math.sin(1)) + 0.01, 12);
    expect(model.get("optimizer_state")).toMatchObject({ global_step: 5 });
    expect(model.get("metrics")).toEqual({ train_loss: 0.5, test_loss: 0.6, accuracy: 0.75, test_accuracy: 0.5, global_step: 5, epoch: 2.5 });
    expect(model.get("history")).toEqual([{ step: 5, train_loss: 0.5, test_loss: 0.6, accuracy: 0.75, test_accuracy: 0.5 }]);
    // and the next request continues from that state
    expect(lastRequest().optimizer_state).toMatchObject({ global_step: 5 });
  });

  it("pause sends no new request, applies the reply in flight, and saves the final state", async () => {
    loop.play();
    loop.pause();
    expect(model.get("playing")).toBe(false);
    expect(model.get("status").state).toBe("idle");
    const saves = model.saves;
    await answer({ global_step: 42 });
    expect(trainRequests()).toHaveLength(1);
    expect(model.get("metrics").global_step).toBe(42);
    expect(model.saves).toBeGreaterThan(saves);
    await vi.advanceTimersByTimeAsync(1000);
    expect(trainRequests()).toHaveLength(1);
  });

  it("stops when `playing` is switched off from outside (Python w.stop())", async () => {
    loop.play();
    model.set("playing", false);
    expect(loop.isRunning).toBe(false);
    await answer();
    expect(trainRequests()).toHaveLength(1);
    expect(model.get("metrics").global_step).toBe(5);
  });

  it("throttles save_changes to one per interval while playing", async () => {
    loop.play();
    const first = model.saves;
    for (let i = 0; i < 5; i++) await answer(); // 25 ms apart
    expect(model.saves - first).toBeLessThanOrEqual(1);
    clock += SAVE_INTERVAL_MS;
    await vi.advanceTimersByTimeAsync(SAVE_INTERVAL_MS);
    expect(model.saves - first).toBeGreaterThanOrEqual(1);
    const n = model.saves;
    loop.pause();
    expect(model.saves).toBe(n + 1);
  });

  it("an error reply stops the loop and shows its message", async () => {
    loop.play();
    model.reply({ type: "error", id: lastRequest().id, code: "diverged", message: "loss became NaN at step 12", field: null });
    await vi.advanceTimersByTimeAsync(0);
    expect(loop.isRunning).toBe(false);
    expect(model.get("playing")).toBe(false);
    expect(model.get("status")).toEqual({
      state: "error",
      message: "Training diverged (loss became NaN at step 12). Try a lower learning rate, then reset the weights.",
    });
    await vi.advanceTimersByTimeAsync(1000);
    expect(trainRequests()).toHaveLength(1);
  });

  it("a busy answer is retried, not fatal", async () => {
    loop.play();
    model.reply({ type: "error", id: lastRequest().id, code: "busy", message: "too many requests", field: null });
    await vi.advanceTimersByTimeAsync(0);
    expect(loop.isRunning).toBe(true);
    await vi.advanceTimersByTimeAsync(BUSY_RETRY_MS);
    expect(trainRequests()).toHaveLength(2);
  });

  it("a request with no reply times out, stops the loop and says so", async () => {
    loop.play();
    await vi.advanceTimersByTimeAsync(REQUEST_TIMEOUT_MS + 1);
    expect(loop.isRunning).toBe(false);
    expect(model.get("status").state).toBe("error");
    expect(model.get("status").message).toMatch(/did not answer within 10 s/);
    // the late reply is ignored
    const before = model.get("network");
    await answer();
    expect(model.get("network")).toBe(before);
  });

  it("ignores replies after dispose and stops listening", async () => {
    loop.play();
    loop.dispose();
    client.dispose();
    expect(model.get("playing")).toBe(false);
    const before = model.get("network");
    await answer();
    expect(model.get("network")).toBe(before);
    expect(model.listenerCount("msg:custom")).toBe(0);
    expect(model.listenerCount("change:playing")).toBe(0);
  });

  it("ignores replies whose ids it did not send", async () => {
    loop.play();
    model.reply(trainReply(lastRequest(), { id: "someone-else:1" }));
    await vi.advanceTimersByTimeAsync(0);
    expect(model.get("history")).toEqual([]);
  });

  it("drops a result when the network was replaced meanwhile (reset, reshape, edit)", async () => {
    loop.play();
    const replaced = { weights: model.get("network").weights.map((w) => w.map((r) => r.map(() => 0))), biases: model.get("network").biases };
    model.set("network", replaced);
    await answer();
    expect(model.get("network")).toBe(replaced);
    expect(trainRequests()).toHaveLength(2); // and training goes on from the new network
    expect(sent(lastRequest().network)).toEqual(replaced);
  });

  it("accepts a result when the network was only replaced by an equal copy", async () => {
    loop.play();
    model.set("network", structuredClone(model.get("network")));
    await answer();
    expect(model.get("history")).toHaveLength(1);
  });

  it("waits while the network does not fit the config (a reshape is on its way)", async () => {
    model.set("config", { ...model.get("config"), hidden_layers: [4, 4, 4] });
    loop.play();
    expect(trainRequests()).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(100);
    expect(trainRequests()).toHaveLength(0);
    model.set("config", { ...model.get("config"), hidden_layers: [4, 4] });
    await vi.advanceTimersByTimeAsync(20);
    expect(trainRequests()).toHaveLength(1);
  });

  it("refuses to train without training points", () => {
    model.set("data", [{ x: 0, y: 0, label: 0, test: true }]);
    loop.play();
    expect(trainRequests()).toHaveLength(0);
    expect(model.get("playing")).toBe(false);
    expect(model.get("status").message).toMatch(/No training points/);
  });

  it("step sends one request of the step size (here one epoch: full batch, 1 step) without a time budget, only when idle", async () => {
    loop.step();
    loop.step();
    expect(trainRequests()).toHaveLength(1);
    const config = lastRequest().config as Record<string, unknown>;
    expect(config.steps).toBe(1);
    expect(config.time_budget_ms).toBeNull();
    await answer();
    expect(trainRequests()).toHaveLength(1);
    expect(model.get("metrics").global_step).toBe(5);
  });

  it("step trains 1 step, 1 epoch or 10 epochs of minibatches", async () => {
    model.set("config", { ...model.get("config"), batch_size: 1 }); // 2 training points: 2 steps an epoch
    const sizes: [string, number][] = [["step", 1], ["epoch", 2], ["10_epochs", 20]];
    for (const [size, steps] of sizes) {
      model.set("step_size", size);
      loop.step();
      expect((lastRequest().config as Record<string, unknown>).steps).toBe(steps);
      await answer();
    }
  });

  it("sends only protocol config keys", () => {
    model.set("config", { ...model.get("config"), extra_ui_key: 1 } as never);
    loop.play();
    expect(lastRequest().config).not.toHaveProperty("extra_ui_key");
  });
});

describe("Pacer", () => {
  it("starts with a one-step measurement, then fills the budget", () => {
    const p = new Pacer();
    expect(p.stepsCap).toBe(1);
    p.observe(25, { steps: 1, elapsed_ms: 2 });
    expect(p.stepsCap).toBeGreaterThan(5);
  });

  it("grows the budget with the link's overhead (~90% of the time trains), within bounds", () => {
    const p = new Pacer();
    for (let i = 0; i < 30; i++) p.observe(20 + 60, { steps: 100, elapsed_ms: 20 });
    expect(p.budgetMs).toBe(540); // 9 × 60 ms of overhead
    for (let i = 0; i < 30; i++) p.observe(20 + 1000, { steps: 100, elapsed_ms: 20 });
    expect(p.budgetMs).toBe(MAX_BUDGET_MS);
    for (let i = 0; i < 40; i++) p.observe(21, { steps: 100, elapsed_ms: 20 });
    expect(p.budgetMs).toBe(MIN_BUDGET_MS);
    expect(p.stepsCap).toBe(150); // 1.5 × the steps that fit the budget
  });

  it("asks for a snapshot per frame, fewer when they would make replies big", () => {
    const p = new Pacer();
    expect(p.snapshotMs(25)).toBeLessThan(1000 / 60);
    for (let i = 0; i < 30; i++) p.observe(1020, { steps: 100, elapsed_ms: 20 });
    expect(p.snapshotMs(25)).toBeNull(); // 1 s of overhead: each reply is shown as it arrives
    const q = new Pacer();
    for (let i = 0; i < 30; i++) q.observe(20 + 40, { steps: 100, elapsed_ms: 20 });
    expect(q.snapshotMs(25)).toBeLessThan(1000 / 60); // tiny networks animate on a 40 ms link
    expect(q.snapshotMs(400)).toBeLessThan(1000 / 60); // so do 6 layers of 8
    expect(q.snapshotMs(1500)).toBeGreaterThan(1000 / 60); // wider ones, less often
  });
});

describe("TrainingLoop recovery", () => {
  it("gives up with a message when no fitting network arrives", async () => {
    model.set("config", { ...model.get("config"), hidden_layers: [3] });
    loop.play();
    for (let t = 0; t < 13_000; t += 500) {
      clock += 500;
      await vi.advanceTimersByTimeAsync(500);
    }
    expect(loop.isRunning).toBe(false);
    expect(model.get("status").message).toMatch(/does not fit the architecture/);
    expect(model.requests("train_step")).toHaveLength(0);
  });

  it("a successful step clears an old error", async () => {
    model.set("status", { state: "error", message: "Training diverged (x)." });
    loop.step();
    clock += 25;
    model.reply(trainReply(model.requests("train_step")[0]));
    await vi.advanceTimersByTimeAsync(0);
    expect(model.get("status")).toEqual({ state: "idle", message: "" });
  });
});
