/**
 * Storage reads for many viewers: an ObjectStore wrapper that reads through the runtime's cache.
 * What it does depends on the runtime:
 *   - Workers: keeps what it read in the Cache API (one per location), so later viewers there read
 *     no storage at all; concurrent first reads each read storage (below).
 *   - Node, Deno: keeps what it read in the process's memory (memory-object-cache.ts), and makes
 *     concurrent reads of the same object one storage read (coalescing).
 *
 * Coalescing never on Workers: there a promise belongs to the request whose I/O made it, and a request
 * waiting on another's read fails when that one ends first (the 20-minute soak found viewers
 * failing for good from minute 12: "This promise was created by a request that has since ended,
 * so it can never settle", then "Cannot perform I/O on behalf of a different request"; handing
 * the result over through each waiter's own promise failed the same way). Cloudflare's guidance is
 * the same: no promises shared between requests. Concurrent first reads there each read storage;
 * the cache takes every read after.
 *
 * How long a copy is kept is the edge's cache policy (edgeCopySecondsFor in cache-control.ts).
 */
import type { ByteRange, ObjectMetadata, ObjectStore, PutOptions, StoredObject } from '../../shared/storage/object-store.ts';
import { edgeCopySecondsFor } from './cache-control.ts';
import type { CachedCopy, MemoryObjectCache } from './memory-object-cache.ts';

/** The part of the Cache API this needs (Workers' `caches.default`). */
export interface ResponseCache {
  match(request: Request | string): Promise<Response | undefined>;
  put(request: Request | string, response: Response): Promise<void>;
}

export interface CachedObjectStoreOptions {
  /** The runtime's shared cache (Workers). */
  cache?: ResponseCache;
  /** The process's own copies (Node, Deno); with neither cache, reads are coalesced only. */
  memory?: MemoryObjectCache;
  /** Whether concurrent reads of one object by different requests share one storage read (never on Workers, above). */
  shareReadsAcrossRequests: boolean;
  /** Seconds a key may be served from the cache; the edge's policy (cache-control.ts) unless a test sets its own. */
  ttlSeconds?: (key: string) => number;
}

type WholeObject = CachedCopy;

// Cache keys are URLs; this host never resolves: the entries are this origin's own.
const CACHE_ORIGIN = 'https://object-cache.invalid/';
// Whole objects up to this size are kept in memory for the waiting readers and the cache (segments are a few MB).
const MAX_CACHED_BYTES = 32 * 1024 * 1024;
// The stored object's own validator and type, kept beside the cached bytes.
const ETAG_HEADER = 'x-object-etag';
const TYPE_HEADER = 'x-object-type';

/**
 * The bytes as a body, without a copy: `new Response(bytes).body` copies them (undici copies a
 * buffer it is given; on Node the lightweight Response of @hono/node-server makes that full
 * Response to hand its body out). The bytes may be shared by several readers (a copy kept in
 * memory, a joined read): nothing that reads a body writes into it.
 */
function streamOf(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(bytes);
      controller.close();
    },
  });
}

export class CachedObjectStore implements ObjectStore {
  private readonly store: ObjectStore;
  private readonly options: CachedObjectStoreOptions;
  private readonly inFlight = new Map<string, Promise<WholeObject | null>>();

  constructor(store: ObjectStore, options: CachedObjectStoreOptions) {
    this.store = store;
    this.options = options;
  }

  async get(key: string, range?: ByteRange): Promise<StoredObject | null> {
    // Without a shared cache a byte range is read as a range (nothing would keep the whole
    // object), unless the process holds the whole already.
    if (range && !this.options.cache && !this.options.memory?.get(key)) return this.store.get(key, range);
    const whole = await this.whole(key);
    if (!whole) return null;
    const bytes = range ? whole.bytes.subarray(range.offset, range.offset + range.length) : whole.bytes;
    return { ...whole.metadata, body: streamOf(bytes) };
  }

  /** With a shared cache, the whole object (a range request follows, served from it); else the store's metadata alone. */
  async head(key: string): Promise<ObjectMetadata | null> {
    if (!this.options.cache) return this.options.memory?.get(key)?.metadata ?? this.store.head(key);
    return (await this.whole(key))?.metadata ?? null;
  }

  put(key: string, body: Uint8Array | string, options: PutOptions): Promise<void> {
    return this.store.put(key, body, options);
  }

  delete(key: string): Promise<void> {
    return this.store.delete(key);
  }

  /** Listings are not cached here: the page that lists sets its own freshness. */
  listChildren(prefix: string, limit: number, after?: string): Promise<string[]> {
    if (!this.store.listChildren) return Promise.reject(new Error('this storage cannot list'));
    return this.store.listChildren(prefix, limit, after);
  }

  /** The object, from the process's memory, from a read already under way, from the cache, or from one storage read. */
  private whole(key: string): Promise<WholeObject | null> {
    const held = this.options.memory?.get(key);
    if (held) return Promise.resolve(held);
    if (!this.options.shareReadsAcrossRequests) return this.fetchWhole(key);
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = this.fetchWhole(key).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    return pending;
  }

  private async fetchWhole(key: string): Promise<WholeObject | null> {
    const memory = this.options.memory;
    const readTicket = memory?.readTicket() ?? 0;
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
    const ttl = (this.options.ttlSeconds ?? edgeCopySecondsFor)(key);
    memory?.set(key, { bytes, metadata }, ttl, readTicket);
    if (this.options.cache && ttl > 0 && bytes.byteLength <= MAX_CACHED_BYTES) {
      const headers: Record<string, string> = { 'cache-control': `max-age=${ttl}`, [ETAG_HEADER]: metadata.etag };
      if (metadata.contentType) headers[TYPE_HEADER] = metadata.contentType;
      // A failed cache write costs the next viewer a storage read, nothing more.
      await this.options.cache.put(cacheKey, new Response(bytes, { headers })).catch(() => {});
    }
    return { bytes, metadata };
  }
}
