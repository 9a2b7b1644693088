// anywidget entry: the same module runs in JupyterLab, Notebook 7, VS Code, Colab and the
// standalone page (whose host provides a WebSocket-backed model with the same API).
import "./styles.css";
import { mountApp } from "./app";
import type { WidgetModel } from "./state";

export default {
  render({ model, el }: { model: WidgetModel; el: HTMLElement }): () => void {
    return mountApp(model, el);
  },
};
