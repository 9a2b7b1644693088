// Bundles the frontend into package data: ONE ES module per entry, plus its CSS.
//   node build.mjs                 the committed bundle (../src/nnvisu/static), minified; first
//                                  rewrites the generated modules (src/nn/*WasmBytes.ts) whose
//                                  .wat changed. `npm run build`.
//   node build.mjs --outdir DIR    the same bundle into DIR; writes nothing else (the freshness
//                                  test compares it with the committed one).
//   node build.mjs --dev           unminified with inline sourcemaps, rebuilt on every change to
//                                  js/src (`npm run dev`); anywidget's hot reload
//                                  (ANYWIDGET_HMR=1) sends each rebuild to open notebooks.
//                                  Add --once for a single dev build.
import { build, context } from "esbuild";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { WAT_MODULES, generatedSource, syncWatModules } from "./wat.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const flag = args.indexOf("--outdir");
const outdir = flag >= 0 ? path.resolve(args[flag + 1]) : path.join(here, "..", "src", "nnvisu", "static");
const dev = args.includes("--dev");
const once = args.includes("--once");

/** The generated WebAssembly modules come from their .wat at every build, so a bundle never
 *  depends on whether the committed copies were regenerated (and --outdir writes nothing else). */
const watModules = {
  name: "wat-modules",
  setup(b) {
    for (const [wat, ts] of WAT_MODULES) {
      const generated = path.join(here, ts);
      const source = path.join(here, wat);
      const filter = new RegExp(`^${generated.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`);
      b.onLoad({ filter }, async () => ({ contents: await generatedSource(source), loader: "ts", watchFiles: [source] }));
    }
  },
};

const options = {
  absWorkingDir: here,
  entryPoints: { widget: "src/widget.ts", host: "src/host.ts" },
  outdir,
  bundle: true,
  format: "esm",
  target: "es2020",
  minify: !dev,
  sourcemap: dev ? "inline" : false,
  legalComments: "none",
  // Bundled code that sniffs AMD `define` breaks inside VS Code's notebook renderer.
  define: { "define.amd": "false" },
  logLevel: dev ? "info" : "warning",
  plugins: [watModules],
};

if (flag < 0 && !dev) for (const file of await syncWatModules()) console.log(`wrote ${file}`);

if (dev && !once) {
  const ctx = await context(options);
  await ctx.watch();
  console.log(`watching js/src, writing ${path.relative(process.cwd(), outdir) || "."} (Ctrl-C stops)`);
} else {
  await build(options);
}
