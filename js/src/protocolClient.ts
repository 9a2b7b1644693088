// Requests to the kernel (or the standalone server) over the model's custom messages. Every
// request gets an id "<view id>:<n>", a promise, and a timeout; replies with ids this client
// did not send belong to other views and are ignored.
import { checkReply, isObject, ProtocolError, type AnyRequest, type ReplyOf } from "./protocol";
import type { WidgetModel } from "./state";

export const REQUEST_TIMEOUT_MS = 10_000;

/** The request was dropped because its view went away; callers just stop. */
export class ClientClosed extends Error {
  constructor() {
    super("the view was closed");
    this.name = "ClientClosed";
  }
}

export class RequestTimeout extends Error {
  constructor(readonly kind: string, readonly ms: number) {
    super(`no reply to "${kind}" within ${Math.round(ms / 1000)} s`);
    this.name = "RequestTimeout";
  }
}

/** What the loop and the controllers need: one method, easy to fake in tests. */
export interface Requester {
  request<M extends AnyRequest>(msg: M): Promise<ReplyOf<M["type"]>>;
}

interface Pending {
  resolve: (reply: Record<string, unknown>) => void;
  reject: (err: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

function randomId(): string {
  // crypto.randomUUID needs a secure context; a notebook may be served over plain http.
  return Math.random().toString(36).slice(2, 10) + Date.now().toString(36).slice(-4);
}

export class ProtocolClient implements Requester {
  readonly viewId = randomId();
  private counter = 0;
  private readonly pending = new Map<string, Pending>();
  private readonly onMessage = (msg: unknown) => this.receive(msg);

  constructor(
    private readonly model: Pick<WidgetModel, "on" | "off" | "send">,
    private readonly timeoutMs = REQUEST_TIMEOUT_MS,
  ) {
    model.on("msg:custom", this.onMessage);
  }

  request<M extends AnyRequest>(msg: M): Promise<ReplyOf<M["type"]>> {
    const kind: M["type"] = msg.type;
    const id = `${this.viewId}:${++this.counter}`;
    return new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new RequestTimeout(kind, this.timeoutMs));
      }, this.timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      try {
        this.model.send({ ...msg, id });
      } catch (err) {
        this.settle(id);
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    }).then((reply) => checkReply(kind, reply));
  }

  /** Reject everything in flight and stop listening: late replies are ignored. */
  dispose(): void {
    this.model.off("msg:custom", this.onMessage);
    for (const id of [...this.pending.keys()]) this.settle(id)?.reject(new ClientClosed());
  }

  private receive(msg: unknown): void {
    if (!isObject(msg) || typeof msg.id !== "string") return;
    this.settle(msg.id)?.resolve(msg);
  }

  private settle(id: string): Pending | undefined {
    const p = this.pending.get(id);
    if (!p) return undefined;
    clearTimeout(p.timer);
    this.pending.delete(id);
    return p;
  }
}

/** A user-facing sentence for a failed request. */
export function describeError(err: unknown): string {
  if (err instanceof RequestTimeout) {
    return `The kernel did not answer within ${Math.round(err.ms / 1000)} s. Is it busy, restarting or disconnected?`;
  }
  if (err instanceof ProtocolError && err.code === "diverged") {
    return `Training diverged (${err.message.replace(/\.$/, "")}). Try a lower learning rate, then reset the weights.`;
  }
  if (err instanceof Error) return err.message;
  return String(err);
}
