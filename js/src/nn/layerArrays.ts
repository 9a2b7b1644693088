// Where a grid evaluation writes its layers (forward.ts's JS path and gridWasm.ts alike).

/** The arrays a result is written to: layer l has sizes[l]·cells values (none for a hidden
 *  layer when only the output is wanted); `into[l]` is reused when its length fits. */
export function layerArrays(sizes: number[], cells: number, outputOnly: boolean, into: Float32Array[] = []): Float32Array[] {
  const last = sizes.length - 1;
  return sizes.map((size, l) => {
    const length = outputOnly && l < last ? 0 : size * cells;
    return into[l]?.length === length ? into[l] : new Float32Array(length);
  });
}
