// Wire protocol v1 message shapes (docs/protocol.md), and the checks applied to every reply
// before the rest of the frontend trusts it.
import type { NetworkJSON } from "./nn/forward";
import type { PackedNetwork, PackedPoints } from "./payload";
import type { OptimizerState, Point, Problem, TrainConfig } from "./state";

/** Optimizer state whose buffers may be in the packed form. */
export type WireOptimizerState = Omit<OptimizerState, "buffers"> & { buffers: Record<string, NetworkJSON | PackedNetwork> };

export interface TrainStepRequest {
  type: "train_step";
  config: TrainConfig;
  network: NetworkJSON | PackedNetwork;
  optimizer_state?: OptimizerState | WireOptimizerState;
  data: Point[] | PackedPoints;
  /** The reply's network and buffers in the packed form. */
  packed?: boolean;
  /** Also return the network every this many ms of training (snapshots, for animation). */
  snapshot_ms?: number;
  /** Also return the network after every this many steps (a paced page: one per frame). */
  snapshot_steps?: number;
}

/** The network part-way through a train_step (requested with snapshot_ms). */
export interface TrainSnapshot {
  global_step: number;
  epoch: number;
  /** Milliseconds into the request's training. */
  at_ms: number;
  network: NetworkJSON | PackedNetwork;
  train_loss: number;
  test_loss: number | null;
  accuracy: number | null;
  test_accuracy: number | null;
}

export interface InitNetworkRequest {
  type: "init_network";
  config: TrainConfig;
  network?: NetworkJSON;
  previous_features?: string[];
}

export interface EvaluateRequest {
  type: "evaluate";
  config: TrainConfig;
  network: NetworkJSON;
  data: Point[];
}

export interface GenerateDataRequest {
  type: "generate_data";
  dataset: string;
  n: number;
  noise: number;
  num_classes: number;
  seed: number;
  test_ratio: number;
}

export interface InfoRequest {
  type: "info";
}

export interface TrainStepResult {
  type: "train_step_result";
  network: NetworkJSON | PackedNetwork;
  optimizer_state: OptimizerState | WireOptimizerState;
  train_loss: number;
  test_loss: number | null;
  accuracy: number | null;
  test_accuracy: number | null;
  steps: number;
  global_step: number;
  epoch: number;
  elapsed_ms: number;
  snapshots?: TrainSnapshot[];
}

export interface NetworkReply {
  type: "network";
  network: NetworkJSON;
  optimizer_state: OptimizerState;
}

export interface EvaluateResult {
  type: "evaluate_result";
  train_loss: number | null;
  test_loss: number | null;
  accuracy: number | null;
  test_accuracy: number | null;
}

export interface DataReply {
  type: "data";
  data: Point[];
  problem: Problem;
  num_classes: number;
}

export interface DatasetInfo {
  problem: Problem;
  min_classes: number;
  max_classes: number;
}

export interface InfoResult {
  type: "info_result";
  datasets: Record<string, DatasetInfo>;
}

export interface ErrorReply {
  type: "error";
  code: string;
  message: string;
  field: string | null;
}

export interface CompareStepRequest {
  type: "compare_step";
  runs: { config: TrainConfig; network: NetworkJSON; optimizer_state?: OptimizerState }[];
  data: Point[] | PackedPoints;
  steps?: number;
  time_budget_ms?: number;
}

export interface CompareStepResult {
  type: "compare_step_result";
  runs: TrainStepResult[];
  steps: number;
  elapsed_ms: number;
}

/** Request type → its request and its success reply. */
export interface Exchanges {
  train_step: [TrainStepRequest, TrainStepResult];
  compare_step: [CompareStepRequest, CompareStepResult];
  init_network: [InitNetworkRequest, NetworkReply];
  evaluate: [EvaluateRequest, EvaluateResult];
  generate_data: [GenerateDataRequest, DataReply];
  info: [InfoRequest, InfoResult];
}
export type RequestType = keyof Exchanges;
export type AnyRequest = Exchanges[RequestType][0];
export type RequestOf<K extends RequestType> = Exchanges[K][0];
export type ReplyOf<K extends RequestType> = Exchanges[K][1];

type Check = (v: unknown) => boolean;

export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isNumber: Check = (v) => typeof v === "number" && Number.isFinite(v);
const isNullableNumber: Check = (v) => v === null || isNumber(v);
const isArray: Check = (v) => Array.isArray(v);
const isNetwork: Check = (v) =>
  isObject(v) && ((isArray(v.weights) && isArray(v.biases)) || (isArray(v.sizes) && typeof v.f32 === "string"));

/** Fields each success reply must carry; extra fields are allowed (the kernel may add some). */
const REPLY_FIELDS: { [K in RequestType]: [ReplyOf<K>["type"], Record<string, Check>] } = {
  train_step: [
    "train_step_result",
    {
      network: isNetwork,
      optimizer_state: isObject,
      train_loss: isNumber,
      test_loss: isNullableNumber,
      accuracy: isNullableNumber,
      test_accuracy: isNullableNumber,
      steps: isNumber,
      global_step: isNumber,
      epoch: isNumber,
      elapsed_ms: isNumber,
    },
  ],
  compare_step: ["compare_step_result", { runs: (v) => Array.isArray(v) && v.length === 2 && v.every((r) => isObject(r) && isNetwork(r.network) && isObject(r.optimizer_state)), steps: isNumber }],
  init_network: ["network", { network: isNetwork, optimizer_state: isObject }],
  evaluate: [
    "evaluate_result",
    { train_loss: isNullableNumber, test_loss: isNullableNumber, accuracy: isNullableNumber, test_accuracy: isNullableNumber },
  ],
  generate_data: ["data", { data: isArray, problem: (v) => v === "classification" || v === "regression", num_classes: isNumber }],
  info: ["info_result", { datasets: isObject }],
};

/** A reply the kernel sent instead of the expected one, or one that failed the shape checks. */
export class ProtocolError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly field: string | null = null,
  ) {
    super(message);
    this.name = "ProtocolError";
  }
}

/** Check a reply to a `kind` request: returns it typed, or throws ProtocolError. */
export function checkReply<K extends RequestType>(kind: K, reply: Record<string, unknown>): ReplyOf<K> {
  if (reply.type === "error") {
    const message = typeof reply.message === "string" ? reply.message : "the kernel reported an error";
    const code = typeof reply.code === "string" ? reply.code : "internal";
    throw new ProtocolError(message, code, typeof reply.field === "string" ? reply.field : null);
  }
  const [type, fields] = REPLY_FIELDS[kind];
  if (reply.type !== type) throw new ProtocolError(`expected a "${type}" reply, got "${String(reply.type)}"`, "bad_reply");
  for (const [name, ok] of Object.entries(fields)) {
    if (!ok(reply[name])) throw new ProtocolError(`the "${type}" reply has a bad "${name}" field`, "bad_reply", name);
  }
  return reply as unknown as ReplyOf<K>;
}
