import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { initialState } from "../src/host/bootstrap";
import type { Message } from "../src/host/connection";
import { HostModel } from "../src/host/model";
import { Persister, Store, type StorageLike } from "../src/host/store";
import { DEFAULT_CONFIG } from "../src/state";

class MemoryStorage implements StorageLike {
  items = new Map<string, string>();
  constructor(private readonly quota = Infinity) {}
  getItem(key: string) {
    return this.items.get(key) ?? null;
  }
  setItem(key: string, value: string) {
    const used = [...this.items].reduce((n, [k, v]) => n + (k === key ? 0 : v.length), 0);
    if (used + value.length > this.quota) throw new Error("QuotaExceededError");
    this.items.set(key, value);
  }
  removeItem(key: string) {
    this.items.delete(key);
  }
}

const NET = { weights: [[[0.1, 0.2], [0.3, 0.4], [0.5, 0.6], [0.7, 0.8]], [[1, 2, 3, 4], [1, 2, 3, 4], [1, 2, 3, 4], [1, 2, 3, 4]], [[1, 1, 1, 1], [2, 2, 2, 2]]], biases: [[0, 0, 0, 0], [0, 0, 0, 0], [0, 0]] };
const OPT = { optimizer: "sgd", step: 3, global_step: 3, buffers: {} };

describe("Store", () => {
  it("keeps one key per part and restores every persisted trait", () => {
    const storage = new MemoryStorage();
    const store = new Store(storage);
    const state = {
      data: [{ x: 0.5, y: -0.5, label: 1, test: false }],
      network: NET,
      optimizer_state: OPT,
      config: { ...DEFAULT_CONFIG, learning_rate: 0.1 },
      view: { tool: "erase" },
      metrics: { global_step: 3 },
      history: [{ step: 3 }],
      status: { state: "training", message: "" },
      playing: true,
      timeline: { interval: 1 },
      future_trait: 42,
    };
    store.save(state, Object.keys(state));
    expect([...storage.items.keys()].sort()).toEqual(
      ["nnvisu:config", "nnvisu:data", "nnvisu:extra", "nnvisu:network", "nnvisu:progress", "nnvisu:timeline", "nnvisu:view"],
    );
    const { status: _s, playing: _p, ...persisted } = state;
    expect(new Store(storage).load()).toEqual(persisted);
  });

  it("writes only the parts that changed", () => {
    const storage = new MemoryStorage();
    new Store(storage).save({ view: { tool: "add" }, network: NET }, ["view"]);
    expect([...storage.items.keys()]).toEqual(["nnvisu:view"]);
  });

  it("skips parts that are corrupt or from another format", () => {
    const storage = new MemoryStorage();
    storage.setItem("nnvisu:config", "{not json");
    storage.setItem("nnvisu:view", JSON.stringify({ v: 999, values: { view: {} } }));
    storage.setItem("nnvisu:data", JSON.stringify({ v: 1, values: { data: [], network: "smuggled" } }));
    expect(new Store(storage).load()).toEqual({ data: [] });
  });

  it("gives up the history and timeline first when storage is full", () => {
    const storage = new MemoryStorage(600);
    const store = new Store(storage);
    store.save({ timeline: { pad: "x".repeat(300) }, history: ["y".repeat(200)] }, ["timeline", "history"]);
    const { dropped } = store.save({ network: { pad: "z".repeat(300) } }, ["network"]);
    expect(dropped).toEqual(["timeline"]);
    expect(storage.getItem("nnvisu:network")).not.toBeNull();
  });
});

describe("Persister", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("writes at most once per interval and everything on flush", () => {
    const storage = new MemoryStorage();
    const writes = vi.spyOn(storage, "setItem");
    let n = 0;
    const persister = new Persister(new Store(storage), () => ({ metrics: { n } }), undefined, 1000, () => Date.now());
    for (n = 1; n <= 5; n++) persister.markDirty(["metrics"]);
    expect(writes).toHaveBeenCalledTimes(1); // the first change is written at once
    vi.advanceTimersByTime(1000);
    expect(writes).toHaveBeenCalledTimes(2);
    n = 99;
    persister.markDirty(["metrics"]);
    persister.flush();
    expect(JSON.parse(storage.getItem("nnvisu:progress") as string).values.metrics.n).toBe(99);
  });
});

describe("HostModel", () => {
  it("emits change events on real changes only and persists on save_changes", () => {
    const persisted: string[][] = [];
    const model = new HostModel({ view: { tool: "add" } }, { request: async () => ({}), persist: (n) => persisted.push([...n]) });
    const seen: unknown[] = [];
    const onView = (_m: unknown, v: unknown) => seen.push(v);
    model.on("change:view", onView);
    model.set("view", { tool: "add" }); // equal: no event
    model.set("view", { tool: "erase" });
    expect(seen).toEqual([{ tool: "erase" }]);
    model.save_changes();
    model.save_changes(); // nothing new
    expect(persisted).toEqual([["view"]]);
    model.off("change:view", onView);
    model.set("view", { tool: "add" });
    expect(seen).toHaveLength(1);
  });

  it("sends requests to the backend and delivers replies as msg:custom", async () => {
    const model = new HostModel({}, { request: async (m) => ({ type: "info_result", id: m.id }), persist: () => {} });
    const replies = new Promise<unknown[]>((resolve) => model.on("msg:custom", (...args) => resolve(args)));
    model.send({ type: "info", id: "v:1" });
    expect(await replies).toEqual([{ type: "info_result", id: "v:1" }, []]);
  });
});

describe("initialState", () => {
  const answer = (m: Message): Message => {
    if (m.type === "generate_data") return { type: "data", id: m.id, data: [{ x: 0, y: 0, label: 0, test: false }], problem: "classification", num_classes: 2 };
    if (m.type === "init_network") return { type: "network", id: m.id, network: NET, optimizer_state: OPT };
    return { type: "error", code: "unknown_type" };
  };

  it("asks the server for data and a network on a first visit", async () => {
    const asked: Message[] = [];
    const state = await initialState({}, async (m) => (asked.push(m), answer(m)));
    expect(asked.map((m) => m.type)).toEqual(["generate_data", "init_network"]);
    expect(asked[0]).toMatchObject({ dataset: "circle", n: 200 });
    expect(state).toMatchObject({ network: NET, optimizer_state: OPT, playing: false, status: { state: "idle" } });
    expect(state.config).toEqual(DEFAULT_CONFIG);
  });

  it("asks nothing when everything was stored, and starts paused", async () => {
    const stored = { data: [], network: NET, optimizer_state: OPT, config: DEFAULT_CONFIG, playing: true };
    const state = await initialState(stored, async () => {
      throw new Error("no request expected");
    });
    expect(state).toMatchObject({ network: NET, playing: false });
  });

  it("adapts a stored network that no longer fits its config", async () => {
    const asked: Message[] = [];
    const config = { ...DEFAULT_CONFIG, hidden_layers: [3] };
    await initialState({ data: [], network: NET, optimizer_state: OPT, config }, async (m) => (asked.push(m), answer(m)));
    expect(asked).toEqual([expect.objectContaining({ type: "init_network", network: NET, config })]);
  });

  it("waits out a busy or unreachable server", async () => {
    let calls = 0;
    const waits: number[] = [];
    const state = await initialState(
      { data: [] },
      async (m) => (++calls < 3 ? { type: "error", code: "busy", message: "down" } : answer(m)),
      async (ms) => void waits.push(ms),
    );
    expect(waits).toEqual([500, 1000]);
    expect(state.network).toEqual(NET);
  });
});
