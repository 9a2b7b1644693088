// Entry of the standalone page (src/nnvisu/static/index.html): connects to the server, restores
// the user's state from localStorage, and runs the widget's own render() against a WebSocket-
// backed model. The widget is loaded from widget.js next to this file (one copy on the wire,
// shared with the notebook build), so every URL stays relative and a proxy sub-path just works.
import { Banner } from "./host/banner";
import { BootstrapError, initialState } from "./host/bootstrap";
import { Connection, type Message } from "./host/connection";
import { HostModel } from "./host/model";
import { mountSetupButtons } from "./host/setupButtons";
import { enforceClassroom, presetOf, SetupError, setupFromHash, traitsOf, type Setup } from "./host/setup";
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
  const preset = presetOf(document);
  const { start: begin, keep } = await startingPoint(store, preset, banner);
  let state: Record<string, unknown>;
  try {
    state = await initialState(begin, request);
  } catch (err) {
    if (!(err instanceof BootstrapError)) throw err;
    console.warn(`nnvisu: ${err.message}`);
    store.clear();
    banner.show("Your saved work could not be used with this server version; starting fresh.", "info");
    state = await initialState(preset ? traitsOf(preset) : {}, request);
  }
  enforceClassroom(state, preset);

  let persister: Persister | null = null;
  // After a damaged link, nothing is written: the work saved in this browser stays as it was.
  const model = new HostModel(state, { request, persist: (names) => (keep ? persister?.markDirty(names) : undefined) });
  persister = new Persister(store, () => model.snapshot(), (dropped) =>
    banner.show(`Browser storage is full: not keeping ${dropped.join(", ")}.`, "info"),
  );
  if (keep) persister.markDirty(Object.values(GROUPS).flat()); // a first visit's defaults are kept too

  window.addEventListener("pagehide", () => persister?.flush());
  // Space plays and pauses anywhere on the page (the widget handles it inside itself), except
  // where Space means something already: typing in a field, pressing a focused button.
  document.addEventListener("keydown", (e) => {
    if (e.key !== " " || e.ctrlKey || e.metaKey || e.altKey || e.repeat || e.defaultPrevented) return;
    const target = e.target instanceof Element ? e.target : null;
    if (target?.closest(".nnvisu, input, textarea, select, button, a[href], [contenteditable]")) return;
    const play = root.querySelector<HTMLButtonElement>(".nnv-play");
    if (!play) return;
    e.preventDefault();
    play.click();
  });
  // A share link pasted into this tab changes only the fragment: open it as a fresh load does.
  window.addEventListener("hashchange", () => {
    if (location.hash.startsWith("#setup=")) {
      persister?.flush();
      location.reload();
    }
  });
  window.addEventListener("online", () => connection.reconnectNow());
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") persister?.flush();
    else connection.reconnectNow();
  });
  const replaceAll = (traits: Record<string, unknown> | null): void => {
    persister = null; // nothing may write the old state back while reloading
    store.clear();
    if (traits) {
      enforceClassroom(traits, preset);
      store.save(traits, Object.keys(traits));
    }
    location.reload();
  };
  document.getElementById("nnvisu-start-over")?.addEventListener("click", () => {
    const what = preset ? "the teacher's setup" : "the default setup";
    if (confirm(`Start over from ${what}? Your points, network, settings and history in this browser are replaced.`)) replaceAll(null);
  });
  mountSetupButtons(document, { model, request, banner, replaceAll });

  const { default: view } = await widget;
  await view.initialize?.({ model });
  root.replaceChildren(); // drop the "Loading…" placeholder
  await view.render({ model, el: root });
}

/**
 * Where the page starts: a share link's setup (asking before it replaces saved work), else the
 * saved work, else the server's preset, else the defaults. A damaged link shows why and starts
 * from the defaults without writing anything (`keep` false), so the saved work survives.
 */
async function startingPoint(store: Store, preset: Setup | null, banner: Banner): Promise<{ start: Record<string, unknown>; keep: boolean }> {
  const saved = store.load();
  const hasSaved = Object.keys(saved).length > 0;
  const fresh = (): Record<string, unknown> => (preset ? traitsOf(preset) : {});
  let linked: Setup | null = null;
  try {
    linked = await setupFromHash(location.hash);
  } catch (err) {
    const why = err instanceof SetupError ? err.message : String(err);
    history.replaceState(null, "", location.pathname + location.search); // a reload brings the saved work back
    banner.show(`${why} Showing the default setup; the work saved in this browser is kept (reload to get it back).`, "error");
    return { start: fresh(), keep: false };
  }
  let start: Record<string, unknown> = hasSaved ? saved : fresh();
  if (linked) {
    history.replaceState(null, "", location.pathname + location.search); // opened once
    if (!hasSaved || confirm("Open the shared setup? It replaces the points, network and settings saved in this browser.")) {
      start = traitsOf(linked);
      if (preset && (preset.classroom as { lock_data?: boolean } | undefined)?.lock_data) {
        const own = traitsOf(preset); // locked data: the teacher's points, whatever the link says
        start = { ...start, data: own.data, dataset: own.dataset };
      }
      banner.show("Opened the shared setup.", "ok");
    }
  }
  enforceClassroom(start, preset);
  return { start, keep: true };
}

if (typeof document !== "undefined") {
  start().catch((err: unknown) => {
    const banner = new Banner(element("nnvisu-banner", "div"));
    banner.show(`nnvisu could not start: ${err instanceof Error ? err.message : String(err)}`, "error");
    throw err;
  });
}
