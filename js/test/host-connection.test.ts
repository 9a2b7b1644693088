import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Connection, type ConnectionStatus, type Message, type SocketLike } from "../src/host/connection";
import { socketUrl } from "../src/host";

class FakeSocket implements SocketLike {
  readyState = 0;
  onopen: ((ev: unknown) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  sent: Message[] = [];
  closedWith: number | null = null;
  constructor(readonly url: string) {}
  send(data: string): void {
    this.sent.push(JSON.parse(data) as Message);
  }
  close(code?: number): void {
    this.readyState = 3;
    this.closedWith = code ?? 1000;
  }
  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }
  reply(message: Message): void {
    this.onmessage?.({ data: JSON.stringify(message) });
  }
  drop(code = 1006): void {
    this.readyState = 3;
    this.onclose?.({ code, reason: "" });
  }
}

function setup(options: Partial<ConstructorParameters<typeof Connection>[0]> = {}) {
  const sockets: FakeSocket[] = [];
  const statuses: ConnectionStatus[] = [];
  const conn = new Connection({
    url: "ws://host/ws",
    createSocket: (url) => {
      const s = new FakeSocket(url);
      sockets.push(s);
      return s;
    },
    onStatus: (s) => statuses.push(s),
    random: () => 1, // jitter factor 1: exact delays
    ...options,
  });
  const last = () => sockets[sockets.length - 1];
  return { conn, sockets, statuses, last };
}

let settled: Message[];
const track = (p: Promise<Message>) => p.then((r) => settled.push(r));

beforeEach(() => {
  vi.useFakeTimers();
  settled = [];
});
afterEach(() => {
  vi.useRealTimers();
});

describe("socketUrl", () => {
  it("is the page's sibling 'ws' with the ws scheme, so proxies can mount the page anywhere", () => {
    expect(socketUrl("http://127.0.0.1:8765/")).toBe("ws://127.0.0.1:8765/ws");
    expect(socketUrl("https://school.example/nnvisu/?x=1#top")).toBe("wss://school.example/nnvisu/ws");
    expect(socketUrl("https://school.example/nnvisu/index.html")).toBe("wss://school.example/nnvisu/ws");
  });
});

describe("Connection", () => {
  it("keeps one request on the wire and matches replies by id", async () => {
    const { conn, last } = setup();
    last().open();
    track(conn.request({ type: "info", id: "a" }));
    track(conn.request({ type: "info", id: "b" }));
    expect(last().sent.map((m) => m.id)).toEqual(["a"]);
    last().reply({ type: "info_result", id: "zzz" }); // not ours: ignored
    last().reply({ type: "info_result", id: "a" });
    await vi.advanceTimersByTimeAsync(0);
    expect(last().sent.map((m) => m.id)).toEqual(["a", "b"]);
    last().reply({ type: "info_result", id: "b" });
    await vi.advanceTimersByTimeAsync(0);
    expect(settled.map((m) => m.id)).toEqual(["a", "b"]);
  });

  it("adds an id when the request has none", async () => {
    const { conn, last } = setup();
    last().open();
    track(conn.request({ type: "info" }));
    const id = last().sent[0].id;
    expect(typeof id).toBe("string");
    last().reply({ type: "info_result", id });
    await vi.advanceTimersByTimeAsync(0);
    expect(settled).toHaveLength(1);
  });

  it("answers quickly with an error while the server is unreachable", async () => {
    const { conn, last } = setup({ offlineGraceMs: 1500 });
    last().drop();
    track(conn.request({ type: "info", id: 1 }));
    await vi.advanceTimersByTimeAsync(1499);
    expect(settled).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(settled).toEqual([
      expect.objectContaining({ type: "error", id: 1, code: "busy", message: expect.stringMatching(/unreachable/) }),
    ]);
  });

  it("reconnects with exponential backoff and reports down / back", async () => {
    const { sockets, statuses, last } = setup({ reconnectInitialMs: 100, reconnectMaxMs: 350 });
    last().drop();
    const delays = [];
    for (let i = 0; i < 4; i++) {
      const down = statuses[statuses.length - 1];
      expect(down.state).toBe("down");
      delays.push((down as { retryInMs: number }).retryInMs);
      const before = sockets.length;
      await vi.advanceTimersByTimeAsync(delays[i] - 1);
      expect(sockets.length).toBe(before);
      await vi.advanceTimersByTimeAsync(1);
      expect(sockets.length).toBe(before + 1);
      last().drop();
    }
    expect(delays).toEqual([100, 200, 350, 350]);
    await vi.advanceTimersByTimeAsync(350);
    last().open();
    expect(statuses[statuses.length - 1]).toEqual({ state: "open", reconnected: true });
  });

  it("sends a request again after its connection dropped (the protocol is stateless)", async () => {
    const { conn, sockets, last } = setup({ reconnectInitialMs: 100 });
    last().open();
    track(conn.request({ type: "train_step", id: "t" }));
    sockets[0].drop();
    await vi.advanceTimersByTimeAsync(100);
    last().open();
    expect(sockets[1].sent.map((m) => m.id)).toEqual(["t"]);
    sockets[1].reply({ type: "train_step_result", id: "t" });
    await vi.advanceTimersByTimeAsync(0);
    expect(settled).toEqual([{ type: "train_step_result", id: "t" }]);
  });

  it("turns a 1009 close into a too_large error instead of resending", async () => {
    const { conn, last } = setup();
    last().open();
    track(conn.request({ type: "train_step", id: "big" }));
    last().drop(1009);
    await vi.advanceTimersByTimeAsync(0);
    expect(settled).toEqual([expect.objectContaining({ id: "big", code: "too_large" })]);
  });

  it("passes a busy answer on as it is (the widget's loop retries)", async () => {
    const { conn, last } = setup();
    last().open();
    track(conn.request({ type: "train_step", id: "x" }));
    last().reply({ type: "error", id: "x", code: "busy", message: "busy" });
    await vi.advanceTimersByTimeAsync(0);
    expect(settled).toEqual([expect.objectContaining({ id: "x", code: "busy" })]);
    expect(last().sent).toHaveLength(1);
  });

  it("does not send a request the server would refuse for its size", async () => {
    const { conn, last } = setup({ maxMessageBytes: 100 });
    last().open();
    track(conn.request({ type: "train_step", id: "big", pad: "é".repeat(60) }));
    await vi.advanceTimersByTimeAsync(0);
    expect(settled).toEqual([expect.objectContaining({ id: "big", code: "too_large" })]);
    expect(last().sent).toHaveLength(0);
  });

  it("stops resending a request whose connection keeps dropping", async () => {
    const { conn, last } = setup({ maxResends: 1, reconnectInitialMs: 10, reconnectMaxMs: 10 });
    last().open();
    track(conn.request({ type: "train_step", id: "poison" }));
    last().drop();
    await vi.advanceTimersByTimeAsync(10);
    last().open();
    expect(last().sent.map((m) => m.id)).toEqual(["poison"]);
    last().drop();
    await vi.advanceTimersByTimeAsync(0);
    expect(settled).toEqual([expect.objectContaining({ id: "poison", code: "busy" })]);
  });

  it("gives up on a request with no reply and starts a fresh connection", async () => {
    const { conn, sockets, last } = setup({ requestTimeoutMs: 1000 });
    last().open();
    track(conn.request({ type: "train_step", id: "slow" }));
    await vi.advanceTimersByTimeAsync(1000);
    expect(settled).toEqual([expect.objectContaining({ id: "slow", code: "internal" })]);
    expect(sockets[0].closedWith).toBe(4000);
    expect(sockets).toHaveLength(2);
  });

  it("bounds the queue", async () => {
    const { conn, last } = setup({ maxQueue: 2 });
    last().open();
    for (const id of ["a", "b", "c", "d"]) track(conn.request({ type: "info", id }));
    await vi.advanceTimersByTimeAsync(0);
    // "a" is on the wire, "b" and "c" wait, "d" is refused at once.
    expect(settled).toEqual([expect.objectContaining({ id: "d", code: "busy" })]);
  });

  it("answers everything still waiting when closed", async () => {
    const { conn, last } = setup();
    last().open();
    track(conn.request({ type: "info", id: "a" }));
    track(conn.request({ type: "info", id: "b" }));
    conn.close();
    await vi.advanceTimersByTimeAsync(0);
    expect(settled.map((m) => m.id).sort()).toEqual(["a", "b"]);
  });
});
