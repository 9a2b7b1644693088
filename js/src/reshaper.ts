// Keeps the network's shapes in step with the config. Any edit of an architecture field
// (features, hidden layers, problem, class count) — from the controls, the network diagram,
// another view or Python — is answered with an init_network request that carries the previous
// network and features, so the kernel keeps the overlapping weights. Reset asks for fresh ones.
import { networkMatches, type ModelConfig } from "./nn/forward";
import type { InitNetworkRequest } from "./protocol";
import { ClientClosed, describeError, type Requester } from "./protocolClient";
import { toProtocolConfig, toProtocolNetwork } from "./payload";
import { architectureKey, clearError, DEFAULT_METRICS, MAX_SEED, readConfig, showError, type WidgetModel } from "./state";

const SOURCE = "Could not build the network";

export class Reshaper {
  /** The architecture the current network was built for. */
  private netConfig: ModelConfig;
  private inFlight = false;
  private freshPending = false;
  /** An architecture the kernel refused: not asked again until the config changes. */
  private refusedKey: string | null = null;
  private disposed = false;
  private readonly onConfig = () => this.check();
  private readonly onNetwork = () => {
    // A network set by someone else (Python, another page) that fits the config is adopted.
    const cfg = readConfig(this.model);
    if (networkMatches(this.model.get("network"), cfg)) this.netConfig = cfg;
  };

  constructor(
    private readonly model: WidgetModel,
    private readonly client: Requester,
  ) {
    this.netConfig = readConfig(model);
    this.freshPending = !networkMatches(model.get("network"), this.netConfig);
    model.on("change:config", this.onConfig);
    model.on("change:network", this.onNetwork);
    this.check();
  }

  /** New random weights: the seed is bumped (it is the init seed), then a fresh network is asked for. */
  resetWeights(): void {
    const cfg = readConfig(this.model);
    this.freshPending = true;
    this.model.set("config", { ...cfg, seed: (cfg.seed + 1) % (MAX_SEED + 1) });
    this.model.save_changes();
    this.check();
  }

  /** Fresh weights for the same seed (a new dataset or problem, as in TensorFlow Playground):
   *  the counters, the loss chart and the timeline start over with them. */
  startFresh(): void {
    this.freshPending = true;
    this.check();
  }

  dispose(): void {
    this.disposed = true;
    this.model.off("change:config", this.onConfig);
    this.model.off("change:network", this.onNetwork);
  }

  private check(): void {
    if (this.inFlight || this.disposed) return;
    const cfg = readConfig(this.model);
    const key = architectureKey(cfg);
    const fresh = this.freshPending;
    if (!fresh && (key === architectureKey(this.netConfig) || key === this.refusedKey)) return;
    this.freshPending = false;
    const request: InitNetworkRequest = { type: "init_network", config: toProtocolConfig(cfg) };
    const network = this.model.get("network");
    if (!fresh && networkMatches(network, this.netConfig)) {
      request.network = toProtocolNetwork(network);
      request.previous_features = this.netConfig.features;
    }
    this.inFlight = true;
    this.client
      .request(request)
      .then(
        (reply) => {
          if (this.disposed) return;
          this.refusedKey = null;
          // Another view of this model asked for the same shapes and was answered first.
          if (!fresh && architectureKey(this.netConfig) === key) return;
          this.netConfig = cfg;
          const m = this.model;
          m.set("network", reply.network);
          m.set("optimizer_state", reply.optimizer_state);
          // A new network restarts the step count (global_step 0): old metrics no longer apply.
          m.set("metrics", { ...DEFAULT_METRICS });
          m.set("history", []);
          m.save_changes();
          clearError(m, SOURCE);
        },
        (err: unknown) => {
          if (this.disposed || err instanceof ClientClosed) return;
          this.refusedKey = key;
          showError(this.model, SOURCE, describeError(err));
        },
      )
      .finally(() => {
        this.inFlight = false;
        this.check(); // the config may have moved on while this request was out
      });
  }
}
