// The watched model's layers, in the order its forward pass ran them: every neuron's map,
// painted like the playground diagram's thumbnails (diverging colours over [-1, 1]), or the
// reason a layer has none (normalisation, dropout, outputs that are not one value a neuron).
import { h, type Cleanup } from "../ui/dom";
import { divergingColouring, paintMap } from "../ui/network/maps";
import { neuronValues, type Frame, type WatchModel } from "./model";

/** Thumbnails a row; each is drawn TILE CSS pixels wide. */
const COLUMNS = 16;
const TILE = 22;

export function mountWatchLayers(model: WatchModel, el: HTMLElement): Cleanup {
  const list = h("ol", { class: "nnv-watch-layers" });
  el.append(list);
  let raf = 0;

  const render = (): void => {
    raf = 0;
    const frame: Frame | undefined = model.get("frame");
    const m = model.get("watch").neuron_resolution;
    const layers = frame?.layers ?? [];
    // Rows are rebuilt only when the layers change; otherwise their canvases are repainted.
    const signature = layers.map((l) => `${l.name}:${l.type}:${l.units}:${l.reason}`).join("|");
    if (list.dataset.signature !== signature) {
      list.dataset.signature = signature;
      list.replaceChildren(...layers.map((layer) => row(layer.name, layer.type, layer.units, layer.reason)));
      if (layers.length === 0) list.append(h("li", { class: "nnv-watch-layer-empty" }, "No layers seen yet: they appear after the first evaluation."));
    }
    layers.forEach((layer, i) => {
      const bytes = frame?.maps?.[i];
      const canvas = list.children[i]?.querySelector("canvas");
      if (bytes && canvas && layer.units > 0) paintLayer(canvas, neuronValues(bytes), layer.units, m);
    });
  };

  const schedule = (): void => {
    if (!raf) raf = requestAnimationFrame(render);
  };
  model.on("change:frame", schedule);
  schedule();
  return () => {
    if (raf) cancelAnimationFrame(raf);
    model.off("change:frame", schedule);
    el.replaceChildren();
  };
}

function row(name: string, type: string, units: number, reason: string): HTMLElement {
  const title = h("span", { class: "nnv-watch-layer-name" }, name, " ", h("span", { class: "nnv-watch-layer-type" }, type));
  if (units === 0) {
    return h("li", { class: "nnv-watch-layer nnv-watch-layer--none" }, title, h("span", { class: "nnv-watch-layer-reason" }, `No neuron maps: ${reason}`));
  }
  const canvas = h("canvas", { class: "nnv-watch-layer-maps", role: "img", "aria-label": `${units} neuron maps of ${name} (${type})` });
  return h("li", { class: "nnv-watch-layer" }, title, h("span", { class: "nnv-watch-layer-units" }, `${units} neuron${units === 1 ? "" : "s"}`), canvas);
}

/** Paint `units` maps of m×m cells as tiles, with a one-cell edge that keeps smoothing in a tile. */
function paintLayer(canvas: HTMLCanvasElement, values: Float32Array, units: number, m: number): void {
  if (values.length !== units * m * m) return;
  const columns = Math.min(units, COLUMNS);
  const rows = Math.ceil(units / columns);
  const side = m + 2;
  const tiles = document.createElement("canvas");
  tiles.width = columns * side;
  tiles.height = rows * side;
  const tctx = tiles.getContext("2d");
  const ctx = canvas.getContext("2d");
  if (!tctx || !ctx) return;
  const image = new ImageData(tiles.width, tiles.height);
  const colouring = divergingColouring();
  for (let k = 0; k < units; k++) {
    paintMap(values, k * m * m, m, colouring, image.data, tiles.width, (k % columns) * side, Math.floor(k / columns) * side, 1);
  }
  tctx.putImageData(image, 0, 0);
  const dpr = window.devicePixelRatio || 1;
  const gap = 3;
  const width = columns * (TILE + gap) - gap;
  const height = rows * (TILE + gap) - gap;
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  canvas.width = Math.round(width * dpr);
  canvas.height = Math.round(height * dpr);
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.imageSmoothingEnabled = true;
  for (let k = 0; k < units; k++) {
    const sx = (k % columns) * side + 1;
    const sy = Math.floor(k / columns) * side + 1;
    ctx.drawImage(tiles, sx, sy, m, m, (k % columns) * (TILE + gap), Math.floor(k / columns) * (TILE + gap), TILE, TILE);
  }
}
