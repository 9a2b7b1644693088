/**
 * The network diagram: every input feature (click to switch on/off), hidden neuron and output,
 * each with a live thumbnail of its map; links coloured by sign and sized by |w|; biases as
 * small squares. Hover shows values and asks the main view to show that node large; click (or
 * Enter on a focused node) edits weights and biases in place, live.
 * Redraws at most once per animation frame, whatever the rate of network changes, and only what
 * changed: the thumbnails (one canvas with the links) when the shown network does; the links when
 * one of them looks different, while training at most ~10 times a second and within ~10% of the
 * main thread (linkGapMs: they are the costly part to rasterise); the hover mark (an overlay canvas) when the pointer or focus
 * moves. The maps come from the grid the whole widget evaluates once per network (gridFor).
 * The draw path reads no layout: the size comes from a ResizeObserver, and the tooltip is placed
 * without measuring it.
 */
import { Redraw, setText } from "../chart/redraw";
import { type ModelConfig, type NetworkJSON, networkMatches } from "../nn/forward";
import { FEATURES, type WidgetModel, architectureKey, commit, patchConfig, readConfig } from "../state";
import { uid } from "./dom";
import { Atlas, type Theme, drawHighlight, drawLinkLayer, drawScene, linkSignature, sameSignature } from "./network/draw";
import { toggleFeature, withBias, withWeight } from "./network/edit";
import { type Field, openEditor } from "./network/editor";
import { FOCUS_NODE, type FocusNodeDetail, PREVIEW_NETWORK, type PreviewDetail, emit, listen } from "./network/events";
import { type Hit, hitTest } from "./network/hit";
import { linkGapMs } from "./network/links";
import { NodeKeys, type NodeRef } from "./network/keys";
import { type Layout, computeLayout, nodeBox, preferredHeight } from "./network/layout";
import { describeHit, isActiveInput, nodeName, sourceIndex, weightName } from "./network/names";
import { type Scene, buildScene, columnCounts, gridNode } from "./network/scene";
import "./network.css";

export { renderNodeMap } from "./network/maps";

interface Point {
  x: number;
  y: number;
}

export function mountNetwork(model: WidgetModel, el: HTMLElement): () => void {
  const doc = el.ownerDocument;
  const make = <K extends keyof HTMLElementTagNameMap>(tag: K, cls: string): HTMLElementTagNameMap[K] => {
    const node = doc.createElement(tag);
    node.className = cls;
    return node;
  };
  const wrap = make("div", "nnv-net");
  const base = make("canvas", "nnv-net-base");
  const overlay = make("canvas", "nnv-net-overlay");
  const tip = make("div", "nnv-net-tip");
  tip.setAttribute("role", "tooltip");
  tip.id = uid("net-tip");
  tip.hidden = true;
  const badge = make("div", "nnv-net-badge");
  badge.textContent = "Snapshot preview";
  badge.hidden = true;
  const note = make("div", "nnv-net-note");
  note.setAttribute("aria-live", "polite");
  const keys = new NodeKeys(doc, {
    label: (r) => nodeName(cfg, r.column, r.node, true),
    // The tooltip doubles as the focused node's description: screen readers hear its values.
    describedBy: tip.id,
    pressed: (r) => (r.column === 0 ? isActiveInput(cfg, r.node) : null),
    onFocus: (r) => hover(r && { kind: "node", ...r }, r ? anchorOf(r) : null, true),
    onActivate: (r) => activate(r, true),
  });
  wrap.append(base, overlay, keys.root, badge, tip);
  el.append(wrap, note);

  const atlas = new Atlas(doc);
  /** Links and labels, offscreen: copied under the thumbnails (see draw.ts). */
  const links = doc.createElement("canvas");
  let cfg = readConfig(model);
  let shape = architectureKey(cfg);
  let preview: NetworkJSON | null = null;
  let layout: Layout | null = null;
  let scene: Scene | null = null;
  let theme: Theme | null = null;
  let hit: Hit | null = null;
  let pointer: Point | null = null;
  /** The hit is the keyboard's focus (Enter edits), not the pointer's (click edits). */
  let byKeys = false;
  let closeEditor: (() => void) | null = null;
  let width = 0;
  let layoutDirty = true;
  let sceneDirty = true;
  /** The config's say in the picture when the scene was built (not the learning rate, ...). */
  let sceneKey = "";
  let overlayDirty = true;
  let overlayEmpty = true;
  /** How the link layer's links look (null: the layer must be redrawn now, e.g. after a resize). */
  let linksDrawn: Int32Array | null = null;
  let linksAt = -Infinity;
  /** What the last link-layer redraw cost (ms), drawing and copying included. */
  let linksCost = 0;
  let linksTimer: ReturnType<typeof setTimeout> | undefined;
  let hitKey = "null";
  let focusKey = "null";
  let noteTimer: ReturnType<typeof setTimeout> | undefined;

  const editable = (): boolean => preview === null;
  const shown = (): NetworkJSON | null => {
    const net = preview ?? model.get("network");
    return networkMatches(net, cfg) ? net : null;
  };

  const render = (): void => {
    const net = shown();
    if (!net || width === 0) return; // mid-reshape: keep the last picture until the network fits
    const ctx = base.getContext("2d");
    const octx = overlay.getContext("2d");
    if (!ctx || !octx) return;
    theme ??= readTheme(el);
    if (layoutDirty || !layout) {
      const counts = columnCounts(cfg);
      const height = preferredHeight(counts);
      wrap.style.height = `${height}px`;
      layout = computeLayout(width, height, counts);
      for (const c of [base, overlay, links]) {
        c.width = Math.round(width * devicePixelRatio);
        c.height = Math.round(height * devicePixelRatio);
      }
      keys.update(layout);
      layoutDirty = false;
      scene = null; // resizing cleared the canvases
      linksDrawn = null;
      overlayDirty = true;
      overlayEmpty = true;
    }
    const key = pictureKey(cfg);
    let baseDirty = false;
    if (!scene || (sceneDirty && (net !== scene.net || key !== sceneKey))) {
      if (key !== sceneKey) linksDrawn = null; // features (labels) or shapes changed: draw now
      scene = buildScene(net, cfg, layout.size * devicePixelRatio, scene?.thumbs);
      sceneKey = key;
      atlas.paint(scene);
      baseDirty = true;
      // Thinned links may have moved: re-aim at what is under the pointer now.
      if (pointer && hit?.kind !== "node") setHit(hitTest(layout, scene.gaps, pointer.x, pointer.y));
      // A hovered link is drawn with its weight's style; a node's mark stays where it is.
      if (hit?.kind === "link") overlayDirty = true;
    }
    sceneDirty = false;
    if (!scene) return;
    const started = performance.now();
    const linksRedrawn = updateLinks(scene, layout, theme);
    if (baseDirty || linksRedrawn) {
      ctx.setTransform(devicePixelRatio, 0, 0, devicePixelRatio, 0, 0);
      drawScene(ctx, scene, layout, atlas, theme, links);
    }
    if (linksRedrawn) linksCost = performance.now() - started;
    if (overlayDirty && !(overlayEmpty && !hit)) {
      octx.setTransform(devicePixelRatio, 0, 0, devicePixelRatio, 0, 0);
      drawHighlight(octx, scene, layout, hit, theme);
      overlayEmpty = !hit;
    }
    overlayDirty = false;
    showTip();
  };
  const redraw = new Redraw(render);
  const schedule = (): void => redraw.request();

  /** Redraw the link layer if a link looks different, at most every linkGapMs (a timer catches
   *  up with the last look); true when it was redrawn. */
  const updateLinks = (s: Scene, l: Layout, t: Theme): boolean => {
    const look = linkSignature(s.gaps);
    if (sameSignature(linksDrawn, look)) return false;
    const wait = linksDrawn === null ? 0 : linksAt + linkGapMs(linksCost) - performance.now();
    if (wait > 0) {
      linksTimer ??= setTimeout(() => {
        linksTimer = undefined;
        redraw.request();
      }, wait);
      return false;
    }
    const lctx = links.getContext("2d");
    if (!lctx) return false;
    lctx.setTransform(devicePixelRatio, 0, 0, devicePixelRatio, 0, 0);
    drawLinkLayer(lctx, s, l, t);
    linksDrawn = look;
    linksAt = performance.now();
    return true;
  };

  /** What is pointed at; the overlay is redrawn only when it changes. */
  const setHit = (next: Hit | null): void => {
    const key = JSON.stringify(next);
    if (key !== hitKey) overlayDirty = true;
    hitKey = key;
    hit = next;
  };

  /** The tooltip's text and place are written only when they change, and it is never measured
   *  (that would force a layout every frame): on the right half it hangs left of the pointer. */
  let tipPlace = "";
  const showTip = (): void => {
    const net = scene?.net;
    if (!hit || !net || !layout || closeEditor) {
      if (!tip.hidden) tip.hidden = true;
      return;
    }
    setText(tip, describeHit(cfg, net, hit, editable(), byKeys ? "press Enter" : "click"));
    if (tip.hidden) tip.hidden = false;
    const at = pointer ?? anchorOf(hit.kind === "link" ? { column: hit.gap, node: hit.from } : hit);
    const flip = at.x > width / 2;
    const left = flip ? "" : `${Math.round(at.x + 12)}px`;
    const right = flip ? `${Math.round(Math.max(0, width - at.x - 12))}px` : "";
    const top = `${Math.round(at.y + 14)}px`;
    const place = `${left} ${right} ${top}`;
    if (place !== tipPlace) {
      tipPlace = place;
      tip.style.left = left;
      tip.style.right = right;
      tip.style.top = top;
    }
  };

  const anchorOf = (r: NodeRef): Point => {
    const b = layout ? nodeBox(layout, r.column, r.node) : { x: 0, y: 0, w: 0, h: 0 };
    return { x: b.x + b.w, y: b.y + b.h / 2 };
  };

  /** Point at something (pointer or keyboard): highlight, tooltip, and the focus-node event. */
  const hover = (next: Hit | null, at: Point | null, keyboard = false): void => {
    setHit(next);
    pointer = at;
    byKeys = keyboard;
    // The tooltip describes the focused node to screen readers: fill it before they read it.
    if (keyboard) showTip();
    const g = next?.kind === "node" ? gridNode(cfg, next.column, next.node) : null;
    const key = JSON.stringify(g);
    if (key !== focusKey) {
      focusKey = key;
      emit<FocusNodeDetail>(el, FOCUS_NODE, g);
    }
    const cursor = next ? "pointer" : "";
    if (overlay.style.cursor !== cursor) overlay.style.cursor = cursor;
    redraw.soon();
  };

  const say = (message: string): void => {
    note.textContent = message;
    clearTimeout(noteTimer);
    noteTimer = setTimeout(() => (note.textContent = ""), 5000);
  };

  const applyEdit = (edit: (net: NetworkJSON) => NetworkJSON): void => {
    const net = model.get("network");
    if (networkMatches(net, cfg)) commit(model, "network", edit(net));
  };

  type Apply = (changes: Map<number, number>) => void;
  /** Open the inline editor; focus returns to `back` (the keyboard's node) when it closes. */
  const edit = (title: string, fields: Field[], at: Point, onApply: Apply, back: NodeRef | null): void => {
    closeEditor?.();
    closeEditor = openEditor(wrap, {
      title,
      fields,
      x: at.x,
      y: at.y,
      onApply,
      onClose: () => {
        closeEditor = null;
        if (back) keys.focus(back);
        redraw.soon(); // the tooltip may show again
      },
    });
    redraw.soon(); // the editor hides the tooltip
  };

  const editLink = (h: Extract<Hit, { kind: "link" }>, at: Point): void => {
    const from = sourceIndex(cfg, h.gap, h.from);
    const name = weightName(cfg, h.gap, h.from, h.to, true);
    const value = model.get("network").weights[h.gap][h.to][from];
    edit(`Edit ${weightName(cfg, h.gap, h.from, h.to)}`, [{ label: "weight", name, value }], at, (c) => {
      applyEdit((net) => withWeight(net, h.gap, h.to, from, c.get(0)!));
    }, null);
  };

  /** The bias, plus (when `withInputs`) every incoming weight: the keyboard's way to all links. */
  const editNode = (r: NodeRef, withInputs: boolean, back: NodeRef | null): void => {
    const net = model.get("network");
    const layer = r.column - 1;
    const me = nodeName(cfg, r.column, r.node);
    const fields: Field[] = [{ label: "bias", name: `Bias of ${nodeName(cfg, r.column, r.node, true)}`, value: net.biases[layer][r.node] }];
    const sources: number[] = [];
    if (withInputs) {
      for (let d = 0; d < (r.column === 1 ? FEATURES.length : cfg.hidden_layers[layer - 1]); d++) {
        const i = sourceIndex(cfg, layer, d);
        if (i < 0) continue;
        sources.push(i);
        const label = nodeName(cfg, layer, d);
        fields.push({ label: `from ${label}`, name: weightName(cfg, layer, d, r.node, true), value: net.weights[layer][r.node][i] });
      }
    }
    edit(`Edit ${me}`, fields, anchorOf(r), (changes) => {
      applyEdit((current) => {
        let next = current;
        for (const [k, v] of changes) {
          next = k === 0 ? withBias(next, layer, r.node, v) : withWeight(next, layer, r.node, sources[k - 1], v);
        }
        return next;
      });
    }, back);
  };

  /** The reshaper (frontend-core) answers the config change with an init_network that keeps
   *  the overlapping weights. */
  const switchFeature = (node: number): void => {
    const features = toggleFeature(readConfig(model).features, FEATURES[node]);
    if (features) patchConfig(model, { features });
    else say("At least one input feature is needed.");
  };

  const explainLocked = (): void => say("This is a snapshot: press Live on the timeline to edit the network.");

  const activate = (r: NodeRef, fromKeyboard: boolean): void => {
    if (!editable()) return explainLocked();
    if (r.column === 0) switchFeature(r.node);
    else editNode(r, fromKeyboard, fromKeyboard ? r : null);
  };

  const local = (e: MouseEvent): Point => {
    const rect = wrap.getBoundingClientRect();
    return { x: e.clientX - rect.left, y: e.clientY - rect.top };
  };
  const onMove = (e: PointerEvent): void => {
    if (!layout || !scene) return;
    const p = local(e);
    hover(hitTest(layout, scene.gaps, p.x, p.y), p);
  };
  const onLeave = (): void => hover(null, null);
  const onClick = (e: MouseEvent): void => {
    if (!layout || !scene) return;
    const p = local(e);
    const h = hitTest(layout, scene.gaps, p.x, p.y);
    if (!h) return;
    if (!editable()) return explainLocked();
    if (h.kind === "link") editLink(h, p);
    else if (h.kind === "bias") editNode(h, false, null);
    else activate(h, false);
  };

  const onNetwork = (): void => {
    sceneDirty = true;
    schedule();
  };
  const onConfig = (): void => {
    cfg = readConfig(model);
    const next = architectureKey(cfg);
    if (next !== shape) {
      shape = next;
      layoutDirty = true;
      closeEditor?.(); // its indices belong to the old shape
      hover(null, null);
    }
    keys.refresh();
    onNetwork();
  };
  const stopPreview = listen<PreviewDetail>(el, PREVIEW_NETWORK, (d) => {
    preview = d?.network ?? null;
    badge.hidden = preview === null;
    if (preview) closeEditor?.();
    linksDrawn = null; // the user moved through history: its links at once, not within a gap
    onNetwork();
  });
  const resize = new ResizeObserver((entries) => {
    // The observer's own measurement (clientWidth is the fallback for stand-ins without one).
    const w = entries.length > 0 ? entries[entries.length - 1].contentRect.width : wrap.clientWidth;
    if (w === width) return;
    width = w;
    theme = null; // a theme switch usually comes with a re-layout
    layoutDirty = true;
    redraw.soon();
  });
  resize.observe(wrap);
  model.on("change:network", onNetwork);
  model.on("change:config", onConfig);
  overlay.addEventListener("pointermove", onMove);
  overlay.addEventListener("pointerleave", onLeave);
  overlay.addEventListener("click", onClick);

  return () => {
    redraw.cancel();
    clearTimeout(linksTimer);
    clearTimeout(noteTimer);
    closeEditor?.();
    resize.disconnect();
    stopPreview();
    model.off("change:network", onNetwork);
    model.off("change:config", onConfig);
    wrap.remove();
    note.remove();
  };
}

/** What of the config the picture depends on (not the learning rate, the optimizer, ...). */
function pictureKey(cfg: ModelConfig): string {
  return JSON.stringify([cfg.features, cfg.hidden_layers, cfg.problem, cfg.num_classes, cfg.activation]);
}

function readTheme(el: HTMLElement): Theme {
  const css = getComputedStyle(el);
  const v = (name: string, fallback: string): string => css.getPropertyValue(name).trim() || fallback;
  return {
    text: v("--nnv-fg", "#1f2328"),
    muted: v("--nnv-fg-muted", "#57606a"),
    border: v("--nnv-border-strong", "#c4c9d0"),
    accent: v("--nnv-accent", "#2563eb"),
    font: `11px ${css.fontFamily || "system-ui, sans-serif"}`,
  };
}
