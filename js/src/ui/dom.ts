// Small DOM helpers shared by the UI modules: element creation, labelled form fields, and
// model listeners that come with their own removal.
import type { ControlName } from "../generated/catalog";
import type { WidgetModel } from "../state";

export type Cleanup = () => void;

type Attrs = Record<string, string | number | boolean | null | undefined>;

/** Create an element: attributes (false/null/undefined are skipped, true is ""), then children. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    el.setAttribute(name, value === true ? "" : String(value));
  }
  el.append(...children);
  return el;
}

const SVG_NS = "http://www.w3.org/2000/svg";

/** A decorative 16×16 icon (hidden from assistive technology): solid shapes or strokes. */
export function icon({ d, solid }: Icon): SVGSVGElement {
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", "0 0 16 16");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("class", solid ? "nnv-icon nnv-icon--solid" : "nnv-icon");
  const p = document.createElementNS(SVG_NS, "path");
  p.setAttribute("d", d);
  svg.append(p);
  return svg;
}

export interface Icon {
  d: string;
  solid?: boolean;
}

export const ICONS = {
  play: { d: "M5 2.8v10.4L13.2 8z", solid: true },
  pause: { d: "M4 3h3v10H4zM9 3h3v10H9z", solid: true },
  step: { d: "M3 3v10l7-5zM11 3h2v10h-2z", solid: true },
  reset: { d: "M12.9 9.5A5 5 0 1 1 11.6 4.4M12.2 1.8v2.9H9.3" },
  clear: { d: "M2.8 4.3h10.4M6.3 4.3V2.8h3.4v1.5M4.3 4.3l.7 9h6l.7-9" },
  minus: { d: "M4 8h8" },
  plus: { d: "M8 4v8M4 8h8" },
} satisfies Record<string, Icon>;

let fieldCounter = 0;

/** A unique id for label/control pairs (several widgets may share one page). */
export function uid(prefix: string): string {
  return `nnv-${prefix}-${++fieldCounter}`;
}

/** Name a group of controls (the config key it edits) so classroom mode can hide or lock it;
 *  the name must be one of nnvisu.classroom.CONTROLS (generated/catalog.ts). */
export function control<T extends HTMLElement>(name: ControlName, el: T): T {
  el.dataset.control = name;
  return el;
}

/** A short explanation shown on hover over a field (label and control alike). */
export function hint<T extends HTMLElement>(el: T, text: string): T {
  el.title = text;
  return el;
}

/** A label above a control: the field layout every form control in the widget uses. */
export function field(label: string, control: HTMLElement, extra?: HTMLElement): HTMLDivElement {
  const id = control.id || uid("f");
  control.id = id;
  const head = h("div", { class: "nnv-field-head" }, h("label", { for: id }, label));
  if (extra) head.append(extra);
  return h("div", { class: "nnv-field" }, head, control);
}

export type Option = readonly [value: string, text: string];

export function select(options: readonly Option[], onChange: (value: string) => void): HTMLSelectElement {
  const el = h("select", { class: "nnv-select" });
  setOptions(el, options);
  el.addEventListener("change", () => onChange(el.value));
  return el;
}

export function setOptions(el: HTMLSelectElement | HTMLOptGroupElement, options: readonly Option[]): void {
  el.replaceChildren(...options.map(([value, text]) => h("option", { value }, text)));
}

/** Show `value` in a select of preset values, adding it as an option when it is not a preset. */
export function showValue(el: HTMLSelectElement, value: string, text = value): void {
  if (![...el.options].some((o) => o.value === value)) el.append(h("option", { value }, text));
  el.value = value;
}

export interface Slider {
  input: HTMLInputElement;
  output: HTMLSpanElement;
  root: HTMLDivElement;
  /** Show a value from the model (does not fire the callbacks). */
  show(value: number): void;
}

/** A range input with its value shown beside the label. `onInput` runs while dragging, `onCommit` once released. */
export function slider(
  label: string,
  range: { min: number; max: number; step: number },
  format: (v: number) => string,
  onCommit: (v: number) => void,
  onInput?: (v: number) => void,
): Slider {
  const input = h("input", { type: "range", class: "nnv-range", min: range.min, max: range.max, step: range.step });
  // The slider's aria-valuetext already speaks the value: the visible copy is for the eyes.
  const output = h("span", { class: "nnv-field-value", "aria-hidden": "true" });
  const show = (v: number) => {
    input.value = String(v);
    output.textContent = format(v);
    input.setAttribute("aria-valuetext", format(v));
  };
  input.addEventListener("input", () => {
    const v = Number(input.value);
    output.textContent = format(v);
    input.setAttribute("aria-valuetext", format(v));
    onInput?.(v);
  });
  input.addEventListener("change", () => onCommit(Number(input.value)));
  return { input, output, root: field(label, input, output), show };
}

export function button(text: string, attrs: Attrs, onClick: () => void, glyph?: Icon): HTMLButtonElement {
  const el = h("button", { type: "button", class: "nnv-button", ...attrs });
  if (glyph) el.append(icon(glyph));
  if (text) el.append(h("span", {}, text));
  el.addEventListener("click", onClick);
  return el;
}

export function checkbox(label: string, onChange: (checked: boolean) => void): { root: HTMLLabelElement; input: HTMLInputElement } {
  const input = h("input", { type: "checkbox", class: "nnv-check" });
  input.addEventListener("change", () => onChange(input.checked));
  return { root: h("label", { class: "nnv-check-label" }, input, h("span", {}, label)), input };
}

/** Subscribe to model events; the returned function unsubscribes. */
export function onModel(model: WidgetModel, events: readonly string[], fn: () => void): Cleanup {
  for (const ev of events) model.on(ev, fn);
  return () => {
    for (const ev of events) model.off(ev, fn);
  };
}

/** Run every cleanup once, newest first. */
export function cleanups(): { add(c: Cleanup): void; run: Cleanup } {
  const list: Cleanup[] = [];
  return {
    add: (c) => void list.push(c),
    run: () => {
      while (list.length) list.pop()!();
    },
  };
}
