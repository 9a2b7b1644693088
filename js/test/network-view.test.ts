// @vitest-environment jsdom
// The diagram's DOM behaviour against a fake model: keyboard access, feature toggles, inline
// editing of weights and biases, the focus-node and preview-network events, cleanup.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { mountNetwork } from "../src/ui/network";
import { FOCUS_NODE, PREVIEW_NETWORK } from "../src/ui/network/events";
import { FEATURES } from "../src/state";
import { FakeModel, smallNetwork } from "./fakeModel";
import { flushFrames, installDomStubs, runFrames, unmountView, widgetRoot } from "./network-dom";

let model: FakeModel;
let el: HTMLDivElement;
let root: HTMLDivElement;
let cleanup: () => void;

beforeEach(() => {
  installDomStubs();
  model = new FakeModel();
  ({ root, el } = widgetRoot());
  cleanup = mountNetwork(model, el);
  flushFrames();
});

afterEach(() => unmountView(cleanup, root));

const buttons = () => [...el.querySelectorAll<HTMLButtonElement>(".nnv-net-keys button")];
const key = (target: Element, k: string) => target.dispatchEvent(new KeyboardEvent("keydown", { key: k, bubbles: true }));
const editorInputs = () => [...el.querySelectorAll<HTMLInputElement>(".nnv-net-editor input")];
const submit = () => el.querySelector<HTMLFormElement>(".nnv-net-editor")!.requestSubmit();

describe("network diagram", () => {
  it("has one keyboard button per node, inputs as toggles, one Tab stop", () => {
    // 7 features + 4 + 4 hidden + 2 outputs
    expect(buttons()).toHaveLength(FEATURES.length + 4 + 4 + 2);
    const inputs = buttons().slice(0, FEATURES.length);
    expect(inputs.map((b) => b.getAttribute("aria-pressed"))).toEqual(["true", "true", "false", "false", "false", "false", "false"]);
    expect(inputs[2].getAttribute("aria-label")).toBe("input x squared"); // spoken: shown as x²
    expect(buttons()[FEATURES.length].getAttribute("aria-label")).toBe("layer 1 neuron 1");
    expect(buttons().filter((b) => b.tabIndex === 0)).toHaveLength(1);
  });

  it("switches an input feature on and off through config.features, never to none", () => {
    buttons()[4].click(); // xy
    expect(model.get("config").features).toEqual(["x", "y", "xy"]);
    expect(model.saves).toBeGreaterThan(0);
    buttons()[0].click(); // x off
    expect(model.get("config").features).toEqual(["y", "xy"]);
    model.set("config", { ...model.get("config"), features: ["y"] });
    buttons()[1].click(); // the last one stays
    expect(model.get("config").features).toEqual(["y"]);
    expect(el.querySelector(".nnv-net-note")!.textContent).toMatch(/At least one input/);
  });

  it("moves focus with arrow keys and reports the focused node's map", () => {
    const focused: unknown[] = [];
    root.addEventListener(FOCUS_NODE, (e) => focused.push((e as CustomEvent).detail));
    buttons()[0].focus();
    key(buttons()[0], "ArrowRight"); // to layer 1
    expect(document.activeElement).toBe(buttons()[FEATURES.length]);
    key(document.activeElement!, "ArrowDown");
    expect(document.activeElement).toBe(buttons()[FEATURES.length + 1]);
    expect(focused).toContainEqual({ layer: 0, node: 0 });
    expect(focused[focused.length - 1]).toEqual({ layer: 1, node: 1 });
    // The tooltip, filled at once, is the focused button's description (its bias, how to edit).
    const tip = el.querySelector<HTMLElement>(".nnv-net-tip")!;
    expect(document.activeElement!.getAttribute("aria-describedby")).toBe(tip.id);
    expect(tip.textContent).toMatch(/^Layer 1 neuron 2 · bias -?[\d.]+ · press Enter to edit$/);
    flushFrames();
    expect(tip.hidden).toBe(false);
  });

  it("Enter on a neuron edits its bias and incoming weights; only changed values are applied", () => {
    const before = model.get("network");
    const neuron = buttons()[FEATURES.length + 4 + 2]; // layer 2, neuron 3
    neuron.focus();
    neuron.click(); // what Enter does on a button
    const inputs = editorInputs();
    expect(inputs.map((i) => i.getAttribute("aria-label"))).toEqual([
      "Bias of layer 2 neuron 3",
      "weight from layer 1 neuron 1 to layer 2 neuron 3",
      "weight from layer 1 neuron 2 to layer 2 neuron 3",
      "weight from layer 1 neuron 3 to layer 2 neuron 3",
      "weight from layer 1 neuron 4 to layer 2 neuron 3",
    ]);
    // Training moves the network meanwhile: untouched fields must not roll it back.
    const trained = { weights: before.weights.map((W) => W.map((r) => r.map((v) => v + 1))), biases: before.biases };
    model.set("network", trained);
    inputs[0].value = "0.25";
    inputs[3].value = "-2";
    submit();
    const after = model.get("network");
    expect(after.biases[1][2]).toBe(0.25);
    expect(after.weights[1][2][2]).toBe(-2);
    expect(after.weights[1][2][0]).toBe(trained.weights[1][2][0]);
    expect(after.weights[0]).toBe(trained.weights[0]); // untouched layers are shared, not copied
    expect(editorInputs()).toHaveLength(0);
    expect(document.activeElement).toBe(neuron); // focus returns to the neuron
  });

  it("Escape cancels, and a bad number keeps the editor open", () => {
    const before = model.get("network");
    buttons()[FEATURES.length].click();
    const [bias] = editorInputs();
    bias.value = "1e9";
    submit();
    expect(bias.getAttribute("aria-invalid")).toBe("true");
    expect(model.get("network")).toBe(before);
    key(bias, "Escape");
    expect(editorInputs()).toHaveLength(0);
    expect(model.get("network")).toBe(before);
  });

  it("shows a previewed snapshot without touching the network, and refuses edits meanwhile", () => {
    const snapshot = smallNetwork();
    snapshot.biases[0][0] = 7;
    root.dispatchEvent(new CustomEvent(PREVIEW_NETWORK, { bubbles: true, detail: { network: snapshot } }));
    flushFrames();
    expect(el.querySelector<HTMLElement>(".nnv-net-badge")!.hidden).toBe(false);
    const before = model.get("config").features;
    buttons()[4].click();
    expect(model.get("config").features).toBe(before);
    expect(el.querySelector(".nnv-net-note")!.textContent).toMatch(/snapshot/);
    // The tooltip reads the snapshot's values.
    buttons()[FEATURES.length].focus();
    flushFrames();
    expect(el.querySelector(".nnv-net-tip")!.textContent).toContain("bias 7");
    root.dispatchEvent(new CustomEvent(PREVIEW_NETWORK, { bubbles: true, detail: null }));
    expect(el.querySelector<HTMLElement>(".nnv-net-badge")!.hidden).toBe(true);
  });

  it("ignores previews from another widget on the page", () => {
    const other = widgetRoot();
    other.el.dispatchEvent(new CustomEvent(PREVIEW_NETWORK, { bubbles: true, detail: { network: smallNetwork() } }));
    expect(el.querySelector<HTMLElement>(".nnv-net-badge")!.hidden).toBe(true);
    other.root.remove();
  });

  it("draws at most once per frame and reads no layout while drawing (size from the ResizeObserver)", () => {
    const reads = [
      vi.spyOn(Element.prototype, "getBoundingClientRect"),
      vi.spyOn(HTMLElement.prototype, "offsetWidth", "get"),
      vi.spyOn(HTMLElement.prototype, "offsetHeight", "get"),
    ];
    const clientWidth = Object.getOwnPropertyDescriptor(HTMLElement.prototype, "clientWidth")!.get as unknown as { mock: { calls: unknown[] } };
    const widthReads = clientWidth.mock.calls.length;
    buttons()[FEATURES.length + 1].focus(); // the tooltip shows, and follows the values
    const net = model.get("network");
    for (let reply = 1; reply <= 4; reply++) {
      model.set("network", { ...net, biases: net.biases.map((b) => b.map((v) => v + reply)) });
      model.set("network", { ...net, biases: net.biases.map((b) => b.map((v) => v + reply + 0.5)) });
      expect(runFrames()).toBeLessThanOrEqual(1);
      expect(el.querySelector(".nnv-net-tip")!.textContent).toContain(`bias ${reply + 0.5}`);
    }
    for (const r of reads) expect(r).not.toHaveBeenCalled();
    expect(clientWidth.mock.calls.length).toBe(widthReads);
  });

  it("writes the tooltip only when its text or place changes", () => {
    const tip = el.querySelector<HTMLElement>(".nnv-net-tip")!;
    buttons()[FEATURES.length].focus();
    flushFrames();
    const writes = vi.fn();
    new MutationObserver(writes).observe(tip, { attributes: true, childList: true, characterData: true, subtree: true });
    model.set("config", { ...model.get("config"), learning_rate: 0.5 }); // nothing shown changes
    model.set("network", { ...model.get("network") }); // a new object, the same values
    flushFrames();
    return Promise.resolve().then(() => expect(writes).not.toHaveBeenCalled());
  });

  it("re-lays out when the architecture changes, and stops listening on cleanup", () => {
    model.set("config", { ...model.get("config"), hidden_layers: [3] });
    model.set("network", {
      weights: [[[1, 1], [1, 1], [1, 1]], [[1, 1, 1], [1, 1, 1]]],
      biases: [[0, 0, 0], [0, 0]],
    });
    flushFrames();
    expect(buttons()).toHaveLength(FEATURES.length + 3 + 2);
    cleanup();
    expect(model.listenerCount("change:network")).toBe(0);
    expect(model.listenerCount("change:config")).toBe(0);
    expect(el.children).toHaveLength(0);
    cleanup = () => undefined;
  });
});
