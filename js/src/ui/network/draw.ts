/**
 * Canvas drawing of the diagram. Links are batched: one path per (sign, strength level) per
 * gap, so 4,000 links cost ~24 strokes, not 4,000. Thumbnails are painted into one atlas image
 * (one putImageData) and scaled onto the canvas with one drawImage each.
 */
import { FEATURES } from "../../state";
import { cssColor, diverging } from "../colors";
import { FEATURE_LABELS, type Layout, biasBox, gapSpan, nodeBox } from "./layout";
import { LEVELS, densityFactor, levelStyle, linkLevel, linkStyle } from "./links";
import type { Hit } from "./hit";
import { colouringFor, divergingColouring, paintMap } from "./maps";
import { type Scene, gridNode, nodeValues } from "./scene";

export interface Theme {
  text: string;
  muted: string;
  border: string;
  accent: string;
  font: string;
}

const POSITIVE = cssColor(diverging(1));
const NEGATIVE = cssColor(diverging(-1));

/** All thumbnails of a scene as tiles of one image, each with a one-pixel repeated border. */
export class Atlas {
  readonly canvas: HTMLCanvasElement;
  private image: ImageData | null = null;
  private perRow = 1;
  private n = 0;

  constructor(doc: Document) {
    this.canvas = doc.createElement("canvas");
  }

  paint(scene: Scene): void {
    const total = scene.counts.reduce((a, b) => a + b, 0);
    const tile = scene.n + 2;
    this.n = scene.n;
    this.perRow = Math.ceil(Math.sqrt(total));
    const w = this.perRow * tile;
    const h = Math.ceil(total / this.perRow) * tile;
    if (!this.image || this.image.width !== w || this.image.height !== h) {
      this.image = new ImageData(w, h);
      this.canvas.width = w;
      this.canvas.height = h;
    }
    let t = 0;
    scene.counts.forEach((count, column) => {
      for (let node = 0; node < count; node++, t++) {
        const { values, offset } = nodeValues(scene, column, node);
        const g = gridNode(scene.cfg, column, node);
        const colouring = g ? colouringFor(scene.cfg, g.layer, g.node) : divergingColouring();
        const [x, y] = this.origin(t);
        paintMap(values, offset, scene.n, colouring, this.image!.data, w, x, y, 1);
      }
    });
    this.canvas.getContext("2d")?.putImageData(this.image, 0, 0);
  }

  /** Top-left of tile t's map (inside its border). */
  origin(t: number): [number, number] {
    const tile = this.n + 2;
    return [(t % this.perRow) * tile + 1, Math.floor(t / this.perRow) * tile + 1];
  }

  get cells(): number {
    return this.n;
  }
}

export function drawScene(ctx: CanvasRenderingContext2D, scene: Scene, layout: Layout, atlas: Atlas, theme: Theme): void {
  ctx.clearRect(0, 0, layout.width, layout.height);
  drawLinks(ctx, scene, layout);
  drawNodes(ctx, scene, layout, atlas, theme);
  drawLabels(ctx, scene, layout, theme);
}

function linkPath(ctx: CanvasRenderingContext2D, x0: number, y0: number, x1: number, y1: number): void {
  const mid = (x1 - x0) / 2;
  ctx.moveTo(x0, y0);
  ctx.bezierCurveTo(x0 + mid, y0, x1 - mid, y1, x1, y1);
}

function drawLinks(ctx: CanvasRenderingContext2D, scene: Scene, layout: Layout): void {
  ctx.lineCap = "round";
  scene.gaps.forEach((gap, g) => {
    const [x0, x1] = gapSpan(layout, g);
    const ysFrom = layout.columns[g].ys;
    const ysTo = layout.columns[g + 1].ys;
    const density = densityFactor(gap.from.length);
    // Counting sort by bucket (sign × level), weakest first so strong links end up on top.
    const bucketOf = new Uint8Array(gap.w.length);
    const starts = new Uint32Array(2 * LEVELS + 1);
    for (let k = 0; k < gap.w.length; k++) {
      const b = linkLevel(gap.w[k]) * 2 + (gap.w[k] >= 0 ? 1 : 0);
      bucketOf[k] = b;
      starts[b + 1]++;
    }
    for (let b = 0; b < 2 * LEVELS; b++) starts[b + 1] += starts[b];
    const order = new Uint32Array(gap.w.length);
    const fill = starts.slice(0, 2 * LEVELS);
    for (let k = 0; k < gap.w.length; k++) order[fill[bucketOf[k]]++] = k;
    for (let b = 0; b < 2 * LEVELS; b++) {
      if (starts[b] === starts[b + 1]) continue;
      const style = levelStyle(b >> 1, density);
      ctx.strokeStyle = b & 1 ? POSITIVE : NEGATIVE;
      ctx.globalAlpha = style.alpha;
      ctx.lineWidth = style.width;
      ctx.beginPath();
      for (let i = starts[b]; i < starts[b + 1]; i++) {
        const k = order[i];
        linkPath(ctx, x0, ysFrom[gap.from[k]], x1, ysTo[gap.to[k]]);
      }
      ctx.stroke();
    }
  });
  ctx.globalAlpha = 1;
}

function drawNodes(ctx: CanvasRenderingContext2D, scene: Scene, layout: Layout, atlas: Atlas, theme: Theme): void {
  ctx.imageSmoothingEnabled = true;
  ctx.lineWidth = 1;
  ctx.strokeStyle = theme.border;
  const n = atlas.cells;
  let t = 0;
  scene.counts.forEach((count, column) => {
    for (let node = 0; node < count; node++, t++) {
      const box = nodeBox(layout, column, node);
      const inactive = column === 0 && !scene.cfg.features.includes(FEATURES[node]);
      ctx.globalAlpha = inactive ? 0.28 : 1;
      const [sx, sy] = atlas.origin(t);
      ctx.drawImage(atlas.canvas, sx, sy, n, n, box.x, box.y, box.w, box.h);
      if (box.w >= 8) ctx.strokeRect(box.x - 0.5, box.y - 0.5, box.w + 1, box.h + 1);
      const bias = column > 0 ? biasBox(layout, column, node) : null;
      if (bias) {
        ctx.fillStyle = cssColor(diverging(scene.net.biases[column - 1][node]));
        ctx.fillRect(bias.x, bias.y, bias.w, bias.h);
        ctx.strokeRect(bias.x - 0.5, bias.y - 0.5, bias.w + 1, bias.h + 1);
      }
    }
  });
  ctx.globalAlpha = 1;
}

/** Column header: full words when the gap allows, the neuron count when it is tight. */
function columnTitle(column: number, count: number, columns: number, room: number): string {
  if (column === 0) return room >= 48 ? "Inputs" : "in";
  if (column === columns - 1) return room >= 48 ? "Output" : "out";
  return room >= 72 ? `${count} neurons` : String(count);
}

function drawLabels(ctx: CanvasRenderingContext2D, scene: Scene, layout: Layout, theme: Theme): void {
  ctx.font = theme.font;
  ctx.textBaseline = "middle";
  const cols = layout.columns;
  const room = cols.length > 1 ? cols[1].x - cols[0].x : layout.width;
  ctx.textAlign = "center";
  ctx.fillStyle = theme.muted;
  cols.forEach((col, c) => {
    const title = columnTitle(c, col.ys.length, cols.length, room);
    const half = ctx.measureText(title).width / 2;
    // Centred over the column, but never past the canvas edges.
    ctx.fillText(title, Math.min(layout.width - half - 1, Math.max(half + 1, col.x)), 11);
  });
  ctx.textAlign = "right";
  cols[0].ys.forEach((y, i) => {
    ctx.fillStyle = scene.cfg.features.includes(FEATURES[i]) ? theme.text : theme.muted;
    ctx.fillText(FEATURE_LABELS[FEATURES[i]], cols[0].x - layout.size / 2 - 6, y);
  });
}

/** The hover mark on the overlay: an outlined node or bias, or the link stroked on top. */
export function drawHighlight(ctx: CanvasRenderingContext2D, scene: Scene, layout: Layout, hit: Hit | null, theme: Theme): void {
  ctx.clearRect(0, 0, layout.width, layout.height);
  if (!hit) return;
  ctx.strokeStyle = theme.accent;
  ctx.lineWidth = 2;
  if (hit.kind === "link") {
    const [x0, x1] = gapSpan(layout, hit.gap);
    const w = scene.gaps[hit.gap].w[hit.index];
    const y0 = layout.columns[hit.gap].ys[hit.from];
    const y1 = layout.columns[hit.gap + 1].ys[hit.to];
    ctx.lineCap = "round";
    ctx.lineWidth = linkStyle(w).width + 3;
    ctx.beginPath();
    linkPath(ctx, x0, y0, x1, y1);
    ctx.stroke();
    ctx.strokeStyle = w >= 0 ? POSITIVE : NEGATIVE;
    ctx.lineWidth = linkStyle(w).width;
    ctx.stroke();
    return;
  }
  const box = hit.kind === "bias" ? biasBox(layout, hit.column, hit.node) : nodeBox(layout, hit.column, hit.node);
  if (box) ctx.strokeRect(box.x - 1.5, box.y - 1.5, box.w + 3, box.h + 3);
}
