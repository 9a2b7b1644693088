/**
 * The inline number editor for weights and biases: a small dialog of labelled number inputs.
 * Enter applies (only the fields that changed), Escape or leaving it cancels.
 */
import { parseValue } from "./edit";

export interface Field {
  /** Visible label, e.g. "bias" or "from x²". */
  label: string;
  /** Accessible name of the input, e.g. "Weight from x² to layer 1 neuron 2". */
  name: string;
  value: number;
}

export interface EditorOptions {
  title: string;
  fields: Field[];
  /** Where to put it (CSS px inside `host`). */
  x: number;
  y: number;
  /** Called with the fields that changed: index → new value. */
  onApply(changes: Map<number, number>): void;
  /** Called whenever the editor closes (applied or not). */
  onClose(): void;
}

/** Open the editor inside `host` (position: relative); returns a function that closes it. */
export function openEditor(host: HTMLElement, opts: EditorOptions): () => void {
  const doc = host.ownerDocument;
  const form = doc.createElement("form");
  form.className = "nnv-net-editor";
  form.setAttribute("role", "dialog");
  form.setAttribute("aria-label", opts.title);
  const title = doc.createElement("div");
  title.className = "nnv-net-editor-title";
  title.textContent = opts.title;
  form.append(title);
  const inputs = opts.fields.map((f) => {
    const row = doc.createElement("label");
    row.className = "nnv-net-editor-row";
    const text = doc.createElement("span");
    text.textContent = f.label;
    const input = doc.createElement("input");
    input.type = "number";
    input.step = "any";
    input.value = String(+f.value.toPrecision(6));
    input.setAttribute("aria-label", f.name);
    row.append(text, input);
    form.append(row);
    return input;
  });
  // A submit button also makes Enter submit a form with several number inputs.
  const actions = doc.createElement("div");
  actions.className = "nnv-net-editor-actions";
  const apply = doc.createElement("button");
  apply.type = "submit";
  apply.textContent = "Apply";
  const cancel = doc.createElement("button");
  cancel.type = "button";
  cancel.textContent = "Cancel";
  actions.append(cancel, apply);
  form.append(actions);
  host.append(form);

  // Keep the dialog inside the host.
  const maxX = Math.max(0, host.clientWidth - form.offsetWidth - 4);
  const maxY = Math.max(0, host.clientHeight - form.offsetHeight - 4);
  form.style.left = `${Math.min(maxX, Math.max(4, opts.x))}px`;
  form.style.top = `${Math.min(maxY, Math.max(4, opts.y))}px`;

  let open = true;
  const close = (): void => {
    if (!open) return;
    open = false;
    form.remove();
    opts.onClose();
  };
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const changes = new Map<number, number>();
    let valid = true;
    inputs.forEach((input, i) => {
      const v = parseValue(input.value);
      input.setAttribute("aria-invalid", String(v === null));
      if (v === null) valid = false;
      else if (v !== +opts.fields[i].value.toPrecision(6)) changes.set(i, v);
    });
    if (!valid) return;
    if (changes.size > 0) opts.onApply(changes);
    close();
  });
  cancel.addEventListener("click", () => close());
  form.addEventListener("keydown", (e) => {
    if (e.key !== "Escape") return;
    e.preventDefault();
    e.stopPropagation();
    close();
  });
  form.addEventListener("focusout", (e) => {
    if (!form.contains(e.relatedTarget as Node | null)) close();
  });
  inputs[0]?.focus();
  inputs[0]?.select();
  return close;
}
