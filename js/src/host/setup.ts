// A setup on the standalone page: the one versioned document (nnvisu.setup_doc in Python)
// that share links, Export/Import files and the server's classroom preset share. A link
// carries it raw-deflated and base64url-encoded in the URL fragment, which never reaches a
// server. Decoding failures become SetupError with a message a visitor can act on.
import { isObject } from "../protocol";

export const FORMAT = "nnvisu-setup";
export const VERSION = 1;
export const LINK_KEY = "setup";
const KEYS = ["config", "dataset", "points", "view", "pace", "classroom", "trained"];
const TRAINED_KEYS = ["network", "optimizer_state", "metrics", "history", "timeline"] as const;

export type Setup = Record<string, unknown>;

export class SetupError extends Error {}

/** Check the document's envelope (format, version, known keys); the server checks the rest. */
export function checkSetup(doc: unknown, where: string): Setup {
  if (!isObject(doc) || doc.format !== FORMAT) throw new SetupError(`${where} is not an nnvisu setup (no "format": "${FORMAT}").`);
  if (doc.version !== VERSION) throw new SetupError(`${where} has version ${JSON.stringify(doc.version)}; this page reads version ${VERSION}.`);
  const unknown = Object.keys(doc).filter((k) => k !== "format" && k !== "version" && !KEYS.includes(k));
  if (unknown.length > 0) throw new SetupError(`${where} has unknown key(s) ${unknown.join(", ")}.`);
  for (const key of ["config", "dataset", "view", "pace", "classroom"]) {
    if (doc[key] !== undefined && doc[key] !== null && !isObject(doc[key])) throw new SetupError(`${where}: ${key} must be an object.`);
  }
  if (doc.points !== undefined && doc.points !== null && !Array.isArray(doc.points)) throw new SetupError(`${where}: points must be a list.`);
  if (isObject(doc.trained) && TRAINED_KEYS.some((k) => !(k in (doc.trained as object)))) {
    throw new SetupError(`${where}: trained must hold ${TRAINED_KEYS.join(", ")}.`);
  }
  return doc;
}

/** The traits a setup starts (missing parts are filled in by the page's bootstrap). */
export function traitsOf(doc: Setup): Record<string, unknown> {
  const traits: Record<string, unknown> = {};
  if (isObject(doc.config)) traits.config = doc.config;
  if (isObject(doc.dataset)) traits.dataset = doc.dataset;
  traits.data = Array.isArray(doc.points) ? doc.points.map((p) => ({ test: false, ...(p as object) })) : null;
  if (isObject(doc.view)) traits.view = doc.view;
  if (isObject(doc.pace)) {
    if (typeof doc.pace.rate === "string") traits.pace = doc.pace.rate;
    if (typeof doc.pace.step_size === "string") traits.step_size = doc.pace.step_size;
  }
  if (isObject(doc.classroom)) traits.classroom = doc.classroom;
  const trained = isObject(doc.trained) ? doc.trained : null;
  if (trained) for (const key of TRAINED_KEYS) traits[key] = trained[key];
  else {
    // The initial weights of config.seed, asked from the server like a first visit's.
    traits.network = null;
    traits.optimizer_state = null;
    traits.history = [];
    traits.timeline = { interval: 1, branch: 0, snapshots: [] };
  }
  return traits;
}

/** The setup document of the page's traits: with the trained state (files) or without (links);
 *  `generated` says the points are the generator's own (then only its settings travel). */
export function setupOf(state: Record<string, unknown>, trained: boolean, generated: boolean): Setup {
  return {
    format: FORMAT,
    version: VERSION,
    config: state.config,
    dataset: state.dataset,
    points: generated ? null : state.data,
    view: state.view,
    pace: { rate: state.pace ?? "10_epochs", step_size: state.step_size ?? "epoch" },
    classroom: state.classroom ?? { hidden: [], lock_data: false },
    trained: trained ? Object.fromEntries(TRAINED_KEYS.map((k) => [k, state[k]])) : null,
  };
}

/** A preset's hidden controls and data lock always hold: a link or saved work may add to them,
 *  never take them away. */
export function enforceClassroom(traits: Record<string, unknown>, preset: Setup | null): void {
  if (!preset || !isObject(preset.classroom)) return;
  const own = isObject(traits.classroom) ? traits.classroom : {};
  const fixed = preset.classroom as { hidden?: unknown; lock_data?: unknown };
  const hidden = [...(Array.isArray(fixed.hidden) ? fixed.hidden : []), ...(Array.isArray(own.hidden) ? own.hidden : [])];
  traits.classroom = { hidden: [...new Set(hidden)], lock_data: fixed.lock_data === true || own.lock_data === true };
}

// Links.
function toBase64Url(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64Url(text: string): Uint8Array<ArrayBuffer> {
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (text.length % 4)) % 4);
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

async function pipe(bytes: Uint8Array<ArrayBuffer>, stream: CompressionStream | DecompressionStream): Promise<Uint8Array> {
  const out = new Response(new Blob([bytes]).stream().pipeThrough(stream));
  return new Uint8Array(await out.arrayBuffer());
}

/** `pageUrl#setup=<payload>`. */
export async function linkOf(doc: Setup, pageUrl: string): Promise<string> {
  const raw = await pipe(new TextEncoder().encode(JSON.stringify(doc)), new CompressionStream("deflate-raw"));
  return `${pageUrl.split("#")[0]}#${LINK_KEY}=${toBase64Url(raw)}`;
}

/** The setup in a URL fragment ("#setup=..."), null if it has none. */
export async function setupFromHash(hash: string): Promise<Setup | null> {
  if (!hash.startsWith(`#${LINK_KEY}=`)) return null;
  let doc: unknown;
  try {
    const raw = await pipe(fromBase64Url(hash.slice(LINK_KEY.length + 2)), new DecompressionStream("deflate-raw"));
    doc = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(raw));
  } catch {
    throw new SetupError("This link is damaged or cut short, so its setup cannot be read: ask for the whole link again.");
  }
  return checkSetup(doc, "The link's setup");
}

/** The preset the server wrote into the page (classroom mode), or null. */
export function presetOf(doc: Document): Setup | null {
  const el = doc.getElementById("nnvisu-preset");
  if (!el?.textContent) return null;
  try {
    return checkSetup(JSON.parse(el.textContent), "The server's preset");
  } catch (err) {
    console.warn(`nnvisu: ignoring the preset: ${String(err)}`);
    return null;
  }
}
