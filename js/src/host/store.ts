// Where the standalone page keeps the user's state: the server keeps none, so everything a
// learner built (points, weights with optimizer state, settings, progress) lives in the
// browser's localStorage, one key per part, and survives a reload.
import { isObject } from "../protocol";

/** Which traits are stored under which key. Traits not listed (and not transient) go to "extra". */
export const GROUPS: Readonly<Record<string, readonly string[]>> = {
  data: ["data", "dataset"],
  network: ["network", "optimizer_state"],
  config: ["config"],
  view: ["view"],
  progress: ["metrics", "history"],
  timeline: ["timeline"],
};
/** Traits that describe this moment only: never restored (a reload starts paused and idle). */
export const TRANSIENT: ReadonlySet<string> = new Set(["status", "playing"]);
/** When storage is full, these parts are given up first (they can be rebuilt by training). */
const EXPENDABLE = ["timeline", "progress"];
const FORMAT = 1;
const PREFIX = "nnvisu:";

/** The subset of the Web Storage API used here. */
export interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export function groupOf(name: string): string | null {
  if (TRANSIENT.has(name)) return null;
  for (const [group, names] of Object.entries(GROUPS)) if (names.includes(name)) return group;
  return "extra";
}

export interface SaveResult {
  /** Parts that did not fit in storage and were removed instead. */
  dropped: string[];
}

export class Store {
  constructor(
    private readonly storage: StorageLike | null,
    private readonly prefix = PREFIX,
  ) {}

  /** Every stored trait; a part that is missing, corrupt or from another format is skipped. */
  load(): Record<string, unknown> {
    const values: Record<string, unknown> = {};
    if (!this.storage) return values;
    for (const group of [...Object.keys(GROUPS), "extra"]) {
      let text: string | null;
      try {
        text = this.storage.getItem(this.prefix + group);
      } catch {
        continue; // storage blocked (privacy settings): start fresh
      }
      if (text === null) continue;
      try {
        const parsed = JSON.parse(text) as { v?: unknown; values?: unknown };
        if (parsed.v !== FORMAT || !isObject(parsed.values)) continue;
        for (const [name, value] of Object.entries(parsed.values)) {
          if (groupOf(name) === group) values[name] = value;
        }
      } catch {
        console.warn(`nnvisu: ignoring unreadable ${this.prefix + group}`);
      }
    }
    return values;
  }

  /** Write the parts that contain any of `names`, taking their values from `state`. */
  save(state: Record<string, unknown>, names: Iterable<string>): SaveResult {
    const groups = new Set<string>();
    for (const name of names) {
      const group = groupOf(name);
      if (group !== null) groups.add(group);
    }
    const dropped: string[] = [];
    if (!this.storage) return { dropped };
    for (const group of groups) {
      const members =
        group === "extra"
          ? Object.keys(state).filter((name) => groupOf(name) === "extra")
          : GROUPS[group];
      const values: Record<string, unknown> = {};
      for (const name of members) if (name in state) values[name] = state[name];
      const text = JSON.stringify({ v: FORMAT, values });
      if (!this.write(group, text, dropped)) dropped.push(group);
    }
    return { dropped };
  }

  /** Forget everything (the page's "start over"). */
  clear(): void {
    for (const group of [...Object.keys(GROUPS), "extra"]) {
      try {
        this.storage?.removeItem(this.prefix + group);
      } catch {
        // nothing stored, nothing to clear
      }
    }
  }

  private write(group: string, text: string, dropped: string[]): boolean {
    const storage = this.storage as StorageLike;
    for (;;) {
      try {
        storage.setItem(this.prefix + group, text);
        return true;
      } catch {
        // Quota exceeded: give up a part that training rebuilds, then try again.
        const victim = EXPENDABLE.find((g) => g !== group && !dropped.includes(g));
        if (victim === undefined) {
          storage.removeItem(this.prefix + group); // a stale copy would not match the rest
          return false;
        }
        storage.removeItem(this.prefix + victim);
        dropped.push(victim);
      }
    }
  }
}

/** Coalesces writes: at most one save per `intervalMs`, and a final one when the page hides. */
export class Persister {
  private dirty = new Set<string>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private lastWrite = -Infinity;

  constructor(
    private readonly store: Store,
    private readonly snapshot: () => Record<string, unknown>,
    private readonly onDropped: (groups: string[]) => void = () => {},
    private readonly intervalMs = 1000,
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** Mark traits as changed; they are written soon (immediately if nothing was written lately). */
  markDirty(names: Iterable<string>): void {
    for (const name of names) this.dirty.add(name);
    if (this.dirty.size === 0 || this.timer !== null) return;
    const wait = Math.max(0, this.lastWrite + this.intervalMs - this.now());
    if (wait === 0) this.flush();
    else this.timer = setTimeout(() => this.flush(), wait);
  }

  /** Write everything pending now (called on pagehide so a reload loses nothing). */
  flush(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.dirty.size === 0) return;
    const names = this.dirty;
    this.dirty = new Set();
    this.lastWrite = this.now();
    const { dropped } = this.store.save(this.snapshot(), names);
    if (dropped.length > 0) this.onDropped(dropped);
  }
}
