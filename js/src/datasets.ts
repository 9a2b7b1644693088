// Dataset generation through the protocol, and the catalogue of datasets (asked of the kernel
// with an info request; the generated copy of nnvisu.datasets.DATASETS until it answers).
import { DATASETS } from "./generated/catalog";
import type { DatasetInfo } from "./protocol";
import { ClientClosed, describeError, type Requester } from "./protocolClient";
import { clearError, MAX_SEED, readConfig, readDataset, showError, type DatasetSettings, type WidgetModel } from "./state";

const SOURCE = "Could not generate the dataset";

type Catalogue = Record<string, DatasetInfo>;

/** The catalogue Python generated (nnvisu.datasets.DATASETS), until the kernel's info reply
 *  says what it has (an older kernel may have fewer). */
export const FALLBACK_CATALOGUE: Catalogue = Object.fromEntries(
  Object.entries(DATASETS).map(([name, d]): [string, DatasetInfo] => [name, { problem: d.problem, min_classes: d.min_classes, max_classes: d.max_classes }]),
);

/** Generator settings made valid for the catalogue: known name, class count within its range. */
export function normalizeSettings(s: DatasetSettings, catalogue: Catalogue): DatasetSettings {
  const name = s.name in catalogue ? s.name : Object.keys(catalogue)[0];
  const info = catalogue[name];
  const num_classes = info.problem === "regression" ? s.num_classes : Math.min(info.max_classes, Math.max(info.min_classes, s.num_classes));
  return { ...s, name, num_classes };
}

export class DataGenerator {
  catalogue: Catalogue = FALLBACK_CATALOGUE;
  private latest = 0;
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly model: WidgetModel,
    private readonly client: Requester,
  ) {}

  /** Ask the kernel which datasets it has; keep the built-in list if it cannot say. */
  async loadCatalogue(): Promise<void> {
    try {
      const reply = await this.client.request({ type: "info" });
      if (Object.keys(reply.datasets).length > 0) {
        this.catalogue = reply.datasets;
        for (const fn of this.listeners) fn();
      }
    } catch {
      // An older or busy kernel: the built-in catalogue matches nnvisu.datasets.
    }
  }

  onCatalogue(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Regenerate the points with these settings changed; the latest request wins. */
  async generate(patch: Partial<DatasetSettings>): Promise<void> {
    const settings = normalizeSettings({ ...readDataset(this.model), ...patch }, this.catalogue);
    this.model.set("dataset", settings);
    this.model.save_changes();
    const ticket = ++this.latest;
    try {
      const reply = await this.client.request({
        type: "generate_data",
        dataset: settings.name,
        n: settings.n,
        noise: settings.noise,
        num_classes: settings.num_classes,
        seed: settings.seed,
        test_ratio: settings.test_ratio,
      });
      if (ticket !== this.latest) return;
      const m = this.model;
      m.set("data", reply.data);
      const cfg = readConfig(m);
      // The dataset decides the problem; the reshaper follows with a matching network.
      const num_classes = reply.problem === "classification" ? reply.num_classes : cfg.num_classes;
      if (cfg.problem !== reply.problem || cfg.num_classes !== num_classes) {
        m.set("config", { ...cfg, problem: reply.problem, num_classes });
      }
      m.save_changes();
      clearError(m, SOURCE);
    } catch (err) {
      if (err instanceof ClientClosed || ticket !== this.latest) return;
      showError(this.model, SOURCE, describeError(err));
    }
  }

  /** Same settings, new random draw. */
  regenerate(): Promise<void> {
    return this.generate({ seed: (readDataset(this.model).seed + 1) % (MAX_SEED + 1) });
  }
}
