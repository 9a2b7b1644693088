// The page's link to the server: one WebSocket, one request on the wire at a time, automatic
// reconnection with exponential backoff, and a reply for EVERY request, even when the server
// is down (so the widget's training loop never waits forever).
//
// The protocol is stateless, so a request whose connection dropped is simply sent again after
// reconnecting: the server recomputes the same answer from the same input. A `busy` answer is
// passed on as it is: the widget's loop already retries those.

/** A protocol message (request or reply): a JSON object with a `type`. */
export type Message = Record<string, unknown>;

/** The part of the browser WebSocket this module uses (a fake one in tests). */
export interface SocketLike {
  readonly readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export type ConnectionStatus =
  | { state: "connecting" }
  | { state: "open"; reconnected: boolean }
  | { state: "down"; retryInMs: number; failures: number };

export interface ConnectionOptions {
  url: string;
  createSocket?: (url: string) => SocketLike;
  onStatus?: (status: ConnectionStatus) => void;
  /** No reply within this: the request gets an error and the socket is recycled. */
  requestTimeoutMs?: number;
  /** A request that cannot be sent for this long (server unreachable) gets an error. */
  offlineGraceMs?: number;
  /** Requests waiting their turn; more get `busy` at once. */
  maxQueue?: number;
  /** The server's cap on one message (protocol MAX_MESSAGE_BYTES); bigger ones are not sent. */
  maxMessageBytes?: number;
  /** Connections a request may lose while on the wire before it gets an error. */
  maxResends?: number;
  reconnectInitialMs?: number;
  reconnectMaxMs?: number;
  random?: () => number;
}

const OPEN = 1;
const MESSAGE_TOO_BIG = 1009;
const utf8 = new TextEncoder();

interface Pending {
  id: unknown;
  resolve: (reply: Message) => void;
  /** The request as sent (JSON), encoded once. */
  text: string;
  resends: number;
  /** Fires when the request has waited too long to be sent (offline) or answered. */
  timer: ReturnType<typeof setTimeout> | null;
}

export function errorReply(id: unknown, code: string, message: string): Message {
  return { type: "error", id: id ?? null, code, message, field: null };
}

export class Connection {
  private readonly opts: Required<Omit<ConnectionOptions, "onStatus">> &
    Pick<ConnectionOptions, "onStatus">;
  private socket: SocketLike | null = null;
  private readonly queue: Pending[] = [];
  private current: Pending | null = null;
  private failures = 0;
  private everOpened = false;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private closed = false;
  private nextId = 0;

  constructor(options: ConnectionOptions) {
    this.opts = {
      createSocket: (url) => new WebSocket(url) as unknown as SocketLike,
      // Below the widget's own 10 s timeout, so the widget shows our clearer message.
      requestTimeoutMs: 9_000,
      offlineGraceMs: 3_000,
      maxQueue: 32,
      maxMessageBytes: 4 * 1024 * 1024,
      maxResends: 2,
      reconnectInitialMs: 250,
      reconnectMaxMs: 10_000,
      random: Math.random,
      ...options,
    };
    this.connect();
  }

  /** Send a request; resolves with its reply, or with an error reply. Never rejects. */
  request(message: Message): Promise<Message> {
    return new Promise((resolve) => {
      let id = message.id;
      if (id === undefined || id === null) {
        id = `host:${this.nextId++}`;
        message = { ...message, id };
      }
      if (this.closed) {
        resolve(errorReply(id, "busy", "the connection to the server was closed"));
        return;
      }
      if (this.queue.length >= this.opts.maxQueue) {
        resolve(errorReply(id, "busy", `too many requests waiting (${this.queue.length})`));
        return;
      }
      const text = JSON.stringify(message);
      const size = text.length * 3 <= this.opts.maxMessageBytes ? text.length : utf8.encode(text).length;
      if (size > this.opts.maxMessageBytes) {
        // The server would close the connection (1009): say so without sending it.
        const limit = this.opts.maxMessageBytes;
        resolve(errorReply(id, "too_large", `the request is ${size} bytes; the server accepts ${limit}`));
        return;
      }
      const pending: Pending = { id, resolve, text, resends: 0, timer: null };
      this.queue.push(pending);
      if (!this.isOpen()) this.armOfflineTimer(pending);
      this.pump();
    });
  }

  /** Try to reconnect now (e.g. the browser came back online) instead of waiting. */
  reconnectNow(): void {
    if (this.closed || this.isOpen() || this.socket) return;
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    this.connect();
  }

  /** Close for good; waiting requests get an error reply. */
  close(): void {
    this.closed = true;
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer);
    const socket = this.socket;
    this.socket = null;
    socket?.close(1000, "page closed");
    const all = [...this.queue, ...(this.current ? [this.current] : [])];
    this.queue.length = 0;
    this.current = null;
    for (const p of all) this.settle(p, errorReply(p.id, "busy", "the connection to the server was closed"));
  }

  private isOpen(): boolean {
    return this.socket !== null && this.socket.readyState === OPEN;
  }

  private connect(): void {
    this.opts.onStatus?.({ state: "connecting" });
    let socket: SocketLike;
    try {
      socket = this.opts.createSocket(this.opts.url);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      const reconnected = this.everOpened || this.failures > 0;
      this.everOpened = true;
      this.failures = 0;
      this.opts.onStatus?.({ state: "open", reconnected });
      for (const p of this.queue) this.clearTimer(p);
      this.pump();
    };
    socket.onmessage = (ev) => this.onMessage(ev.data);
    socket.onerror = () => {}; // onclose follows and carries the information
    socket.onclose = (ev) => this.onClose(socket, ev.code);
  }

  private onClose(socket: SocketLike, code: number): void {
    if (socket !== this.socket) return; // an old socket we already replaced
    this.socket = null;
    const current = this.current;
    this.current = null;
    if (current) {
      this.clearTimer(current);
      if (code === MESSAGE_TOO_BIG) {
        this.settle(current, errorReply(current.id, "too_large", "the request is larger than the server accepts"));
      } else if (current.resends >= this.opts.maxResends) {
        this.settle(current, errorReply(current.id, "busy", "the connection to the server keeps dropping"));
      } else {
        current.resends += 1;
        this.queue.unshift(current); // stateless: safe to send again after reconnecting
      }
    }
    if (this.closed) return;
    for (const p of this.queue) if (p.timer === null) this.armOfflineTimer(p);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    this.socket = null;
    const base = Math.min(this.opts.reconnectMaxMs, this.opts.reconnectInitialMs * 2 ** this.failures);
    const delay = Math.round(base * (0.5 + this.opts.random() / 2)); // jitter: no thundering herd
    this.failures += 1;
    this.opts.onStatus?.({ state: "down", retryInMs: delay, failures: this.failures });
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.connect();
    }, delay);
  }

  private onMessage(data: unknown): void {
    let reply: Message;
    try {
      reply = JSON.parse(String(data)) as Message;
    } catch {
      console.error("nnvisu: the server sent something that is not JSON");
      return;
    }
    const current = this.current;
    if (!current || reply === null || typeof reply !== "object" || reply.id !== current.id) return;
    this.current = null;
    this.settle(current, reply);
    this.pump();
  }

  private pump(): void {
    if (this.current || !this.isOpen() || this.queue.length === 0) return;
    const next = this.queue.shift() as Pending;
    this.clearTimer(next);
    this.current = next;
    next.timer = setTimeout(() => this.onTimeout(next), this.opts.requestTimeoutMs);
    (this.socket as SocketLike).send(next.text);
  }

  private onTimeout(p: Pending): void {
    if (this.current !== p) return;
    this.current = null;
    p.timer = null;
    const seconds = Math.round(this.opts.requestTimeoutMs / 1000);
    this.settle(p, errorReply(p.id, "internal", `no reply from the server within ${seconds} s`));
    // The server may still be working on it and would answer the next request `busy`:
    // start over on a fresh connection (the old one's close event is then ignored).
    const socket = this.socket;
    this.socket = null;
    socket?.close(4000, "request timed out");
    if (!this.closed) this.connect();
  }

  private armOfflineTimer(p: Pending): void {
    this.clearTimer(p);
    p.timer = setTimeout(() => {
      p.timer = null;
      const i = this.queue.indexOf(p);
      if (i < 0) return;
      this.queue.splice(i, 1);
      this.settle(p, errorReply(p.id, "busy", "the server is unreachable; reconnecting…"));
    }, this.opts.offlineGraceMs);
  }

  private clearTimer(p: Pending): void {
    if (p.timer !== null) clearTimeout(p.timer);
    p.timer = null;
  }

  private settle(p: Pending, reply: Message): void {
    this.clearTimer(p);
    p.resolve(reply);
  }
}
