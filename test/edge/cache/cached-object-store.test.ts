import { describe, expect, it } from 'vitest';
import { CachedObjectStore } from '../../../edge/cache/cached-object-store.ts';
import { MemoryObjectStore } from '../../../shared/storage/memory-object-store.ts';
import type { ByteRange } from '../../../shared/storage/object-store.ts';

/** A store whose reads take a moment (so they overlap) and are counted. */
class SlowCountingStore extends MemoryObjectStore {
  reads = 0;
  override async get(key: string, range?: ByteRange) {
    this.reads += 1;
    await new Promise((resolve) => setTimeout(resolve, 20));
    return super.get(key, range);
  }
}

async function concurrentReads(shareReadsAcrossRequests: boolean) {
  const store = new SlowCountingStore();
  const bytes = Uint8Array.from({ length: 5000 }, (_, i) => i % 251);
  await store.put('streams/s/source/abcdefgh1-0.m4s', bytes, { contentType: 'video/mp4' });
  const cache = new CachedObjectStore(store, { ttlSeconds: () => 1, shareReadsAcrossRequests });
  const objects = await Promise.all(Array.from({ length: 50 }, () => cache.get('streams/s/source/abcdefgh1-0.m4s')));
  const bodies = await Promise.all(objects.map(async (object) => new Uint8Array(await new Response(object!.body).arrayBuffer())));
  for (const body of bodies) expect(body).toEqual(bytes);
  return store.reads;
}

describe('CachedObjectStore', () => {
  it('makes 50 concurrent reads of one object one storage read where requests may share it (Node, Deno)', async () => {
    expect(await concurrentReads(true)).toBe(1);
  });

  it('lets every request read for itself where they must not wait on each other (Workers)', async () => {
    expect(await concurrentReads(false)).toBe(50);
  });

  it('reads again once a read has settled, and does not keep a missing object as missing', async () => {
    const store = new SlowCountingStore();
    const cache = new CachedObjectStore(store, { ttlSeconds: () => 1, shareReadsAcrossRequests: true });
    expect(await cache.get('streams/s/status.json')).toBeNull();
    await store.put('streams/s/status.json', '{}', { contentType: 'application/json' });
    expect(await cache.get('streams/s/status.json')).not.toBeNull();
    expect(store.reads).toBe(2);
  });
});
