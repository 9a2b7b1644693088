// Fresh losses after an edit while paused: when the points or the network change and no loop
// is training, one evaluate request (debounced, so a drag costs one) updates the metrics.
import { networkMatches, type NetworkJSON } from "./nn/forward";
import { ClientClosed, describeError, type Requester } from "./protocolClient";
import { sameNetwork, toProtocolConfig, toProtocolData, toProtocolNetwork } from "./payload";
import { clearError, readConfig, readData, readMetrics, showError, type Point, type WidgetModel } from "./state";

export const REFRESH_DELAY_MS = 250;
const SOURCE = "Could not evaluate the network";

export class MetricsRefresher {
  /** The network and points the metrics trait currently describes. */
  private fresh: { network: NetworkJSON; data: Point[] } | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private inFlight = false;
  private again = false;
  private readonly onChange = () => this.schedule();

  constructor(
    private readonly model: WidgetModel,
    private readonly client: Requester,
    private readonly delayMs = REFRESH_DELAY_MS,
  ) {
    for (const ev of ["change:network", "change:data", "change:playing"]) model.on(ev, this.onChange);
  }

  /** The metrics trait was just set for this network and these points (by a train_step). */
  markFresh(network: NetworkJSON, data: Point[]): void {
    this.fresh = { network, data };
  }

  dispose(): void {
    for (const ev of ["change:network", "change:data", "change:playing"]) this.model.off(ev, this.onChange);
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private isFresh(): boolean {
    return (
      this.fresh !== null &&
      this.fresh.data === readData(this.model) &&
      sameNetwork(this.fresh.network, this.model.get("network"))
    );
  }

  private schedule(): void {
    if (this.model.get("playing") || this.isFresh()) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.run();
    }, this.delayMs);
  }

  private async run(): Promise<void> {
    if (this.inFlight) {
      this.again = true;
      return;
    }
    const cfg = readConfig(this.model);
    const network = this.model.get("network");
    const data = readData(this.model);
    if (this.model.get("playing") || this.isFresh() || !networkMatches(network, cfg)) return;
    if (data.length === 0) {
      this.apply(network, data, { train_loss: null, test_loss: null, accuracy: null, test_accuracy: null });
      return;
    }
    this.inFlight = true;
    try {
      const reply = await this.client.request({
        type: "evaluate",
        config: toProtocolConfig(cfg),
        network: toProtocolNetwork(network),
        data: toProtocolData(data),
      });
      // Only if nothing moved meanwhile; otherwise the change already scheduled another run.
      if (readData(this.model) === data && sameNetwork(this.model.get("network"), network)) {
        const { train_loss, test_loss, accuracy, test_accuracy } = reply;
        this.apply(network, data, { train_loss, test_loss, accuracy, test_accuracy });
      }
    } catch (err) {
      if (err instanceof ClientClosed) return;
      showError(this.model, SOURCE, describeError(err));
    } finally {
      this.inFlight = false;
    }
    if (this.again) {
      this.again = false;
      this.schedule();
    }
  }

  private apply(network: NetworkJSON, data: Point[], losses: Record<"train_loss" | "test_loss" | "accuracy" | "test_accuracy", number | null>): void {
    this.fresh = { network, data };
    this.model.set("metrics", { ...readMetrics(this.model), ...losses });
    this.model.save_changes();
    clearError(this.model, SOURCE);
  }
}
