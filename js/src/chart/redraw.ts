/**
 * When a view redraws. Model changes only ask for a redraw; requests coalesce into at most one
 * draw per animation frame, and, with a minimum gap, into at most one draw per gap: training
 * replies arrive 30–60 times a second, and a curve or a text read-out redrawn more than ~10
 * times a second is main-thread time the eye cannot use. The user's own actions (pointer, keys,
 * resizing) draw at the next frame whatever the gap.
 */
/** Least time between two redraws of a curve or a read-out that training drives (~10 a second). */
export const REDRAW_GAP_MS = 100;

export class Redraw {
  private frame = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private last = -Infinity;

  constructor(
    private readonly draw: () => void,
    /** Least time between two draws started by `request`, in ms. */
    private readonly minGapMs = 0,
  ) {}

  /** Draw at the next frame, or once minGapMs have passed since the last draw. */
  request(): void {
    if (this.frame || this.timer !== undefined) return;
    const wait = this.last + this.minGapMs - performance.now();
    if (wait > 0) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.queue();
      }, wait);
    } else this.queue();
  }

  /** Draw at the next frame whatever the gap (the user is interacting). */
  soon(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (!this.frame) this.queue();
  }

  cancel(): void {
    cancelAnimationFrame(this.frame);
    clearTimeout(this.timer);
    this.frame = 0;
    this.timer = undefined;
  }

  private queue(): void {
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.last = performance.now();
      this.draw();
    });
  }
}

/** Set an element's text only when it changed: an equal write still re-lays out the text. */
export function setText(el: Element, text: string): void {
  if (el.textContent !== text) el.textContent = text;
}

/** Set an attribute only when it changed. */
export function setAttr(el: Element, name: string, value: string): void {
  if (el.getAttribute(name) !== value) el.setAttribute(name, value);
}
