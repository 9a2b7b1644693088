import { defineConfig } from "vitest/config";
import { watToBase64 } from "./wat.mjs";

export default defineConfig({
  // `import bytes from "….wat"`: the module compiled by wabt, as base64 (the tests compare it
  // with the committed src/nn/gridWasmBytes.ts).
  plugins: [
    {
      name: "wat",
      async load(id: string) {
        if (id.endsWith(".wat")) return `export default ${JSON.stringify(await watToBase64(id))};`;
        return null;
      },
    },
  ],
  test: { include: ["test/**/*.test.ts"], environment: "node" },
});
