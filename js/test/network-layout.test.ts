import { describe, expect, it } from "vitest";
import { MARGIN, biasBox, computeLayout, curveBlend, curveT, gapSpan, nodeBox } from "../src/ui/network/layout";
import { hitLink, hitNode, hitTest } from "../src/ui/network/hit";
import { type LinkGap, buildLinks, densityFactor, linkGapMs, linkStyle, MAX_LINKS_PER_GAP } from "../src/ui/network/links";
import { linkSignature, sameSignature } from "../src/ui/network/draw";
import { REDRAW_GAP_MS } from "../src/chart/redraw";
import type { ModelConfig, NetworkJSON } from "../src/nn/forward";
import { FEATURES } from "../src/state";

const counts = (layers: number, width: number, outputs = 2) => [
  FEATURES.length,
  ...new Array(layers).fill(width),
  outputs,
];

describe("computeLayout", () => {
  const W = 720;
  const H = 420;
  for (let layers = 0; layers <= 8; layers++) {
    for (const width of [1, 2, 8, 17, 64]) {
      it(`${layers} hidden layers × ${width}: inside the bounds, no overlaps`, () => {
        const layout = computeLayout(W, H, counts(layers, width));
        expect(layout.columns).toHaveLength(layers + 2);
        expect(layout.size).toBeGreaterThan(0);
        for (let c = 0; c < layout.columns.length; c++) {
          const boxes = layout.columns[c].ys.map((_, i) => nodeBox(layout, c, i));
          for (const b of boxes) {
            expect(b.x).toBeGreaterThanOrEqual(MARGIN.left - 1e-9);
            expect(b.x + b.w).toBeLessThanOrEqual(W - MARGIN.right + 1e-9);
            expect(b.y).toBeGreaterThanOrEqual(MARGIN.top - 1e-9);
            expect(b.y + b.h).toBeLessThanOrEqual(H - MARGIN.bottom + 1e-9);
          }
          // Vertically: neighbours never touch, bias markers included.
          for (let i = 1; i < boxes.length; i++) {
            const bias = biasBox(layout, c, i - 1);
            const bottom = Math.max(boxes[i - 1].y + boxes[i - 1].h, bias ? bias.y + bias.h : 0);
            expect(boxes[i].y).toBeGreaterThan(bottom);
          }
          // Horizontally: columns leave room for links.
          if (c > 0) {
            const [x0, x1] = gapSpan(layout, c - 1);
            expect(x1 - x0).toBeGreaterThan(layout.size);
          }
        }
      });
    }
  }

  it("shrinks thumbnails as layers widen and as layers are added", () => {
    const sizes = [1, 4, 8, 16, 32, 64].map((w) => computeLayout(W, H, counts(2, w)).size);
    for (let i = 1; i < sizes.length; i++) expect(sizes[i]).toBeLessThanOrEqual(sizes[i - 1]);
    expect(sizes[sizes.length - 1]).toBeLessThan(sizes[0] / 3);
    const deep = [0, 2, 4, 8].map((l) => computeLayout(W, H, counts(l, 4)).size);
    for (let i = 1; i < deep.length; i++) expect(deep[i]).toBeLessThanOrEqual(deep[i - 1]);
  });

  it("hides bias markers on thumbnails too small to point at", () => {
    const big = computeLayout(W, H, counts(2, 4));
    const tiny = computeLayout(W, H, counts(8, 64));
    expect(biasBox(big, 1, 0)).not.toBeNull();
    expect(biasBox(tiny, 1, 0)).toBeNull();
  });
});

describe("curve parametrisation", () => {
  it("curveT inverts x(t) = 1.5t − 1.5t² + t³ and the blend goes 0 → 1", () => {
    for (let u = 0; u <= 1.0001; u += 0.05) {
      const t = curveT(u);
      expect(1.5 * t - 1.5 * t * t + t ** 3).toBeCloseTo(Math.min(u, 1), 9);
    }
    expect(curveBlend(0).s).toBe(0);
    expect(curveBlend(1).s).toBe(1);
    expect(curveBlend(0.5).s).toBeCloseTo(0.5, 12);
  });
});

describe("link styling", () => {
  it("width and opacity grow with |w|; colour follows the sign only", () => {
    const ws = [0, 0.01, 0.1, 0.3, 0.7, 1, 2, 4, 10];
    for (let i = 1; i < ws.length; i++) {
      const a = linkStyle(ws[i - 1]);
      const b = linkStyle(ws[i]);
      expect(b.width).toBeGreaterThanOrEqual(a.width);
      expect(b.alpha).toBeGreaterThanOrEqual(a.alpha);
      expect(linkStyle(-ws[i])).toMatchObject({ width: b.width, alpha: b.alpha, positive: false });
      expect(b.positive).toBe(true);
    }
    expect(linkStyle(4).width).toBeGreaterThan(3 * linkStyle(0.01).width);
    expect(linkStyle(0.001).alpha).toBeLessThan(0.15); // tiny weights fade
  });

  it("crowded gaps draw fainter links", () => {
    expect(densityFactor(16)).toBe(1);
    expect(densityFactor(4096)).toBeLessThan(densityFactor(256));
    expect(linkStyle(1, densityFactor(4096)).alpha).toBeLessThan(linkStyle(1).alpha);
  });
});

const cfg = (features: string[], hidden: number[], classes = 2): ModelConfig => ({
  features,
  activation: "tanh",
  problem: "classification",
  num_classes: classes,
  hidden_layers: hidden,
});

/** A network whose weight at [l][to][from] is a recognisable number. */
function numbered(c: ModelConfig): NetworkJSON {
  const sizes = [c.features.length, ...c.hidden_layers, c.num_classes];
  return {
    weights: sizes.slice(1).map((out, l) =>
      Array.from({ length: out }, (_, j) => Array.from({ length: sizes[l] }, (_, i) => (l + 1) * 100 + j * 10 + i + 0.5)),
    ),
    biases: sizes.slice(1).map((out) => new Array(out).fill(0)),
  };
}

describe("buildLinks", () => {
  it("maps input links to display rows by feature name; inactive features get none", () => {
    const c = cfg(["y2", "x"], [3]);
    const gaps = buildLinks(numbered(c), c);
    expect(gaps).toHaveLength(2);
    const g0 = gaps[0];
    expect(g0.from.length).toBe(6);
    for (let k = 0; k < g0.from.length; k++) {
      const feature = FEATURES[g0.from[k]];
      expect(["x", "y2"]).toContain(feature);
      expect(g0.w[k]).toBe(100 + g0.to[k] * 10 + c.features.indexOf(feature) + 0.5);
    }
    expect(gaps[1].from.length).toBe(6);
  });

  it("keeps only the strongest links of a very wide gap", () => {
    const c = cfg(["x", "y"], [64, 64]);
    const net = numbered(c);
    net.weights[1][5][7] = -1e6;
    const gaps = buildLinks(net, c);
    const mid = gaps[1];
    expect(mid.total).toBe(4096);
    expect(mid.from.length).toBeLessThanOrEqual(MAX_LINKS_PER_GAP);
    expect(mid.from.length).toBeGreaterThan(MAX_LINKS_PER_GAP * 0.9);
    const kept = Array.from(mid.w, Math.abs);
    expect(Math.min(...kept)).toBeGreaterThanOrEqual(0);
    expect(kept).toContain(1e6);
    // Everything dropped is weaker than everything kept.
    const all = net.weights[1].flat().map(Math.abs).sort((a, b) => b - a);
    expect(Math.min(...kept)).toBeGreaterThanOrEqual(all[MAX_LINKS_PER_GAP]);
  });

  it("thins by |w| correctly with ties and random weights", () => {
    const c = cfg(["x"], [64, 64]);
    const net = numbered(c);
    let seed = 7;
    const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 2 - 1;
    net.weights[1] = net.weights[1].map((row) => row.map(() => Math.round(rand() * 20) / 10)); // many ties
    const mid = buildLinks(net, c)[1];
    expect(mid.from.length).toBeLessThanOrEqual(MAX_LINKS_PER_GAP);
    const all = net.weights[1].flat().map(Math.abs).sort((a, b) => b - a);
    const kept = Array.from(mid.w, Math.abs);
    // Every link stronger than the weakest kept one is kept (ties at the threshold may go).
    const weakest = Math.min(...kept);
    expect(kept.length).toBeGreaterThanOrEqual(all.filter((v) => v > weakest).length);
  });
});

describe("link layer", () => {
  const c = cfg(["x", "y"], [4, 3]);
  it("a link's look (ends, sign, level) is its signature: weights moving within a level keep it", () => {
    const net = numbered(c);
    const look = linkSignature(buildLinks(net, c));
    const w = net.weights[1][2][1]; // 211.5: deep in the strongest level
    net.weights[1][2][1] = w + 50;
    expect(sameSignature(look, linkSignature(buildLinks(net, c)))).toBe(true);
    net.weights[1][2][1] = -w; // the sign shows
    expect(sameSignature(look, linkSignature(buildLinks(net, c)))).toBe(false);
    net.weights[1][2][1] = 0.05; // so does a weak link
    expect(sameSignature(look, linkSignature(buildLinks(net, c)))).toBe(false);
    expect(sameSignature(null, look)).toBe(false);
  });

  it("is redrawn less often when it costs more, within ~10% of the main thread", () => {
    expect(linkGapMs(0)).toBe(REDRAW_GAP_MS);
    expect(linkGapMs(4)).toBe(REDRAW_GAP_MS);
    expect(linkGapMs(30)).toBe(300);
    expect(linkGapMs(500)).toBe(1000);
  });
});

describe("hit-testing", () => {
  const c = cfg(["x", "y"], [4, 3]);
  const net = numbered(c);
  const layout = computeLayout(600, 360, [FEATURES.length, 4, 3, 2]);
  const gaps = buildLinks(net, c);

  it("finds every node at its centre, and biases at their marker", () => {
    layout.columns.forEach((col, column) =>
      col.ys.forEach((y, node) => {
        expect(hitTest(layout, gaps, col.x, y)).toEqual({ kind: "node", column, node });
        const bias = biasBox(layout, column, node);
        if (column > 0 && bias) {
          expect(hitNode(layout, bias.x + 1, bias.y + bias.h - 1)).toEqual({ kind: "bias", column, node });
        }
      }),
    );
    expect(hitNode(layout, 5, 5)).toBeNull();
  });

  it("finds a link at any point along its curve, and misses between links", () => {
    for (let g = 0; g < gaps.length; g++) {
      const [x0, x1] = gapSpan(layout, g);
      const gap: LinkGap = gaps[g];
      for (let k = 0; k < gap.from.length; k++) {
        const y0 = layout.columns[g].ys[gap.from[k]];
        const y1 = layout.columns[g + 1].ys[gap.to[k]];
        for (const t of [0.1, 0.5, 0.85]) {
          // A point ON the Bézier, from its parametric form.
          const x = x0 + (x1 - x0) * (1.5 * t - 1.5 * t * t + t ** 3);
          const y = y0 + (y1 - y0) * (3 * t * t - 2 * t ** 3);
          const hit = hitLink(layout, gaps, x, y);
          expect(hit).not.toBeNull();
          if (hit?.kind !== "link") throw new Error("expected a link");
          const hy0 = layout.columns[g].ys[hit.from];
          const hy1 = layout.columns[g + 1].ys[hit.to];
          // Either this link or one crossing it at the same point.
          expect(Math.abs(hy0 + (hy1 - hy0) * (3 * t * t - 2 * t ** 3) - y)).toBeLessThan(1e-6);
        }
      }
    }
    // Above every link near the top of the first gap there is nothing.
    const [x0, x1] = gapSpan(layout, 1);
    expect(hitLink(layout, gaps, (x0 + x1) / 2, MARGIN.top)).toBeNull();
  });
});
