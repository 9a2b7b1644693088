/**
 * Keyboard access to the diagram: one invisible button per node over the canvas, with a roving
 * tabindex (the diagram is one Tab stop; arrow keys move between nodes, Enter/Space activates).
 * The buttons ignore the pointer: mouse input is hit-tested on the canvas.
 */
import { setAttr } from "../../chart/redraw";
import { type Layout, nodeBox } from "./layout";

export interface NodeRef {
  column: number;
  node: number;
}

/** Where an arrow key goes from `at`: along the column, or to the same relative height next door. */
export function moveFocus(counts: readonly number[], at: NodeRef, key: string): NodeRef | null {
  const last = (c: number) => counts[c] - 1;
  switch (key) {
    case "ArrowUp":
      return { column: at.column, node: Math.max(0, at.node - 1) };
    case "ArrowDown":
      return { column: at.column, node: Math.min(last(at.column), at.node + 1) };
    case "Home":
      return { column: at.column, node: 0 };
    case "End":
      return { column: at.column, node: last(at.column) };
    case "ArrowLeft":
    case "ArrowRight": {
      const column = at.column + (key === "ArrowLeft" ? -1 : 1);
      if (column < 0 || column >= counts.length) return at;
      const rel = counts[at.column] > 1 ? at.node / last(at.column) : 0.5;
      return { column, node: Math.round(rel * last(column)) };
    }
    default:
      return null;
  }
}

export interface KeysOptions {
  label(ref: NodeRef): string;
  /** Id of the element that describes the focused node (its values): the tooltip. */
  describedBy: string;
  /** aria-pressed for toggles (the input features); null for plain buttons. */
  pressed(ref: NodeRef): boolean | null;
  onFocus(ref: NodeRef | null): void;
  onActivate(ref: NodeRef): void;
}

export class NodeKeys {
  readonly root: HTMLDivElement;
  private buttons: HTMLButtonElement[][] = [];
  private current: NodeRef = { column: 0, node: 0 };

  constructor(
    doc: Document,
    private readonly opts: KeysOptions,
  ) {
    this.root = doc.createElement("div");
    this.root.className = "nnv-net-keys";
    this.root.setAttribute("role", "group");
    this.root.setAttribute(
      "aria-label",
      "Network: arrow keys move between neurons; Enter switches an input on or off, or edits a neuron's bias and weights",
    );
    this.root.addEventListener("keydown", (e) => this.onKey(e));
    this.root.addEventListener("focusin", (e) => {
      const ref = this.refOf(e.target);
      if (ref) this.opts.onFocus(ref);
    });
    this.root.addEventListener("focusout", (e) => {
      if (!this.refOf(e.relatedTarget)) this.opts.onFocus(null);
    });
  }

  /** Match the buttons to the layout (rebuilt when the node counts change). */
  update(layout: Layout): void {
    const counts = layout.columns.map((c) => c.ys.length);
    const same = counts.length === this.buttons.length && counts.every((n, c) => this.buttons[c].length === n);
    if (!same) this.rebuild(counts);
    this.buttons.forEach((col, column) =>
      col.forEach((b, node) => {
        const box = nodeBox(layout, column, node);
        const pad = Math.max(0, (12 - box.w) / 2); // a visible focus ring even on tiny thumbnails
        b.style.left = `${box.x - pad}px`;
        b.style.top = `${box.y - pad}px`;
        b.style.width = b.style.height = `${box.w + 2 * pad}px`;
      }),
    );
    this.refresh();
  }

  /** Re-read labels and pressed states (e.g. after the features changed); only changes are written. */
  refresh(): void {
    this.buttons.forEach((col, column) =>
      col.forEach((b, node) => {
        setAttr(b, "aria-label", this.opts.label({ column, node }));
        const pressed = this.opts.pressed({ column, node });
        if (pressed === null) b.removeAttribute("aria-pressed");
        else setAttr(b, "aria-pressed", String(pressed));
      }),
    );
  }

  focus(ref: NodeRef): void {
    this.setCurrent(ref);
    this.buttons[ref.column]?.[ref.node]?.focus();
  }

  private rebuild(counts: number[]): void {
    this.root.replaceChildren();
    this.buttons = counts.map((n) =>
      Array.from({ length: n }, () => {
        const b = this.root.ownerDocument.createElement("button");
        b.type = "button";
        b.tabIndex = -1;
        b.setAttribute("aria-describedby", this.opts.describedBy);
        b.addEventListener("click", () => {
          const ref = this.refOf(b);
          if (ref) this.opts.onActivate(ref);
        });
        this.root.append(b);
        return b;
      }),
    );
    const c = Math.min(this.current.column, counts.length - 1);
    this.setCurrent({ column: c, node: Math.min(this.current.node, counts[c] - 1) });
  }

  private setCurrent(ref: NodeRef): void {
    this.buttons[this.current.column]?.[this.current.node]?.setAttribute("tabindex", "-1");
    this.current = ref;
    this.buttons[ref.column]?.[ref.node]?.setAttribute("tabindex", "0");
  }

  private refOf(target: EventTarget | null): NodeRef | null {
    for (let column = 0; column < this.buttons.length; column++) {
      const node = this.buttons[column].indexOf(target as HTMLButtonElement);
      if (node >= 0) return { column, node };
    }
    return null;
  }

  private onKey(e: KeyboardEvent): void {
    const at = this.refOf(e.target);
    if (!at) return;
    const next = moveFocus(this.buttons.map((c) => c.length), at, e.key);
    if (!next) return;
    e.preventDefault();
    this.focus(next);
  }
}
