// A fake anywidget model: the same get/set/on/off/save_changes/send surface, recording what the
// frontend sends and saves, with `reply` to play the kernel. Like Backbone (which ipywidgets'
// models are), `set` always stores the value but fires "change:<key>" (then "change") only when
// the value differs BY VALUE: setting an equal copy is silent.
import { emptyTimeline } from "../src/history";
import { deepEqual } from "../src/host/model";
import { networkOf, type PackedNetwork } from "../src/payload";
import { DEFAULT_CONFIG, DEFAULT_DATASET, DEFAULT_METRICS, DEFAULT_VIEW, type Traits, type WidgetModel } from "../src/state";

type Listener = (...args: never[]) => void;

export function smallNetwork(): Traits["network"] {
  // features [x, y] → 4 → 4 → 2 classes, matching DEFAULT_CONFIG.
  const layer = (out: number, inp: number, s: number) =>
    Array.from({ length: out }, (_, k) => Array.from({ length: inp }, (_, j) => Math.sin(s + 3 * k + j)));
  return { weights: [layer(4, 2, 1), layer(4, 4, 2), layer(2, 4, 3)], biases: [[0, 0, 0, 0], [0, 0, 0, 0], [0, 0]] };
}

export function initialTraits(): Traits {
  return {
    data: [
      { x: 0.5, y: 0.5, label: 0, test: false },
      { x: -0.5, y: -0.5, label: 1, test: false },
      { x: 0.2, y: -0.4, label: 1, test: true },
    ],
    config: { ...DEFAULT_CONFIG },
    network: smallNetwork(),
    optimizer_state: {},
    metrics: { ...DEFAULT_METRICS },
    history: [],
    status: { state: "idle", message: "" },
    playing: false,
    dataset: { ...DEFAULT_DATASET },
    view: { ...DEFAULT_VIEW },
    timeline: emptyTimeline(),
    classroom: { hidden: [], lock_data: false },
    // The loop's own tests exercise the time-budgeted pace; paced tests set another.
    pace: "max",
    step_size: "epoch",
  };
}

export class FakeModel implements WidgetModel {
  readonly sent: Record<string, unknown>[] = [];
  saves = 0;
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly state: Traits;

  constructor(overrides: Partial<Traits> = {}) {
    this.state = { ...initialTraits(), ...overrides };
  }

  get<K extends keyof Traits>(key: K): Traits[K] {
    return this.state[key];
  }

  set<K extends keyof Traits>(key: K, value: Traits[K]): void {
    const old = this.state[key];
    this.state[key] = value;
    if (deepEqual(old, value)) return;
    this.emit(`change:${key}`, this, value);
    this.emit("change", this);
  }

  on(event: string, callback: Listener): void {
    if (!this.listeners.has(event)) this.listeners.set(event, new Set());
    this.listeners.get(event)!.add(callback);
  }

  off(event?: string | null, callback?: Listener | null): void {
    if (!event) this.listeners.clear();
    else if (!callback) this.listeners.delete(event);
    else this.listeners.get(event)?.delete(callback);
  }

  save_changes(): void {
    this.saves++;
  }

  send(content: object): void {
    this.sent.push(content as Record<string, unknown>);
  }

  listenerCount(event: string): number {
    return this.listeners.get(event)?.size ?? 0;
  }

  /** The kernel answers: a msg:custom event with this content. */
  reply(content: Record<string, unknown>): void {
    this.emit("msg:custom", content);
  }

  emit(event: string, ...args: unknown[]): void {
    for (const cb of [...(this.listeners.get(event) ?? [])]) (cb as (...a: unknown[]) => void)(...args);
  }

  /** Requests of one type, in order. */
  requests(type: string): Record<string, unknown>[] {
    return this.sent.filter((m) => m.type === type);
  }
}

export function trainReply(request: Record<string, unknown>, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  // The loop sends the packed form (float32): answer from the network it describes.
  const net = networkOf(request.network as Traits["network"] | PackedNetwork);
  return {
    type: "train_step_result",
    id: request.id,
    network: { weights: net.weights.map((w) => w.map((row) => row.map((v) => v + 0.01))), biases: net.biases },
    optimizer_state: { optimizer: "sgd", step: 5, global_step: 5, buffers: {} },
    loss: 0.5,
    train_loss: 0.5,
    test_loss: 0.6,
    accuracy: 0.75,
    test_accuracy: 0.5,
    steps: 5,
    global_step: 5,
    epoch: 2.5,
    elapsed_ms: 15,
    adapted: false,
    ...overrides,
  };
}
