// The data map: the network's decision map drawn from the weights (a JS forward pass over a
// 100×100 grid), the points on top, and point editing by pointer and keyboard. Redraws are
// coalesced into one requestAnimationFrame: at most one per frame, never a backlog.
import { networkMatches, type NetworkJSON } from "../nn/forward";
import { gridFor } from "../nn/gridCache";
import { patchView, readConfig, readData, readDataset, readView, type Point, type WidgetModel } from "../state";
import { isDataLocked } from "./classroom";
import { contrastOutline, cssColor, diverging, PALETTE, type RGB } from "./colors";
import { h, onModel, uid, type Cleanup } from "./dom";
import { clampUnit, distance, KEY_STEP, KEY_STEP_LARGE, newPoint, PAINT_SPACING, withoutNear, withPoint } from "./editing";
import { paintMap } from "./mapImage";
import { renderNodeMap } from "./network";
import { FOCUS_NODE, PREVIEW_NETWORK, listen, type FocusNodeDetail, type PreviewDetail } from "./network/events";
import { mountPointLoss } from "./pointLoss";

/** Map cells per side (docs/design.md: maps are 100×100). */
const MAP_N = 100;
/** The map is drawn this opaque over the background, so the points stand out from it. */
const MAP_ALPHA = 0.72;
const POINT_RADIUS = 4.5; // CSS px

export interface CanvasOptions {
  /** Decides which new points are test points (injectable for tests). */
  random?: () => number;
}

export function mountDataCanvas(model: WidgetModel, el: HTMLElement, opts: CanvasOptions = {}): Cleanup {
  const random = opts.random ?? Math.random;
  const helpId = uid("map-help");
  const canvas = h("canvas", {
    class: "nnv-map",
    tabindex: 0,
    role: "application",
    "aria-roledescription": "data map",
    "aria-label": "Data and decision map",
    "aria-describedby": helpId,
  });
  const help = h(
    "p",
    { id: helpId, class: "nnv-visually-hidden" },
    "Click to add a point of the selected class, drag to paint. Keyboard: arrow keys move the cursor, Enter adds a point, Delete erases points near the cursor, 1 to 8 pick the class.",
  );
  const caption = h("p", { class: "nnv-map-caption" });
  const mapFrame = h("div", { class: "nnv-map-frame" }, canvas);
  el.append(mapFrame, help, caption);

  const ctx = canvas.getContext("2d");
  const map = document.createElement("canvas");
  map.width = map.height = MAP_N;
  const mapCtx = map.getContext("2d");
  const image = mapCtx?.createImageData(MAP_N, MAP_N);

  let frame = 0;
  let mapDirty = true;
  let mapReady = false;
  let hover: { x: number; y: number } | null = null;
  const cursor = { x: 0, y: 0 };
  let cursorShown = false;
  let drag: { last: { x: number; y: number } } | null = null;

  const schedule = () => {
    if (!frame) frame = requestAnimationFrame(draw);
  };
  const invalidateMap = () => {
    mapDirty = true;
    schedule();
  };
  // Rings sized by each point's loss, and the read-out of the point under the pointer.
  const losses = mountPointLoss(model, mapFrame, schedule);

  // The timeline's seekbar previews a snapshot; hovering a neuron in the diagram shows its map.
  let preview: NetworkJSON | null = null;
  let focus: FocusNodeDetail | null = null;

  function renderMap(): void {
    mapDirty = false;
    if (!mapCtx || !image) return;
    const cfg = readConfig(model);
    const net = preview && networkMatches(preview, cfg) ? preview : model.get("network");
    // While a reshape is on its way the network does not fit the config: keep the last map.
    if (!networkMatches(net, cfg)) return;
    // Shared with the diagram's thumbnails: one forward pass per network.
    const layers = gridFor(net, cfg, MAP_N);
    const cells = MAP_N * MAP_N;
    if (focus && focus.layer < layers.length && (focus.node + 1) * cells <= layers[focus.layer].length) {
      renderNodeMap(map, layers, MAP_N, focus.layer, focus.node, cfg);
    } else {
      paintMap(layers[layers.length - 1], cfg, MAP_N, readView(model).discretize, image.data);
      mapCtx.putImageData(image, 0, 0);
    }
    mapReady = true;
  }

  // Theme colours, read again when the size changes and at most once a second otherwise:
  // getComputedStyle in every frame forces a style recalculation of the page.
  let theme: { bg: string; axis: string; fg: string; size: number; at: number } | null = null;
  function themeColours(size: number): { bg: string; axis: string; fg: string } {
    const now = performance.now();
    if (!theme || theme.size !== size || now - theme.at > 1000) {
      const style = getComputedStyle(canvas);
      const color = (name: string, fallback: string) => style.getPropertyValue(name).trim() || fallback;
      theme = { bg: color("--nnv-map-bg", "#fff"), axis: color("--nnv-map-axis", "rgba(0,0,0,.15)"), fg: color("--nnv-fg", "#222"), size, at: now };
    }
    return theme;
  }

  // The points are drawn once into a layer of their own and that layer is copied each frame:
  // hundreds of anti-aliased circles per frame cost more than the rest of the map.
  const pointsLayer = document.createElement("canvas");
  let pointsKey: unknown[] = [];

  function draw(): void {
    frame = 0;
    if (!ctx) return;
    const dpr = window.devicePixelRatio || 1;
    const size = Math.max(1, Math.round((canvas.clientWidth || 320) * dpr));
    if (canvas.width !== size) canvas.width = canvas.height = size;
    const colours = themeColours(size);

    ctx.fillStyle = colours.bg;
    ctx.fillRect(0, 0, size, size);
    if (mapDirty) renderMap();
    if (mapReady) {
      // Grid samples sit on cell corners (both ends of [-1, 1] included): centre each map
      // pixel on its sample by overhanging half a cell on every side.
      const cell = size / (MAP_N - 1);
      ctx.globalAlpha = MAP_ALPHA;
      ctx.imageSmoothingEnabled = true;
      ctx.drawImage(map, -cell / 2, -cell / 2, MAP_N * cell, MAP_N * cell);
      ctx.globalAlpha = 1;
    }
    ctx.strokeStyle = colours.axis;
    ctx.lineWidth = dpr;
    ctx.beginPath();
    ctx.moveTo(size / 2, 0);
    ctx.lineTo(size / 2, size);
    ctx.moveTo(0, size / 2);
    ctx.lineTo(size, size / 2);
    ctx.stroke();

    drawPoints(size, dpr);
    losses.draw(ctx, size, dpr, colours.fg);
    drawCursor(size, dpr, colours.fg);
  }

  function drawPoints(size: number, dpr: number): void {
    if (!ctx) return;
    const cfg = readConfig(model);
    const showTest = readView(model).show_test;
    const key = [readData(model), size, dpr, showTest, cfg.problem];
    const layer = pointsLayer.getContext("2d");
    if (!layer) return;
    if (key.some((v, i) => v !== pointsKey[i])) {
      pointsKey = key;
      pointsLayer.width = pointsLayer.height = size; // also clears it
      paintPoints(layer, size, dpr, cfg.problem, showTest);
    }
    ctx.drawImage(pointsLayer, 0, 0);
  }

  function paintPoints(ctx: CanvasRenderingContext2D, size: number, dpr: number, problem: string, showTest: boolean): void {
    const r = POINT_RADIUS * dpr;
    const rgb: RGB = [0, 0, 0];
    const fill = (p: Point): RGB => (problem === "regression" ? diverging(p.label, rgb) : PALETTE[p.label] ?? PALETTE[PALETTE.length - 1]);
    for (const p of readData(model)) {
      if (p.test && !showTest) continue;
      const px = ((p.x + 1) / 2) * size;
      const py = ((1 - p.y) / 2) * size;
      const c = fill(p);
      ctx.beginPath();
      ctx.arc(px, py, r, 0, 2 * Math.PI);
      if (p.test) {
        // Test points are rings: a contrasting halo, then the class colour.
        ctx.strokeStyle = contrastOutline(c);
        ctx.lineWidth = 4 * dpr;
        ctx.stroke();
        ctx.strokeStyle = cssColor(c);
        ctx.lineWidth = 2 * dpr;
        ctx.stroke();
      } else {
        ctx.fillStyle = cssColor(c);
        ctx.fill();
        ctx.strokeStyle = contrastOutline(c);
        ctx.lineWidth = dpr;
        ctx.stroke();
      }
    }
  }

  function drawCursor(size: number, dpr: number, fg: string): void {
    if (!ctx) return;
    const view = readView(model);
    const at = cursorShown ? cursor : hover;
    if (!at) return;
    const px = ((at.x + 1) / 2) * size;
    const py = ((1 - at.y) / 2) * size;
    ctx.strokeStyle = fg;
    ctx.lineWidth = 1.5 * dpr;
    if (view.tool === "erase") {
      ctx.setLineDash([4 * dpr, 3 * dpr]);
      ctx.beginPath();
      ctx.arc(px, py, (view.eraser_radius / 2) * size, 0, 2 * Math.PI);
      ctx.stroke();
      ctx.setLineDash([]);
    }
    if (cursorShown) {
      const arm = 7 * dpr;
      ctx.beginPath();
      ctx.moveTo(px - arm, py);
      ctx.lineTo(px + arm, py);
      ctx.moveTo(px, py - arm);
      ctx.lineTo(px, py + arm);
      ctx.stroke();
    }
  }

  function updateCaption(): void {
    const data = readData(model);
    const tests = data.reduce((n, p) => n + (p.test ? 1 : 0), 0);
    caption.textContent = `${data.length.toLocaleString("en-US")} points · ${tests.toLocaleString("en-US")} test`;
  }

  // Edits: set locally on every change (for the redraw), save once per gesture.
  function add(x: number, y: number): boolean {
    if (isDataLocked(model)) return false;
    const point = newPoint(x, y, readConfig(model), readView(model), readDataset(model), random);
    const next = withPoint(readData(model), point);
    if (!next) {
      model.set("status", { ...model.get("status"), message: "The map holds at most 10,000 points." });
      return false;
    }
    model.set("data", next);
    return true;
  }

  function erase(x: number, y: number): void {
    if (isDataLocked(model)) return;
    const data = readData(model);
    const next = withoutNear(data, x, y, readView(model).eraser_radius);
    if (next !== data) model.set("data", next);
  }

  function toData(e: PointerEvent): { x: number; y: number } {
    const rect = canvas.getBoundingClientRect();
    return {
      x: clampUnit(-1 + (2 * (e.clientX - rect.left)) / rect.width),
      y: clampUnit(1 - (2 * (e.clientY - rect.top)) / rect.height),
    };
  }

  canvas.addEventListener("pointerdown", (e) => {
    if (e.button !== 0) return;
    e.preventDefault(); // no text selection or scroll; focus explicitly instead
    canvas.focus({ preventScroll: true });
    canvas.setPointerCapture?.(e.pointerId);
    cursorShown = false;
    const p = toData(e);
    hover = p;
    drag = { last: p };
    if (readView(model).tool === "erase") erase(p.x, p.y);
    else add(p.x, p.y);
    schedule();
  });
  canvas.addEventListener("pointermove", (e) => {
    const p = toData(e);
    hover = p;
    losses.hover(p, canvas.clientWidth);
    if (drag) {
      if (readView(model).tool === "erase") erase(p.x, p.y);
      else if (distance(p, drag.last) >= PAINT_SPACING && add(p.x, p.y)) drag.last = p;
    }
    schedule();
  });
  const endDrag = () => {
    if (!drag) return;
    drag = null;
    model.save_changes();
  };
  canvas.addEventListener("pointerup", endDrag);
  canvas.addEventListener("pointercancel", endDrag);
  canvas.addEventListener("pointerleave", () => {
    hover = null;
    losses.hover(null, 0);
    schedule();
  });
  canvas.addEventListener("focus", () => {
    // Reached with the keyboard (Tab): show the cursor the arrow keys move.
    if (canvas.matches(":focus-visible")) {
      cursorShown = true;
      schedule();
    }
  });
  canvas.addEventListener("blur", () => {
    cursorShown = false;
    schedule();
  });

  canvas.addEventListener("keydown", (e) => {
    const step = e.shiftKey ? KEY_STEP_LARGE : KEY_STEP;
    const moves: Record<string, [number, number]> = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, step], ArrowDown: [0, -step] };
    const cfg = readConfig(model);
    if (e.key in moves) {
      const [dx, dy] = moves[e.key];
      cursor.x = clampUnit(cursor.x + dx);
      cursor.y = clampUnit(cursor.y + dy);
    } else if (e.key === "Enter") {
      if (add(cursor.x, cursor.y)) model.save_changes();
    } else if (e.key === "Delete" || e.key === "Backspace") {
      erase(cursor.x, cursor.y);
      model.save_changes();
    } else if (/^[1-8]$/.test(e.key) && cfg.problem === "classification" && Number(e.key) <= cfg.num_classes) {
      patchView(model, { selected_class: Number(e.key) - 1 });
    } else {
      return;
    }
    // Handled here: keep the notebook from treating it as a shortcut (Enter, D, arrows...).
    e.preventDefault();
    e.stopPropagation();
    cursorShown = true;
    schedule();
  });

  const resize = typeof ResizeObserver === "function" ? new ResizeObserver(schedule) : null;
  resize?.observe(canvas);
  // Only what the map depends on invalidates it: not the learning rate, not the selected tool.
  let mapKey = "";
  const onInputs = () => {
    const cfg = readConfig(model);
    const key = JSON.stringify([cfg.features, cfg.hidden_layers, cfg.activation, cfg.problem, cfg.num_classes, readView(model).discretize]);
    if (key !== mapKey) {
      mapKey = key;
      invalidateMap();
    } else schedule();
  };
  onInputs();
  const off = [
    onModel(model, ["change:network"], invalidateMap),
    listen<PreviewDetail>(el, PREVIEW_NETWORK, (d) => {
      preview = d?.network ?? null;
      invalidateMap();
    }),
    listen<FocusNodeDetail>(el, FOCUS_NODE, (d) => {
      focus = d;
      invalidateMap();
    }),
    onModel(model, ["change:config", "change:view"], onInputs),
    onModel(model, ["change:data"], () => {
      updateCaption();
      schedule();
    }),
  ];
  updateCaption();
  schedule();

  return () => {
    if (frame) cancelAnimationFrame(frame);
    frame = 0;
    resize?.disconnect();
    for (const o of off) o();
    losses.dispose();
  };
}
