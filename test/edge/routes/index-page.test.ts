import { afterEach, describe, expect, it, vi } from 'vitest';
import { createApp } from '../../../edge/app.ts';
import { MemoryObjectStore } from '../../../shared/storage/memory-object-store.ts';
import type { ByteRange } from '../../../shared/storage/object-store.ts';
import { edgeAppForTest } from '../../helpers/edge-app.ts';

/** The in-memory store, counting listings and reads. */
class CountingStore extends MemoryObjectStore {
  listings = 0;
  reads = 0;
  override listChildren(prefix: string, limit: number) {
    this.listings++;
    return super.listChildren(prefix, limit);
  }
  override get(key: string, range?: ByteRange) {
    this.reads++;
    return super.get(key, range);
  }
}

const liveStatus = (playbackId: string, playback = 'public') =>
  JSON.stringify({ playbackId, state: 'live', startedAt: Date.now(), updatedAt: Date.now(), targetDuration: 2, restarts: 0, playback, renditions: [] });

describe('front page', () => {
  it('lists public streams that are live or reconnecting, newest first, with links; not ended or signed ones', async () => {
    const { app, store } = edgeAppForTest();
    const status = (playbackId: string, state: string, startedAt: number, playback = 'public') =>
      store.put(
        `streams/${playbackId}/status.json`,
        JSON.stringify({ playbackId, state, startedAt, updatedAt: startedAt, targetDuration: 2, restarts: 0, playback, renditions: [{ name: 'source', kind: 'video', codec: 'avc1.640028', width: 1920, height: 1080, bandwidth: 5e6 }] }),
        { contentType: 'application/json' },
      );
    await status('older', 'live', Date.now() - 600_000);
    await status('newer', 'reconnecting', Date.now() - 60_000);
    await status('over', 'ended', Date.now() - 60_000);
    await status('vip', 'live', Date.now(), 'signed');
    await store.put('streams/broken/status.json', '{not json', { contentType: 'application/json' });
    const response = await app.request('/');
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('public, max-age=5');
    const page = await response.text();
    const links = [...page.matchAll(/<a href="\/watch\/([^"]+)">/g)].map((match) => match[1]);
    expect(links).toEqual(['newer', 'older']);
    expect(page).toContain('reconnecting… · for 1 min · up to 1080p');
    expect(page).toContain('href="/live/older/index.m3u8"');
  });

  it("names each stream by the storage prefix its status was read from, never the document's own playbackId", async () => {
    const { app, store } = edgeAppForTest();
    // A writer of stream "colors" claims, in its status document, to be the signed stream "vip".
    await store.put('streams/colors/status.json', liveStatus('vip'), { contentType: 'application/json' });
    await store.put('streams/vip/status.json', liveStatus('vip', 'signed'), { contentType: 'application/json' });
    const page = await (await app.request('/')).text();
    expect([...page.matchAll(/<a href="\/watch\/([^"]+)">/g)].map((match) => match[1])).toEqual(['colors']);
    expect(page).not.toContain('vip');
  });

  describe('one listing serves the front page for a few seconds', () => {
    afterEach(() => vi.useRealTimers());

    it('reads storage once for quick requests, and again once the listing is 3 s old', async () => {
      vi.useFakeTimers({ toFake: ['Date'] });
      const store = new CountingStore();
      for (const id of ['a', 'b', 'c']) await store.put(`streams/${id}/status.json`, liveStatus(id), { contentType: 'application/json' });
      const app = createApp({ store, ingestSecret: undefined, assets: { hlsJsVersion: '1', hlsJsSource: '', dashJsVersion: '1', dashJsSource: '' } });
      const table = [
        { after: 0, listings: 1, reads: 3, streams: ['a', 'b', 'c'] },
        { after: 10, listings: 1, reads: 3, streams: ['a', 'b', 'c'] },
        { after: 2_900, listings: 1, reads: 3, streams: ['a', 'b', 'c'] },
        // A new stream shows once the listing is read again.
        { after: 3_000, listings: 2, reads: 7, streams: ['a', 'b', 'c', 'd'] },
      ];
      const start = Date.now();
      for (const step of table) {
        vi.setSystemTime(start + step.after);
        if (step.after === 3_000) await store.put('streams/d/status.json', liveStatus('d'), { contentType: 'application/json' });
        const page = await (await app.request('/')).text();
        expect({ listings: store.listings, reads: store.reads }, `at ${step.after} ms`).toEqual({ listings: step.listings, reads: step.reads });
        expect([...page.matchAll(/<a href="\/watch\/([^"]+)">/g)].map((match) => match[1]).sort(), `at ${step.after} ms`).toEqual(step.streams);
      }
    });
  });

  it('says so when nobody is live', async () => {
    const { app } = edgeAppForTest();
    expect(await (await app.request('/')).text()).toContain('Nobody is live right now.');
  });
});
