// history.ts against its Python port (src/nnvisu/timeline.py): both replay the cases of
// tests/fixtures/timeline.json (written by tests/make_timeline_fixtures.py from the Python side,
// which tests/test_widget.py keeps in step) and must end with the same timelines.
import { describe, expect, it } from "vitest";
import raw from "../../tests/fixtures/timeline.json";
import { type Timeline, emptyTimeline, recordSnapshot, resumeFrom } from "../src/history";
import type { NetworkJSON } from "../src/nn/forward";

type Op = { record: [number, number, number]; width: number } | { resume: number };
interface Summary {
  interval: number;
  branch: number;
  steps: number[];
  branches: number[];
  parents: Record<string, number>;
  tags: number[];
  resumed_step?: number;
  resumed_tag?: number;
}
interface Case {
  name: string;
  ops: Op[];
  after: Summary[];
}
const fixture = raw as unknown as { cases: Case[] };

/** make_timeline_fixtures.network: a 2-width-2 network whose first weight is the step. */
function network(step: number, width: number): NetworkJSON {
  return {
    weights: [Array.from({ length: width }, () => [step, 0]), [0, 1].map(() => new Array<number>(width).fill(0))],
    biases: [new Array<number>(width).fill(0), [0, 0]],
  };
}

function summary(tl: Timeline): Summary {
  const parents: Record<string, number> = {};
  tl.snapshots.forEach((s, i) => {
    if (s.parent !== null) parents[String(i)] = s.parent;
  });
  return {
    interval: tl.interval,
    branch: tl.branch,
    steps: tl.snapshots.map((s) => s.step),
    branches: tl.snapshots.map((s) => s.branch),
    parents,
    tags: tl.snapshots.map((s) => s.network.weights[0][0][0]),
  };
}

function replay(ops: Op[]): Summary[] {
  let tl = emptyTimeline();
  return ops.map((op) => {
    if ("resume" in op) {
      const r = resumeFrom(tl, op.resume);
      tl = r.timeline;
      return { ...summary(tl), resumed_step: r.global_step, resumed_tag: r.network.weights[0][0][0] };
    }
    const [start, stop, every] = op.record;
    for (let step = start; step < stop; step += every) {
      tl = recordSnapshot(tl, {
        global_step: step,
        network: network(step, op.width),
        train_loss: 1 / (step + 1),
        test_loss: step % 3 === 0 ? null : step / 7,
      });
    }
    return summary(tl);
  });
}

describe("timeline rule shared with Python", () => {
  it("has cases that fork, reset, thin and fill up", () => {
    expect(fixture.cases.length).toBeGreaterThanOrEqual(5);
    const resumes = fixture.cases.flatMap((c) => c.ops).filter((op) => "resume" in op);
    expect(resumes.length).toBeGreaterThanOrEqual(4);
  });

  for (const c of fixture.cases) {
    it(c.name, () => {
      expect(replay(c.ops)).toEqual(c.after);
    });
  }
});
