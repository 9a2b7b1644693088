// The timeline's pure rules (src/history.ts): when snapshots are taken, how the list stays
// bounded (≤ 256, interval doubling, first and newest kept), branches and resuming.
import { describe, expect, it } from "vitest";
import {
  MAX_SNAPSHOTS,
  type Snapshot,
  type Timeline,
  capacity,
  decimate,
  emptyTimeline,
  lineage,
  recordSnapshot,
  resumeFrom,
} from "../src/history";
import type { NetworkJSON } from "../src/nn/forward";

/** A 2-3-2 network whose first weight carries `tag`, so snapshots can be told apart. */
function net(tag: number): NetworkJSON {
  return {
    weights: [
      [[tag, 0], [0, 0], [0, 0]],
      [[0, 0, 0], [0, 0, 0]],
    ],
    biases: [[0, 0, 0], [0, 0]],
  };
}

const reply = (step: number) => ({ global_step: step, network: net(step), train_loss: 1 / (step + 1), test_loss: null });

function run(tl: Timeline, from: number, to: number, every = 1): Timeline {
  for (let s = from; s <= to; s += every) tl = recordSnapshot(tl, reply(s));
  return tl;
}

/** The invariants every timeline must keep (collected, so a failure lists every problem). */
function checkConsistent(tl: Timeline): void {
  const snaps = tl.snapshots;
  const problems: string[] = [];
  if (snaps.length > MAX_SNAPSHOTS) problems.push(`${snaps.length} snapshots`);
  const lastStep = new Map<number, number>();
  snaps.forEach((s: Snapshot, i) => {
    const prev = lastStep.get(s.branch);
    if (prev !== undefined) {
      if (s.parent !== null) problems.push(`${i}: parent on a branch's later snapshot`);
      if (s.step < prev) problems.push(`${i}: step goes back within its branch`);
    } else if (s.parent !== null && (s.parent >= i || snaps[s.parent].step > s.step)) {
      problems.push(`${i}: bad fork ${s.parent}`);
    }
    lastStep.set(s.branch, s.step);
  });
  expect(problems).toEqual([]);
}

describe("recordSnapshot", () => {
  it("takes a snapshot once global_step reaches the last one plus the interval", () => {
    let tl = recordSnapshot(emptyTimeline(), reply(0));
    tl = { ...tl, interval: 10 };
    const same = recordSnapshot(tl, reply(9));
    expect(same).toBe(tl); // nothing due: the same object, so callers skip the trait write
    tl = recordSnapshot(tl, reply(10));
    expect(tl.snapshots.map((s) => s.step)).toEqual([0, 10]);
    expect(tl.snapshots[1]).toMatchObject({ branch: 0, parent: null, train_loss: 1 / 11, test_loss: null });
  });

  it("never keeps more than 256, doubling the interval and keeping the first and newest", () => {
    let tl = emptyTimeline();
    let interval = tl.interval;
    let longest = 0;
    let intervalOk = true;
    let firstKept = true;
    for (let s = 0; s <= 100_000; s += 7) {
      tl = recordSnapshot(tl, reply(s));
      longest = Math.max(longest, tl.snapshots.length);
      intervalOk &&= tl.interval === interval || tl.interval === 2 * interval;
      interval = tl.interval;
      firstKept &&= tl.snapshots[0].step === 0;
    }
    expect(longest).toBe(MAX_SNAPSHOTS);
    expect(intervalOk).toBe(true);
    expect(firstKept).toBe(true);
    expect(tl.interval).toBeGreaterThan(1);
    expect(tl.snapshots.length).toBeGreaterThan(MAX_SNAPSHOTS / 2);
    const steps = tl.snapshots.map((s) => s.step);
    expect(steps).toEqual([...steps].sort((a, b) => a - b));
    // The newest recorded step is the last snapshot.
    expect(steps[steps.length - 1]).toBeGreaterThan(100_000 - 2 * tl.interval);
  });

  it("halves a full list on the next snapshot: every second one goes, first and newest stay", () => {
    const tl = run(emptyTimeline(), 0, MAX_SNAPSHOTS - 1);
    expect(tl.snapshots).toHaveLength(MAX_SNAPSHOTS);
    const next = recordSnapshot(tl, reply(MAX_SNAPSHOTS));
    expect(next.interval).toBe(2);
    const steps = next.snapshots.map((s) => s.step);
    expect(steps.slice(0, 3)).toEqual([0, 2, 4]);
    expect(steps.slice(-3)).toEqual([254, 255, 256]);
    expect(steps).toHaveLength(MAX_SNAPSHOTS / 2 + 2);
  });

  it("keeps fewer snapshots of a wide network so the trait stays small", () => {
    const wide: NetworkJSON = {
      weights: [Array.from({ length: 64 }, () => new Array(64).fill(0.1))],
      biases: [new Array(64).fill(0)],
    };
    expect(capacity(wide)).toBeLessThan(MAX_SNAPSHOTS);
    let tl = emptyTimeline();
    for (let s = 0; s < 200; s++) tl = recordSnapshot(tl, { global_step: s, network: wide, train_loss: null, test_loss: null });
    expect(tl.snapshots.length).toBeLessThanOrEqual(capacity(wide));
    expect(tl.interval).toBeGreaterThan(1);
  });

  it("starts a new root branch when the run restarts (global_step goes back)", () => {
    let tl = run(emptyTimeline(), 0, 50, 10);
    tl = recordSnapshot(tl, reply(0));
    const last = tl.snapshots[tl.snapshots.length - 1];
    expect(last).toMatchObject({ step: 0, branch: 1, parent: null });
    expect(tl.branch).toBe(1);
    checkConsistent(tl);
  });
});

describe("resumeFrom", () => {
  it("returns the snapshot's network and step, and forks a new branch from it", () => {
    let tl = run(emptyTimeline(), 0, 100, 10);
    const r = resumeFrom(tl, 3);
    expect(r.global_step).toBe(30);
    expect(r.network).toEqual(net(30));
    expect(r.timeline.branch).toBe(1);
    const fork = r.timeline.snapshots[r.timeline.snapshots.length - 1];
    expect(fork).toMatchObject({ step: 30, branch: 1, parent: 3 });
    // Training continues on the branch.
    tl = recordSnapshot(r.timeline, reply(40));
    expect(tl.snapshots[tl.snapshots.length - 1]).toMatchObject({ step: 40, branch: 1, parent: null });
    expect(tl.snapshots.filter((s) => s.branch === 0)).toHaveLength(11);
    checkConsistent(tl);
  });

  it("rejects an index outside the timeline", () => {
    expect(() => resumeFrom(emptyTimeline(), 0)).toThrow(RangeError);
  });

  it("lineage follows a branch back through its fork, without the fork's duplicate", () => {
    let tl = run(emptyTimeline(), 0, 50, 10); // 0..50: indices 0..5
    tl = resumeFrom(tl, 2).timeline; // fork at step 20: index 6
    tl = run(tl, 30, 40, 10); // indices 7, 8
    expect(lineage(tl.snapshots, 8).map((i) => tl.snapshots[i].step)).toEqual([0, 10, 20, 30, 40]);
    expect(lineage(tl.snapshots, 8)).toEqual([0, 1, 6, 7, 8]);
    expect(lineage(tl.snapshots, 5)).toEqual([0, 1, 2, 3, 4, 5]);
  });
});

describe("decimate with branches", () => {
  it("re-points forks to kept ancestors and keeps every branch's lineage", () => {
    let tl = emptyTimeline();
    let step = 0;
    // Many resumes, each a few snapshots long, until the list has been thinned several times.
    for (let round = 0; round < 120; round++) {
      for (let k = 0; k < 5; k++) tl = recordSnapshot(tl, reply((step += tl.interval)));
      checkConsistent(tl);
      if (round % 3 === 2) {
        const r = resumeFrom(tl, Math.floor(tl.snapshots.length / 2));
        tl = r.timeline;
        step = r.global_step;
        checkConsistent(tl);
      }
    }
    expect(tl.interval).toBeGreaterThan(1);
    // Every snapshot's lineage starts at a root and its steps never decrease.
    tl.snapshots.forEach((_, i) => {
      const steps = lineage(tl.snapshots, i).map((j) => tl.snapshots[j].step);
      expect(steps).toEqual([...steps].sort((a, b) => a - b));
    });
  });

  it("keeps a dropped branch start's fork on the branch's next kept snapshot", () => {
    const s = (step: number, branch: number, parent: number | null): Snapshot => ({
      step, branch, parent, network: net(step), train_loss: null, test_loss: null,
    });
    // 0:a0 1:a10 2:a20 3:b10 (fork of 1) 4:b20 5:b30
    const snaps = [s(0, 0, null), s(10, 0, null), s(20, 0, null), s(10, 1, 1), s(20, 1, null), s(30, 1, null)];
    const { snapshots, ancestor } = decimate(snaps);
    // Kept: 0, 2, 4, 5. Branch 1's first kept snapshot (b20) forks from a0 (a10 was dropped).
    expect(snapshots.map((x) => [x.step, x.branch, x.parent])).toEqual([
      [0, 0, null],
      [20, 0, null],
      [20, 1, 0],
      [30, 1, null],
    ]);
    expect(ancestor(3)).toBe(0);
    expect(ancestor(5)).toBe(3);
  });
});
