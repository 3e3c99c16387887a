/**
 * Storage that failed (R2 or the S3 server down, a timeout, a 5xx) is not the edge's own bug: the
 * viewer gets a 503 with Retry-After, which players retry and a CDN does not keep, instead of a
 * 500 "internal error". Writes pass through: the write API reports its own failures.
 */
import { HTTPException } from 'hono/http-exception';
import { TemporarilyUnavailable } from '../errors.ts';
import type { ByteRange, ObjectMetadata, ObjectStore, PutOptions, StoredObject } from '../../shared/storage/object-store.ts';

function storageUnavailable(key: string, cause: unknown): HTTPException {
  // The store's error text may name its endpoint or credentials' owner: logged here, never sent.
  console.error(`edge: storage read of ${key} failed:`, cause instanceof Error ? cause.message : cause);
  return new TemporarilyUnavailable('storage is unavailable at the moment; try again shortly', 1);
}

export class OutageAwareStore implements ObjectStore {
  readonly listChildren?: (prefix: string, limit: number, after?: string) => Promise<string[]>;

  private readonly store: ObjectStore;

  constructor(store: ObjectStore) {
    this.store = store;
    const list = store.listChildren?.bind(store);
    if (list) this.listChildren = (prefix, limit, after) => this.read(prefix, () => list(prefix, limit, after));
  }

  get(key: string, range?: ByteRange): Promise<StoredObject | null> {
    return this.read(key, () => this.store.get(key, range));
  }

  head(key: string): Promise<ObjectMetadata | null> {
    return this.read(key, () => this.store.head(key));
  }

  put(key: string, body: Uint8Array | string, options: PutOptions): Promise<void> {
    return this.store.put(key, body, options);
  }

  delete(key: string): Promise<void> {
    return this.store.delete(key);
  }

  private async read<T>(key: string, operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      if (error instanceof HTTPException) throw error;
      throw storageUnavailable(key, error);
    }
  }
}
