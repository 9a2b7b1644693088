/**
 * DOM events the views of one widget use to talk to each other without sharing state:
 *   nnvisu:focus-node       detail {layer, node} | null — show that node's map large (layer and
 *                           node index evaluateGrid's output: 0 = inputs in config order, …, outputs);
 *   nnvisu:preview-network  detail {network} | null — draw this snapshot instead of the live network.
 * Both bubble; listeners match the widget root (`.nnvisu`) so two widgets on a page stay apart.
 */
import type { NetworkJSON } from "../../nn/forward";

export const FOCUS_NODE = "nnvisu:focus-node";
export const PREVIEW_NETWORK = "nnvisu:preview-network";

export interface FocusNodeDetail {
  layer: number;
  node: number;
}

export interface PreviewDetail {
  network: NetworkJSON;
}

export function emit<T>(el: HTMLElement, type: string, detail: T | null): void {
  el.dispatchEvent(new CustomEvent(type, { bubbles: true, detail }));
}

/** Listen for `type` from anywhere in the same widget as `el`; returns the unsubscribe. */
export function listen<T>(el: HTMLElement, type: string, callback: (detail: T | null) => void): () => void {
  const doc = el.ownerDocument;
  const handler = (e: Event): void => {
    const from = e.target instanceof Element ? e.target.closest(".nnvisu") : null;
    if (from !== null && from === el.closest(".nnvisu")) callback(((e as CustomEvent<T | null>).detail ?? null) as T | null);
  };
  doc.addEventListener(type, handler);
  return () => doc.removeEventListener(type, handler);
}
