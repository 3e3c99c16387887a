/** `/live/ID/thumbnail.jpg` through the edge app: what a browser, a CDN and a viewer of a signed stream get. */
import { beforeEach, describe, expect, it } from 'vitest';
import { mintPlaybackToken } from '../../../shared/playback-token.ts';
import type { MemoryObjectStore } from '../../../shared/storage/memory-object-store.ts';
import { withCaptureTime } from '../../../shared/thumbnail/jpeg-facts.ts';
import { thumbnailCacheControl, thumbnailMaxAge } from '../../../edge/cache/thumbnail-cache-control.ts';
import { edgeAppForTest, putStreamStatus, TEST_PLAYBACK_SECRET } from '../../helpers/edge-app.ts';
import { jpegHeader } from '../../helpers/jpeg-header.ts';

const JPEG = { contentType: 'image/jpeg' };

async function putThumbnails(store: MemoryObjectStore, playbackId: string, capturedAt: number) {
  await store.put(`streams/${playbackId}/thumbnail-320.jpg`, withCaptureTime(jpegHeader(320, 180), capturedAt), JPEG);
  await store.put(`streams/${playbackId}/thumbnail-640.jpg`, withCaptureTime(jpegHeader(640, 360), capturedAt), JPEG);
  await store.put(`streams/${playbackId}/thumbnail.jpg`, withCaptureTime(jpegHeader(1280, 720), capturedAt), JPEG);
}

/** The served picture's width, read from its frame header. */
async function servedWidth(response: Response): Promise<number> {
  const bytes = new Uint8Array(await response.arrayBuffer());
  const sof = bytes.findIndex((byte, index) => byte === 0xff && bytes[index + 1] === 0xc0);
  return (bytes[sof + 7]! << 8) | bytes[sof + 8]!;
}

describe('thumbnail cache life', () => {
  const at = 1_765_000_000_000;
  it.each([
    { name: 'just captured: until the next is due', capturedAt: at, now: at, state: 'live', expected: 10 },
    { name: 'half-way', capturedAt: at, now: at + 4_500, state: 'live', expected: 6 },
    { name: 'almost due', capturedAt: at, now: at + 9_900, state: 'live', expected: 1 },
    { name: 'overdue (a slow store): still a second', capturedAt: at, now: at + 30_000, state: 'live', expected: 1 },
    { name: 'a clock ahead of the capture: at most the interval', capturedAt: at + 5_000, now: at, state: 'live', expected: 10 },
    { name: 'reconnecting: as live', capturedAt: at, now: at + 2_000, state: 'reconnecting', expected: 8 },
    { name: 'no capture time: a second', capturedAt: undefined, now: at, state: 'live', expected: 1 },
    { name: 'ended: a minute', capturedAt: at, now: at + 3_600_000, state: 'ended', expected: 60 },
  ] as const)('$name', ({ capturedAt, now, state, expected }) => {
    expect(thumbnailMaxAge({ capturedAt, now, state })).toBe(expected);
  });

  it('is public for a public stream, private and within the token for a signed one', () => {
    expect(thumbnailCacheControl({ capturedAt: at, now: at, state: 'live' })).toBe('public, max-age=10');
    expect(thumbnailCacheControl({ capturedAt: at, now: at, state: 'live', tokenSecondsLeft: 3600 })).toBe('private, max-age=10');
    expect(thumbnailCacheControl({ capturedAt: at, now: at, state: 'ended', tokenSecondsLeft: 4.7 })).toBe('private, max-age=4');
  });
});

describe('/live/ID/thumbnail.jpg', () => {
  let app: ReturnType<typeof edgeAppForTest>['app'];
  let store: MemoryObjectStore;

  beforeEach(() => {
    ({ app, store } = edgeAppForTest({ playbackSecret: TEST_PLAYBACK_SECRET }));
  });

  it('is a 404 no-store before the stream and before its first thumbnail', async () => {
    const never = await app.request('/live/colors/thumbnail.jpg');
    expect(never.status).toBe(404);
    expect(never.headers.get('cache-control')).toBe('no-store');
    await putStreamStatus(store, 'colors');
    const early = await app.request('/live/colors/thumbnail.jpg');
    expect(early.status).toBe(404);
    expect(early.headers.get('cache-control')).toBe('no-store');
    expect(await early.json()).toEqual({ error: expect.stringContaining('no thumbnail yet') });
  });

  it('serves the newest JPEG with a life until the next is due, an ETag and 304', async () => {
    await putStreamStatus(store, 'colors');
    await putThumbnails(store, 'colors', Date.now() - 3_000);
    const response = await app.request('/live/colors/thumbnail.jpg');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/jpeg');
    expect(response.headers.get('cache-control')).toMatch(/^public, max-age=(7|6)$/);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    const etag = response.headers.get('etag')!;
    expect(etag).toMatch(/^".+"$/);
    expect(await servedWidth(response)).toBe(1280);
    const again = await app.request('/live/colors/thumbnail.jpg', { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    expect(again.headers.get('cache-control')).toMatch(/^public, max-age=\d+$/);
    expect(await again.text()).toBe('');
    const head = await app.request('/live/colors/thumbnail.jpg', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String((await store.head('streams/colors/thumbnail.jpg'))!.size));
  });

  it.each([
    { query: 'width=100', width: 320 },
    { query: 'width=320', width: 320 },
    { query: 'width=500', width: 640 },
    { query: 'width=1000', width: 1280 },
    { query: 'width=1920', width: 1280 },
    { query: 'height=180', width: 320 },
    { query: 'height=360', width: 640 },
    { query: 'height=1080', width: 1280 },
    { query: 'width=200&height=300', width: 640 },
  ])('?$query: the nearest stored picture not smaller ($width wide)', async ({ query, width }) => {
    await putStreamStatus(store, 'colors');
    await putThumbnails(store, 'colors', Date.now());
    const response = await app.request(`/live/colors/thumbnail.jpg?${query}`);
    expect(response.status).toBe(200);
    expect(await servedWidth(response)).toBe(width);
  });

  it('answers a width not stored yet with the full-size picture', async () => {
    await putStreamStatus(store, 'colors');
    await store.put('streams/colors/thumbnail.jpg', withCaptureTime(jpegHeader(1280, 720), Date.now()), JPEG);
    expect(await servedWidth(await app.request('/live/colors/thumbnail.jpg?width=320'))).toBe(1280);
  });

  it.each([
    { query: 'width=0', reason: '"width" must be a whole number from 16 to 1920' },
    { query: 'width=4000', reason: '"width" must be a whole number from 16 to 1920' },
    { query: 'height=2000', reason: '"height" must be a whole number from 16 to 1080' },
    { query: 'width=abc', reason: '"width" must be a whole number from 16 to 1920' },
    { query: 'width=320&width=640', reason: '"width" may appear once' },
  ])('refuses ?$query with 400 and the reason', async ({ query, reason }) => {
    await putStreamStatus(store, 'colors');
    await putThumbnails(store, 'colors', Date.now());
    const response = await app.request(`/live/colors/thumbnail.jpg?${query}`);
    expect(response.status).toBe(400);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(await response.json()).toEqual({ error: reason });
  });

  it('keeps the fixed-width objects from being URLs of their own', async () => {
    await putStreamStatus(store, 'colors');
    await putThumbnails(store, 'colors', Date.now());
    for (const path of ['/live/colors/thumbnail-320.jpg', '/live/colors/thumbnail.png', '/live/colors/thumbnails.jpg']) {
      expect((await app.request(path)).status, path).toBe(404);
    }
  });

  it('is longer-lived once the stream ended (the last thumbnail stays)', async () => {
    await store.put('streams/colors/status.json', JSON.stringify({ playbackId: 'colors', state: 'ended', startedAt: 0, updatedAt: 0, targetDuration: 2, restarts: 0, renditions: [] }), { contentType: 'application/json' });
    await putThumbnails(store, 'colors', Date.now() - 3_600_000);
    const response = await app.request('/live/colors/thumbnail.jpg');
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('public, max-age=60');
  });

  it("honours a signed stream's playback token as its segments do", async () => {
    await putStreamStatus(store, 'vip', 'signed');
    await putThumbnails(store, 'vip', Date.now());
    const expiresAt = Math.floor(Date.now() / 1000) + 5;
    const token = await mintPlaybackToken(TEST_PLAYBACK_SECRET, 'vip', expiresAt);
    const foreign = await mintPlaybackToken(TEST_PLAYBACK_SECRET, 'other', expiresAt);
    const expired = await mintPlaybackToken(TEST_PLAYBACK_SECRET, 'vip', Math.floor(Date.now() / 1000) - 1);
    for (const [query, status] of [['', 401], [`?token=${foreign}`, 403], [`?token=${expired}`, 403], ['?token=a%20b', 400]] as const) {
      const refused = await app.request(`/live/vip/thumbnail.jpg${query}`);
      expect(refused.status, query).toBe(status);
      expect(refused.headers.get('cache-control'), query).toBe('no-store');
    }
    const allowed = await app.request(`/live/vip/thumbnail.jpg?token=${token}&width=320`);
    expect(allowed.status).toBe(200);
    // The viewer's own cache only, and no longer than the token lives.
    expect(allowed.headers.get('cache-control')).toMatch(/^private, max-age=[3-5]$/);
    expect(await servedWidth(allowed)).toBe(320);
    // Segments of the same stream refuse and accept the same tokens.
    await store.put('streams/vip/source/sessiona1-0.m4s', new Uint8Array(10), { contentType: 'video/mp4' });
    expect((await app.request('/live/vip/source/sessiona1-0.m4s')).status).toBe(401);
    expect((await app.request(`/live/vip/source/sessiona1-0.m4s?token=${token}`)).status).toBe(200);
  });
});

describe('/live/ID/thumbnail.webp', () => {
  let app: ReturnType<typeof edgeAppForTest>['app'];
  let store: MemoryObjectStore;
  const WEBP = { contentType: 'image/webp' };
  // The edge never decodes a WebP: stand-ins that say which picture they are.
  const webp = (name: string) => new TextEncoder().encode(`RIFF\0\0\0\0WEBP ${name}`);
  const servedWebp = async (response: Response) => new TextDecoder().decode(await response.arrayBuffer()).slice('RIFF\0\0\0\0WEBP '.length);

  async function putWebps(playbackId: string, capturedAt: number) {
    await store.put(`streams/${playbackId}/thumbnail-320.webp`, webp('320'), WEBP);
    await store.put(`streams/${playbackId}/thumbnail-640.webp`, webp('640'), WEBP);
    await store.put(`streams/${playbackId}/thumbnail.webp`, webp('full'), WEBP);
    await putThumbnails(store, playbackId, capturedAt);
  }

  beforeEach(() => {
    ({ app, store } = edgeAppForTest({ playbackSecret: TEST_PLAYBACK_SECRET }));
  });

  it('serves the WebP of the JPEG-chosen width, cached as the JPEG is, with an ETag of its own and 304', async () => {
    await putStreamStatus(store, 'colors');
    await putWebps('colors', Date.now() - 3_000);
    const response = await app.request('/live/colors/thumbnail.webp');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/webp');
    expect(response.headers.get('cache-control')).toMatch(/^public, max-age=(7|6)$/);
    const etag = response.headers.get('etag')!;
    expect(etag).toBe(`"${(await store.head('streams/colors/thumbnail.webp'))!.etag}"`);
    expect(await servedWebp(response)).toBe('full');
    expect((await app.request('/live/colors/thumbnail.webp', { headers: { 'if-none-match': etag } })).status).toBe(304);
    for (const [query, picture] of [['width=100', '320'], ['width=500', '640'], ['height=360', '640'], ['width=1000', 'full']] as const) {
      expect(await servedWebp(await app.request(`/live/colors/thumbnail.webp?${query}`)), query).toBe(picture);
    }
  });

  it('answers a width not stored yet with the full-size WebP, and a stream with JPEGs only with a 404 that says so', async () => {
    await putStreamStatus(store, 'colors');
    await putThumbnails(store, 'colors', Date.now());
    const none = await app.request('/live/colors/thumbnail.webp?width=320');
    expect(none.status).toBe(404);
    expect(none.headers.get('cache-control')).toBe('no-store');
    expect(await none.json()).toEqual({ error: expect.stringContaining('no WebP thumbnail') });
    await store.put('streams/colors/thumbnail.webp', webp('full'), WEBP);
    expect(await servedWebp(await app.request('/live/colors/thumbnail.webp?width=320'))).toBe('full');
  });

  it('has the JPEG route’s errors: no thumbnail yet, bad sizes, fixed widths not URLs of their own', async () => {
    await putStreamStatus(store, 'colors');
    const early = await app.request('/live/colors/thumbnail.webp');
    expect(early.status).toBe(404);
    expect(await early.json()).toEqual({ error: expect.stringContaining('no thumbnail yet') });
    await putWebps('colors', Date.now());
    const bad = await app.request('/live/colors/thumbnail.webp?width=4000');
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: '"width" must be a whole number from 16 to 1920' });
    expect((await app.request('/live/colors/thumbnail-320.webp')).status).toBe(404);
  });

  it("honours a signed stream's playback token", async () => {
    await putStreamStatus(store, 'vip', 'signed');
    await putWebps('vip', Date.now());
    expect((await app.request('/live/vip/thumbnail.webp')).status).toBe(401);
    const token = await mintPlaybackToken(TEST_PLAYBACK_SECRET, 'vip', Math.floor(Date.now() / 1000) + 5);
    const allowed = await app.request(`/live/vip/thumbnail.webp?token=${token}&width=320`);
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('cache-control')).toMatch(/^private, max-age=[3-5]$/);
    expect(await servedWebp(allowed)).toBe('320');
  });
});
