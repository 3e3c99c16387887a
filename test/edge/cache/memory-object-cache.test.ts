import { describe, expect, it } from 'vitest';
import { CachedObjectStore } from '../../../edge/cache/cached-object-store.ts';
import { ForgettingStore, MemoryObjectCache, type CachedCopy } from '../../../edge/cache/memory-object-cache.ts';
import { MemoryObjectStore } from '../../../shared/storage/memory-object-store.ts';
import { joinChunks, putChunks, type ByteRange, type ObjectStore, type PutOptions } from '../../../shared/storage/object-store.ts';

function copyOf(size: number, fill = 1): CachedCopy {
  return { bytes: new Uint8Array(size).fill(fill), metadata: { size, etag: `e${fill}`, contentType: 'video/mp4' } };
}

/** A store whose reads are counted and, when `readGate` is set, wait for it. */
class CountingStore extends MemoryObjectStore {
  reads = 0;
  readGate: Promise<void> | undefined;
  override async get(key: string, range?: ByteRange) {
    this.reads += 1;
    const object = await super.get(key, range);
    await this.readGate;
    return object;
  }
}

async function text(store: ObjectStore, key: string): Promise<string | null> {
  const object = await store.get(key);
  return object ? new Response(object.body).text() : null;
}

const PLAYLIST = 'streams/s/source/index.m3u8';
const SEGMENT = 'streams/s/source/abcdefgh1-0.m4s';

describe('MemoryObjectCache', () => {
  it('keeps a copy for its time to live, not after', () => {
    let now = 1_000;
    const cache = new MemoryObjectCache(1_000_000, () => now);
    cache.set('a', copyOf(10), 1, cache.readTicket());
    now += 999;
    expect(cache.get('a')?.bytes.byteLength).toBe(10);
    now += 1;
    expect(cache.get('a')).toBeUndefined();
    expect(cache.byteLength).toBe(0);
  });

  it('holds no more than its bytes, dropping the least recently used first', () => {
    const cache = new MemoryObjectCache(1_000);
    cache.set('a', copyOf(100, 1), 60, 0);
    cache.set('b', copyOf(100, 2), 60, 0);
    cache.set('c', copyOf(100, 3), 60, 0);
    // Read: now the most recently used.
    expect(cache.get('a')).toBeDefined();
    // 300 + 800 bytes: one copy must go.
    for (let i = 0; i < 8; i++) cache.set(`d${i}`, copyOf(100, 4), 60, 0);
    expect(cache.byteLength).toBeLessThanOrEqual(1_000);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBeDefined();
    expect(cache.get('c')).toBeDefined();
    expect(cache.get('d7')).toBeDefined();
  });

  it('does not keep an object too large for it, nor one without a time to live', () => {
    const cache = new MemoryObjectCache(800);
    cache.set('big', copyOf(101), 60, 0);
    cache.set('zero', copyOf(10), 0, 0);
    expect(cache.get('big')).toBeUndefined();
    expect(cache.get('zero')).toBeUndefined();
    expect(cache.byteLength).toBe(0);
  });

  it('does not keep a copy whose read began before a write of its key here', () => {
    // All within one millisecond: the order of reads and writes decides, not the clock.
    const cache = new MemoryObjectCache(1_000_000, () => 5_000);
    const before = cache.readTicket();
    cache.forget('a');
    const after = cache.readTicket();
    cache.set('a', copyOf(10), 1, before);
    expect(cache.get('a')).toBeUndefined();
    cache.set('a', copyOf(10), 1, after);
    expect(cache.get('a')).toBeDefined();
  });

  it('remembers writes only as long as a read could overlap one', () => {
    let now = 0;
    const cache = new MemoryObjectCache(1_000_000, () => now);
    const early = cache.readTicket();
    for (let i = 0; i < 1_000; i++) cache.forget(`k${i}`);
    now += 61_000;
    cache.forget('last');
    // A read that began before the old writes is kept again (they are forgotten); `last` still counts.
    cache.set('k1', copyOf(1), 1, early);
    cache.set('last', copyOf(1), 1, early);
    expect(cache.get('k1')).toBeDefined();
    expect(cache.get('last')).toBeUndefined();
  });
});

describe('CachedObjectStore with the memory cache (Node, Deno)', () => {
  it('reads storage once for many viewers one after another, again once the copy expired', async () => {
    let now = 0;
    const memory = new MemoryObjectCache(1_000_000, () => now);
    const storage = new CountingStore();
    await storage.put(PLAYLIST, '#EXTM3U\n', { contentType: 'application/vnd.apple.mpegurl' });
    const viewers = new CachedObjectStore(storage, { memory, shareReadsAcrossRequests: true });
    for (let i = 0; i < 20; i++) expect(await text(viewers, PLAYLIST)).toBe('#EXTM3U\n');
    expect(storage.reads).toBe(1);
    now += 1_000;
    expect(await text(viewers, PLAYLIST)).toBe('#EXTM3U\n');
    expect(storage.reads).toBe(2);
  });

  it("serves the edge's own newest write at once, and nothing of a deleted object", async () => {
    const memory = new MemoryObjectCache(1_000_000);
    const storage = new CountingStore();
    const writes = new ForgettingStore(storage, memory);
    const viewers = new CachedObjectStore(storage, { memory, shareReadsAcrossRequests: true });
    await writes.put(PLAYLIST, 'one', { contentType: 'application/vnd.apple.mpegurl' });
    expect(await text(viewers, PLAYLIST)).toBe('one');
    await writes.put(PLAYLIST, 'two', { contentType: 'application/vnd.apple.mpegurl' });
    expect(await text(viewers, PLAYLIST)).toBe('two');
    await putChunks(writes, SEGMENT, [Uint8Array.of(1, 2), Uint8Array.of(3)], { contentType: 'video/mp4' });
    expect((await viewers.head(SEGMENT))?.size).toBe(3);
    expect(await text(viewers, SEGMENT)).toBe('\x01\x02\x03');
    await writes.delete(SEGMENT);
    expect(await viewers.get(SEGMENT)).toBeNull();
  });

  it('does not keep what a read under way got while the edge replaced it', async () => {
    const memory = new MemoryObjectCache(1_000_000);
    const storage = new CountingStore();
    const writes = new ForgettingStore(storage, memory);
    const viewers = new CachedObjectStore(storage, { memory, shareReadsAcrossRequests: true });
    await writes.put(PLAYLIST, 'old', { contentType: 'application/vnd.apple.mpegurl' });
    let open!: () => void;
    storage.readGate = new Promise((resolve) => (open = resolve));
    const slowRead = text(viewers, PLAYLIST);
    // Let the read take its bytes, then write over them while it is held.
    await new Promise((resolve) => setTimeout(resolve, 5));
    await writes.put(PLAYLIST, 'new', { contentType: 'application/vnd.apple.mpegurl' });
    open();
    expect(await slowRead).toBe('old');
    storage.readGate = undefined;
    expect(await text(viewers, PLAYLIST)).toBe('new');
  });

  it('serves a byte range from a copy it holds, and reads only the range when it holds none', async () => {
    const memory = new MemoryObjectCache(1_000_000);
    const storage = new CountingStore();
    await storage.put(SEGMENT, Uint8Array.from({ length: 100 }, (_, i) => i), { contentType: 'video/mp4' });
    const viewers = new CachedObjectStore(storage, { memory, shareReadsAcrossRequests: true });
    const ranged = await viewers.get(SEGMENT, { offset: 10, length: 5 });
    expect([...new Uint8Array(await new Response(ranged!.body).arrayBuffer())]).toEqual([10, 11, 12, 13, 14]);
    expect(memory.byteLength).toBe(0);
    await viewers.get(SEGMENT);
    const fromMemory = await viewers.get(SEGMENT, { offset: 98, length: 2 });
    expect([...new Uint8Array(await new Response(fromMemory!.body).arrayBuffer())]).toEqual([98, 99]);
    expect(storage.reads).toBe(2);
  });
});

/** A store with the optional batch writes (as the filesystem and S3 stores have). */
class BatchStore extends MemoryObjectStore {
  async deleteMany(keys: readonly string[]): Promise<void> {
    for (const key of keys) await this.delete(key);
  }

  putChunks(key: string, chunks: readonly Uint8Array[], options: PutOptions): Promise<void> {
    return this.put(key, joinChunks(chunks), options);
  }
}

describe('ForgettingStore', () => {
  it('offers putChunks, deleteMany and listChildren only where its store does (callers choose by them)', () => {
    const memory = new MemoryObjectCache(1_000);
    const bare: ObjectStore = { put: async () => {}, get: async () => null, head: async () => null, delete: async () => {} };
    const overBare = new ForgettingStore(bare, memory);
    expect([overBare.putChunks, overBare.deleteMany, overBare.listChildren]).toEqual([undefined, undefined, undefined]);
    const overFull = new ForgettingStore(new BatchStore(), memory);
    expect([typeof overFull.putChunks, typeof overFull.deleteMany, typeof overFull.listChildren]).toEqual(['function', 'function', 'function']);
  });

  it('forgets every key that putChunks or deleteMany changes', async () => {
    const memory = new MemoryObjectCache(1_000_000);
    const storage = new BatchStore();
    const writes = new ForgettingStore(storage, memory);
    const viewers = new CachedObjectStore(storage, { memory, shareReadsAcrossRequests: true });
    const keys = ['streams/s/source/abcdefgh1-0.m4s', 'streams/s/source/abcdefgh1-180000.m4s'];
    for (const key of keys) await writes.putChunks!(key, [Uint8Array.of(1)], { contentType: 'video/mp4' });
    for (const key of keys) expect(await text(viewers, key)).toBe('\x01');
    // Replaced behind the cache's back (another writer): the copy still serves...
    await storage.put(keys[0]!, Uint8Array.of(2), { contentType: 'video/mp4' });
    expect(await text(viewers, keys[0]!)).toBe('\x01');
    // ...until this edge writes it.
    await writes.putChunks!(keys[0]!, [Uint8Array.of(3)], { contentType: 'video/mp4' });
    expect(await text(viewers, keys[0]!)).toBe('\x03');
    await writes.deleteMany!(keys);
    for (const key of keys) expect(await viewers.get(key)).toBeNull();
  });
});
