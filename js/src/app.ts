// The widget's layout and wiring: header (transport + metrics), training settings, the data /
// network / output panels, the timeline, and the status line. One function per view; its
// cleanup stops this view's loop and drops every listener.
import { TrainingLoop } from "./loop";
import { ProtocolClient } from "./protocolClient";
import { openSession } from "./session";
import type { WidgetModel } from "./state";
import { mountArchitecture } from "./ui/architecture";
import { mountChart } from "./ui/chart";
import { mountClassroom } from "./ui/classroom";
import { mountDataCanvas } from "./ui/canvas";
import { mountDataPanel } from "./ui/dataPanel";
import { mountDataTools } from "./ui/dataTools";
import { cleanups, h, uid, type Cleanup } from "./ui/dom";
import { fitHostBox } from "./ui/hostBox";
import { mountHyperparams } from "./ui/hyperparams";
import { mountCompare } from "./compare/view";
import { mountLayerSpace } from "./ui/layerSpace";
import { mountLossHistogram } from "./ui/lossHistogram";
import { mountMetrics, mountStatus } from "./ui/metrics";
import { mountNetwork } from "./ui/network";
import { mountTimeline } from "./ui/timeline";
import { mountTransport, togglePlay } from "./ui/transport";

/** Elements that act on Space themselves (typing, pressing, ticking): Space is theirs. */
const SPACE_TAKERS =
  "input, textarea, select, button, a[href], summary, [contenteditable]:not([contenteditable='false']), [role='button'], [role='checkbox'], [role='radio'], [role='switch'], [role='textbox'], [role='slider']";

function panel(title: string, cls: string, ...children: HTMLElement[]): HTMLElement {
  const id = uid("panel");
  return h("section", { class: `nnv-panel ${cls}`, "aria-labelledby": id }, h("h3", { class: "nnv-panel-title", id }, title), ...children);
}

export function mountApp(model: WidgetModel, el: HTMLElement): Cleanup {
  const done = cleanups();
  const session = openSession(model);
  const loopClient = new ProtocolClient(model);
  const loop = new TrainingLoop(model, loopClient, { onApplied: (net, data) => session.refresher.markFresh(net, data) });

  const transport = h("div", { class: "nnv-transport", role: "group", "aria-label": "Training" });
  const metrics = h("dl", { class: "nnv-metrics" });
  const hyper = h("div", { class: "nnv-hyper", role: "group", "aria-label": "Training settings" });
  const dataControls = h("div", { class: "nnv-stack" });
  const architecture = h("div", { class: "nnv-architecture" });
  const canvas = h("div", { class: "nnv-canvas" });
  const tools = h("div", { class: "nnv-tools" });
  const status = h("div", { class: "nnv-status" });
  // Filled by the network diagram, loss chart and timeline modules.
  const network = h("div", { class: "nnv-network", "data-control": "network" });
  const chart = h("div", { class: "nnv-chart", "data-control": "chart" });
  const lossHistogram = h("div", { class: "nnv-losshist", "data-control": "chart" });
  const layerSpace = h("div", { class: "nnv-layerspace", "data-control": "layer_space" });
  const compare = h("section", { class: "nnv-panel nnv-panel--compare", "data-control": "compare", "aria-label": "Compare two runs" });
  const compareClient = new ProtocolClient(model);
  const timeline = h("div", { class: "nnv-timeline", "data-control": "timeline" });

  const root = h(
    "div",
    // Lumino (JupyterLab) skips its keyboard shortcuts for keys pressed inside this element.
    { class: "nnvisu", "data-lm-suppress-shortcuts": "true" },
    // The status line sits next to Play: what the trainer says is read where it is driven.
    h("header", { class: "nnv-header" }, transport, status, metrics),
    hyper,
    h(
      "div",
      { class: "nnv-main" },
      panel("Data", "nnv-panel--data", dataControls),
      panel("Network", "nnv-panel--network", architecture, network, layerSpace),
      panel("Output", "nnv-panel--output", canvas, tools, chart, lossHistogram),
    ),
    timeline,
    compare,
  );
  el.append(root);

  done.add(mountTransport(model, transport, loop, session.reshaper));
  done.add(mountMetrics(model, metrics));
  done.add(mountHyperparams(model, hyper));
  done.add(mountDataPanel(model, dataControls, session.generator));
  done.add(mountArchitecture(model, architecture));
  done.add(mountDataCanvas(model, canvas));
  done.add(mountDataTools(model, tools));
  done.add(mountStatus(model, status));
  done.add(mountNetwork(model, network));
  done.add(mountChart(model, chart));
  done.add(mountLossHistogram(model, lossHistogram));
  done.add(mountLayerSpace(model, layerSpace));
  done.add(mountCompare(model, compare, compareClient));
  done.add(mountTimeline(model, timeline));
  // Last: hides control groups the others created.
  done.add(mountClassroom(model, root));
  done.add(fitHostBox(root));

  // Space plays/pauses anywhere in the widget, except where Space already means something.
  root.addEventListener("keydown", (e) => {
    if (e.key !== " " || e.ctrlKey || e.metaKey || e.altKey || e.repeat) return;
    const taker = e.target instanceof Element ? e.target.closest(SPACE_TAKERS) : null;
    if (taker && root.contains(taker)) return;
    e.preventDefault();
    e.stopPropagation();
    togglePlay(model, loop);
  });

  return () => {
    done.run();
    loop.dispose();
    loopClient.dispose();
    compareClient.dispose();
    session.close();
    root.remove();
  };
}
