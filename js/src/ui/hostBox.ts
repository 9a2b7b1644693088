// Hosts that cap the height of every cell output and scroll it (marimo's editor: 610 px)
// clip the playground into a small box inside an already scrolling page. When such a box
// holds nothing but this view, its cap is lifted so the page scrolls instead (marimo does the
// same for its own tables); the box gets its own value back when the view goes.
import type { Cleanup } from "./dom";

/** What a box may hold besides the view (its padding, a border) and still hold only the view. */
const SLACK_PX = 64;

/** The element above `node`, crossing out of a shadow root (marimo renders widgets in one). */
function parentOf(node: Element): HTMLElement | null {
  if (node.parentElement) return node.parentElement;
  const root = node.getRootNode();
  return root instanceof ShadowRoot && root.host instanceof HTMLElement ? root.host : null;
}

/** The nearest ancestor that caps its height and scrolls, if it clips `view` and holds
 * nothing else of size; null otherwise (no cap, or a box the user fills with more). */
export function cappingBox(view: HTMLElement): HTMLElement | null {
  const height = view.getBoundingClientRect().height;
  for (let box = parentOf(view); box; box = parentOf(box)) {
    const style = getComputedStyle(box);
    if (style.maxHeight === "none" || !/auto|scroll/.test(style.overflowY)) continue;
    const clips = box.clientHeight + 1 < height;
    const holdsOnlyView = box.scrollHeight <= height + SLACK_PX;
    return clips && holdsOnlyView ? box : null;
  }
  return null;
}

/** Lift the cap of the box that clips `view` (checked whenever the view's size changes). */
export function fitHostBox(view: HTMLElement): Cleanup {
  if (typeof ResizeObserver !== "function") return () => {};
  let lifted: { box: HTMLElement; maxHeight: string } | null = null;
  const observer = new ResizeObserver(() => {
    const box = lifted ? null : cappingBox(view);
    if (!box) return;
    lifted = { box, maxHeight: box.style.maxHeight };
    box.style.maxHeight = "none";
  });
  observer.observe(view);
  return () => {
    observer.disconnect();
    if (lifted) lifted.box.style.maxHeight = lifted.maxHeight;
  };
}
