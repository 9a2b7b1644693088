// The tools under the data map: add or erase, the class (or value) of new points, the eraser
// size, clearing, and the view toggles (test points, discretized output).
import { MAX_CLASSES, commit, patchView, readConfig, readView, type WidgetModel } from "../state";
import { cssColor, PALETTE } from "./colors";
import { isDataLocked } from "./classroom";
import { button, checkbox, control, h, hint, ICONS, onModel, slider, uid, type Cleanup } from "./dom";
import "./dataTools.css";

export function mountDataTools(model: WidgetModel, el: HTMLElement): Cleanup {
  const group = uid("tools");

  const tool = (value: "add" | "erase", text: string, label: string) => {
    const input = h("input", { type: "radio", name: `${group}-tool`, value, class: "nnv-seg-input", "aria-label": label });
    input.addEventListener("change", () => patchView(model, { tool: value }));
    return { input, root: h("label", { class: "nnv-seg" }, input, h("span", { "aria-hidden": "true" }, text)) };
  };
  const addTool = tool("add", "Add", "Add points");
  const eraseTool = tool("erase", "Erase", "Erase points");
  const tools = h("div", { class: "nnv-segmented", role: "radiogroup", "aria-label": "Tool" }, addTool.root, eraseTool.root);

  const swatches = Array.from({ length: MAX_CLASSES }, (_, k) => {
    const input = h("input", { type: "radio", name: `${group}-class`, value: k, class: "nnv-swatch-input", "aria-label": `Class ${k + 1}` });
    input.addEventListener("change", () => patchView(model, { selected_class: k }));
    const root = h("label", { class: "nnv-swatch", title: `Class ${k + 1} (key ${k + 1})` }, input, h("span", { class: "nnv-swatch-dot", style: `background:${cssColor(PALETTE[k])}` }));
    return { input, root };
  });
  const classes = h("div", { class: "nnv-swatches", role: "radiogroup", "aria-label": "Class of new points" }, ...swatches.map((s) => s.root));

  const value = slider("Value", { min: -1, max: 1, step: 0.05 }, (v) => v.toFixed(2), (v) => patchView(model, { value: v }));
  const radius = slider("Eraser size", { min: 0.02, max: 0.5, step: 0.01 }, (v) => v.toFixed(2), (v) => patchView(model, { eraser_radius: v }));
  const showTest = checkbox("Show test points", (on) => patchView(model, { show_test: on }));
  const discretize = checkbox("Discretize output", (on) => patchView(model, { discretize: on }));
  const pointLoss = checkbox("Show each point's loss", (on) => patchView(model, { point_loss: on }));
  const clear = button("Clear", { "aria-label": "Clear points", title: "Remove every point", class: "nnv-button nnv-button--quiet" }, () => commit(model, "data", []), ICONS.clear);

  el.append(
    h("div", { class: "nnv-toolbar", "data-control": "tools" }, tools, classes, clear),
    h("div", { class: "nnv-tool-options", "data-control": "tools" }, value.root, radius.root),
    h(
      "div",
      { class: "nnv-toggles" },
      control("show_test", hint(showTest.root, "Draw the held-out test points (ringed) on the map")),
      control("discretize", hint(discretize.root, "Colour the map by the predicted class (or value band) only, without shading")),
      control("point_loss", hint(pointLoss.root, "Ring each point by its current loss (bigger: worse) and cross out the misclassified ones")),
    ),
  );

  const sync = () => {
    const view = readView(model);
    const cfg = readConfig(model);
    const regression = cfg.problem === "regression";
    addTool.input.checked = view.tool === "add";
    eraseTool.input.checked = view.tool === "erase";
    swatches.forEach((s, k) => {
      s.root.hidden = regression || k >= cfg.num_classes;
      s.input.checked = k === Math.min(view.selected_class, cfg.num_classes - 1);
    });
    classes.hidden = regression;
    value.root.hidden = !regression || view.tool === "erase";
    radius.root.hidden = view.tool !== "erase";
    value.show(view.value);
    radius.show(view.eraser_radius);
    showTest.input.checked = view.show_test;
    discretize.input.checked = view.discretize;
    pointLoss.input.checked = view.point_loss;
    clear.disabled = isDataLocked(model);
  };
  sync();
  return onModel(model, ["change:view", "change:config", "change:classroom"], sync);
}
