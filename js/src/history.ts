/**
 * Weight snapshots across a run (the `timeline` trait) and the pure rules that keep it bounded.
 *
 * Snapshots hold weights, not pictures: every map is recomputed from them when seeking.
 * Branches: resuming from a snapshot starts a new branch whose first snapshot names the
 * snapshot it forked from (`parent`, an index into `snapshots`). A run that restarts
 * (global_step going backwards, e.g. a reset) starts a new root branch (`parent` null).
 */
import type { NetworkJSON } from "./nn/forward";

export interface Snapshot {
  step: number;
  branch: number;
  /** Index of the snapshot this branch forked from; only on a branch's first snapshot. */
  parent: number | null;
  network: NetworkJSON;
  train_loss: number | null;
  test_loss: number | null;
}

export interface Timeline {
  /** Steps between snapshots; doubles each time the list fills up. */
  interval: number;
  /** Branch the next snapshot belongs to. */
  branch: number;
  snapshots: Snapshot[];
}

/** The fields of a train_step_result the timeline needs. */
export interface TrainingReply {
  global_step: number;
  network: NetworkJSON;
  train_loss: number | null;
  test_loss: number | null;
}

export const MAX_SNAPSHOTS = 256;
/** Numbers (weights + biases) all snapshots may hold together: the trait is synced to the
 *  kernel and saved in the notebook, so a wide network keeps fewer snapshots. */
const SNAPSHOT_BUDGET = 65_536;
const MIN_SNAPSHOTS = 8;

export function emptyTimeline(): Timeline {
  return { interval: 1, branch: 0, snapshots: [] };
}

const isInt = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0;
const isLoss = (v: unknown): boolean => v === null || typeof v === "number";

function isSnapshot(v: unknown, i: number): v is Snapshot {
  if (typeof v !== "object" || v === null) return false;
  const s = v as Record<string, unknown>;
  const net = s.network as Record<string, unknown> | null;
  return (
    isInt(s.step) && isInt(s.branch) && (s.parent === null || (isInt(s.parent) && s.parent < i)) &&
    isLoss(s.train_loss) && isLoss(s.test_loss) &&
    typeof net === "object" && net !== null && Array.isArray(net.weights) && Array.isArray(net.biases)
  );
}

/** The `timeline` trait checked (a saved notebook may hold anything): empty when malformed. */
export function asTimeline(v: unknown): Timeline {
  if (typeof v !== "object" || v === null) return emptyTimeline();
  const t = v as Record<string, unknown>;
  const snaps = t.snapshots;
  if (!isInt(t.interval) || t.interval < 1 || !isInt(t.branch) || !Array.isArray(snaps)) return emptyTimeline();
  return snaps.every(isSnapshot) ? (t as unknown as Timeline) : emptyTimeline();
}

/** Lane of each snapshot: branches in order of first appearance (lane 0 is the first run). */
export function branchLanes(snaps: readonly Snapshot[]): { lane: number[]; lanes: number } {
  const order = new Map<number, number>();
  const lane = snaps.map((s) => {
    if (!order.has(s.branch)) order.set(s.branch, order.size);
    return order.get(s.branch)!;
  });
  return { lane, lanes: order.size };
}

function parameterCount(net: NetworkJSON): number {
  let n = 0;
  for (const W of net.weights) for (const row of W) n += row.length;
  for (const b of net.biases) n += b.length;
  return n;
}

/** How many snapshots of this network fit: MAX_SNAPSHOTS for small networks, fewer for wide ones. */
export function capacity(net: NetworkJSON): number {
  const fit = Math.floor(SNAPSHOT_BUDGET / Math.max(1, parameterCount(net)));
  return Math.max(MIN_SNAPSHOTS, Math.min(MAX_SNAPSHOTS, fit));
}

/**
 * Record a training reply: a snapshot is taken when global_step >= last snapshot step + interval.
 * Returns the SAME object when no snapshot is due, so callers can skip a trait write.
 */
export function recordSnapshot(timeline: Timeline, reply: TrainingReply): Timeline {
  const snaps = timeline.snapshots;
  const last = lastOfBranch(snaps, timeline.branch);
  let branch = timeline.branch;
  if (last >= 0) {
    const lastStep = snaps[last].step;
    if (reply.global_step < lastStep) branch = nextBranchId(timeline);
    else if (reply.global_step < lastStep + timeline.interval) return timeline;
  }
  return append({ ...timeline, branch }, {
    step: reply.global_step,
    branch,
    parent: null,
    network: reply.network,
    train_loss: reply.train_loss,
    test_loss: reply.test_loss,
  });
}

export interface Resumed {
  timeline: Timeline;
  network: NetworkJSON;
  global_step: number;
}

/** Branch the run at snapshot `index`: a new branch starts with a copy of that snapshot. */
export function resumeFrom(timeline: Timeline, index: number): Resumed {
  const from = timeline.snapshots[index];
  if (from === undefined) throw new RangeError(`no snapshot ${index} (timeline has ${timeline.snapshots.length})`);
  const branch = nextBranchId(timeline);
  const next = append({ ...timeline, branch }, { ...from, branch, parent: index });
  return { timeline: next, network: from.network, global_step: from.step };
}

/**
 * The snapshots leading to `index`, oldest first: back along its branch, then through each fork.
 * A fork's parent is skipped when it is at the same step (the branch's first snapshot copies it).
 */
export function lineage(snaps: readonly Snapshot[], index: number): number[] {
  const path: number[] = [];
  let i: number | null = index;
  while (i !== null) {
    path.push(i);
    const prev = previousInBranch(snaps, i);
    if (prev >= 0) {
      i = prev;
      continue;
    }
    const parent: number | null = snaps[i].parent;
    i = parent !== null && snaps[parent].step === snaps[i].step ? previousOrFork(snaps, parent) : parent;
  }
  return path.reverse();
}

export function lastOfBranch(snaps: readonly Snapshot[], branch: number): number {
  for (let i = snaps.length - 1; i >= 0; i--) if (snaps[i].branch === branch) return i;
  return -1;
}

function nextBranchId(timeline: Timeline): number {
  let max = timeline.branch;
  for (const s of timeline.snapshots) max = Math.max(max, s.branch);
  return max + 1;
}

function previousInBranch(snaps: readonly Snapshot[], i: number): number {
  for (let j = i - 1; j >= 0; j--) if (snaps[j].branch === snaps[i].branch) return j;
  return -1;
}

/** The snapshot before `i` in its lineage: the branch predecessor, else the branch's fork parent. */
function previousOrFork(snaps: readonly Snapshot[], i: number): number | null {
  const prev = previousInBranch(snaps, i);
  return prev >= 0 ? prev : snaps[i].parent;
}

/** Append, first thinning the list (and doubling the interval) while it is full. */
function append(timeline: Timeline, snap: Snapshot): Timeline {
  const cap = capacity(snap.network);
  let snaps = timeline.snapshots;
  let interval = timeline.interval;
  let parent = snap.parent;
  while (snaps.length + 1 > cap) {
    const thinned = decimate(snaps);
    snaps = thinned.snapshots;
    parent = parent === null ? null : thinned.ancestor(parent);
    interval *= 2;
  }
  return { interval, branch: timeline.branch, snapshots: [...snaps, { ...snap, parent }] };
}

interface Thinned {
  snapshots: Snapshot[];
  /** New index of the nearest kept snapshot in the lineage of an old index (null: none left). */
  ancestor(old: number): number | null;
}

/** Drop every second snapshot, keeping the first and the newest; forks are re-pointed to kept ancestors. */
export function decimate(snaps: readonly Snapshot[]): Thinned {
  const n = snaps.length;
  const newIndex = new Int32Array(n).fill(-1);
  let k = 0;
  for (let i = 0; i < n; i++) if (i % 2 === 0 || i === n - 1) newIndex[i] = k++;

  const ancestor = (old: number): number | null => {
    let i: number | null = old;
    while (i !== null && newIndex[i] < 0) i = previousOrFork(snaps, i);
    return i === null ? null : newIndex[i];
  };

  const seen = new Set<number>();
  const out: Snapshot[] = [];
  for (let i = 0; i < n; i++) {
    if (newIndex[i] < 0) continue;
    const s = snaps[i];
    const first = !seen.has(s.branch);
    seen.add(s.branch);
    // The first kept snapshot of a branch carries the branch's fork, re-pointed into the kept list.
    const fork = first ? branchFork(snaps, i) : null;
    out.push({ ...s, parent: fork === null ? null : ancestor(fork) });
  }
  return { snapshots: out, ancestor };
}

function branchFork(snaps: readonly Snapshot[], i: number): number | null {
  let first = i;
  for (let j = i - 1; j >= 0; j--) if (snaps[j].branch === snaps[i].branch) first = j;
  return snaps[first].parent;
}
