// jsdom lacks canvas, ImageData, ResizeObserver and layout: minimal stand-ins so the views'
// DOM logic (keyboard, editors, events, traits) can be tested. Drawing itself is measured in
// benchmarks/frame.py in a real Chromium. Time is fake (setTimeout and performance.now), so
// throttled redraws come due when a test says time passed.
import { vi } from "vitest";
import { REDRAW_GAP_MS } from "../src/chart/redraw";

const frames: FrameRequestCallback[] = [];

/** Let the views' redraw gap pass and run every queued animation frame (and any they queue). */
export function flushFrames(): void {
  for (let guard = 0; guard < 10; guard++) {
    vi.advanceTimersByTime(REDRAW_GAP_MS);
    if (frames.length === 0) return;
    for (const cb of frames.splice(0)) cb(performance.now());
  }
}

/** Run the animation frames queued now, without letting time pass. */
export function runFrames(): number {
  const due = frames.splice(0);
  for (const cb of due) cb(performance.now());
  return due.length;
}

/** A 2D context that accepts every call and property (measureText answers a width). */
function fakeContext(): CanvasRenderingContext2D {
  return new Proxy({} as Record<string | symbol, unknown>, {
    get: (target, key) => (key in target ? target[key] : key === "measureText" ? () => ({ width: 20 }) : () => undefined),
    set: (target, key, value) => {
      target[key] = value;
      return true;
    },
  }) as unknown as CanvasRenderingContext2D;
}

export function installDomStubs(width = 640): void {
  frames.length = 0;
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
  vi.stubGlobal("requestAnimationFrame", (cb: FrameRequestCallback) => frames.push(cb));
  vi.stubGlobal("cancelAnimationFrame", () => undefined);
  vi.stubGlobal(
    "ResizeObserver",
    class {
      constructor(private readonly cb: ResizeObserverCallback) {}
      observe(): void {
        this.cb([], this as unknown as ResizeObserver);
      }
      disconnect(): void {}
    },
  );
  vi.stubGlobal(
    "ImageData",
    class {
      readonly data: Uint8ClampedArray;
      constructor(
        readonly width: number,
        readonly height: number,
      ) {
        this.data = new Uint8ClampedArray(width * height * 4);
      }
    },
  );
  vi.spyOn(HTMLCanvasElement.prototype, "getContext").mockImplementation(() => fakeContext() as never);
  vi.spyOn(HTMLElement.prototype, "clientWidth", "get").mockReturnValue(width);
  vi.spyOn(HTMLElement.prototype, "clientHeight", "get").mockReturnValue(160);
}

/** A widget root (.nnvisu) with one container, attached to the document. */
export function widgetRoot(): { root: HTMLDivElement; el: HTMLDivElement } {
  const root = document.createElement("div");
  root.className = "nnvisu";
  const el = document.createElement("div");
  root.append(el);
  document.body.append(root);
  return { root, el };
}

/** Set or read a trait the shared FakeModel's Traits type does not list (timeline, classroom). */
export function raw(model: object): { get(key: string): unknown; set(key: string, value: unknown): void } {
  return model as { get(key: string): unknown; set(key: string, value: unknown): void };
}

/** afterEach of a view test: unmount it, remove its root, undo the stand-ins and fake time. */
export function unmountView(cleanup: () => void, root: HTMLElement): void {
  cleanup();
  root.remove();
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
  vi.useRealTimers();
}
