/**
 * Runs inside the Workers runtime (workerd, through @cloudflare/vitest-plugin) with a real R2
 * binding and the real Cache API: what one viewer read, the location's later viewers get from the cache.
 */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { R2ObjectStore } from '../../edge/storage/r2-object-store.ts';
import { createWorkerApp, type Env } from '../../edge/worker.ts';
import type { ByteRange, ObjectStore } from '../../shared/storage/object-store.ts';

/** The R2 store, counting the reads that reach R2, per key. */
class CountingStore extends R2ObjectStore {
  readonly reads = new Map<string, number>();
  private count(key: string): void {
    this.reads.set(key, (this.reads.get(key) ?? 0) + 1);
  }
  override get(key: string, range?: ByteRange) {
    this.count(key);
    return super.get(key, range);
  }
  override head(key: string) {
    this.count(key);
    return super.head(key);
  }
}

const bindings = env as unknown as Env;
const bucket = bindings.BUCKET;
const SEGMENT = 'streams/crowd/source/sessiona1-0.m4s';

/** A live stream with one segment; each test its own stream, so nothing is cached from another. */
async function seed(store: ObjectStore, playbackId: string): Promise<Uint8Array> {
  const status = { playbackId, state: 'live', startedAt: 0, updatedAt: 0, targetDuration: 2, restarts: 0, renditions: [], playback: 'public' };
  await store.put(`streams/${playbackId}/status.json`, JSON.stringify(status), { contentType: 'application/json' });
  const media = Uint8Array.from({ length: 200_000 }, (_, i) => (i * 31) % 251);
  await store.put(`streams/${playbackId}/source/sessiona1-0.m4s`, media, { contentType: 'video/mp4' });
  await store.put(`streams/${playbackId}/source/index.m3u8`, '#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-MAP:URI="init-sessiona1.mp4"\n#EXTINF:2.000,\nsessiona1-0.m4s\n', {
    contentType: 'application/vnd.apple.mpegurl',
  });
  return media;
}

describe('the edge app inside the Workers runtime (R2, Cache API)', () => {
  it('answers 500 concurrent viewers of one segment, and every later viewer (in any isolate of the location) from the cache', async () => {
    const store = new CountingStore(bucket);
    const media = await seed(store, 'crowd');
    const app = createWorkerApp({ ...bindings, INGEST_SECRET: 'secret' }, { store });
    const responses = await Promise.all(Array.from({ length: 500 }, () => app.request(`/live/crowd/source/sessiona1-0.m4s`)));
    expect(responses.every((response) => response.status === 200)).toBe(true);
    const bodies = await Promise.all(responses.slice(0, 3).map(async (response) => new Uint8Array(await response.arrayBuffer())));
    for (const body of bodies) expect(body).toEqual(media);
    // Requests do not wait on each other's reads on Workers: the first ones each read R2.
    const firstReads = store.reads.get(SEGMENT)!;
    expect(firstReads).toBeGreaterThanOrEqual(1);

    const other = createWorkerApp({ ...bindings, INGEST_SECRET: 'secret' }, { store });
    const later = await Promise.all(Array.from({ length: 100 }, () => other.request(`/live/crowd/source/sessiona1-0.m4s`, { headers: { range: 'bytes=0-99' } })));
    expect(later.every((response) => response.status === 206)).toBe(true);
    expect(new Uint8Array(await later[0]!.arrayBuffer())).toEqual(media.subarray(0, 100));
    expect(store.reads.get(SEGMENT)).toBe(firstReads);
  });

  it('answers 500 polls of a live playlist from the cache once one has read it (the playlist and the status document read a few times, not 500)', async () => {
    const store = new CountingStore(bucket);
    await seed(store, 'polled');
    const app = createWorkerApp({ ...bindings, INGEST_SECRET: 'secret' }, { store });
    expect((await app.request('/live/polled/source/index.m3u8')).status).toBe(200);
    const started = Date.now();
    const responses = await Promise.all(Array.from({ length: 500 }, () => app.request('/live/polled/source/index.m3u8')));
    expect(responses.every((response) => response.status === 200)).toBe(true);
    // Documents are cached for a second: a read per second the 500 took (a slow machine takes
    // several), the first read and one to spare; without the cache it would be 500.
    const readsAllowed = Math.ceil((Date.now() - started) / 1000) + 2;
    expect(store.reads.get('streams/polled/source/index.m3u8')).toBeLessThanOrEqual(readsAllowed);
    expect(store.reads.get('streams/polled/status.json')).toBeLessThanOrEqual(readsAllowed);
    expect(readsAllowed).toBeLessThan(100);
  });

  it('lists the live streams in R2 on the front page', async () => {
    const store = new CountingStore(bucket);
    await seed(store, 'listed');
    const app = createWorkerApp({ ...bindings, INGEST_SECRET: 'secret' }, { store });
    const page = await (await app.request('/')).text();
    expect(page).toContain('<a href="/watch/listed">');
    expect(page).toContain('<strong>listed</strong>');
  });

  it('rewrites per viewer in the Workers runtime: max_height keeps the audio group, dvr trims, a token reaches every child URI', async () => {
    const store = new CountingStore(bucket);
    await seed(store, 'rewritten');
    await store.put(
      'streams/rewritten/index.m3u8',
      '#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="audio",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="2",URI="audio/index.m3u8"\n' +
        '#EXT-X-STREAM-INF:BANDWIDTH=5000000,CODECS="avc1.640028,mp4a.40.2",RESOLUTION=1920x1080,AUDIO="audio"\nsource/index.m3u8\n' +
        '#EXT-X-STREAM-INF:BANDWIDTH=900000,CODECS="avc1.64001e,mp4a.40.2",RESOLUTION=640x360,AUDIO="audio"\n360p/index.m3u8\n',
      { contentType: 'application/vnd.apple.mpegurl' },
    );
    const segments = Array.from({ length: 8 }, (_, i) => `#EXTINF:2.000,\nsessiona1-${i * 2000}.m4s`).join('\n');
    await store.put('streams/rewritten/source/index.m3u8', `#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:20\n#EXT-X-MAP:URI="init-sessiona1.mp4"\n${segments}\n`, {
      contentType: 'application/vnd.apple.mpegurl',
    });
    const app = createWorkerApp({ ...bindings, INGEST_SECRET: 'secret' }, { store });
    const multivariant = await (await app.request('/live/rewritten/index.m3u8?max_height=720&dvr=6&token=1.x')).text();
    expect(multivariant).not.toContain('source/index.m3u8');
    expect(multivariant).toContain('360p/index.m3u8?token=1.x&dvr=6');
    expect(multivariant).toContain('URI="audio/index.m3u8?token=1.x&dvr=6"');
    const media = await (await app.request('/live/rewritten/source/index.m3u8?dvr=6&token=1.x')).text();
    expect(media).toContain('#EXT-X-MEDIA-SEQUENCE:25');
    expect(media).toContain('#EXT-X-MAP:URI="init-sessiona1.mp4?token=1.x"');
    expect(media.match(/\.m4s\?token=1\.x/g)).toHaveLength(3);
    expect((await app.request('/live/rewritten/index.m3u8?max_height=huge')).status).toBe(400);
  });
});
