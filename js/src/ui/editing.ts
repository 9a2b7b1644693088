// Pure edits of the point list, as the data map applies them (clicks, drags, keys).
import { MAX_POINTS, type DatasetSettings, type Point, type TrainConfig, type ViewSettings } from "../state";

/** Minimum distance between points painted by one drag, in data units ([-1, 1] is 2 wide). */
export const PAINT_SPACING = 0.06;
/** Keyboard cursor steps (Shift for the large one). */
export const KEY_STEP = 0.05;
export const KEY_STEP_LARGE = 0.2;

export const clampUnit = (v: number): number => Math.max(-1, Math.min(1, v));

/** A point placed by the user: the selected class (or value), a test point with probability test_ratio. */
export function newPoint(
  x: number,
  y: number,
  cfg: Pick<TrainConfig, "problem" | "num_classes">,
  view: Pick<ViewSettings, "selected_class" | "value">,
  dataset: Pick<DatasetSettings, "test_ratio">,
  random: () => number,
): Point {
  const label = cfg.problem === "regression" ? view.value : Math.min(view.selected_class, cfg.num_classes - 1);
  return { x: clampUnit(x), y: clampUnit(y), label, test: random() < dataset.test_ratio };
}

/** The list with `point` appended, or null when it already holds MAX_POINTS. */
export function withPoint(data: readonly Point[], point: Point): Point[] | null {
  return data.length >= MAX_POINTS ? null : [...data, point];
}

/** The list without points within `radius` of (x, y); the same array when none is that close. */
export function withoutNear(data: Point[], x: number, y: number, radius: number): Point[] {
  const r2 = radius * radius;
  const kept = data.filter((p) => (p.x - x) ** 2 + (p.y - y) ** 2 > r2);
  return kept.length === data.length ? data : kept;
}

export function distance(a: { x: number; y: number }, b: { x: number; y: number }): number {
  return Math.hypot(a.x - b.x, a.y - b.y);
}
