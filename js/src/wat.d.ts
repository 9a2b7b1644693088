// A `.wat` import, in the tests only (vitest.config.ts compiles it with js/wat.mjs): the
// module's bytes, base64-encoded. The bundle imports the generated src/nn/gridWasmBytes.ts.
declare module "*.wat" {
  const base64: string;
  export default base64;
}
