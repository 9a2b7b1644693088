// The loop's snapshot playback and how it tells its own frames from others' changes, against a fake model
// with a fake clock and display frames.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { TrainingLoop } from "../src/loop";
import { networkOf, packNetwork, type PackedNetwork } from "../src/payload";
import { ProtocolClient } from "../src/protocolClient";
import type { Traits } from "../src/state";
import { FakeModel, trainReply } from "./fakeModel";

let model: FakeModel;
let client: ProtocolClient;
let loop: TrainingLoop;
let clock: number;
let frames: (() => void)[];

beforeEach(() => {
  vi.useFakeTimers();
  clock = 0;
  frames = [];
  model = new FakeModel();
  client = new ProtocolClient(model);
  loop = new TrainingLoop(model, client, {
    now: () => clock,
    frame: (cb) => {
      frames.push(cb);
      return () => (frames = frames.filter((f) => f !== cb));
    },
  });
});

afterEach(() => {
  loop.dispose();
  client.dispose();
  vi.useRealTimers();
});

const requests = () => model.requests("train_step");
const last = () => requests()[requests().length - 1];
const shifted = (net: Traits["network"], d: number): Traits["network"] => ({
  weights: net.weights.map((w) => w.map((row) => row.map((v) => Math.fround(v + d)))),
  biases: net.biases,
});

/** A reply to the last request with `n` snapshots, `elapsed` ms of training, packed like the server's. */
async function answerWithSnapshots(n: number, elapsed = 100, step0 = 0): Promise<Traits["network"]> {
  const req = last();
  const start = networkOf(req.network as PackedNetwork);
  const snapshots = Array.from({ length: n }, (_, i) => ({
    global_step: step0 + 10 * (i + 1),
    epoch: 0,
    at_ms: ((i + 1) * elapsed) / (n + 1),
    network: packNetwork(shifted(start, 0.001 * (i + 1))),
    train_loss: 1 - 0.01 * i,
    test_loss: null,
    accuracy: null,
    test_accuracy: null,
  }));
  const final = shifted(start, 0.001 * (n + 1));
  clock += elapsed + 10;
  model.reply(
    trainReply(req, {
      network: packNetwork(final),
      snapshots,
      steps: 10 * (n + 1),
      global_step: step0 + 10 * (n + 1),
      elapsed_ms: elapsed,
      optimizer_state: { optimizer: "sgd", step: step0 + 10 * (n + 1), global_step: step0 + 10 * (n + 1), buffers: {} },
    }),
  );
  await vi.advanceTimersByTimeAsync(0);
  return final;
}

/** Run display frames until the playback has shown everything queued. */
function playOut(): void {
  for (let i = 0; i < 200 && frames.length > 0; i++) frame(25);
}

/** Advance the clock by `ms` and run the display frame that is due. */
function frame(ms = 16): void {
  clock += ms;
  const due = frames;
  frames = [];
  for (const cb of due) cb();
}

describe("snapshot playback", () => {
  it("asks for snapshots while playing, and shows them one per frame, ending on the final state", async () => {
    loop.play();
    expect(last().snapshot_ms).toBeGreaterThan(0);
    const final = await answerWithSnapshots(4, 100);
    // The next request is already on its way, continuing from the final state (not the display).
    expect(requests()).toHaveLength(2);
    expect(networkOf(last().network as PackedNetwork)).toEqual(final);
    const steps: number[] = [];
    for (let i = 0; i < 20 && frames.length > 0; i++) {
      frame(25);
      steps.push(model.get("metrics").global_step);
    }
    expect(new Set(steps).size).toBeGreaterThanOrEqual(4); // the counter moved through the snapshots
    expect(steps).toEqual([...steps].sort((a, b) => a - b)); // never backwards
    expect(model.get("metrics").global_step).toBe(50);
    expect(model.get("network")).toEqual(final);
    expect(model.get("optimizer_state")).toMatchObject({ global_step: 50 });
    expect(model.get("history")).toHaveLength(1); // one point per request on the loss curve
  });

  it("a reply without snapshots shows at once and keeps the queued replies' points", async () => {
    loop.play();
    await answerWithSnapshots(4, 100);
    frame(20); // part-way through the first reply's frames
    clock += 30;
    model.reply(trainReply(last(), { global_step: 80, steps: 30, elapsed_ms: 20 }));
    await vi.advanceTimersByTimeAsync(0);
    expect(model.get("metrics").global_step).toBe(80);
    expect(model.get("history").map((h) => h.step)).toEqual([50, 80]);
  });

  it("pause shows the newest state at once", async () => {
    loop.play();
    const final = await answerWithSnapshots(6, 200);
    frame(20);
    expect(model.get("metrics").global_step).toBeLessThan(70);
    loop.pause();
    expect(model.get("network")).toEqual(final);
    expect(model.get("metrics").global_step).toBe(70);
  });

  it("an edit during playback stops it and wins over the reply in flight", async () => {
    loop.play();
    await answerWithSnapshots(4, 100);
    frame(30);
    const edited = shifted(model.get("network"), 5);
    model.set("network", edited);
    frame(30);
    expect(model.get("network")).toBe(edited);
    await answerWithSnapshots(4, 100, 50); // continues the old network: dropped
    frame(30);
    expect(model.get("network")).toBe(edited);
    expect(networkOf(last().network as PackedNetwork)).toEqual(edited); // training goes on from the edit
  });

  it("takes a change from elsewhere as real: an older network there is followed, not guessed to be an echo", async () => {
    // The kernel sends no echo of the traits the loop streams (widget.py: echo_update=False),
    // so an older network arriving (Python restoring a snapshot) is someone's change.
    loop.play();
    await answerWithSnapshots(2, 100);
    playOut();
    const older = structuredClone(model.get("network"));
    await answerWithSnapshots(2, 100, 30);
    playOut();
    model.set("network", older);
    model.set("history", []);
    await answerWithSnapshots(2, 100, 60); // continued the replaced network: dropped
    playOut();
    expect(model.get("network")).toEqual(older);
    expect(model.get("history")).toEqual([]);
    expect(networkOf(last().network as PackedNetwork)).toEqual(older); // training goes on from it
    await answerWithSnapshots(2, 100, 5);
    playOut();
    expect(model.get("history").map((h) => h.step)).toEqual([35]); // the new curve, not the old one
  });

  it("an equal copy of the shown network is still its own (no change event, nothing dropped)", async () => {
    loop.play();
    await answerWithSnapshots(2, 100);
    playOut();
    const changes = vi.fn();
    model.on("change:network", changes);
    model.set("network", structuredClone(model.get("network")));
    expect(changes).not.toHaveBeenCalled(); // Backbone compares by value
    await answerWithSnapshots(2, 100, 30);
    playOut();
    expect(model.get("history").map((h) => h.step)).toEqual([30, 60]);
  });

  it("at a pace, asks for a frame's steps per snapshot, shows one per display frame and trains only a little ahead", async () => {
    model.set("pace", "step");
    loop.play();
    const req = last();
    expect((req.config as Record<string, unknown>).steps).toBe(30);
    expect(req.snapshot_steps).toBe(1);
    expect(req).not.toHaveProperty("snapshot_ms");
    const snapshots = Array.from({ length: 29 }, (_, i) => ({
      global_step: i + 1, epoch: i + 1, at_ms: 0.01 * i, network: packNetwork(shifted(model.get("network"), 0.001 * (i + 1))),
      train_loss: 1, test_loss: null, accuracy: null, test_accuracy: null,
    }));
    clock += 5;
    model.reply(trainReply(req, { snapshots, steps: 30, global_step: 30, elapsed_ms: 0.3,
      optimizer_state: { optimizer: "sgd", step: 30, global_step: 30, buffers: {} } }));
    await vi.advanceTimersByTimeAsync(0);
    expect(requests()).toHaveLength(1); // 30 frames are queued: no need to train further yet
    expect(model.get("metrics").global_step).toBe(1); // the first shows at once
    const shown: number[] = [];
    for (let i = 0; i < 13; i++) {
      frame(1000 / 60);
      shown.push(model.get("metrics").global_step);
    }
    // One step a frame, though the training took a third of a millisecond.
    expect(shown).toEqual(Array.from({ length: 13 }, (_, i) => i + 2));
    expect(requests()).toHaveLength(1);
    frame(1000 / 60);
    expect(requests()).toHaveLength(2); // the frames left ran low: the next request is out
  });

  it("a pace of one epoch asks for an epoch of minibatches per frame", () => {
    model.set("config", { ...model.get("config"), batch_size: 1 });
    model.set("pace", "epoch");
    loop.play();
    expect(last().snapshot_steps).toBe(2);
    expect((last().config as Record<string, unknown>).steps).toBe(60);
  });
});
