/**
 * Canvas drawing of the diagram: one canvas in the page holds every link and thumbnail.
 * Links are batched: one path per (sign, strength level) per gap, so 4,000 links cost ~24
 * strokes, not 4,000. Still, rasterising a few hundred anti-aliased curves costs ~4 ms of main
 * thread in software, and a link's look is quantised (sign × 12 levels) so it changes far less
 * often than the weights: links and labels live in an offscreen layer, redrawn only when a
 * link's look changes (linkSignature), and copied under the thumbnails in one drawImage.
 * Thumbnails are painted into one atlas image (one putImageData) and scaled onto the canvas
 * with one drawImage each; their borders are one stroke.
 */
import { FEATURE_LABELS, FEATURES } from "../../state";
import { cssColor, diverging } from "../colors";
import { type Layout, biasBox, gapSpan, nodeBox } from "./layout";
import { LEVELS, type LinkGap, densityFactor, levelStyle, linkLevel, linkStyle } from "./links";
import type { Hit } from "./hit";
import { colouringFor, divergingColouring, paintMap } from "./maps";
import { type Scene, gridNode } from "./scene";

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
        const g = gridNode(scene.cfg, column, node);
        const colouring = g ? colouringFor(scene.cfg, g.layer, g.node) : divergingColouring();
        const [x, y] = this.origin(t);
        paintMap(scene.thumbs, t * scene.n * scene.n, scene.n, colouring, this.image!.data, w, x, y, 1);
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

/** The diagram: the link layer (links and labels, see drawLinkLayer) under the thumbnails. */
export function drawScene(
  ctx: CanvasRenderingContext2D,
  scene: Scene,
  layout: Layout,
  atlas: Atlas,
  theme: Theme,
  links: HTMLCanvasElement,
): void {
  ctx.clearRect(0, 0, layout.width, layout.height);
  ctx.drawImage(links, 0, 0, layout.width, layout.height);
  drawNodes(ctx, scene, layout, atlas, theme);
}

/** What changes less often than the thumbnails: links (as their look is quantised) and labels. */
export function drawLinkLayer(ctx: CanvasRenderingContext2D, scene: Scene, layout: Layout, theme: Theme): void {
  ctx.clearRect(0, 0, layout.width, layout.height);
  drawLinks(ctx, scene, layout);
  drawLabels(ctx, scene, layout, theme);
}

/**
 * How the links look, as numbers: per gap, every drawn link's ends and (sign, level) bucket.
 * Two scenes with equal signatures draw identical links (on the same layout).
 */
export function linkSignature(gaps: readonly LinkGap[]): Int32Array {
  const out = new Int32Array(gaps.reduce((n, g) => n + 1 + g.w.length, 0));
  let i = 0;
  for (const gap of gaps) {
    out[i++] = gap.w.length;
    for (let k = 0; k < gap.w.length; k++) {
      out[i++] = (gap.from[k] << 16) | (gap.to[k] << 6) | (linkLevel(gap.w[k]) << 1) | (gap.w[k] >= 0 ? 1 : 0);
    }
  }
  return out;
}

export function sameSignature(a: Int32Array | null, b: Int32Array): boolean {
  if (!a || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
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

/** Inactive inputs are drawn this opaque. */
const INACTIVE_ALPHA = 0.28;

function drawNodes(ctx: CanvasRenderingContext2D, scene: Scene, layout: Layout, atlas: Atlas, theme: Theme): void {
  ctx.imageSmoothingEnabled = true;
  const n = atlas.cells;
  const inactive = (column: number, node: number): boolean => column === 0 && !scene.cfg.features.includes(FEATURES[node]);
  let t = 0;
  scene.counts.forEach((count, column) => {
    for (let node = 0; node < count; node++, t++) {
      const box = nodeBox(layout, column, node);
      ctx.globalAlpha = inactive(column, node) ? INACTIVE_ALPHA : 1;
      const [sx, sy] = atlas.origin(t);
      ctx.drawImage(atlas.canvas, sx, sy, n, n, box.x, box.y, box.w, box.h);
    }
  });
  ctx.lineWidth = 1;
  ctx.strokeStyle = theme.border;
  // Borders: one stroke for the active nodes, one for the dimmed inputs.
  if (layout.size >= 8) {
    for (const dim of [false, true]) {
      ctx.globalAlpha = dim ? INACTIVE_ALPHA : 1;
      ctx.beginPath();
      scene.counts.forEach((count, column) => {
        for (let node = 0; node < count; node++) {
          if (inactive(column, node) !== dim) continue;
          const box = nodeBox(layout, column, node);
          ctx.rect(box.x - 0.5, box.y - 0.5, box.w + 1, box.h + 1);
        }
      });
      ctx.stroke();
    }
  }
  ctx.globalAlpha = 1;
  // Bias squares straddle their thumbnail's corner, over its border; their outlines are one stroke.
  ctx.beginPath();
  for (let column = 1; column < scene.counts.length; column++) {
    for (let node = 0; node < scene.counts[column]; node++) {
      const bias = biasBox(layout, column, node);
      if (!bias) continue;
      ctx.fillStyle = cssColor(diverging(scene.net.biases[column - 1][node]));
      ctx.fillRect(bias.x, bias.y, bias.w, bias.h);
      ctx.rect(bias.x - 0.5, bias.y - 0.5, bias.w + 1, bias.h + 1);
    }
  }
  ctx.stroke();
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
