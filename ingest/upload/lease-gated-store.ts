/**
 * One writer per stream: a stream's writes wait for its lease (taken by its live channel when
 * the pipeline starts, a round trip to the edge), and are refused for good if the edge gave the
 * stream to another sidecar, so a refused broadcast never touches the holder's playlists.
 * Reads pass (taking a stream up after a restart reads what storage holds).
 */
import { putChunks, type ObjectStore, type PutOptions } from '../../shared/storage/object-store.ts';
import { StorageHttpError } from '../../shared/storage/storage-error.ts';
import type { LeaseOutcome } from './live-channel.ts';

export function leaseGatedStore(store: ObjectStore, lease: Promise<LeaseOutcome>): ObjectStore {
  const leased = async () => {
    const outcome = await lease;
    // 409: a refusal, never retried.
    if (!outcome.ok) throw new StorageHttpError(`not written: ${outcome.reason}`, 409);
  };
  return {
    put: async (key: string, body: Uint8Array | string, options: PutOptions) => {
      await leased();
      return store.put(key, body, options);
    },
    putChunks: async (key: string, chunks: readonly Uint8Array[], options: PutOptions) => {
      await leased();
      return putChunks(store, key, chunks, options);
    },
    delete: async (key: string) => {
      await leased();
      return store.delete(key);
    },
    get: (key, range) => store.get(key, range),
    head: (key) => store.head(key),
    ...(store.listChildren ? { listChildren: (prefix: string, limit: number, after?: string) => store.listChildren!(prefix, limit, after) } : {}),
  };
}
