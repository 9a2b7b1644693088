// Dataset generation through the protocol, and the catalogue of datasets (asked of the kernel
// with an info request; the generated copy of nnvisu.datasets.DATASETS until it answers).
import { DATASETS } from "./generated/catalog";
import type { DatasetInfo } from "./protocol";
import { ClientClosed, describeError, type Requester } from "./protocolClient";
import { clearError, MAX_SEED, readConfig, readData, readDataset, showError, type DatasetSettings, type Point, type WidgetModel } from "./state";

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
  /** The points the generator last gave (the trait's own array until someone edits it). */
  private generated: unknown = null;
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly model: WidgetModel,
    private readonly client: Requester,
    /** Called when a new dataset or problem arrives: the old network does not belong to it. */
    private readonly onNewProblem: () => void = () => {},
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
    const before = readDataset(this.model).name;
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
      this.generated = m.get("data");
      const cfg = readConfig(m);
      // The dataset decides the problem; the reshaper follows with a matching network.
      const num_classes = reply.problem === "classification" ? reply.num_classes : cfg.num_classes;
      if (cfg.problem !== reply.problem || cfg.num_classes !== num_classes) {
        m.set("config", { ...cfg, problem: reply.problem, num_classes });
      }
      m.save_changes();
      if (settings.name !== before || cfg.problem !== reply.problem) this.onNewProblem();
      clearError(m, SOURCE);
    } catch (err) {
      if (err instanceof ClientClosed || ticket !== this.latest) return;
      showError(this.model, SOURCE, describeError(err));
    }
  }

  /** A new test split: the generator's own points are drawn again with it (the same points);
   *  points drawn or edited by hand keep their places and only their test marks change. */
  resplit(ratio: number): Promise<void> {
    const data = readData(this.model);
    if (data === this.generated || data.length === 0) return this.generate({ test_ratio: ratio });
    this.latest++; // a generate still on its way would replace the points: it is dropped
    const settings = readDataset(this.model);
    this.model.set("dataset", { ...settings, test_ratio: ratio });
    this.model.set("data", splitPoints(data, ratio, settings.seed));
    this.model.save_changes();
    return Promise.resolve();
  }

  /** Same settings, new random draw. */
  regenerate(): Promise<void> {
    return this.generate({ seed: (readDataset(this.model).seed + 1) % (MAX_SEED + 1) });
  }
}

/** `points` with exactly round(n · ratio) of them marked test, chosen by a seeded shuffle. */
export function splitPoints(points: readonly Point[], ratio: number, seed: number): Point[] {
  const n = points.length;
  const order = Array.from({ length: n }, (_, i) => i);
  let state = (seed >>> 0) ^ 0x9e3779b9;
  const random = (): number => {
    // mulberry32: small, seeded, good enough to pick which points are held out
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const test = new Set(order.slice(0, Math.round(n * ratio)));
  return points.map((p, i) => ({ ...p, test: test.has(i) }));
}
