// anywidget entry: the same module runs in JupyterLab, Notebook 7, VS Code, Colab and the
// standalone page (whose host provides a WebSocket-backed model with the same API).
import "./styles.css";
import { mountApp } from "./app";
import { wasmGridReady } from "./nn/forward";
import type { WidgetModel } from "./state";
import { isWatchModel, type WatchModel } from "./watch/model";
import { mountWatch } from "./watch/app";

export default {
  async render({ model, el }: { model: WidgetModel; el: HTMLElement }): Promise<() => void> {
    // nnvisu.watch's view shares this bundle: a model with a `watch` trait is drawn by it.
    if (isWatchModel(model)) return mountWatch(model as unknown as WatchModel, el);
    // One evaluator from the first frame on: the float32 WebAssembly kernel is ready (or known
    // to be unavailable) within milliseconds, and its maps may differ from the float64 JS
    // path's in the last bit of a pixel, so the same weights always draw the same picture.
    await wasmGridReady();
    return mountApp(model, el);
  },
};
