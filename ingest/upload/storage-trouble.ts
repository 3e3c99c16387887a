/**
 * What the sidecar says when storage refuses or fails its writes. A refusal of its credentials
 * (401/403: a wrong INGEST_SECRET, S3 keys without write access) fails every write the same way:
 * one line saying what to do, again at most every half minute with a count, never a stack per write.
 */
import type { Logger } from 'pino';
import type { ObjectStore } from '../../shared/storage/object-store.ts';
import { StorageHttpError } from '../../shared/storage/storage-error.ts';

const REFUSAL_REPEAT_MS = 30_000;

export interface StorageTroubleOptions {
  log: Logger;
  /** Where the writes go, for the message (never a secret). */
  storage: string;
  now?: () => number;
}

/** Whether storage refused the credentials themselves. */
export function isCredentialRefusal(error: unknown): error is StorageHttpError {
  return error instanceof StorageHttpError && (error.status === 401 || error.status === 403);
}

/** The one line for a refused credential, with what to do (at start the sidecar stops, so there is nothing to restart yet). */
export function credentialRefusalMessage(storage: string, error: StorageHttpError, atStart = false): string {
  const what = `${storage} refuses this sidecar's writes (${error.status}: ${error.message}): nothing is stored. Check the secret both sides share (INGEST_SECRET for the edge write API; S3 keys for a bucket)`;
  return atStart ? what : `${what} and restart the sidecar`;
}

/** An `onError` for a stream's uploads: refusals summarised, other failures logged with their error. */
export function storageTroubleReporter(options: StorageTroubleOptions): (error: unknown) => void {
  const now = options.now ?? Date.now;
  let lastRefusalLogged = Number.NEGATIVE_INFINITY;
  let refusalsSince = 0;
  return (error) => {
    if (!isCredentialRefusal(error)) {
      options.log.error({ err: error }, 'storing stream output failed');
      return;
    }
    refusalsSince += 1;
    if (now() - lastRefusalLogged < REFUSAL_REPEAT_MS) return;
    const repeated = refusalsSince > 1 ? ` (${refusalsSince} writes refused since the last report)` : '';
    options.log.error(credentialRefusalMessage(options.storage, error) + repeated);
    lastRefusalLogged = now();
    refusalsSince = 0;
  };
}

// Read at start to see whether storage takes this sidecar's credentials (an absent object is fine).
const ACCESS_PROBE_KEY = 'streams/ingest-access-check/status.json';

export type StorageAccess = { ok: true } | { ok: false; refused: string } | { ok: false; unsure: string };

/**
 * Asks storage once, before any publisher is accepted, whether it takes this sidecar's
 * credentials: a refusal is a configuration error to stop on; storage not answering yet
 * (an edge still starting) is not.
 */
export async function checkStorageAccess(store: ObjectStore, storage: string): Promise<StorageAccess> {
  try {
    const probe = await store.get(ACCESS_PROBE_KEY);
    await probe?.body.cancel();
    return { ok: true };
  } catch (error) {
    if (isCredentialRefusal(error)) return { ok: false, refused: credentialRefusalMessage(storage, error, true) };
    return { ok: false, unsure: `could not check access to ${storage} (${error instanceof Error ? error.message : String(error)}); uploads will retry` };
  }
}
