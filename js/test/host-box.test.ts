// @vitest-environment jsdom
// A host box that caps its height and scrolls (marimo's editor output) is found across the
// shadow root the widget renders in, only when it clips the view and holds nothing else.
import { describe, expect, it } from "vitest";
import { cappingBox } from "../src/ui/hostBox";

function sized<T extends HTMLElement>(el: T, client: number, scroll: number): T {
  Object.defineProperty(el, "clientHeight", { value: client });
  Object.defineProperty(el, "scrollHeight", { value: scroll });
  return el;
}

/** page > box (capped, scrolling) > host ⟶ shadow root > view, the view `height` px tall. */
function layout(height: number, box: { client: number; scroll: number; cap?: string }) {
  const outer = document.createElement("div");
  const capped = sized(document.createElement("div"), box.client, box.scroll);
  capped.style.maxHeight = box.cap ?? "610px";
  capped.style.overflowY = "auto";
  const host = document.createElement("div");
  const view = document.createElement("div");
  view.getBoundingClientRect = () => ({ height }) as DOMRect;
  host.attachShadow({ mode: "open" }).append(view);
  capped.append(host);
  outer.append(capped);
  document.body.append(outer);
  return { capped, view };
}

describe("cappingBox", () => {
  it("finds the capped scrolling box around the view, across the shadow root", () => {
    const { capped, view } = layout(1600, { client: 610, scroll: 1630 });
    expect(cappingBox(view)).toBe(capped);
  });

  it("leaves a box alone that does not clip the view", () => {
    const { view } = layout(500, { client: 530, scroll: 530 });
    expect(cappingBox(view)).toBeNull();
  });

  it("leaves a box alone that holds more than the view", () => {
    const { view } = layout(1600, { client: 610, scroll: 2400 });
    expect(cappingBox(view)).toBeNull();
  });

  it("finds nothing where no ancestor caps its height", () => {
    const { view } = layout(1600, { client: 610, scroll: 1630, cap: "none" });
    expect(cappingBox(view)).toBeNull();
  });
});
