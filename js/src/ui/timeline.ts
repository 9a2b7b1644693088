/**
 * The history timeline: a seekbar over the run's weight snapshots (the `timeline` trait).
 * Seeking previews a snapshot — every map and the diagram redraw from its weights through the
 * "nnvisu:preview-network" event — without touching the network trait. "Resume from here"
 * branches the run at that snapshot; "Live" returns to the current state. The strip above the
 * seekbar shows every snapshot as a tick, one lane per branch, with a mark where each branch forked.
 * While training, the strip is redrawn at most every REDRAW_GAP_MS and the texts and controls
 * are written only when they change.
 */
import { type Snapshot, branchLanes, lastOfBranch, lineage, resumeFrom } from "../history";
import { REDRAW_GAP_MS, Redraw, setAttr, setText } from "../chart/redraw";
import { formatCount, formatStep, formatValue } from "../chart/scale";
import { networkMatches } from "../nn/forward";
import { type Point, type WidgetModel, readConfig, readData, readHistory, readMetrics } from "../state";
import { readTimeline } from "../timelineLog";
import { PREVIEW_NETWORK, type PreviewDetail, emit } from "./network/events";
import "./timeline.css";

/** A snapshot's identity across decimation (indices shift, (branch, step) does not). */
interface SnapshotKey {
  branch: number;
  step: number;
}

const STRIP_HEIGHT = 34;

export function mountTimeline(model: WidgetModel, el: HTMLElement): () => void {
  el.classList.add("nnv-tl");
  el.innerHTML = `
    <div class="nnv-tl-head">
      <span class="nnv-tl-title">History</span>
      <span class="nnv-tl-status" aria-live="polite"></span>
      <select class="nnv-tl-branch" aria-label="Branch" hidden></select>
      <button type="button" class="nnv-tl-resume">Resume from here</button>
      <button type="button" class="nnv-tl-live">Live</button>
    </div>
    <canvas class="nnv-tl-strip" aria-hidden="true"></canvas>
    <input type="range" class="nnv-tl-seek" aria-label="History" min="0" max="0" step="1" value="0" />`;
  const status = el.querySelector<HTMLSpanElement>(".nnv-tl-status")!;
  const resume = el.querySelector<HTMLButtonElement>(".nnv-tl-resume")!;
  const live = el.querySelector<HTMLButtonElement>(".nnv-tl-live")!;
  const branchSelect = el.querySelector<HTMLSelectElement>(".nnv-tl-branch")!;
  const strip = el.querySelector<HTMLCanvasElement>(".nnv-tl-strip")!;
  const seek = el.querySelector<HTMLInputElement>(".nnv-tl-seek")!;

  let tl = readTimeline(model);
  /** Snapshot indices the seekbar walks: the lineage of the picked (or current) branch. */
  let path: number[] = [];
  let picked: SnapshotKey | null = null;
  let width = 0;
  let colours: Colours | null = null;

  const indexOf = (p: SnapshotKey): number => tl.snapshots.findIndex((s) => s.branch === p.branch && s.step === p.step);
  const pickedIndex = (): number => (picked ? indexOf(picked) : -1);
  const usable = (s: Snapshot): boolean => networkMatches(s.network, readConfig(model));

  /** Rebuild the path and the seekbar around the picked snapshot (or Live); `byUser`: redraw the
   *  strip at the next frame, else (training) within REDRAW_GAP_MS. */
  const sync = (byUser = true): void => {
    const snaps = tl.snapshots;
    let at = pickedIndex();
    if (picked && at < 0) {
      // Thinned away: move to the nearest earlier snapshot of its branch (or back to Live).
      const { branch, step } = picked;
      at = snaps.reduce((best, s, i) => (s.branch === branch && s.step <= step ? i : best), -1);
      picked = at >= 0 ? { branch, step: snaps[at].step } : null;
      preview();
    }
    const tip = at >= 0 ? lastOfBranch(snaps, snaps[at].branch) : lastOfBranch(snaps, tl.branch);
    path = tip >= 0 ? lineage(snaps, tip) : [];
    const max = String(path.length); // the last position is Live
    if (seek.max !== max) seek.max = max;
    if (seek.disabled !== (path.length === 0)) seek.disabled = path.length === 0;
    listBranches(at >= 0 ? snaps[at].branch : tl.branch);
    const value = String(at >= 0 ? Math.max(0, path.indexOf(at)) : path.length);
    if (seek.value !== value) seek.value = value;
    describe();
    if (byUser) redraw.soon();
    else redraw.request();
  };

  /** Keyboard (and screen reader) access to other branches: the strip is pointer-only. */
  let branchKey = "";
  const listBranches = (selected: number): void => {
    const { lane } = branchLanes(tl.snapshots);
    const branches = [...new Set(tl.snapshots.map((s) => s.branch))];
    const labels = branches.map((b) => {
      const steps = tl.snapshots.filter((s) => s.branch === b).map((s) => s.step);
      const first = tl.snapshots.findIndex((s) => s.branch === b);
      const current = b === tl.branch ? " · current" : "";
      return `Branch ${lane[first] + 1}: steps ${formatStep(Math.min(...steps))}–${formatStep(Math.max(...steps))}${current}`;
    });
    if (branchSelect.hidden !== branches.length < 2) branchSelect.hidden = branches.length < 2;
    // Rebuilt only when the list changes: an open dropdown is not yanked at every snapshot.
    const key = labels.join("\n");
    if (key !== branchKey) {
      branchKey = key;
      branchSelect.replaceChildren(...branches.map((b, i) => new Option(labels[i], String(b))));
    }
    if (branchSelect.value !== String(selected)) branchSelect.value = String(selected);
  };

  const describe = (): void => {
    const at = pickedIndex();
    const s = at >= 0 ? tl.snapshots[at] : null;
    const n = tl.snapshots.length;
    let text: string;
    if (!s) text = n === 0 ? "Snapshots appear as the network trains" : `Live · ${n} snapshot${n === 1 ? "" : "s"}`;
    else {
      const loss = s.train_loss === null ? "" : ` · train loss ${formatValue(s.train_loss)}`;
      text = `Step ${formatCount(s.step)}${loss}${usable(s) ? "" : " · other architecture: cannot show"}`;
    }
    setText(status, text);
    setAttr(seek, "aria-valuetext", s ? text : "Live");
    const canResume = !!s && usable(s);
    if (resume.disabled === canResume) resume.disabled = !canResume;
    if (live.disabled !== !s) live.disabled = !s;
  };

  const preview = (): void => {
    const at = pickedIndex();
    const s = at >= 0 ? tl.snapshots[at] : null;
    emit<PreviewDetail>(el, PREVIEW_NETWORK, s && usable(s) ? { network: s.network } : null);
  };

  const pick = (index: number | null): void => {
    const s = index === null ? undefined : tl.snapshots[index];
    picked = s ? { branch: s.branch, step: s.step } : null;
    sync();
    preview();
  };

  const onSeek = (): void => {
    const v = Number(seek.value);
    pick(v >= path.length ? null : path[v]);
  };

  const onResume = (): void => {
    const at = pickedIndex();
    if (at < 0 || !usable(tl.snapshots[at])) return;
    const r = resumeFrom(tl, at);
    const cfg = readConfig(model);
    const m = model;
    m.set("network", r.network);
    m.set("optimizer_state", { optimizer: cfg.optimizer, step: 0, global_step: r.global_step, buffers: {} });
    m.set("timeline", r.timeline);
    // The curves follow the branch: what came after the fork belongs to the other one.
    m.set("history", readHistory(model).filter((h) => h.step <= r.global_step));
    // The counters go back too; the losses follow when the metrics refresher evaluates.
    const epoch = epochAt(cfg.batch_size, readData(model), r.global_step);
    m.set("metrics", { ...readMetrics(model), global_step: r.global_step, epoch });
    m.save_changes();
    tl = r.timeline;
    pick(null);
  };

  const onStripClick = (e: MouseEvent): void => {
    const rect = strip.getBoundingClientRect();
    const i = nearestTick(tl.snapshots, width, e.clientX - rect.left, e.clientY - rect.top);
    if (i >= 0) pick(i);
  };

  const draw = (): void => {
    const ctx = strip.getContext("2d");
    if (!ctx || width === 0) return;
    colours ??= readColours(el);
    ctx.setTransform(devicePixelRatio, 0, 0, devicePixelRatio, 0, 0);
    drawStrip(ctx, tl.snapshots, width, pickedIndex(), lastOfBranch(tl.snapshots, tl.branch), colours);
  };
  const redraw = new Redraw(draw, REDRAW_GAP_MS);

  /** A new architecture may make the previewed snapshot unusable: re-check and re-announce. */
  const onConfig = (): void => {
    describe();
    if (picked) preview();
  };
  const onTimeline = (): void => {
    tl = readTimeline(model);
    sync(false);
  };
  const resize = new ResizeObserver((entries) => {
    // The observer's own measurement (clientWidth is the fallback for stand-ins without one).
    width = entries.length > 0 ? entries[entries.length - 1].contentRect.width : strip.clientWidth;
    strip.width = Math.round(width * devicePixelRatio);
    strip.height = Math.round(STRIP_HEIGHT * devicePixelRatio);
    colours = null; // a theme switch usually comes with a re-layout
    redraw.soon();
  });
  resize.observe(strip);
  model.on("change:timeline", onTimeline);
  model.on("change:config", onConfig);
  seek.addEventListener("input", onSeek);
  resume.addEventListener("click", onResume);
  live.addEventListener("click", () => pick(null));
  // Another branch: preview its newest snapshot (its lineage becomes the seekbar's path).
  branchSelect.addEventListener("change", () => {
    const b = Number(branchSelect.value);
    pick(b === tl.branch ? null : lastOfBranch(tl.snapshots, b));
  });
  strip.addEventListener("click", onStripClick);
  sync();

  return () => {
    redraw.cancel();
    resize.disconnect();
    model.off("change:timeline", onTimeline);
    model.off("change:config", onConfig);
    if (picked) emit<PreviewDetail>(el, PREVIEW_NETWORK, null);
    el.replaceChildren();
    el.classList.remove("nnv-tl");
  };
}

/** The epoch a train_step reply reports at `step`: steps × batch size / training points. */
export function epochAt(batchSize: number | null, data: readonly Point[], step: number): number {
  const n = data.filter((p) => !p.test).length;
  return n === 0 ? 0 : (step * Math.min(batchSize ?? n, n)) / n;
}

interface Colours {
  muted: string;
  accent: string;
}

function readColours(el: HTMLElement): Colours {
  const css = getComputedStyle(el);
  const v = (name: string, fallback: string): string => css.getPropertyValue(name).trim() || fallback;
  return { muted: v("--nnv-fg-muted", "#57606a"), accent: v("--nnv-accent", "#2563eb") };
}

/** Branch colours: evenly spread hues (golden angle), readable on light and dark backgrounds. */
function branchColour(lane: number): string {
  return `hsl(${Math.round((210 + lane * 137.508) % 360)} 62% 50%)`;
}

const PAD_X = 6;

/** Tick positions: x by step over the whole timeline, y by branch lane. */
export function tickPositions(snaps: readonly Snapshot[], width: number): { x: number[]; y: number[]; lane: number[] } {
  const { lane, lanes } = branchLanes(snaps);
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of snaps) {
    lo = Math.min(lo, s.step);
    hi = Math.max(hi, s.step);
  }
  const span = hi > lo ? hi - lo : 1;
  const laneH = Math.min(10, (STRIP_HEIGHT - 8) / Math.max(1, lanes));
  return {
    x: snaps.map((s) => PAD_X + ((s.step - lo) / span) * (width - 2 * PAD_X)),
    y: lane.map((l) => 4 + laneH * (l + 0.5)),
    lane,
  };
}

/** The snapshot whose tick is nearest to (x, y); -1 when there are none. */
export function nearestTick(snaps: readonly Snapshot[], width: number, x: number, y: number): number {
  const p = tickPositions(snaps, width);
  let best = -1;
  let bestD = Infinity;
  for (let i = 0; i < snaps.length; i++) {
    const d = (p.x[i] - x) ** 2 + 4 * (p.y[i] - y) ** 2;
    if (d < bestD) {
      best = i;
      bestD = d;
    }
  }
  return best;
}

function drawStrip(ctx: CanvasRenderingContext2D, snaps: readonly Snapshot[], width: number, picked: number, current: number, c: Colours): void {
  ctx.clearRect(0, 0, width, STRIP_HEIGHT);
  const p = tickPositions(snaps, width);
  // Fork marks: a curve from the parent's tick to the branch's first tick, a dot at the fork.
  snaps.forEach((s, i) => {
    if (s.parent === null) return;
    const [x0, y0, x1, y1] = [p.x[s.parent], p.y[s.parent], p.x[i], p.y[i]];
    ctx.strokeStyle = branchColour(p.lane[i]);
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    ctx.moveTo(x0, y0);
    ctx.bezierCurveTo(x0, y1, x0, y1, Math.max(x1, x0 + 4), y1);
    ctx.stroke();
    ctx.fillStyle = branchColour(p.lane[i]);
    ctx.beginPath();
    ctx.arc(x0, y0, 2.5, 0, 2 * Math.PI);
    ctx.fill();
  });
  ctx.lineWidth = 2;
  snaps.forEach((_, i) => {
    ctx.strokeStyle = branchColour(p.lane[i]);
    ctx.beginPath();
    ctx.moveTo(p.x[i], p.y[i] - 3.5);
    ctx.lineTo(p.x[i], p.y[i] + 3.5);
    ctx.stroke();
  });
  for (const [i, colour] of [[current, c.muted], [picked, c.accent]] as const) {
    if (i < 0) continue;
    ctx.strokeStyle = colour;
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.arc(p.x[i], p.y[i], 5, 0, 2 * Math.PI);
    ctx.stroke();
  }
}
