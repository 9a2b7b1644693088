// Bundles the frontend into package data: ONE ES module per entry, plus its CSS.
// Usage: node build.mjs [--outdir DIR]   (default: ../src/nnvisu/static)
import { build } from "esbuild";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { syncWatModules } from "./wat.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const flag = process.argv.indexOf("--outdir");
const outdir = flag >= 0 ? path.resolve(process.argv[flag + 1]) : path.join(here, "..", "src", "nnvisu", "static");

// The WebAssembly kernels' generated modules first (rewritten only if their .wat changed).
for (const file of await syncWatModules()) console.log(`wrote ${file}`);

await build({
  absWorkingDir: here,
  entryPoints: { widget: "src/widget.ts", host: "src/host.ts" },
  outdir,
  bundle: true,
  format: "esm",
  target: "es2020",
  minify: true,
  sourcemap: false,
  legalComments: "none",
  // Bundled code that sniffs AMD `define` breaks inside VS Code's notebook renderer.
  define: { "define.amd": "false" },
  logLevel: "warning",
});
