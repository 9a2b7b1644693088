// Entry of the standalone page (src/nnvisu/static/index.html): connects to the server, restores
// the user's state from localStorage, and runs the widget's own render() against a WebSocket-
// backed model. The widget is loaded from widget.js next to this file (one copy on the wire,
// shared with the notebook build), so every URL stays relative and a proxy sub-path just works.
import { Banner } from "./host/banner";
import { BootstrapError, initialState } from "./host/bootstrap";
import { Connection, type Message } from "./host/connection";
import { HostModel } from "./host/model";
import { GROUPS, Persister, Store, type StorageLike } from "./host/store";

interface WidgetModule {
  default: {
    initialize?: (ctx: { model: HostModel }) => unknown;
    render: (ctx: { model: HostModel; el: HTMLElement }) => unknown;
  };
}

/** The WebSocket URL for a page URL: "ws" next to the page, with the ws/wss scheme. */
export function socketUrl(pageUrl: string): string {
  const url = new URL("ws", pageUrl);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  url.search = "";
  url.hash = "";
  return url.href;
}

function localStore(): StorageLike | null {
  try {
    return window.localStorage; // throws when storage is disabled
  } catch {
    return null;
  }
}

function element(id: string, tag: string): HTMLElement {
  let el = document.getElementById(id);
  if (!el) {
    el = document.createElement(tag);
    el.id = id;
    document.body.append(el);
  }
  return el;
}

async function start(): Promise<void> {
  const banner = new Banner(element("nnvisu-banner", "div"));
  const root = element("nnvisu-app", "main");
  const connection = new Connection({ url: socketUrl(location.href), onStatus: (s) => banner.update(s) });
  const request = (m: Message) => connection.request(m);
  const widget = import(new URL("./widget.js", import.meta.url).href) as Promise<WidgetModule>;

  const storage = localStore();
  if (!storage) banner.show("This browser blocks local storage: your work will not survive a reload.", "info");
  const store = new Store(storage);
  let state: Record<string, unknown>;
  try {
    state = await initialState(store.load(), request);
  } catch (err) {
    if (!(err instanceof BootstrapError)) throw err;
    console.warn(`nnvisu: ${err.message}`);
    store.clear();
    banner.show("Your saved work could not be used with this server version; starting fresh.", "info");
    state = await initialState({}, request);
  }

  let persister: Persister | null = null;
  const model = new HostModel(state, { request, persist: (names) => persister?.markDirty(names) });
  persister = new Persister(store, () => model.snapshot(), (dropped) =>
    banner.show(`Browser storage is full: not keeping ${dropped.join(", ")}.`, "info"),
  );
  persister.markDirty(Object.values(GROUPS).flat()); // a first visit's defaults are kept too

  window.addEventListener("pagehide", () => persister?.flush());
  window.addEventListener("online", () => connection.reconnectNow());
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") persister?.flush();
    else connection.reconnectNow();
  });
  document.getElementById("nnvisu-start-over")?.addEventListener("click", () => {
    persister = null; // nothing may write the old state back while reloading
    store.clear();
    location.reload();
  });

  const { default: view } = await widget;
  await view.initialize?.({ model });
  root.replaceChildren(); // drop the "Loading…" placeholder
  await view.render({ model, el: root });
}

if (typeof document !== "undefined") {
  start().catch((err: unknown) => {
    const banner = new Banner(element("nnvisu-banner", "div"));
    banner.show(`nnvisu could not start: ${err instanceof Error ? err.message : String(err)}`, "error");
    throw err;
  });
}
