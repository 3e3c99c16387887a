/**
 * Who deletes expired recordings: the edge, which can list storage in every runtime (the
 * sidecar's write-API client cannot, and a sidecar may be gone for good). The sidecar decides
 * when (each ready recording's expiresAt, from its --recording-days); this sweeps at start and
 * hourly on Node and Deno, and on Workers from the hourly Cron Trigger (wrangler.toml, worker.ts).
 * Until a sweep deletes it, an expired recording is already gone for viewers and the API.
 */
import type { ObjectStore } from '../../shared/storage/object-store.ts';
import { expireRecordings } from './recording-store.ts';

export const RECORDING_EXPIRY_INTERVAL_MS = 3_600_000;

/** One sweep; a failure is logged (the next sweep tries again), never thrown. */
export async function sweepExpiredRecordings(store: ObjectStore, now: number = Date.now()): Promise<number> {
  try {
    const deleted = await expireRecordings(store, now);
    if (deleted > 0) console.log(`edge: deleted ${deleted} expired recording(s) with their media`);
    return deleted;
  } catch (error) {
    console.error(`edge: deleting expired recordings failed (tried again within the hour): ${error instanceof Error ? error.message : String(error)}`);
    return 0;
  }
}

/** Sweeps now and every hour (a process that runs: Node, Deno); returns the stop. */
export function scheduleRecordingExpiry(store: ObjectStore): () => void {
  void sweepExpiredRecordings(store);
  const timer = setInterval(() => void sweepExpiredRecordings(store), RECORDING_EXPIRY_INTERVAL_MS);
  return () => clearInterval(timer);
}
