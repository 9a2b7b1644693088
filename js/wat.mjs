// WebAssembly text -> the bytes the frontend instantiates, with wabt (a devDependency: nothing of
// it ships). The bundle imports a generated TypeScript module holding the bytes as base64, so any
// bundler (build.mjs, vitest, benchmarks/frame.py's plain esbuild) sees only TypeScript; the
// generated module is committed like the bundle and build.mjs rewrites it when the .wat changed.
//   node wat.mjs           regenerate every module of WAT_MODULES that is stale
//   node wat.mjs --check   exit 1 if one is stale
import { readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import path from "node:path";
import wabtInit from "wabt";

const here = path.dirname(fileURLToPath(import.meta.url));

/** [source .wat, generated .ts], relative to js/. */
export const WAT_MODULES = [["src/nn/grid.wat", "src/nn/gridWasmBytes.ts"]];

let wabt;

/** The binary module of a .wat file (validated; no name section, so the bytes depend only on
 *  the text's instructions). */
export async function watToWasm(file) {
  wabt ??= await wabtInit();
  const text = await readFile(file, "utf8");
  const mod = wabt.parseWat(path.basename(file), text, { simd: true });
  try {
    mod.resolveNames();
    mod.validate();
    return mod.toBinary({ log: false, write_debug_names: false, canonicalize_lebs: true }).buffer;
  } finally {
    mod.destroy();
  }
}

/** A .wat file's bytes as base64 (what a `.wat` import evaluates to in vitest). */
export async function watToBase64(file) {
  return Buffer.from(await watToWasm(file)).toString("base64");
}

/** The generated TypeScript module for a .wat file. */
export async function generatedSource(watFile) {
  const name = path.basename(watFile);
  const base64 = await watToBase64(watFile);
  return (
    `// Generated from ${name} by js/wat.mjs (node wat.mjs, or node build.mjs): do not edit.\n` +
    `/** The binary WebAssembly module of ${name}, base64-encoded. */\n` +
    `export const WASM_BASE64 =\n  "${base64}";\n`
  );
}

/** Rewrite the generated modules that differ from their .wat; returns the stale ones' paths. */
export async function syncWatModules({ write = true } = {}) {
  const stale = [];
  for (const [wat, ts] of WAT_MODULES) {
    const want = await generatedSource(path.join(here, wat));
    const target = path.join(here, ts);
    const have = await readFile(target, "utf8").catch(() => null);
    if (have === want) continue;
    stale.push(ts);
    if (write) await writeFile(target, want);
  }
  return stale;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const check = process.argv.includes("--check");
  const stale = await syncWatModules({ write: !check });
  for (const ts of stale) console.log(`${check ? "stale" : "wrote"}: ${ts}`);
  if (check && stale.length > 0) process.exit(1);
}
