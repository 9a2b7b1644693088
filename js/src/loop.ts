// The training loop of one view: one train_step request in flight, each trained for about a
// frame's time budget, so the map keeps redrawing while the kernel trains. Pure logic against
// the model API and a Requester: no DOM, testable with a fake model.
import { appendHistory } from "./historyLog";
import { networkMatches, type NetworkJSON } from "./nn/forward";
import { ProtocolError, type TrainStepRequest, type TrainStepResult } from "./protocol";
import { ClientClosed, describeError, type Requester } from "./protocolClient";
import { sameNetwork, toProtocolConfig, toProtocolData, toProtocolNetwork, usableOptimizerState } from "./payload";
import { readConfig, readData, readHistory, type Point, type Status, type WidgetModel } from "./state";
import { flushTimeline, recordReply } from "./ui/timeline";

/** Trait pushes to the kernel while playing are at most this frequent. */
export const SAVE_INTERVAL_MS = 200;
/** Optimizer steps one press of "Step" trains. */
export const STEP_STEPS = 10;
/** While the network does not fit the config (a reshape is on its way), retry this often... */
const RESHAPE_WAIT_MS = 16;
/** ...for at most this long (the reshape request has its own timeout and error). */
const RESHAPE_GIVE_UP_MS = 12_000;
/** After a "busy" answer (the server's in-flight cap), retry this much later. */
export const BUSY_RETRY_MS = 250;

const FRAME_MS = 33; // one redraw per round trip at >= 30 fps
const MIN_BUDGET_MS = 12;
const MAX_BUDGET_MS = 30;
const MAX_STEPS = 100_000;
const SMOOTHING = 0.3;

/**
 * Chooses each request's time budget and step cap from measured round trips: the budget is
 * what is left of a 33 ms frame after the transport's overhead (clamped to 12–30 ms); the cap
 * is 1.5× the steps that fit the budget, so the budget is what normally ends a request.
 */
export class Pacer {
  budgetMs = 20;
  /** The first request trains one step: it measures the step time. */
  stepsCap = 1;
  private overheadMs = FRAME_MS - this.budgetMs;
  private msPerStep: number | null = null;

  observe(roundTripMs: number, reply: Pick<TrainStepResult, "steps" | "elapsed_ms">): void {
    const overhead = Math.max(0, roundTripMs - reply.elapsed_ms);
    this.overheadMs += SMOOTHING * (overhead - this.overheadMs);
    this.budgetMs = Math.round(Math.min(MAX_BUDGET_MS, Math.max(MIN_BUDGET_MS, FRAME_MS - this.overheadMs)));
    const perStep = Math.max(reply.elapsed_ms, 0.01) / Math.max(reply.steps, 1);
    this.msPerStep = this.msPerStep === null ? perStep : this.msPerStep + SMOOTHING * (perStep - this.msPerStep);
    this.stepsCap = Math.min(MAX_STEPS, Math.max(1, Math.ceil((1.5 * this.budgetMs) / this.msPerStep)));
  }
}

export interface LoopHooks {
  now?: () => number;
  /** A train_step result was applied: the metrics now describe this network on this data. */
  onApplied?: (network: NetworkJSON, data: Point[]) => void;
}

export class TrainingLoop {
  readonly pacer = new Pacer();
  private running = false;
  private inFlight = false;
  private disposed = false;
  private lastSave = -Infinity;
  private saveTimer: ReturnType<typeof setTimeout> | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private waitingSince: number | null = null;
  private readonly now: () => number;
  private readonly onPlaying = () => {
    // Another view or Python (w.stop()) switched `playing` off: stop, keep what arrives.
    if (!this.model.get("playing") && this.running) this.halt({ state: "idle", message: "" }, false);
  };

  constructor(
    private readonly model: WidgetModel,
    private readonly client: Requester,
    private readonly hooks: LoopHooks = {},
  ) {
    this.now = hooks.now ?? (() => performance.now());
    model.on("change:playing", this.onPlaying);
  }

  /** True while this view runs the loop (the `playing` trait may be true because of another view). */
  get isRunning(): boolean {
    return this.running;
  }

  get isBusy(): boolean {
    return this.inFlight;
  }

  play(): void {
    if (this.running || this.disposed) return;
    this.running = true;
    this.model.set("playing", true);
    this.model.set("status", { state: "training", message: "" });
    this.save();
    if (!this.inFlight) this.next();
  }

  /** Takes effect at once: no new request is sent; a reply still in flight is applied. */
  pause(): void {
    if (this.running) this.halt({ state: "idle", message: "" });
  }

  toggle(): void {
    if (this.running) this.pause();
    else this.play();
  }

  /** One request of STEP_STEPS steps, when paused and idle. */
  step(): void {
    if (this.running || this.inFlight || this.disposed) return;
    void this.send(STEP_STEPS, null);
  }

  /** The view is gone: stop (so `playing` does not claim a loop nobody runs) and go quiet. */
  dispose(): void {
    if (this.disposed) return;
    this.pause();
    this.disposed = true;
    this.model.off("change:playing", this.onPlaying);
    this.clearTimer("retryTimer");
    this.clearTimer("saveTimer");
  }

  private next(): void {
    if (this.running && !this.inFlight && !this.disposed) void this.send(this.pacer.stepsCap, this.pacer.budgetMs);
  }

  private retry(ms: number): void {
    this.clearTimer("retryTimer");
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.next();
    }, ms);
  }

  private async send(steps: number, budgetMs: number | null): Promise<void> {
    const cfg = readConfig(this.model);
    const network = this.model.get("network");
    const data = readData(this.model);
    if (!networkMatches(network, cfg)) {
      if (!this.running) return;
      this.waitingSince ??= this.now();
      if (this.now() - this.waitingSince > RESHAPE_GIVE_UP_MS) {
        this.halt({ state: "error", message: "The network does not fit the architecture and no new one arrived. Press Reset." });
      } else this.retry(RESHAPE_WAIT_MS);
      return;
    }
    this.waitingSince = null;
    if (!data.some((p) => !p.test)) {
      this.halt({ state: "error", message: "No training points: add some on the map or generate a dataset." });
      return;
    }
    const request: TrainStepRequest = {
      type: "train_step",
      config: { ...toProtocolConfig(cfg), steps, time_budget_ms: budgetMs },
      network: toProtocolNetwork(network),
      data: toProtocolData(data),
    };
    const optimizerState = usableOptimizerState(this.model.get("optimizer_state"));
    if (optimizerState) request.optimizer_state = optimizerState;

    this.inFlight = true;
    const started = this.now();
    try {
      const reply = await this.client.request(request);
      if (this.disposed) return;
      this.apply(reply, network, data, this.now() - started);
    } catch (err) {
      if (this.disposed || err instanceof ClientClosed) return;
      if (err instanceof ProtocolError && err.code === "busy" && this.running) {
        this.retry(BUSY_RETRY_MS);
        return;
      }
      this.halt({ state: "error", message: describeError(err) });
      return;
    } finally {
      this.inFlight = false;
    }
    this.next();
  }

  private apply(reply: TrainStepResult, sent: NetworkJSON, data: Point[], roundTripMs: number): void {
    // Someone replaced the network meanwhile (reset, new architecture, a weight edit): this
    // result continues the old one, so it is dropped rather than undoing their change.
    if (!sameNetwork(this.model.get("network"), sent)) return;
    this.pacer.observe(roundTripMs, reply);
    const m = this.model;
    m.set("network", reply.network);
    m.set("optimizer_state", reply.optimizer_state);
    const metrics = {
      train_loss: reply.train_loss,
      test_loss: reply.test_loss,
      accuracy: reply.accuracy,
      test_accuracy: reply.test_accuracy,
    };
    m.set("metrics", { ...metrics, global_step: reply.global_step, epoch: reply.epoch });
    m.set("history", appendHistory(readHistory(m), { step: reply.global_step, ...metrics }));
    // Training works again: an old error no longer describes the state.
    if (m.get("status")?.state === "error") m.set("status", { state: this.running ? "training" : "idle", message: "" });
    recordReply(m, reply);
    this.hooks.onApplied?.(reply.network, data);
    if (this.running) this.saveThrottled();
    else this.save();
  }

  private halt(status: Status, writePlaying = true): void {
    this.running = false;
    this.waitingSince = null;
    this.clearTimer("retryTimer");
    if (writePlaying) this.model.set("playing", false);
    this.model.set("status", status);
    flushTimeline(this.model);
    this.save();
  }

  private saveThrottled(): void {
    const wait = this.lastSave + SAVE_INTERVAL_MS - this.now();
    if (wait <= 0) this.save();
    else if (this.saveTimer === null) this.saveTimer = setTimeout(() => this.save(), wait);
  }

  private save(): void {
    this.clearTimer("saveTimer");
    this.lastSave = this.now();
    this.model.save_changes();
  }

  private clearTimer(which: "saveTimer" | "retryTimer"): void {
    const t = this[which];
    if (t !== null) clearTimeout(t);
    this[which] = null;
  }
}
