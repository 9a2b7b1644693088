// Play/Pause (one toggle whose accessible name says what it will do), Step and Reset weights.
import type { TrainingLoop } from "../loop";
import type { Reshaper } from "../reshaper";
import { commit, type WidgetModel } from "../state";
import { button, control, h, icon, ICONS, onModel, type Cleanup } from "./dom";
import { mountPace, stepSizeSelect } from "./pace";

/** Play or pause. `playing` may be true because another view of this model runs the loop:
 *  pausing then just switches the trait off, and that view stops. */
export function togglePlay(model: WidgetModel, loop: TrainingLoop): void {
  if (model.get("playing") && !loop.isRunning) commit(model, "playing", false);
  else loop.toggle();
}

export function mountTransport(model: WidgetModel, el: HTMLElement, loop: TrainingLoop, reshaper: Reshaper): Cleanup {
  const play = button("", { class: "nnv-play" }, () => togglePlay(model, loop));
  const step = button("Step", { class: "nnv-button", "aria-label": "Step", title: "Train one step size (chosen beside)" }, () => loop.step(), ICONS.step);
  const size = stepSizeSelect(model);
  const reset = button("Reset", { class: "nnv-button", "aria-label": "Reset weights", title: "New random weights (bumps the seed)" }, () => reshaper.resetWeights(), ICONS.reset);
  el.append(play, control("step", h("span", { class: "nnv-step-group" }, step, size.el)), control("reset", reset));
  const unmountPace = mountPace(model, el);

  const sync = () => {
    const playing = Boolean(model.get("playing"));
    const label = playing ? "Pause" : "Play";
    play.setAttribute("aria-label", label);
    play.title = `${label} (Space)`;
    play.replaceChildren(icon(playing ? ICONS.pause : ICONS.play));
    play.classList.toggle("nnv-play--on", playing);
    step.disabled = playing;
  };
  sync();
  const off = onModel(model, ["change:playing"], sync);
  return () => {
    off();
    size.cleanup();
    unmountPace();
  };
}
