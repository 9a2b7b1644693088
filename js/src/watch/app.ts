// The watch view: the user's own model, trained in the user's own loop. The kernel evaluates
// the model and sends grids as bytes; this view draws them with the playground's map painter,
// loss chart, metrics, neuron-map painter and status line. The playground's training
// controls do not apply: one line says where the training happens instead.
import type { WidgetModel } from "../state";
import { mountChart } from "../ui/chart";
import { cleanups, h, uid, type Cleanup } from "../ui/dom";
import { fitHostBox } from "../ui/hostBox";
import { mountMetrics, mountStatus } from "../ui/metrics";
import { mountWatchLayers } from "./layers";
import { mountWatchMap } from "./map";
import type { WatchModel } from "./model";
import { mountWatchTimeline } from "./timeline";
import "./watch.css";

function panel(title: string, cls: string, ...children: HTMLElement[]): HTMLElement {
  const id = uid("panel");
  return h("section", { class: `nnv-panel ${cls}`, "aria-labelledby": id }, h("h3", { class: "nnv-panel-title", id }, title), ...children);
}

/**
 * The playground's views read `history`, `metrics` and `status` in the same shapes the watch
 * view syncs; `config` (the problem, for hiding accuracies in regression) comes from `watch`.
 */
function asPlayground(model: WatchModel): WidgetModel {
  const get = (key: string): unknown => (key === "config" ? { problem: model.get("watch").problem } : (model.get as (k: string) => unknown)(key));
  return {
    get,
    set: () => undefined,
    on: (e: string, f: (...args: never[]) => void) => model.on(e === "change:config" ? "change:watch" : e, f),
    off: (e?: string | null, f?: ((...args: never[]) => void) | null) => model.off(e === "change:config" ? "change:watch" : e, f),
    save_changes: () => undefined,
    send: () => undefined,
  } as unknown as WidgetModel;
}

export function mountWatch(model: WatchModel, el: HTMLElement): Cleanup {
  const done = cleanups();
  const face = asPlayground(model);
  const where = h("p", { class: "nnv-watch-where" });
  const title = h("span", { class: "nnv-watch-title" });
  const metrics = h("dl", { class: "nnv-metrics" });
  const map = h("div", { class: "nnv-canvas" });
  const chart = h("div", { class: "nnv-chart", "data-control": "chart" });
  const layers = h("div", { class: "nnv-network nnv-watch-network", "data-control": "network" });
  const timeline = h("div", { class: "nnv-watch-timeline", "data-control": "timeline" });
  const status = h("div", { class: "nnv-status" });
  const root = h(
    "div",
    { class: "nnvisu nnv-watch", "data-lm-suppress-shortcuts": "true" },
    h("header", { class: "nnv-header nnv-watch-header" }, h("div", { class: "nnv-watch-heading" }, title, where), metrics),
    h("div", { class: "nnv-main nnv-watch-main" }, panel("Output", "nnv-panel--output", map, chart), panel("Layers", "nnv-panel--layers", layers)),
    timeline,
    status,
  );
  el.append(root);

  const syncInfo = (): void => {
    const info = model.get("watch");
    title.textContent = `Watching ${info.model}`;
    where.textContent = info.where;
  };
  syncInfo();
  model.on("change:watch", syncInfo);
  done.add(() => model.off("change:watch", syncInfo));

  done.add(mountMetrics(face, metrics));
  // No epochs here: the loop's batches are the user's own.
  for (const item of metrics.querySelectorAll(".nnv-metric")) {
    if (item.querySelector("dt")?.textContent === "Epoch") (item as HTMLElement).hidden = true;
  }
  const drawn = mountWatchMap(model, map);
  done.add(drawn.cleanup);
  done.add(mountChart(face, chart));
  done.add(mountWatchLayers(model, layers));
  done.add(mountWatchTimeline(model, timeline, drawn.show));
  done.add(mountStatus(face, status));
  done.add(fitHostBox(root));
  return () => {
    done.run();
    root.remove();
  };
}
