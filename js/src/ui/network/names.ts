/** Words for diagram parts: accessible names, tooltips and editor titles (pure). */
import type { ModelConfig, NetworkJSON } from "../../nn/forward";
import { FEATURE_LABELS, FEATURE_SPOKEN, FEATURES } from "../../state";
import { formatValue } from "../../chart/scale";
import type { Hit } from "./hit";

/** "input x²", "layer 1 neuron 2", "output class 1"; `spoken` (for accessible names): "input x squared". */
export function nodeName(cfg: ModelConfig, column: number, node: number, spoken = false): string {
  const f = FEATURES[node];
  if (column === 0) return `input ${(spoken && FEATURE_SPOKEN[f]) || FEATURE_LABELS[f]}`;
  if (column <= cfg.hidden_layers.length) return `layer ${column} neuron ${node + 1}`;
  return cfg.problem === "classification" ? `output class ${node + 1}` : "output";
}

export function isActiveInput(cfg: ModelConfig, node: number): boolean {
  return cfg.features.includes(FEATURES[node]);
}

/** Index of display source `from` of gap g in the weight matrix's columns. */
export function sourceIndex(cfg: ModelConfig, gap: number, from: number): number {
  return gap === 0 ? cfg.features.indexOf(FEATURES[from]) : from;
}

export function weightName(cfg: ModelConfig, gap: number, from: number, to: number, spoken = false): string {
  return `weight from ${nodeName(cfg, gap, from, spoken)} to ${nodeName(cfg, gap + 1, to)}`;
}

const capital = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

/** Tooltip text for what the pointer (or keyboard focus) is on; `how` names the gesture that edits. */
export function describeHit(cfg: ModelConfig, net: NetworkJSON, hit: Hit, editable: boolean, how = "click"): string {
  const edit = editable ? ` · ${how} to edit` : "";
  if (hit.kind === "link") {
    const w = net.weights[hit.gap][hit.to][sourceIndex(cfg, hit.gap, hit.from)];
    return `${capital(weightName(cfg, hit.gap, hit.from, hit.to))}: ${formatValue(w)}${edit}`;
  }
  const name = capital(nodeName(cfg, hit.column, hit.node));
  if (hit.column === 0) {
    const on = isActiveInput(cfg, hit.node);
    return `${name}: ${on ? "on" : "off"}${editable ? ` · ${how} to switch ${on ? "off" : "on"}` : ""}`;
  }
  const bias = formatValue(net.biases[hit.column - 1][hit.node]);
  return hit.kind === "bias" ? `Bias of ${nodeName(cfg, hit.column, hit.node)}: ${bias}${edit}` : `${name} · bias ${bias}${edit}`;
}
