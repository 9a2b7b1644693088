// Trains a comparison while its `playing` is on: one compare_step request in flight, both runs in
// lockstep, each reply applied to the runs as they are then (a setting changed meanwhile stays;
// a run whose network was rebuilt meanwhile drops the reply's state for it). Stops on an error
// and shows it in the status line.
import type { NetworkJSON } from "../nn/forward";
import { ClientClosed, type Requester } from "../protocolClient";
import { clearError, readData, showError, type Metrics, type OptimizerState, type WidgetModel } from "../state";
import { appendHistory, readComparison, writeComparison, type Comparison } from "./state";

/** Milliseconds of training per request: bounds how soon Pause and setting changes take. */
export const COMPARE_BUDGET_MS = 80;
const SOURCE = "Compare";

export class CompareLoop {
  private inFlight = false;
  private disposed = false;
  private readonly onChange = () => this.kick();

  constructor(
    private readonly model: WidgetModel,
    private readonly client: Requester,
  ) {
    model.on("change:comparison", this.onChange);
    this.kick();
  }

  dispose(): void {
    this.disposed = true;
    this.model.off("change:comparison", this.onChange);
  }

  private kick(): void {
    const c = readComparison(this.model);
    if (this.disposed || this.inFlight || !c.active || !c.playing) return;
    void this.tick(c);
  }

  private async tick(sent: Comparison): Promise<void> {
    this.inFlight = true;
    try {
      const reply = await this.client.request({
        type: "compare_step",
        runs: sent.runs.map((r) => ({ config: r.config, network: r.network, optimizer_state: r.optimizer_state })),
        data: readData(this.model),
        steps: 100_000,
        time_budget_ms: COMPARE_BUDGET_MS,
      });
      if (this.disposed) return;
      const now = readComparison(this.model);
      if (!now.active) return;
      const runs = now.runs.map((run, i) => {
        // A network rebuilt while the request ran (new layers or inputs) keeps its new state.
        if (run.network !== sent.runs[i].network) return run;
        const r = reply.runs[i];
        const metrics: Metrics = { train_loss: r.train_loss, test_loss: r.test_loss, accuracy: r.accuracy, test_accuracy: r.test_accuracy, global_step: r.global_step, epoch: r.epoch };
        return { ...run, network: r.network as NetworkJSON, optimizer_state: r.optimizer_state as OptimizerState, metrics, history: appendHistory(run.history, metrics) };
      });
      clearError(this.model, SOURCE);
      writeComparison(this.model, { ...now, runs });
    } catch (err) {
      if (err instanceof ClientClosed || this.disposed) return;
      const now = readComparison(this.model);
      if (now.active) writeComparison(this.model, { ...now, playing: false });
      showError(this.model, SOURCE, err instanceof Error ? err.message : String(err));
    } finally {
      this.inFlight = false;
    }
    this.kick();
  }
}
