/**
 * The sidecar's memory settings, which must be in place before its process starts, so it
 * restarts itself into them (execve: same process id, same arguments) however it was launched.
 *
 * - malloc. The sidecar allocates and frees Buffers all day (every RTMP message, part, segment and
 *   upload), most between 4 and 128 KiB, from the main thread. glibc's malloc serves them from its
 *   main heap, which fragments: with 10 streams it grew from 74 to 83 MB between the first and
 *   sixth minute of a soak, and it only returns memory from its top. jemalloc, where installed
 *   (Debian: `apt-get install libjemalloc2`), returns freed pages after a few seconds: its heap
 *   stays level (49-66 MB over the same soak, no trend). Without jemalloc, glibc gets a fixed mmap
 *   threshold: left to itself it raises the threshold up to 32 MiB as large blocks are freed, after
 *   which segment-sized Buffers come from its heaps too and resident memory creeps ~5 MB a minute.
 * - V8's young generation. Node 24 lets each semi-space grow to 64 MB (128 MB of new space) under
 *   the sidecar's allocation rate; it then holds ~165 MB of heap for 30-70 MB of live objects.
 *   Node's pre-22 size, 16 MB, took ~90 MB off the sidecar (soak, 10 streams: 337 → 248 MB) for
 *   no CPU the soak could measure (BENCHMARKS.md, "Soak"). Since the media's bytes live outside
 *   V8's heap (Buffers) and a part is views of its frames, what the young generation holds is small
 *   bookkeeping: 4 MB takes another 0.5–0.8 MB per stream off at 50 streams (3.19 → 2.65 / 2.41 MB
 *   per stream) for the same CPU (0.87 against 0.90 / 0.86 % per stream; BENCHMARKS.md, "Capacity").
 */
import { existsSync, readFileSync } from 'node:fs';
import { nodeFlagGiven, restartWithSettings } from '../shared/node-restart.ts';

/** `jemalloc` (the default where the library is installed) or `system` (the C library's malloc). */
export const ALLOCATOR_ENV = 'INGEST_ALLOCATOR';
/** Set in the restarted process, so it never restarts twice. */
const RESTARTED_ENV = 'INGEST_MEMORY_SETUP';
/** The library the sidecar preloaded itself, which its ffmpeg children do not get. */
const PRELOADED_ENV = 'INGEST_PRELOADED_ALLOCATOR';

const MMAP_THRESHOLD_ENV = 'MALLOC_MMAP_THRESHOLD_';
/** 128 KiB, glibc's own starting threshold, kept fixed. */
const MMAP_THRESHOLD_BYTES = '131072';
export const YOUNG_GENERATION_FLAG = '--max-semi-space-size=4';

/** Where distributions install jemalloc 5 (Debian and Ubuntu by architecture, Fedora, Alpine). */
const JEMALLOC_LIBRARIES = [
  '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2',
  '/usr/lib/aarch64-linux-gnu/libjemalloc.so.2',
  '/usr/lib64/libjemalloc.so.2',
  '/usr/lib/libjemalloc.so.2',
];

export class AllocatorSettingError extends Error {}

export interface MemorySetup {
  allocator: 'jemalloc' | 'glibc' | 'platform';
  /** Environment the process must start with (only what differs from its environment now). */
  env: Record<string, string>;
  /** Node flags to add to the process's own. */
  nodeFlags: string[];
}

/** What the sidecar's process should start with, given how it started now. Pure. */
export function planMemorySetup(options: {
  platform: NodeJS.Platform;
  env: NodeJS.ProcessEnv;
  execArgv: readonly string[];
  /** The installed jemalloc, if any. */
  jemalloc: string | undefined;
}): MemorySetup {
  const { env, jemalloc } = options;
  const nodeFlags = youngGenerationFlag(options.execArgv, env) ? [] : [YOUNG_GENERATION_FLAG];
  const choice = env[ALLOCATOR_ENV] ?? '';
  if (!['', 'jemalloc', 'system'].includes(choice)) {
    throw new AllocatorSettingError(`${ALLOCATOR_ENV} must be jemalloc or system, not "${choice}"`);
  }
  if (options.platform !== 'linux') return { allocator: 'platform', env: {}, nodeFlags };
  if (choice !== 'system' && jemalloc) {
    const preloads = preloadList(env.LD_PRELOAD);
    if (preloads.includes(jemalloc)) return { allocator: 'jemalloc', env: {}, nodeFlags };
    return { allocator: 'jemalloc', env: { LD_PRELOAD: [...preloads, jemalloc].join(' '), [PRELOADED_ENV]: jemalloc }, nodeFlags };
  }
  if (choice === 'jemalloc') {
    throw new AllocatorSettingError(`${ALLOCATOR_ENV}=jemalloc, but jemalloc is not installed: install it (Debian: apt-get install libjemalloc2), or unset ${ALLOCATOR_ENV}`);
  }
  return { allocator: 'glibc', env: env[MMAP_THRESHOLD_ENV] === undefined ? { [MMAP_THRESHOLD_ENV]: MMAP_THRESHOLD_BYTES } : {}, nodeFlags };
}

/** The young-generation size the process was given (command line or NODE_OPTIONS), if any. */
function youngGenerationFlag(execArgv: readonly string[], env: NodeJS.ProcessEnv): string | undefined {
  return nodeFlagGiven(execArgv, env, /^--max-semi-space-size\b/);
}

/** LD_PRELOAD's libraries (the dynamic linker takes spaces or colons between them). */
function preloadList(value: string | undefined): string[] {
  return (value ?? '').split(/[\s:]+/).filter(Boolean);
}

export function installedJemalloc(exists: (path: string) => boolean = existsSync): string | undefined {
  return JEMALLOC_LIBRARIES.find((path) => exists(path));
}

/** The memory setup the process runs with. */
export interface MemoryInUse extends MemorySetup {
  /** Why the process runs without its settings, when it does. */
  restartSkipped?: string;
  /** Whether jemalloc is mapped in (asked when it is the allocator: a preload the dynamic linker refused is not). */
  jemallocLoaded: boolean;
}

/**
 * Restarts the process into its memory settings when it does not run with them yet (the call
 * then does not return: shared/node-restart.ts), or returns the setup in effect.
 */
export function restartIntoMemorySetup(): MemoryInUse {
  const setup = planMemorySetup({ platform: process.platform, env: process.env, execArgv: process.execArgv, jemalloc: installedJemalloc() });
  const inUse = { ...setup, jemallocLoaded: setup.allocator === 'jemalloc' && jemallocMapped('self') };
  const restartSkipped = restartWithSettings(setup, RESTARTED_ENV);
  return restartSkipped === undefined ? inUse : { ...inUse, restartSkipped };
}

/** Whether jemalloc is mapped into a process (Linux; false where /proc cannot tell). */
export function jemallocMapped(pid: number | 'self'): boolean {
  try {
    return readFileSync(`/proc/${pid}/maps`, 'utf8').includes('libjemalloc');
  } catch {
    return false;
  }
}

/** The environment for child processes (ffmpeg): without the allocator the sidecar preloaded for itself. */
export function childEnvironment(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const preloaded = env[PRELOADED_ENV];
  if (!preloaded) return env;
  const { [PRELOADED_ENV]: _preloaded, [RESTARTED_ENV]: _restarted, LD_PRELOAD, ...rest } = env;
  const remaining = preloadList(LD_PRELOAD).filter((path) => path !== preloaded);
  return remaining.length > 0 ? { ...rest, LD_PRELOAD: remaining.join(' ') } : rest;
}

/** For the sidecar's start-up line: the allocator and young generation this process runs with. */
export function describeMemoryInUse(memory: MemoryInUse): string {
  const allocator = {
    jemalloc: memory.jemallocLoaded ? 'jemalloc' : "the C library's malloc (jemalloc did not load)",
    glibc: `glibc malloc (mmap threshold ${process.env[MMAP_THRESHOLD_ENV] ?? 'adaptive'})`,
    platform: "the platform's malloc",
  }[memory.allocator];
  return `${allocator}, ${youngGenerationFlag(process.execArgv, process.env) ?? "V8's default young generation"}`;
}
