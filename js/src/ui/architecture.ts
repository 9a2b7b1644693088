// Architecture controls: input features, hidden layers, neurons per layer and the hidden
// activation. They only edit the config; the reshaper answers with a network that keeps the
// overlapping weights (the activation needs no new weights).
import { ACTIVATIONS, FEATURE_LABELS, FEATURE_SPOKEN, FEATURES, MAX_HIDDEN_LAYERS, MAX_NEURONS, patchConfig, readConfig, type WidgetModel } from "../state";
import { ACTIVATION_INFO } from "../generated/catalog";
import { button, control, field, h, hint, ICONS, onModel, select, type Cleanup, type Option } from "./dom";


const ACTIVATION_LABELS: Record<string, string> = Object.fromEntries(ACTIVATIONS.map((a) => [a, ACTIVATION_INFO[a].label]));

/** New layers start as wide as the last one (or 4), like adding a copy. */
const DEFAULT_WIDTH = 4;

export function mountArchitecture(model: WidgetModel, el: HTMLElement): Cleanup {
  const setLayers = (layers: number[]) => patchConfig(model, { hidden_layers: layers });

  const featureButtons = FEATURES.map((name) => {
    const b = button(FEATURE_LABELS[name], { class: "nnv-chip", "aria-pressed": "false", "aria-label": FEATURE_SPOKEN[name] }, () => {
      const on = new Set(readConfig(model).features);
      if (on.has(name)) on.delete(name);
      else on.add(name);
      // Canonical order, so toggling back and forth gives back the same network layout.
      patchConfig(model, { features: FEATURES.filter((f) => on.has(f)) });
    });
    return b;
  });

  const layerCount = h("span", { class: "nnv-count", "aria-live": "polite" });
  const removeLayer = button("", { class: "nnv-icon-button", "aria-label": "Remove layer", title: "Remove the last hidden layer" }, () => {
    setLayers(readConfig(model).hidden_layers.slice(0, -1));
  }, ICONS.minus);
  const addLayer = button("", { class: "nnv-icon-button", "aria-label": "Add layer", title: "Add a hidden layer" }, () => {
    const layers = readConfig(model).hidden_layers;
    setLayers([...layers, layers[layers.length - 1] ?? DEFAULT_WIDTH]);
  }, ICONS.plus);

  const activation = select(ACTIVATIONS.map((a): Option => [a, ACTIVATION_LABELS[a]]), (v) => patchConfig(model, { activation: v }));

  const layerList = h("ol", { class: "nnv-layers", "aria-label": "Neurons per hidden layer" });
  interface Row {
    root: HTMLLIElement;
    count: HTMLSpanElement;
    minus: HTMLButtonElement;
    plus: HTMLButtonElement;
  }
  const rows: Row[] = [];
  const makeRow = (i: number): Row => {
    const resize = (delta: number) => {
      const layers = [...readConfig(model).hidden_layers];
      layers[i] = Math.max(1, Math.min(MAX_NEURONS, layers[i] + delta));
      setLayers(layers);
    };
    const minus = button("", { class: "nnv-icon-button nnv-icon-button--small", "aria-label": `Remove neuron from layer ${i + 1}` }, () => resize(-1), ICONS.minus);
    const plus = button("", { class: "nnv-icon-button nnv-icon-button--small", "aria-label": `Add neuron to layer ${i + 1}` }, () => resize(1), ICONS.plus);
    const count = h("span", { class: "nnv-count" });
    const root = h("li", { class: "nnv-layer", title: `Neurons in hidden layer ${i + 1}` }, h("span", { class: "nnv-layer-name" }, `L${i + 1}`), minus, count, plus);
    return { root, count, minus, plus };
  };

  el.append(
    h("div", { class: "nnv-field", "data-control": "features", title: "What the network sees of each point: toggle the inputs" }, h("div", { class: "nnv-field-head" }, h("span", { class: "nnv-label" }, "Inputs")), h("div", { class: "nnv-chips", role: "group", "aria-label": "Input features" }, ...featureButtons)),
    h(
      "div",
      { class: "nnv-field", "data-control": "hidden_layers" },
      h("div", { class: "nnv-field-head" }, h("span", { class: "nnv-label" }, "Hidden layers"), h("span", { class: "nnv-stepper" }, removeLayer, layerCount, addLayer)),
      layerList,
    ),
    control("activation", hint(field("Activation", activation), "Function applied to every hidden neuron's sum")),
  );

  const sync = () => {
    const cfg = readConfig(model);
    const on = new Set(cfg.features);
    featureButtons.forEach((b, i) => {
      const pressed = on.has(FEATURES[i]);
      b.setAttribute("aria-pressed", String(pressed));
      // The protocol needs at least one input: the last one cannot be switched off.
      b.disabled = pressed && on.size === 1;
    });
    activation.value = cfg.activation;
    const layers = cfg.hidden_layers;
    layerCount.textContent = String(layers.length);
    removeLayer.disabled = layers.length === 0;
    addLayer.disabled = layers.length >= MAX_HIDDEN_LAYERS;
    // Rows are kept and reused so focus stays on the button being pressed.
    while (rows.length < layers.length) {
      const row = makeRow(rows.length);
      rows.push(row);
      layerList.append(row.root);
    }
    while (rows.length > layers.length) rows.pop()!.root.remove();
    layers.forEach((width, i) => {
      rows[i].count.textContent = String(width);
      rows[i].minus.disabled = width <= 1;
      rows[i].plus.disabled = width >= MAX_NEURONS;
    });
    layerList.hidden = layers.length === 0;
  };
  sync();
  return onModel(model, ["change:config"], sync);
}
