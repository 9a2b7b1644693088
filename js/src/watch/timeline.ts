// The timeline of a watched run: the kernel's snapshots of the decision map, scrubbed with a
// slider (keyboard too); while one is shown the map holds it, and Live goes back to the run.
import { formatStep } from "../chart/scale";
import { h, type Cleanup } from "../ui/dom";
import { formatLoss } from "../ui/metrics";
import type { Bytes, WatchModel, WatchSnapshot } from "./model";

export function mountWatchTimeline(model: WatchModel, el: HTMLElement, show: (map: Bytes | null) => void): Cleanup {
  const slider = h("input", { type: "range", class: "nnv-watch-scrub", min: 0, max: 0, step: 1, value: 0, "aria-label": "Snapshot of the run to show" });
  const live = h("button", { type: "button", class: "nnv-button nnv-watch-live", "aria-pressed": "true" }, "Live");
  const readout = h("span", { class: "nnv-watch-readout", "aria-live": "polite" });
  el.append(h("span", { class: "nnv-watch-timeline-title" }, "Timeline"), slider, live, readout);
  /** The snapshot shown, by step (snapshots thin out while the run goes on); null: live. */
  let pinnedStep: number | null = null;

  const snaps = (): WatchSnapshot[] => model.get("snapshots") ?? [];
  const sync = (): void => {
    const list = snaps();
    slider.max = String(Math.max(0, list.length - 1));
    slider.disabled = list.length === 0;
    let index = list.length - 1;
    if (pinnedStep !== null) {
      const found = list.findIndex((s) => s.step >= pinnedStep!);
      index = found >= 0 ? found : list.length - 1;
    }
    slider.value = String(Math.max(0, index));
    live.setAttribute("aria-pressed", String(pinnedStep === null));
    live.disabled = pinnedStep === null;
    const snap = list[index];
    if (pinnedStep !== null && snap) {
      readout.textContent = `Step ${formatStep(snap.step)} · train loss ${formatLoss(snap.train_loss)} · test loss ${formatLoss(snap.test_loss)} (snapshot ${index + 1} of ${list.length})`;
    } else {
      readout.textContent = list.length ? `Live · ${list.length} snapshot${list.length === 1 ? "" : "s"} to scrub back through` : "Snapshots appear as the run goes on";
    }
  };
  const onInput = (): void => {
    const list = snaps();
    const snap = list[Number(slider.value)];
    if (!snap) return;
    pinnedStep = Number(slider.value) === list.length - 1 ? null : snap.step;
    show(pinnedStep === null ? null : snap.map);
    sync();
  };
  const onLive = (): void => {
    pinnedStep = null;
    show(null);
    sync();
  };
  slider.addEventListener("input", onInput);
  live.addEventListener("click", onLive);
  model.on("change:snapshots", sync);
  sync();
  return () => {
    model.off("change:snapshots", sync);
    el.replaceChildren();
  };
}
