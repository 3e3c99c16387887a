/**
 * Storage reads for many viewers: makes concurrent reads of the same object one storage read
 * (in this isolate, see JoinedCalls), and keeps what it read in the runtime's cache (the Workers
 * Cache API, one per location) so later viewers there read no storage at all. Media objects are
 * immutable and cached for a day; documents (playlists, MPD, status) change every segment and
 * are cached for a second, the freshness their Cache-Control allows.
 */
import type { ByteRange, ObjectMetadata, ObjectStore, PutOptions, StoredObject } from '../../shared/storage/object-store.ts';
import { JoinedCalls, type KeepAlive } from '../joined-calls.ts';

/** The part of the Cache API this needs (Workers' `caches.default`). */
export interface ResponseCache {
  match(request: Request | string): Promise<Response | undefined>;
  put(request: Request | string, response: Response): Promise<void>;
}

export interface CoalescingCacheOptions {
  /** Absent (Node, Deno without a cache): reads are coalesced only. */
  cache?: ResponseCache;
  /** Seconds a key may be served from the cache. */
  ttlSeconds(key: string): number;
}

interface WholeObject {
  bytes: Uint8Array<ArrayBuffer>;
  metadata: ObjectMetadata;
}

// Cache keys are URLs; this host never resolves: the entries are this origin's own.
const CACHE_ORIGIN = 'https://object-cache.invalid/';
// Whole objects up to this size are kept in memory for the waiting readers and the cache (segments are a few MB).
const MAX_CACHED_BYTES = 32 * 1024 * 1024;
// The stored object's own validator and type, kept beside the cached bytes.
const ETAG_HEADER = 'x-object-etag';
const TYPE_HEADER = 'x-object-type';
// A read joined by others: those still waiting after this long read for themselves (its request is gone).
const READ_PATIENCE_MS = 5_000;

/** Isolate-wide: one per app. Viewers read through `forRequest`, a view bound to their request. */
export class CoalescingCache {
  private readonly store: ObjectStore;
  private readonly options: CoalescingCacheOptions;
  private readonly reads = new JoinedCalls<WholeObject | null>({ joinWithinMs: READ_PATIENCE_MS, patienceMs: READ_PATIENCE_MS });

  constructor(store: ObjectStore, options: CoalescingCacheOptions) {
    this.store = store;
    this.options = options;
  }

  /** The store as one request sees it; `keepAlive` lets a read it shares outlive it (Workers' waitUntil). */
  forRequest(keepAlive?: KeepAlive): ObjectStore {
    return new RequestReads(this, this.store, keepAlive);
  }

  async get(key: string, range: ByteRange | undefined, keepAlive: KeepAlive | undefined): Promise<StoredObject | null> {
    // Without a shared cache a byte range is read as a range: nothing would keep the whole object.
    if (range && !this.options.cache) return this.store.get(key, range);
    const whole = await this.whole(key, keepAlive);
    if (!whole) return null;
    const bytes = range ? whole.bytes.subarray(range.offset, range.offset + range.length) : whole.bytes;
    return { ...whole.metadata, body: new Response(bytes).body! };
  }

  /** With a shared cache, the whole object (a range request follows, served from it); else the store's metadata alone. */
  async head(key: string, keepAlive: KeepAlive | undefined): Promise<ObjectMetadata | null> {
    if (!this.options.cache) return this.store.head(key);
    return (await this.whole(key, keepAlive))?.metadata ?? null;
  }

  /** The object, from the cache, from a read already under way, or from one storage read. */
  private whole(key: string, keepAlive: KeepAlive | undefined): Promise<WholeObject | null> {
    return this.reads.run(key, () => this.fetchWhole(key), keepAlive);
  }

  private async fetchWhole(key: string): Promise<WholeObject | null> {
    const cacheKey = CACHE_ORIGIN + encodeURI(key);
    const cached = await this.options.cache?.match(cacheKey);
    if (cached) {
      const bytes = new Uint8Array(await cached.arrayBuffer());
      return { bytes, metadata: { size: bytes.byteLength, etag: cached.headers.get(ETAG_HEADER) ?? '', contentType: cached.headers.get(TYPE_HEADER) ?? undefined } };
    }
    const object = await this.store.get(key);
    // Not found is not cached: the object may be written a moment later.
    if (!object) return null;
    const bytes = new Uint8Array(await new Response(object.body).arrayBuffer());
    const metadata: ObjectMetadata = { size: object.size, etag: object.etag, contentType: object.contentType };
    const ttl = this.options.ttlSeconds(key);
    if (this.options.cache && ttl > 0 && bytes.byteLength <= MAX_CACHED_BYTES) {
      const headers: Record<string, string> = { 'cache-control': `max-age=${ttl}`, [ETAG_HEADER]: metadata.etag };
      if (metadata.contentType) headers[TYPE_HEADER] = metadata.contentType;
      // A failed cache write costs the next viewer a storage read, nothing more.
      await this.options.cache.put(cacheKey, new Response(bytes, { headers })).catch(() => {});
    }
    return { bytes, metadata };
  }
}

/** One request's view: reads through the isolate's cache, writes and listings straight to storage. */
class RequestReads implements ObjectStore {
  private readonly cache: CoalescingCache;
  private readonly store: ObjectStore;
  private readonly keepAlive: KeepAlive | undefined;
  /** Listings are not cached here (the page that lists sets its own freshness); absent when storage cannot list. */
  readonly listChildren?: (prefix: string, limit: number) => Promise<string[]>;

  constructor(cache: CoalescingCache, store: ObjectStore, keepAlive: KeepAlive | undefined) {
    this.cache = cache;
    this.store = store;
    this.keepAlive = keepAlive;
    if (store.listChildren) this.listChildren = (prefix, limit) => store.listChildren!(prefix, limit);
  }

  get(key: string, range?: ByteRange): Promise<StoredObject | null> {
    return this.cache.get(key, range, this.keepAlive);
  }

  head(key: string): Promise<ObjectMetadata | null> {
    return this.cache.head(key, this.keepAlive);
  }

  put(key: string, body: Uint8Array | string, options: PutOptions): Promise<void> {
    return this.store.put(key, body, options);
  }

  delete(key: string): Promise<void> {
    return this.store.delete(key);
  }
}
