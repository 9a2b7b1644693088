// The controllers a view runs against the kernel besides its training loop. Each view has its
// own (anywidget hands every view a distinct model proxy, so views cannot share by identity);
// the controllers are idempotent, so two views of one model agree without coordination.
import { DataGenerator } from "./datasets";
import { MetricsRefresher } from "./metricsRefresher";
import { ProtocolClient } from "./protocolClient";
import { Reshaper } from "./reshaper";
import type { WidgetModel } from "./state";

export interface Session {
  readonly client: ProtocolClient;
  readonly reshaper: Reshaper;
  readonly refresher: MetricsRefresher;
  readonly generator: DataGenerator;
  close(): void;
}

export function openSession(model: WidgetModel): Session {
  const client = new ProtocolClient(model);
  const reshaper = new Reshaper(model, client);
  const refresher = new MetricsRefresher(model, client);
  const generator = new DataGenerator(model, client, () => reshaper.startFresh());
  void generator.loadCatalogue();
  return {
    client,
    reshaper,
    refresher,
    generator,
    close() {
      reshaper.dispose();
      refresher.dispose();
      client.dispose();
    },
  };
}
