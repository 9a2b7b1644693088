// The page's starting state: what localStorage kept, else the same defaults the Python widget
// uses, and a dataset and a network asked from the server (the model must start with one).
import { networkMatches, type NetworkJSON } from "../nn/forward";
import {
  DEFAULT_CONFIG,
  DEFAULT_DATASET,
  DEFAULT_METRICS,
  DEFAULT_VIEW,
  type DatasetSettings,
  type TrainConfig,
} from "../state";
import { isObject } from "../protocol";
import type { Message } from "./connection";

export type Requester = (message: Message) => Promise<Message>;

/** Thrown when the server answers a start-up request with an error that retrying won't fix. */
export class BootstrapError extends Error {}

const TRANSIENT_CODES = new Set(["busy", "internal"]);

export function defaultState(): Record<string, unknown> {
  return {
    data: null,
    config: { ...DEFAULT_CONFIG },
    network: null,
    optimizer_state: null,
    metrics: { ...DEFAULT_METRICS },
    history: [],
    dataset: { ...DEFAULT_DATASET },
    view: { ...DEFAULT_VIEW },
  };
}

/**
 * Merge stored traits over the defaults and fill in what is missing by asking the server.
 * Retries (with `wait` between tries) while the server is unreachable or busy.
 */
export async function initialState(
  stored: Record<string, unknown>,
  request: Requester,
  wait: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
): Promise<Record<string, unknown>> {
  const state: Record<string, unknown> = { ...defaultState(), ...stored };
  state.status = { state: "idle", message: "" };
  state.playing = false; // a reload starts paused
  const config = { ...DEFAULT_CONFIG, ...(isObject(state.config) ? state.config : {}) } as TrainConfig;
  state.config = config;

  if (!Array.isArray(state.data)) {
    const dataset = { ...DEFAULT_DATASET, ...(isObject(state.dataset) ? state.dataset : {}) } as DatasetSettings;
    const { name, ...settings } = dataset;
    const reply = await ask(request, wait, { type: "generate_data", dataset: name, ...settings });
    state.data = reply.data;
    state.dataset = dataset;
  }
  const network = state.network as NetworkJSON | null;
  if (!network || !isObject(state.optimizer_state) || !networkMatches(network, config)) {
    // A stored network that no longer fits its config is adapted (overlapping weights kept).
    const reply = await ask(request, wait, {
      type: "init_network",
      config,
      ...(network && isObject(network) ? { network, previous_features: config.features } : {}),
    });
    state.network = reply.network;
    state.optimizer_state = reply.optimizer_state;
  }
  return state;
}

async function ask(request: Requester, wait: (ms: number) => Promise<void>, message: Message): Promise<Message> {
  for (let attempt = 0; ; attempt++) {
    const reply = await request(message);
    if (reply.type !== "error") return reply;
    if (!TRANSIENT_CODES.has(String(reply.code)) && message.type === "init_network" && "network" in message) {
      // The stored network is unusable: start from a fresh one.
      const { network: _n, previous_features: _p, ...fresh } = message;
      message = fresh;
      continue;
    }
    if (!TRANSIENT_CODES.has(String(reply.code))) {
      throw new BootstrapError(`the server rejected ${String(message.type)}: ${String(reply.message)}`);
    }
    await wait(Math.min(10_000, 500 * 2 ** attempt));
  }
}
