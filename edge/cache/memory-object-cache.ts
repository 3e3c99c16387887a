/**
 * Whole stored objects kept in the edge process's memory (Node, Deno), which have no Cache API in
 * front of storage as Workers have: without it every viewer's playlist poll and segment request
 * is a storage read (a file on Node, an S3 GET on Deno). Bounded by bytes, the least recently
 * used copy goes first; each copy lives as long as the edge's cache policy allows
 * (edgeCopySecondsFor: a second for playlists and status, a day for media), and the edge's own
 * writes drop the copy they replace (ForgettingStore), so a viewer of this edge never reads a
 * playlist older than the last one written through it.
 */
import type { ByteRange, ObjectMetadata, ObjectStore, PutOptions, StoredObject } from '../../shared/storage/object-store.ts';

export interface CachedCopy {
  bytes: Uint8Array<ArrayBuffer>;
  metadata: ObjectMetadata;
}

interface Entry {
  copy: CachedCopy;
  /** Epoch milliseconds. */
  expiresAt: number;
}

/** One object may take at most this share of the cache: a large download does not empty it. */
const MAX_SHARE_PER_OBJECT = 8;
/** A read that began before a write of its key is not kept; writes are remembered this long for it (milliseconds). */
const WRITE_MEMORY_MS = 60_000;

export class MemoryObjectCache {
  /** Map order is use order: the first entry is the least recently used. */
  private readonly entries = new Map<string, Entry>();
  private heldBytes = 0;
  /** Orders reads and writes (a millisecond clock cannot): each read and each write takes the next. */
  private tickets = 0;
  /** Each key's last write here: its ticket and time (for WRITE_MEMORY_MS), oldest first. */
  private readonly writes = new Map<string, { ticket: number; at: number }>();
  readonly maxBytes: number;
  private readonly now: () => number;

  constructor(maxBytes: number, now: () => number = Date.now) {
    this.maxBytes = maxBytes;
    this.now = now;
  }

  /** Taken as a storage read begins, for `set`: whether a write of its key came after it. */
  readTicket(): number {
    return ++this.tickets;
  }

  /** Bytes of all copies held. */
  get byteLength(): number {
    return this.heldBytes;
  }

  get(key: string): CachedCopy | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    if (this.now() >= entry.expiresAt) {
      this.heldBytes -= entry.copy.bytes.byteLength;
      return undefined;
    }
    this.entries.set(key, entry);
    return entry.copy;
  }

  /**
   * Keeps `copy`, read from storage since `readTicket`, for `ttlSeconds`. Not kept: a copy that
   * a write here may have replaced while it was read, one with no time to live, one too large
   * for the cache.
   */
  set(key: string, copy: CachedCopy, ttlSeconds: number, readTicket: number): void {
    const written = this.writes.get(key);
    if (written !== undefined && written.ticket > readTicket) return;
    this.delete(key);
    const size = copy.bytes.byteLength;
    if (ttlSeconds <= 0 || size > this.maxBytes / MAX_SHARE_PER_OBJECT) return;
    this.entries.set(key, { copy, expiresAt: this.now() + ttlSeconds * 1000 });
    this.heldBytes += size;
    for (const [oldest, entry] of this.entries) {
      if (this.heldBytes <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.heldBytes -= entry.copy.bytes.byteLength;
    }
  }

  /** `key` is being written or deleted: its copy goes, and a read under way is not kept. */
  forget(key: string): void {
    this.delete(key);
    const now = this.now();
    this.writes.delete(key);
    this.writes.set(key, { ticket: ++this.tickets, at: now });
    for (const [oldest, { at }] of this.writes) {
      if (now - at <= WRITE_MEMORY_MS) break;
      this.writes.delete(oldest);
    }
  }

  private delete(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.heldBytes -= entry.copy.bytes.byteLength;
  }
}

/**
 * `store` for everything in the edge process that writes (the write API, the live channel's
 * segments, recordings' deletion and expiry): each write or delete drops the cached copy of what
 * it changes, before and after, so no read under way puts back what it replaced.
 */
export class ForgettingStore implements ObjectStore {
  readonly putChunks?: (key: string, chunks: readonly Uint8Array[], options: PutOptions) => Promise<void>;
  readonly deleteMany?: (keys: readonly string[]) => Promise<void>;
  readonly listChildren?: (prefix: string, limit: number, after?: string) => Promise<string[]>;
  private readonly store: ObjectStore;
  private readonly cache: MemoryObjectCache;

  constructor(store: ObjectStore, cache: MemoryObjectCache) {
    this.store = store;
    this.cache = cache;
    // Only what the store itself offers: callers look for these to choose how to write and delete.
    const putChunks = store.putChunks?.bind(store);
    if (putChunks) this.putChunks = (key, chunks, options) => this.changing([key], () => putChunks(key, chunks, options));
    const deleteMany = store.deleteMany?.bind(store);
    if (deleteMany) this.deleteMany = (keys) => this.changing(keys, () => deleteMany(keys));
    this.listChildren = store.listChildren?.bind(store);
  }

  put(key: string, body: Uint8Array | string, options: PutOptions): Promise<void> {
    return this.changing([key], () => this.store.put(key, body, options));
  }

  delete(key: string): Promise<void> {
    return this.changing([key], () => this.store.delete(key));
  }

  get(key: string, range?: ByteRange): Promise<StoredObject | null> {
    return this.store.get(key, range);
  }

  head(key: string): Promise<ObjectMetadata | null> {
    return this.store.head(key);
  }

  private async changing(keys: readonly string[], change: () => Promise<void>): Promise<void> {
    for (const key of keys) this.cache.forget(key);
    try {
      await change();
    } finally {
      for (const key of keys) this.cache.forget(key);
    }
  }
}
