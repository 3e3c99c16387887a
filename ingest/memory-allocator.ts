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
