// One line at the top of the page that says plainly when the server is unreachable and when it
// is back. It is a role="alert" live region, so screen readers announce each change.
import type { ConnectionStatus } from "./connection";

const BACK_MESSAGE_MS = 4000;

export class Banner {
  private hideTimer: ReturnType<typeof setTimeout> | null = null;
  private down = false;

  constructor(private readonly el: HTMLElement) {
    el.setAttribute("role", "alert");
  }

  /** Show `text` (kind: "error" stays until replaced; "ok" hides itself after a few seconds). */
  show(text: string, kind: "error" | "ok" | "info"): void {
    if (this.hideTimer !== null) clearTimeout(this.hideTimer);
    this.hideTimer = null;
    this.el.textContent = text;
    this.el.dataset.kind = kind;
    this.el.hidden = false;
    if (kind === "ok") this.hideTimer = setTimeout(() => this.hide(), BACK_MESSAGE_MS);
  }

  hide(): void {
    this.el.hidden = true;
    this.el.textContent = "";
  }

  /** Follow the connection's status. */
  update(status: ConnectionStatus): void {
    if (status.state === "down") {
      this.down = true;
      const seconds = Math.max(1, Math.round(status.retryInMs / 1000));
      this.show(
        `Cannot reach the nnvisu server: retrying in ${seconds} s (attempt ${status.failures}). ` +
          "Training resumes when it is back; your work is kept in this browser.",
        "error",
      );
    } else if (status.state === "open" && this.down) {
      this.down = false;
      this.show("Connected to the nnvisu server again.", "ok");
    }
  }
}
