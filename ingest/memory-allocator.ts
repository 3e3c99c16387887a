/**
 * glibc's malloc raises its mmap threshold each time a large block is freed, up to 32 MiB, after
 * which the sidecar's segment-sized Buffers (100 KiB - 1 MiB, allocated and freed all day) come
 * from its heaps instead of mmap, and the heaps fragment: resident memory creeps up ~5 MB a
 * minute with 10 streams (measured with `npm run soak`). A fixed threshold
 * (`MALLOC_MMAP_THRESHOLD_`, read by glibc at process start) returns each large block to the
 * system when freed: flat. It must be in the environment before Node starts, so the launchers set
 * it; this module only names it and tells an operator who started the sidecar another way.
 */
export const MMAP_THRESHOLD_ENV = 'MALLOC_MMAP_THRESHOLD_';
/** 128 KiB, glibc's own starting threshold, kept fixed. */
export const MMAP_THRESHOLD_BYTES = '131072';

/**
 * V8's young generation. Node 24 lets each semi-space grow to 64 MB (128 MB of new space) under a
 * high allocation rate, which the sidecar has (every part and segment is a Buffer and an upload);
 * it then holds ~165 MB of heap for 30-70 MB of live objects, and its resident memory keeps
 * rising for ten minutes as V8 touches those pages. Node's pre-22 size, 16 MB, takes ~90 MB off
 * the sidecar's memory (soak, 10 streams: 337 → 248 MB) for no CPU the soak could measure
 * (BENCHMARKS.md, "Soak"). A Node flag, set by the launchers.
 */
export const YOUNG_GENERATION_FLAG = '--max-semi-space-size=16';

/**
 * The sentence to log when the sidecar runs without it on glibc, or undefined. `onGlibc` is asked
 * last: it builds a diagnostic report, work a sidecar started with the setting need not do.
 */
export function allocatorAdvice(platform: NodeJS.Platform, env: NodeJS.ProcessEnv, onGlibc: () => boolean): string | undefined {
  if (platform !== 'linux' || env[MMAP_THRESHOLD_ENV] !== undefined || !onGlibc()) return undefined;
  return `${MMAP_THRESHOLD_ENV} is not set: resident memory may creep up under many streams (glibc heap fragmentation); start the sidecar with ${MMAP_THRESHOLD_ENV}=${MMAP_THRESHOLD_BYTES} (npm run ingest does)`;
}

/** Whether this Node runs on glibc (not musl, as in Alpine images). */
export function runsOnGlibc(): boolean {
  const header = process.report?.getReport?.() as { header?: { glibcVersionRuntime?: string } } | undefined;
  return header?.header?.glibcVersionRuntime !== undefined;
}
