/** Hit-testing the diagram (pure): bias markers, then thumbnails, then links. */
import { type Layout, biasBox, curveBlend, curveT, gapSpan, nodeBox } from "./layout";
import { type LinkGap, linkStyle, densityFactor } from "./links";

/** column/node are display indices; a link's gap g joins column g to g + 1 (weights[g][to][from]). */
export type Hit =
  | { kind: "node"; column: number; node: number }
  | { kind: "bias"; column: number; node: number }
  | { kind: "link"; gap: number; index: number; from: number; to: number };

/** Extra slack (CSS px) around thin links so they can be pointed at. */
const LINK_SLACK = 3;

export function hitTest(layout: Layout, gaps: readonly LinkGap[], x: number, y: number): Hit | null {
  return hitNode(layout, x, y) ?? hitLink(layout, gaps, x, y);
}

function inside(b: { x: number; y: number; w: number; h: number }, x: number, y: number): boolean {
  return x >= b.x && x <= b.x + b.w && y >= b.y && y <= b.y + b.h;
}

export function hitNode(layout: Layout, x: number, y: number): Hit | null {
  const half = layout.size / 2;
  for (let c = 0; c < layout.columns.length; c++) {
    const col = layout.columns[c];
    if (Math.abs(x - col.x) > half + 6) continue;
    for (let i = 0; i < col.ys.length; i++) {
      // Inputs have no bias.
      const bias = c > 0 ? biasBox(layout, c, i) : null;
      if (bias && inside(bias, x, y)) return { kind: "bias", column: c, node: i };
    }
    for (let i = 0; i < col.ys.length; i++) {
      if (inside(nodeBox(layout, c, i), x, y)) return { kind: "node", column: c, node: i };
    }
  }
  return null;
}

/** The link nearest to (x, y) within its drawn half-width plus slack, if any. */
export function hitLink(layout: Layout, gaps: readonly LinkGap[], x: number, y: number): Hit | null {
  for (let g = 0; g < gaps.length; g++) {
    const [x0, x1] = gapSpan(layout, g);
    if (x < x0 || x > x1 || x1 <= x0) continue;
    const { s, slope } = curveBlend(curveT((x - x0) / (x1 - x0)));
    const gap = gaps[g];
    const density = densityFactor(gap.from.length);
    const ysFrom = layout.columns[g].ys;
    const ysTo = layout.columns[g + 1].ys;
    let best = -1;
    let bestDist = Infinity;
    for (let k = 0; k < gap.from.length; k++) {
      const y0 = ysFrom[gap.from[k]];
      const dy = ysTo[gap.to[k]] - y0;
      // Perpendicular distance from the vertical one, using the curve's slope at x.
      const m = (dy * slope) / (x1 - x0);
      const dist = Math.abs(y - (y0 + dy * s)) / Math.sqrt(1 + m * m);
      const reach = linkStyle(gap.w[k], density).width / 2 + LINK_SLACK;
      if (dist <= reach && dist < bestDist) {
        best = k;
        bestDist = dist;
      }
    }
    if (best >= 0) return { kind: "link", gap: g, index: best, from: gap.from[best], to: gap.to[best] };
  }
  return null;
}
