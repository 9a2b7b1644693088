/**
 * Classroom mode (the `classroom` trait): a teacher hides control groups and can lock the data.
 * Control groups are the elements the controls mark with data-control="<name>" (the names
 * src/nnvisu/classroom.py lists for Python). Hiding uses an attribute of its own, not `hidden`:
 * the controls toggle `hidden` themselves (e.g. Momentum only for SGD and RMSprop), and
 * neither must undo the other.
 */
import { DATA_CONTROLS as DATA_CONTROL_NAMES } from "../generated/catalog";
import type { Classroom, WidgetModel } from "../state";
import "./classroom.css";

/** Control groups that change the data (nnvisu.classroom): disabled while the data is locked. */
const DATA_CONTROLS: readonly string[] = DATA_CONTROL_NAMES;

/** The map's point tools (Add, Erase, Clear, the classes) change the data too. */
const LOCKED_GROUPS: readonly string[] = [...DATA_CONTROLS, "tools"];
/** Why the data controls are off, shown in the data panel and on each of them. */
export const LOCK_REASON = "The points are locked for this lesson: adding, erasing, generating and re-splitting them is off.";

/** Marks what applyClassroom disabled, so unlocking re-enables only that. */
const LOCK_MARK = "data-nnv-locked";
/** Marks a hidden control group (classroom.css hides it). */
const HIDE_MARK = "data-nnv-classroom-hidden";

function readClassroom(model: WidgetModel): Classroom {
  const v: unknown = model.get("classroom");
  const c = typeof v === "object" && v !== null ? (v as Record<string, unknown>) : {};
  const hidden = Array.isArray(c.hidden) ? c.hidden.filter((h): h is string => typeof h === "string") : [];
  return { hidden, lock_data: c.lock_data === true };
}

/** For the data canvas: ignore edits while this is true. */
export function isDataLocked(model: WidgetModel): boolean {
  return readClassroom(model).lock_data;
}

/** Hide the named control groups under `root` and (un)lock the data controls. Idempotent. */
export function applyClassroom(root: HTMLElement, classroom: Classroom): void {
  const hidden = new Set(classroom.hidden);
  for (const group of root.querySelectorAll<HTMLElement>("[data-control]")) {
    const name = group.dataset.control ?? "";
    group.toggleAttribute(HIDE_MARK, hidden.has(name));
    const lock = classroom.lock_data && LOCKED_GROUPS.includes(name);
    for (const field of group.querySelectorAll<HTMLInputElement | HTMLButtonElement | HTMLSelectElement | HTMLTextAreaElement>(
      "input, button, select, textarea",
    )) {
      if (lock && !field.disabled) {
        field.disabled = true;
        field.setAttribute(LOCK_MARK, "");
        field.title = LOCK_REASON;
      } else if (!lock && field.hasAttribute(LOCK_MARK)) {
        field.disabled = false;
        field.removeAttribute(LOCK_MARK);
        field.removeAttribute("title");
      }
    }
  }
  root.classList.toggle("nnv-data-locked", classroom.lock_data);
  // The reason, once, at the top of the data panel.
  const panel = root.querySelector<HTMLElement>(".nnv-panel--data") ?? root;
  let note = panel.querySelector<HTMLElement>(".nnv-lock-note");
  if (classroom.lock_data && !note) {
    note = document.createElement("p");
    note.className = "nnv-lock-note";
    note.setAttribute("role", "note");
    note.textContent = LOCK_REASON;
    const title = panel.querySelector(".nnv-panel-title");
    if (title) title.after(note);
    else panel.prepend(note);
  } else if (!classroom.lock_data && note) note.remove();
}

/** Apply now and whenever the trait changes; returns the cleanup. */
export function mountClassroom(model: WidgetModel, root: HTMLElement): () => void {
  const apply = (): void => applyClassroom(root, readClassroom(model));
  apply();
  model.on("change:classroom", apply);
  return () => model.off("change:classroom", apply);
}
