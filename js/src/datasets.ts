// Dataset generation through the protocol, and the catalogue of datasets (asked of the kernel
// with an info request; a built-in copy of nnvisu.datasets.DATASETS until it answers).
import type { DatasetInfo } from "./protocol";
import { ClientClosed, describeError, type Requester } from "./protocolClient";
import { clearError, MAX_SEED, readConfig, readDataset, showError, type DatasetSettings, type WidgetModel } from "./state";

const SOURCE = "Could not generate the dataset";

type Catalogue = Record<string, DatasetInfo>;

const classification = (max: number): DatasetInfo => ({ problem: "classification", min_classes: 2, max_classes: max });
const regression: DatasetInfo = { problem: "regression", min_classes: 1, max_classes: 1 };

export const FALLBACK_CATALOGUE: Catalogue = {
  circle: classification(2),
  xor: classification(2),
  gauss: classification(8),
  spiral: classification(8),
  moons: classification(2),
  concentric_circles: classification(8),
  blobs: classification(8),
  anisotropic_blobs: classification(8),
  varied_blobs: classification(8),
  plane: regression,
  multi_gaussian: regression,
};

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
