// The layers of the frontend: the training loop and the synced state are pure logic, so none of
// the modules they reach (transitively) may be a view or a stylesheet.
import { describe, expect, it } from "vitest";

/** Every source module's text, by path relative to js/src. */
const SOURCES: Record<string, string> = Object.fromEntries(
  Object.entries(import.meta.glob<string>("../src/**/*.ts", { query: "?raw", import: "default", eager: true })).map(([path, text]) => [
    path.slice("../src/".length),
    text,
  ]),
);

/** `spec` resolved against the folder of `file` (both relative to js/src). */
function join(file: string, spec: string): string {
  const parts = file.split("/").slice(0, -1);
  for (const part of spec.split("/")) {
    if (part === "..") parts.pop();
    else if (part !== ".") parts.push(part);
  }
  return parts.join("/");
}

/** Every module `entry` imports, transitively (paths relative to js/src, with extension). */
function reachable(entry: string): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    if (!file.endsWith(".ts")) return;
    const text = SOURCES[file];
    if (text === undefined) throw new Error(`no module ${file}`);
    for (const m of text.matchAll(/^\s*(?:import|export)\b[^;]*?from\s+"(\.[^"]+)"|^\s*import\s+"(\.[^"]+)"/gms)) {
      const spec = m[1] ?? m[2];
      let target = join(file, spec);
      if (!/\.(css|wat|ts)$/.test(target)) target += ".ts";
      visit(target);
    }
  };
  visit(entry);
  return seen;
}

describe("layering", () => {
  it.each(["loop.ts", "state.ts", "timelineLog.ts", "history.ts", "historyLog.ts"])("%s reaches no UI module and no CSS", (entry) => {
    const modules = [...reachable(entry)];
    expect(modules.filter((m) => m.startsWith("ui/") || m.endsWith(".css"))).toEqual([]);
    expect(modules.length).toBeGreaterThan(entry === "loop.ts" ? 5 : 0); // the walk does follow imports
  });
});
