// The anywidget model API (get/set/on/off/save_changes/send) backed by the page instead of a
// kernel, so the widget's render() runs unchanged on the standalone page:
//   set            -> "change:<name>" (and "change") events, like Backbone, only on real changes
//   save_changes   -> the changed traits are persisted (localStorage) instead of synced
//   send(request)  -> the server over the WebSocket; its reply comes back as "msg:custom"
import type { Message } from "./connection";

export type Callback = (...args: unknown[]) => void;

export interface ModelBackend {
  /** Answer a protocol request (never rejects: failures are error replies). */
  request(message: Message): Promise<Message>;
  /** Persist these traits (they were changed and save_changes was called). */
  persist(names: Set<string>): void;
}

export class HostModel {
  private readonly state: Record<string, unknown>;
  private readonly listeners = new Map<string, Set<Callback>>();
  private unsaved = new Set<string>();

  constructor(
    initial: Record<string, unknown>,
    private readonly backend: ModelBackend,
  ) {
    this.state = { ...initial };
  }

  get(name: string): unknown {
    return this.state[name];
  }

  set(name: string, value: unknown): void {
    if (deepEqual(this.state[name], value)) return;
    this.state[name] = value;
    this.unsaved.add(name);
    this.emit(`change:${name}`, this, value);
    this.emit("change", this);
  }

  on(event: string, callback: Callback): void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(callback);
  }

  off(event?: string | null, callback?: Callback | null): void {
    if (!event) {
      if (callback) for (const set of this.listeners.values()) set.delete(callback);
      else this.listeners.clear();
    } else if (callback) this.listeners.get(event)?.delete(callback);
    else this.listeners.delete(event);
  }

  save_changes(): void {
    if (this.unsaved.size === 0) return;
    const names = this.unsaved;
    this.unsaved = new Set();
    this.backend.persist(names);
  }

  send(content: unknown, _callbacks?: unknown, _buffers?: unknown): void {
    if (typeof content !== "object" || content === null || Array.isArray(content)) {
      console.error("nnvisu: model.send expects a protocol request object");
      return;
    }
    void this.backend.request(content as Message).then((reply) => this.emit("msg:custom", reply, []));
  }

  /** All traits, for persisting. */
  snapshot(): Record<string, unknown> {
    return this.state;
  }

  private emit(event: string, ...args: unknown[]): void {
    const set = this.listeners.get(event);
    if (!set) return;
    for (const callback of [...set]) {
      try {
        callback(...args);
      } catch (err) {
        // Let the other listeners run, but still surface the error as an uncaught one.
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }
}

/** Structural equality for JSON-like values (what traits hold). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    if (a.length !== bb.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], bb[i])) return false;
    return true;
  }
  const ka = Object.keys(a);
  const bo = b as Record<string, unknown>;
  if (ka.length !== Object.keys(bo).length) return false;
  for (const k of ka) if (!(k in bo) || !deepEqual((a as Record<string, unknown>)[k], bo[k])) return false;
  return true;
}
