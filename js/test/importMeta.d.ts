// The one Vite API the tests use: import.meta.glob (vitest runs on Vite), typed here because the
// project's tsconfig loads no ambient types.
interface ImportMeta {
  glob<T = unknown>(pattern: string | string[], options: { query?: string; import?: string; eager: true }): Record<string, T>;
}
