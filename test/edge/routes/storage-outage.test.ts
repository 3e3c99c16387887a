import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createApp } from '../../../edge/app.ts';
import { MemoryObjectStore } from '../../../shared/storage/memory-object-store.ts';
import type { ByteRange } from '../../../shared/storage/object-store.ts';
import { putStreamStatus } from '../../helpers/edge-app.ts';

/** Storage whose reads fail while `down`, the way an unreachable S3 endpoint's client throws. */
class FlakyStore extends MemoryObjectStore {
  down = false;
  override async get(key: string, range?: ByteRange) {
    if (this.down) throw new Error('connect ECONNREFUSED 10.1.2.3:9000 (bucket media-secret-name)');
    return super.get(key, range);
  }
  override async head(key: string) {
    if (this.down) throw new Error('connect ECONNREFUSED 10.1.2.3:9000');
    return super.head(key);
  }
}

describe('the edge while storage is unreachable', () => {
  let store: FlakyStore;
  let app: ReturnType<typeof createApp>;

  beforeEach(async () => {
    store = new FlakyStore();
    app = createApp({ store, ingestSecret: undefined, assets: { hlsJsVersion: '1', hlsJsSource: '', dashJsVersion: '1', dashJsSource: '' } });
    await putStreamStatus(store, 'colors');
    await store.put('streams/colors/source/index.m3u8', '#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\nabcdefgh1-0.m4s\n', { contentType: 'application/vnd.apple.mpegurl' });
    await store.put('streams/colors/source/abcdefgh1-0.m4s', new Uint8Array(8), { contentType: 'video/mp4' });
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
  });
  afterEach(() => vi.restoreAllMocks());

  it.each(['/live/colors/source/index.m3u8', '/live/colors/source/abcdefgh1-0.m4s', '/live/colors.m3u8', '/live/colors/status.json'])(
    'answers %s with a 503 to retry after a second, not cached, without the store\'s error text',
    async (path) => {
      store.down = true;
      const response = await app.request(path);
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe('1');
      expect(response.headers.get('cache-control')).toBe('no-store');
      const body = await response.text();
      expect(JSON.parse(body)).toEqual({ error: 'storage is unavailable at the moment; try again shortly' });
      expect(body).not.toContain('10.1.2.3');
      // The operator sees why.
      expect(String(vi.mocked(console.error).mock.calls[0])).toContain('ECONNREFUSED');
    },
  );

  it('serves again as soon as storage is back (the failure was not remembered)', async () => {
    store.down = true;
    expect((await app.request('/live/colors/source/abcdefgh1-0.m4s')).status).toBe(503);
    store.down = false;
    expect((await app.request('/live/colors/source/abcdefgh1-0.m4s')).status).toBe(200);
    expect((await app.request('/live/colors/source/index.m3u8')).status).toBe(200);
  });

  it('still answers a missing object with 404, and bad input with 4xx, when storage is up', async () => {
    expect((await app.request('/live/colors/source/abcdefgh1-9.m4s')).status).toBe(404);
    expect((await app.request('/live/colors/source/..%2f..%2fsecrets')).status).toBeGreaterThanOrEqual(400);
  });
});
