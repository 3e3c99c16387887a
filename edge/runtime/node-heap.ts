/**
 * The Node edge's V8 heap setting, which must be in place before the process starts, so the edge
 * restarts itself into it (shared/node-restart.ts) however it was launched.
 *
 * The edge's own objects are few (a ~22 MB live heap at 100 live streams): the media it holds are
 * Buffers outside V8's heap. On so small a heap V8 (Node 24) sets the old generation's limit at
 * ~61 MB and yet starts incremental marking from a task right after every full collection, 40 MB
 * below that limit: at 100 passthrough streams 6–7 mark-compacts a second, about a third of the
 * edge's CPU (--trace-gc, --trace-incremental-marking "Start (task)"; a 4 MB young generation did
 * not change it). Starting the old generation at 128 MB stops it: marking then starts when the
 * parts' external memory asks for it, about once a second. Edge CPU at 100 streams 47–48 % → 32 %
 * of a core, at 150 49–52 % → 43 %, 23 MB more resident (BENCHMARKS.md, "Capacity", 2026-12-07).
 */
import { nodeFlagGiven, restartWithSettings } from '../../shared/node-restart.ts';

export const OLD_GENERATION_FLAG = '--initial-old-space-size=128';
/** Any starting size of the old generation, ours or the operator's. */
const OLD_GENERATION_GIVEN = /^--initial-old-space-size\b/;
/** Set in the restarted process, so it never restarts twice. */
const RESTARTED_ENV = 'EDGE_HEAP_SETUP';

/** The flags the edge's process should add to its own: none when an initial old space is already given. Pure. */
export function planEdgeHeapFlags(execArgv: readonly string[], env: Readonly<Record<string, string | undefined>>): string[] {
  return nodeFlagGiven(execArgv, env, OLD_GENERATION_GIVEN) ? [] : [OLD_GENERATION_FLAG];
}

/**
 * Restarts the process with the heap setting when it lacks it (the call then does not return);
 * else returns the setting in effect, or why it runs without it.
 */
export function restartIntoEdgeHeap(): string {
  const nodeFlags = planEdgeHeapFlags(process.execArgv, process.env);
  const skipped = restartWithSettings({ nodeFlags, env: {} }, RESTARTED_ENV);
  return skipped === undefined ? nodeFlagGiven(process.execArgv, process.env, OLD_GENERATION_GIVEN)! : `V8's default old generation (${skipped})`;
}
