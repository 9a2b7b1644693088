// @vitest-environment jsdom
// Classroom mode: named control groups hidden, data controls locked (and only those unlocked).
import { describe, expect, it } from "vitest";
import { applyClassroom, isDataLocked, mountClassroom } from "../src/ui/classroom";
import { FakeModel } from "./fakeModel";
import { raw } from "./network-dom";

function controls(): HTMLDivElement {
  const root = document.createElement("div");
  root.className = "nnvisu";
  root.innerHTML = `
    <div data-control="dataset"><select><option>circle</option></select><button>Regenerate</button></div>
    <div data-control="points"><button>Add</button><button disabled>Erase</button></div>
    <div data-control="learning_rate"><input type="range" /></div>
    <div data-control="timeline"></div>`;
  return root;
}

const group = (root: HTMLElement, name: string) => root.querySelector<HTMLElement>(`[data-control="${name}"]`)!;
/** Hidden by classroom mode (classroom.css: display none). */
const hiddenByClassroom = (root: HTMLElement, name: string) => group(root, name).hasAttribute("data-nnv-classroom-hidden");

describe("classroom", () => {
  it("hides the named groups and shows them again", () => {
    const root = controls();
    applyClassroom(root, { hidden: ["learning_rate", "timeline"], lock_data: false });
    expect(hiddenByClassroom(root, "learning_rate")).toBe(true);
    expect(hiddenByClassroom(root, "timeline")).toBe(true);
    expect(hiddenByClassroom(root, "dataset")).toBe(false);
    applyClassroom(root, { hidden: [], lock_data: false });
    expect(hiddenByClassroom(root, "timeline")).toBe(false);
  });

  it("leaves the hidden attribute to the controls (e.g. Momentum, shown for SGD only)", () => {
    const root = controls();
    group(root, "learning_rate").hidden = true;
    applyClassroom(root, { hidden: ["dataset"], lock_data: false });
    applyClassroom(root, { hidden: [], lock_data: false });
    expect(group(root, "learning_rate").hidden).toBe(true);
    expect(group(root, "dataset").hidden).toBe(false);
  });

  it("locks the data controls, and unlocking re-enables only what it disabled", () => {
    const root = controls();
    applyClassroom(root, { hidden: [], lock_data: true });
    expect([...group(root, "dataset").querySelectorAll("select, button")].every((f) => (f as HTMLButtonElement).disabled)).toBe(true);
    expect(group(root, "points").querySelector("button")!.disabled).toBe(true);
    expect(group(root, "learning_rate").querySelector("input")!.disabled).toBe(false);
    expect(root.classList.contains("nnv-data-locked")).toBe(true);
    applyClassroom(root, { hidden: [], lock_data: false });
    const [add, erase] = group(root, "points").querySelectorAll("button");
    expect(add.disabled).toBe(false);
    expect(erase.disabled).toBe(true); // was disabled by its owner: stays so
    expect(root.classList.contains("nnv-data-locked")).toBe(false);
  });

  it("follows the trait, and isDataLocked reads it (false when missing or malformed)", () => {
    const model = new FakeModel();
    expect(isDataLocked(model)).toBe(false);
    const root = controls();
    const stop = mountClassroom(model, root);
    raw(model).set("classroom", { hidden: ["dataset", 3], lock_data: true });
    expect(hiddenByClassroom(root, "dataset")).toBe(true);
    expect(isDataLocked(model)).toBe(true);
    raw(model).set("classroom", { lock_data: "yes" });
    expect(isDataLocked(model)).toBe(false);
    stop();
    expect(model.listenerCount("change:classroom")).toBe(0);
  });
});
