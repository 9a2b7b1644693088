// The `timeline` trait's writer for the training loop: snapshots accumulate here and reach the
// trait at most every TIMELINE_WRITE_MS (each write sends the whole timeline to the kernel).
// history.ts keeps the pure rules; ui/timeline.ts is the view that reads the trait.
import { asTimeline, recordSnapshot, type Timeline, type TrainingReply } from "./history";
import type { WidgetModel } from "./state";

/** The timeline trait is written at most this often while training. */
export const TIMELINE_WRITE_MS = 1000;

/** The `timeline` trait, checked (a saved notebook may hold anything): empty when malformed. */
export function readTimeline(model: WidgetModel): Timeline {
  return asTimeline(model.get("timeline"));
}

/** Records one run's replies into the timeline trait of `model`, throttled. */
export class TimelineWriter {
  private timeline: Timeline | null = null;
  /** The trait value last written here: anything else there means someone replaced it (a resume). */
  private written: unknown = undefined;
  private writtenAt = -Infinity;

  constructor(
    private readonly model: WidgetModel,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Record a train_step reply (right after the loop applied it, before it saves). */
  record(reply: TrainingReply): void {
    const trait = this.model.get("timeline");
    if (this.timeline === null || trait !== this.written) {
      this.timeline = readTimeline(this.model);
      this.written = trait;
      this.writtenAt = -Infinity;
    }
    this.timeline = recordSnapshot(this.timeline, reply);
    if (this.now() - this.writtenAt >= TIMELINE_WRITE_MS) this.write();
  }

  /** Write the snapshots still held back (when training stops), unless someone replaced the trait. */
  flush(): void {
    if (this.timeline !== null && this.model.get("timeline") === this.written) this.write();
  }

  private write(): void {
    if (this.timeline === null || this.timeline === this.written) return;
    this.writtenAt = this.now();
    this.written = this.timeline;
    this.model.set("timeline", this.timeline);
  }
}
