// The training loop of one view: one train_step request in flight, each trained for a time
// budget long enough that the link's round trip costs ~10% of the training time, and the
// network shown frame by frame as it moved during that request (the reply's snapshots), so
// the map animates smoothly whatever the link. Pure logic against the model API and a
// Requester: no DOM, testable with a fake model.
import { LIMITS } from "./generated/catalog";
import { appendHistory } from "./historyLog";
import { networkMatches, type NetworkJSON } from "./nn/forward";
import { readPace, readStepSize, stepsOf, type StepSize } from "./pace";
import { ProtocolError, type TrainStepRequest, type TrainStepResult } from "./protocol";
import { ClientClosed, describeError, type Requester } from "./protocolClient";
import {
  networkOf,
  packNetwork,
  packOptimizerState,
  packPoints,
  sameNetwork,
  toProtocolConfig,
  toProtocolData,
  unpackOptimizerState,
  usableOptimizerState,
} from "./payload";
import { readConfig, readData, readHistory, type OptimizerState, type Point, type Status, type WidgetModel } from "./state";
import { TimelineWriter } from "./timelineLog";

/** Trait pushes to the kernel while playing are at most this frequent (each sends the network,
 *  optimizer state, metrics and the whole history: in a notebook every push is parsed by the
 *  kernel that trains). */
export const SAVE_INTERVAL_MS = 1000;
/** At a pace (not "max"), one request trains this many display frames' worth of steps... */
export const PACED_FRAMES = 30;
/** ...and the next is sent once fewer than this many of its frames are left to show. */
const PACED_LEAD = 15;
/** A paced request still ends after this long (a network too big for the pace). */
const PACED_BUDGET_MS = 1000;
/** While the network does not fit the config (a reshape is on its way), retry this often... */
const RESHAPE_WAIT_MS = 16;
/** ...for at most this long (the reshape request has its own timeout and error). */
const RESHAPE_GIVE_UP_MS = 12_000;
/** After a "busy" answer (the server's in-flight cap), retry this much later. */
export const BUSY_RETRY_MS = 250;

/** One display frame. */
export const FRAME_MS = 1000 / 60;
/** Snapshots are asked for a bit more often than frames, so every frame has a new one. */
const SNAPSHOT_MS = 0.7 * FRAME_MS;
/** Training time per request is this many times the link's overhead (90% of the time trains)... */
const OVERHEAD_FACTOR = 9;
/** ...within these bounds: short enough for a quick pause, long enough to amortise a request. */
export const MIN_BUDGET_MS = 20;
/** The display shows a request's snapshots while the next one trains: its lag is about a budget. */
export const MAX_BUDGET_MS = 1200;
/** Snapshot bytes a reply may carry: its budget (ms) times this over the link's overhead (ms)
 *  squared. A link slow to answer is taken to be slow to transfer too: it gets fewer frames
 *  rather than longer round trips (40 ms of overhead, a busy page on loopback: ~200 KB/s of
 *  snapshots allowed, a frame's worth for a 6×8 net; 200 ms: ~8 KB/s, a few KB per reply). */
const SNAPSHOT_BYTES_MS2 = 320_000;
/** Snapshots further apart than this (training ms) are not asked for. */
const SPARSE_MS = 100;
const MAX_STEPS = LIMITS.max_steps;
const SMOOTHING = 0.3;

/**
 * Chooses each request's time budget, step cap and snapshot interval from measured round
 * trips. The overhead (round trip minus the server's time) is amortised: the budget is
 * OVERHEAD_FACTOR times it (a 50 ms link trains ~0.5 s per request), clamped to
 * MIN_BUDGET_MS..MAX_BUDGET_MS. The step cap is 1.5× the steps that fit the budget, so the
 * budget is what normally ends a request.
 */
export class Pacer {
  budgetMs = MIN_BUDGET_MS;
  /** The first request trains one step: it measures the step time. */
  stepsCap = 1;
  private overheadMs = 0;
  private msPerStep: number | null = null;

  observe(roundTripMs: number, reply: Pick<TrainStepResult, "steps" | "elapsed_ms">): void {
    const overhead = Math.max(0, roundTripMs - reply.elapsed_ms);
    this.overheadMs = this.msPerStep === null ? overhead : this.overheadMs + SMOOTHING * (overhead - this.overheadMs);
    this.budgetMs = Math.round(Math.min(MAX_BUDGET_MS, Math.max(MIN_BUDGET_MS, OVERHEAD_FACTOR * this.overheadMs)));
    const perStep = Math.max(reply.elapsed_ms, 0.01) / Math.max(reply.steps, 1);
    this.msPerStep = this.msPerStep === null ? perStep : this.msPerStep + SMOOTHING * (perStep - this.msPerStep);
    this.stepsCap = Math.min(MAX_STEPS, Math.max(1, Math.ceil((1.5 * this.budgetMs) / this.msPerStep)));
  }

  /** Training time between two snapshots of a network of `parameters` numbers: under a frame,
   *  or longer when the link looks too slow to carry that many (SNAPSHOT_BYTES_MS2); null when
   *  they would be so sparse (under 10 a second) that animating them is not worth the display
   *  lag it costs: each reply is then shown as it arrives. */
  snapshotMs(parameters: number): number | null {
    const bytes = 200 + (16 * parameters) / 3; // base64 float32 plus the snapshot's metrics
    const allowed = (this.budgetMs * SNAPSHOT_BYTES_MS2) / Math.max(1, this.overheadMs) ** 2;
    const most = Math.max(1, Math.floor(allowed / bytes));
    const interval = Math.max(SNAPSHOT_MS, this.budgetMs / most);
    return interval > SPARSE_MS ? null : interval;
  }
}

export interface LoopHooks {
  now?: () => number;
  /** Calls `cb` at the next display frame; returns a canceller (requestAnimationFrame). */
  frame?: (cb: () => void) => () => void;
  /** A train_step result was applied: the metrics now describe this network on this data. */
  onApplied?: (network: NetworkJSON, data: Point[]) => void;
}

/** A trained state the loop shows: a snapshot, or a request's final state (optimizerState). */
interface Frame {
  /** Training time (ms, summed over the requests of this run) at which it was reached. */
  at: number;
  global_step: number;
  epoch: number;
  network: NetworkJSON;
  train_loss: number;
  test_loss: number | null;
  accuracy: number | null;
  test_accuracy: number | null;
  data: Point[];
  optimizerState?: OptimizerState;
  /** Trained at a pace: shown one per display frame, whatever the clock says. */
  paced?: boolean;
}

function defaultFrame(cb: () => void): () => void {
  if (typeof requestAnimationFrame === "function") {
    const id = requestAnimationFrame(cb);
    return () => cancelAnimationFrame(id);
  }
  const id = setTimeout(cb, FRAME_MS);
  return () => clearTimeout(id);
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
  /** Steps per display frame of the request in flight (null: "max", the time budget). */
  private pacedSteps: number | null = null;
  private readonly frame: (cb: () => void) => () => void;
  /** The newest trained state (the next request continues from it), ahead of the display. */
  private head: { network: NetworkJSON; optimizerState: OptimizerState } | null = null;
  /** The network this loop last put in the trait (or, before it showed any, the one its
   *  training started from): anything else there is someone's edit. The kernel sends no echo
   *  of what a view saves for the traits this loop streams (widget.py tags them
   *  echo_update=False), so a change there is never an older copy of our own. */
  private shown: NetworkJSON | null = null;
  private readonly timeline: TimelineWriter;
  /** Frames still to show, oldest first. */
  private queue: Frame[] = [];
  private cancelTick: (() => void) | null = null;
  /** Playback runs on training time: `trainedMs` of it has arrived; the display shows what
   *  was reached at `playheadMs`, which follows about one request's training behind. */
  private trainedMs = 0;
  private playheadMs = 0;
  /** Training ms the playhead moves per wall-clock ms: set at each reply so that what is
   *  queued plays out a little after the next reply is expected (one period later). */
  private rate = 1;
  private lastTick: number | null = null;
  private lastArrival: number | null = null;
  private periodMs: number | null = null;
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
    this.frame = hooks.frame ?? defaultFrame;
    this.timeline = new TimelineWriter(model, this.now);
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
    this.lastArrival = null;
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

  /** One request of the `step_size` trait's steps (a step, an epoch, ten), when paused. */
  step(): void {
    if (this.running || this.inFlight || this.disposed) return;
    void this.send(this.unitSteps(readStepSize(this.model)), null);
  }

  private unitSteps(unit: StepSize): number {
    return stepsOf(unit, readData(this.model), readConfig(this.model).batch_size);
  }

  /** The view is gone: stop (so `playing` does not claim a loop nobody runs) and go quiet. */
  dispose(): void {
    if (this.disposed) return;
    this.pause();
    this.disposed = true;
    this.stopPlayback();
    this.model.off("change:playing", this.onPlaying);
    this.clearTimer("retryTimer");
    this.clearTimer("saveTimer");
  }

  private next(): void {
    if (!this.running || this.inFlight || this.disposed) return;
    const pace = readPace(this.model);
    if (pace === "max") {
      this.pacedSteps = null;
      void this.send(this.pacer.stepsCap, this.pacer.budgetMs);
      return;
    }
    // At a pace, train only a little ahead of the display: the tick sends the next request
    // when the frames left to show run low.
    if (this.pacedSteps !== null && this.queue.length > PACED_LEAD) return;
    const perFrame = this.unitSteps(pace);
    this.pacedSteps = perFrame;
    const frames = Math.max(1, Math.min(PACED_FRAMES, Math.floor(100_000 / perFrame)));
    void this.send(perFrame * frames, PACED_BUDGET_MS, perFrame);
  }

  private retry(ms: number): void {
    this.clearTimer("retryTimer");
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.next();
    }, ms);
  }

  /** Is the trait's network the one this loop put there (or an equal copy)? */
  private showsOurs(): boolean {
    return this.shown !== null && sameNetwork(this.model.get("network"), this.shown);
  }

  private async send(steps: number, budgetMs: number | null, perFrame: number | null = null): Promise<void> {
    const cfg = readConfig(this.model);
    // Continue from the newest trained state unless someone replaced the network meanwhile
    // (reset, new architecture, a weight edit): then from theirs.
    if (this.head && !this.showsOurs()) this.dropHead();
    const network = this.head?.network ?? this.model.get("network");
    if (!this.head) this.shown = network; // the trait holds what this training starts from
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
      network: packNetwork(network),
      data: packPoints(data, cfg.problem) ?? toProtocolData(data),
      packed: true,
    };
    if (perFrame !== null) {
      if (steps > perFrame) request.snapshot_steps = perFrame;
    } else {
      const snapshotMs = budgetMs === null ? null : this.pacer.snapshotMs(parameterCount(network));
      if (snapshotMs !== null) request.snapshot_ms = snapshotMs;
    }
    const optimizerState = this.head?.optimizerState ?? usableOptimizerState(this.model.get("optimizer_state"));
    if (optimizerState) request.optimizer_state = packOptimizerState(optimizerState);

    this.inFlight = true;
    const started = this.now();
    try {
      const reply = await this.client.request(request);
      if (this.disposed) return;
      this.apply(reply, network, data, this.now() - started, perFrame !== null);
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

  private apply(reply: TrainStepResult, sent: NetworkJSON, data: Point[], roundTripMs: number, paced = false): void {
    // Someone replaced the network meanwhile (reset, new architecture, a weight edit): this
    // result continues the old one, so it is dropped rather than undoing their change.
    const trait = this.model.get("network");
    if (!sameNetwork(trait, sent) && !this.showsOurs()) return;
    this.pacer.observe(roundTripMs, reply);
    const arrived = this.now();
    if (this.lastArrival !== null) {
      const gap = arrived - this.lastArrival;
      this.periodMs = this.periodMs === null ? gap : this.periodMs + SMOOTHING * (gap - this.periodMs);
    }
    this.lastArrival = arrived;
    const network = networkOf(reply.network);
    const optimizerState = unpackOptimizerState(reply.optimizer_state as Parameters<typeof unpackOptimizerState>[0]);
    this.head = { network, optimizerState };
    const start = this.trainedMs;
    const snapshots = reply.snapshots ?? [];
    // At a pace, frames are display frames apart on the playback axis, whatever the training
    // took: one per frame; at "max", they sit where the training reached them.
    const at = (i: number, trained: number): number => start + (paced ? (i + 1) * FRAME_MS : trained);
    this.trainedMs = at(snapshots.length, reply.elapsed_ms);
    const final: Frame = {
      at: this.trainedMs,
      global_step: reply.global_step,
      epoch: reply.epoch,
      network,
      train_loss: reply.train_loss,
      test_loss: reply.test_loss,
      accuracy: reply.accuracy,
      test_accuracy: reply.test_accuracy,
      data,
      optimizerState,
      paced,
    };
    if (!this.running || (snapshots.length === 0 && !paced)) {
      // Shown at once; frames still queued are passed (their final states keep their point
      // on the loss curve).
      const queued = this.queue;
      this.stopPlayback();
      this.playheadMs = this.trainedMs;
      this.show(final, queued);
      return;
    }
    // Queue the request's snapshots and final state on the training-time axis; the playhead
    // sweeps them at an even pace (tick), about one request behind the newest state.
    if (this.queue.length === 0) this.playheadMs = Math.max(this.playheadMs, start); // not the idle gap
    for (const [i, snap] of snapshots.entries()) {
      this.queue.push({
        at: at(i, snap.at_ms),
        global_step: snap.global_step,
        epoch: snap.epoch,
        network: networkOf(snap.network),
        train_loss: snap.train_loss,
        test_loss: snap.test_loss,
        accuracy: snap.accuracy,
        test_accuracy: snap.test_accuracy,
        data,
        paced,
      });
    }
    this.queue.push(final);
    // Some slack (a quarter, at most 100 ms): a reply a little late finds frames still queued.
    const expected = Math.max(FRAME_MS, this.periodMs ?? roundTripMs);
    const period = expected + Math.min(100, expected / 4);
    this.rate = paced ? 1 : Math.min(4, Math.max(0.2, (this.trainedMs - this.playheadMs) / period));
    if (this.cancelTick === null) {
      this.lastTick = null;
      this.tick();
    }
  }

  /** Advance the playhead and show the newest frame it passed; come back next display frame. */
  private readonly tick = (): void => {
    this.cancelTick = null;
    if (this.disposed || this.queue.length === 0) return;
    if (this.shown !== null && !this.showsOurs()) {
      // The network was replaced while we animated: stop showing what it replaced.
      this.queue = [];
      return;
    }
    const now = this.now();
    const elapsed = this.lastTick === null ? 0 : Math.min(100, now - this.lastTick);
    this.lastTick = now;
    this.playheadMs = Math.min(this.trainedMs, this.playheadMs + elapsed * this.rate);
    let due = -1;
    if (this.queue[0].paced) {
      due = 0; // exactly one frame's steps per display frame
      this.playheadMs = this.queue[0].at;
    } else while (due + 1 < this.queue.length && this.queue[due + 1].at <= this.playheadMs) due++;
    if (due >= 0) {
      const passed = this.queue.slice(0, due + 1);
      this.queue = this.queue.slice(due + 1);
      this.show(passed[due], passed.slice(0, due));
    }
    if (this.queue.length > 0) this.cancelTick = this.frame(this.tick);
    if (this.pacedSteps !== null && this.queue.length <= PACED_LEAD) this.next();
  };

  private stopPlayback(): void {
    this.cancelTick?.();
    this.cancelTick = null;
    this.queue = [];
  }

  /** Show the newest state at once (on pause): the display catches up with the training. */
  private flushPlayback(): void {
    const queued = this.queue;
    this.stopPlayback();
    this.playheadMs = this.trainedMs;
    if (queued.length > 0 && this.showsOurs()) this.show(queued[queued.length - 1], queued.slice(0, -1));
  }

  private dropHead(): void {
    this.head = null;
    this.stopPlayback();
  }

  /** Put frame `f` in the traits; `skipped` frames passed unseen (their final states still
   *  add their point to the loss curve). */
  private show(f: Frame, skipped: Frame[] = []): void {
    const m = this.model;
    this.shown = f.network;
    m.set("network", f.network);
    if (f.optimizerState) m.set("optimizer_state", f.optimizerState);
    const metrics = { train_loss: f.train_loss, test_loss: f.test_loss, accuracy: f.accuracy, test_accuracy: f.test_accuracy };
    m.set("metrics", { ...metrics, global_step: f.global_step, epoch: f.epoch });
    // A request's final state: the loss curve and the timeline take one point per request
    // (snapshots move the maps and the counters; redrawing the curves 60 times a second would
    // cost more than it shows).
    const finals = [...skipped, f].filter((frame) => frame.optimizerState);
    if (finals.length > 0) {
      let history = readHistory(m);
      for (const g of finals) {
        const point = { train_loss: g.train_loss, test_loss: g.test_loss, accuracy: g.accuracy, test_accuracy: g.test_accuracy };
        history = appendHistory(history, { step: g.global_step, ...point });
        this.timeline.record({ global_step: g.global_step, network: g.network, train_loss: g.train_loss, test_loss: g.test_loss });
      }
      m.set("history", history);
    }
    // Training works again: an old error no longer describes the state.
    if (m.get("status")?.state === "error") m.set("status", { state: this.running ? "training" : "idle", message: "" });
    this.hooks.onApplied?.(f.network, f.data);
    if (this.running) this.saveThrottled();
    else this.save();
  }

  private halt(status: Status, writePlaying = true): void {
    this.running = false;
    this.waitingSince = null;
    this.clearTimer("retryTimer");
    this.flushPlayback();
    if (writePlaying) this.model.set("playing", false);
    this.model.set("status", status);
    this.timeline.flush();
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

function parameterCount(net: NetworkJSON): number {
  let n = 0;
  for (const w of net.weights) n += w.length * (w[0]?.length ?? 0) + w.length;
  return n;
}
