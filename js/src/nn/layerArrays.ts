// Where a grid evaluation writes its layers (forward.ts's JS path and gridWasm.ts alike).

/** The arrays a result is written to: layer l has sizes[l]·cells values; `into[l]` is reused
 *  when its length fits. */
export function layerArrays(sizes: number[], cells: number, into: Float32Array[] = []): Float32Array[] {
  return sizes.map((size, l) => {
    const length = size * cells;
    return into[l]?.length === length ? into[l] : new Float32Array(length);
  });
}
