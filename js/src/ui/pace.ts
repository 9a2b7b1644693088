// The pace control: how fast Play trains, from one optimizer step per display frame through
// TensorFlow Playground's one epoch per frame to "max", each one click away; and the size of
// one press of Step. Both are traits (`pace`, `step_size`), so Python can set them and the
// page keeps them across reloads.
import { PACE_HINTS, PACE_LABELS, PACES, readPace, readStepSize, STEP_SIZE_LABELS, STEP_SIZES, type StepSize } from "../pace";
import { commit, type WidgetModel } from "../state";
import { control, h, onModel, select, uid, type Cleanup } from "./dom";
import "./pace.css";

export function mountPace(model: WidgetModel, el: HTMLElement): Cleanup {
  const name = uid("pace");
  const caption = h("span", { class: "nnv-pace-caption", id: `${name}-caption` }, "Pace (per frame)");
  const radios = PACES.map((pace) => {
    const input = h("input", { type: "radio", name, value: pace, class: "nnv-pace-input" });
    input.addEventListener("change", () => {
      if (input.checked) commit(model, "pace", pace);
    });
    return { pace, input, label: h("label", { class: "nnv-pace-option", title: PACE_HINTS[pace] }, input, h("span", {}, PACE_LABELS[pace])) };
  });
  const group = control(
    "pace",
    h("div", { class: "nnv-pace", role: "radiogroup", "aria-labelledby": caption.id }, caption, ...radios.map((r) => r.label)),
  );
  el.append(group);
  const sync = (): void => {
    const pace = readPace(model);
    for (const r of radios) {
      r.input.checked = r.pace === pace;
      r.label.classList.toggle("nnv-pace-option--on", r.pace === pace);
    }
  };
  sync();
  return onModel(model, ["change:pace"], sync);
}

/** The Step button's size: what one press trains. */
export function stepSizeSelect(model: WidgetModel): { el: HTMLSelectElement; cleanup: Cleanup } {
  const el = select(
    STEP_SIZES.map((s) => [s, STEP_SIZE_LABELS[s]] as const),
    (v) => commit(model, "step_size", v as StepSize),
  );
  el.classList.add("nnv-step-size");
  el.setAttribute("aria-label", "Step size");
  el.title = "What one press of Step trains";
  const sync = (): void => {
    el.value = readStepSize(model);
  };
  sync();
  return { el, cleanup: onModel(model, ["change:step_size"], sync) };
}
