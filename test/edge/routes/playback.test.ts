import { beforeEach, describe, expect, it } from 'vitest';
import { renderMediaPlaylist } from '../../../shared/hls/media-playlist.ts';
import type { MemoryObjectStore } from '../../../shared/storage/memory-object-store.ts';
import { edgeAppForTest, putStreamStatus } from '../../helpers/edge-app.ts';

const MULTIVARIANT = [
  '#EXTM3U',
  '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="audio",DEFAULT=YES,AUTOSELECT=YES,URI="audio/index.m3u8"',
  '#EXT-X-STREAM-INF:BANDWIDTH=900000,CODECS="avc1.64001e,mp4a.40.2",AUDIO="audio"',
  'source/index.m3u8',
  '',
].join('\n');

function mediaPlaylist(ended: boolean, targetDuration = 2): string {
  return renderMediaPlaylist({
    targetDuration,
    mediaSequence: 0,
    discontinuitySequence: 0,
    ended,
    segments: [{ uri: 'abcdefgh1-0.m4s', duration: 2, initUri: 'init-abcdefgh1.mp4', programDateTime: 0 }],
  });
}

describe('edge playback routes', () => {
  let app: ReturnType<typeof edgeAppForTest>['app'];
  let store: MemoryObjectStore;

  beforeEach(async () => {
    ({ app, store } = edgeAppForTest());
    await putStreamStatus(store, 'colors');
    await store.put('streams/colors/index.m3u8', MULTIVARIANT, { contentType: 'application/vnd.apple.mpegurl' });
    await store.put('streams/colors/source/index.m3u8', mediaPlaylist(false, 4), { contentType: 'application/vnd.apple.mpegurl' });
    await store.put('streams/colors/source/init-abcdefgh1.mp4', new Uint8Array([1, 2, 3]), { contentType: 'video/mp4' });
    await store.put('streams/colors/audio/abcdefgh1-0.m4s', new Uint8Array(10), { contentType: 'audio/mp4' });
  });

  it('serves no playlist of a broadcast that is starting (storage may hold the previous one\'s), and serves them once it is live', async () => {
    const starting = { playbackId: 'colors', state: 'starting', startedAt: 0, updatedAt: 0, targetDuration: 2, restarts: 0, renditions: [] };
    await store.put('streams/colors/status.json', JSON.stringify(starting), { contentType: 'application/json' });
    await store.put('streams/colors/manifest.mpd', '<?xml version="1.0"?><MPD type="static"><Period/></MPD>', { contentType: 'application/dash+xml' });
    for (const path of ['/live/colors/index.m3u8', '/live/colors.m3u8', '/live/colors/source/index.m3u8', '/live/colors/manifest.mpd']) {
      const response = await app.request(path);
      expect(response.status, path).toBe(404);
      expect(response.headers.get('cache-control'), path).toBe('no-store');
      expect(await response.json(), path).toEqual({ error: expect.stringContaining('starting') });
    }
    // Media names are never reused: they stay fetchable.
    expect((await app.request('/live/colors/source/init-abcdefgh1.mp4')).status).toBe(200);
    await putStreamStatus(store, 'colors');
    expect((await app.request('/live/colors/index.m3u8')).status).toBe(200);
  });

  const cases = [
    { name: 'multivariant', path: '/live/colors/index.m3u8', type: 'application/vnd.apple.mpegurl', cache: 'public, max-age=2' },
    { name: 'live media playlist (target 4 s: half is 2 s)', path: '/live/colors/source/index.m3u8', type: 'application/vnd.apple.mpegurl', cache: 'public, max-age=2, stale-while-revalidate=2' },
    { name: 'init segment', path: '/live/colors/source/init-abcdefgh1.mp4', type: 'video/mp4', cache: 'public, max-age=31536000, immutable' },
    { name: 'audio segment', path: '/live/colors/audio/abcdefgh1-0.m4s', type: 'audio/mp4', cache: 'public, max-age=31536000, immutable' },
  ];

  it.each(cases)('serves the $name with its content type, caching and CORS', async ({ path, type, cache }) => {
    const response = await app.request(path, { headers: { origin: 'https://player.example' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(type);
    expect(response.headers.get('cache-control')).toBe(cache);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(response.headers.get('etag')).toMatch(/^"m\d+"$/);
  });

  it('caches an ended media playlist longer than a live one', async () => {
    await store.put('streams/colors/source/index.m3u8', mediaPlaylist(true), { contentType: 'application/vnd.apple.mpegurl' });
    const response = await app.request('/live/colors/source/index.m3u8');
    expect(response.headers.get('cache-control')).toBe('public, max-age=60');
  });

  it('serves the blog URL /live/ID.m3u8 with child URIs that resolve from there', async () => {
    const response = await app.request('/live/colors.m3u8');
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).toContain('URI="colors/audio/index.m3u8"');
    expect(text).toContain('\ncolors/source/index.m3u8\n');
    const base = 'http://localhost:8080/live/colors.m3u8';
    expect(new URL('colors/source/index.m3u8', base).pathname).toBe('/live/colors/source/index.m3u8');
  });

  it('answers a not-yet-written object with a 404 no CDN keeps', async () => {
    const response = await app.request('/live/colors/source/abcdefgh1-1.m4s');
    expect(response.status).toBe(404);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(await response.json()).toMatchObject({ error: expect.stringMatching(/not found/) });
  });

  it.each([
    { name: 'an invalid stream id', path: '/live/bad.id/index.m3u8', status: 400 },
    { name: 'a path outside the layout', path: '/live/colors/source/../../x/index.m3u8', status: 404 },
    { name: 'an unknown file', path: '/live/colors/source/passwd', status: 404 },
  ])('refuses $name', async ({ path, status }) => {
    const response = await app.request(path);
    expect(response.status).toBe(status);
    expect(response.headers.get('cache-control')).toBe('no-store');
  });

  it.each([
    { name: 'not JSON', body: '{"playbackId": "colors", "sta' },
    { name: 'JSON of the wrong shape', body: JSON.stringify({ playbackId: 'colors', state: 'paused', renditions: [] }) },
    { name: 'a playback mode it does not know', body: JSON.stringify({ playbackId: 'colors', state: 'live', startedAt: 0, updatedAt: 0, targetDuration: 2, restarts: 0, renditions: [], playback: 'secret' }) },
  ])('answers a 502 no CDN keeps, not a "not live yet" 404 nor media, when the status document is $name', async ({ body }) => {
    await store.put('streams/colors/status.json', body, { contentType: 'application/json' });
    for (const path of ['/live/colors/index.m3u8', '/live/colors/source/index.m3u8', '/live/colors/source/init-abcdefgh1.mp4']) {
      const response = await app.request(path);
      expect(response.status, path).toBe(502);
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(await response.json()).toEqual({ error: "this stream's status at the origin is unreadable" });
    }
  });

  it('serves the status document, short-lived', async () => {
    await store.put('streams/colors/status.json', JSON.stringify({ playbackId: 'colors', state: 'reconnecting' }), { contentType: 'application/json' });
    const response = await app.request('/live/colors/status.json');
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('public, max-age=1');
    expect(await response.json()).toMatchObject({ state: 'reconnecting' });
    expect((await app.request('/live/nobody/status.json')).status).toBe(404);
  });

  it('answers CORS preflight for players on other origins', async () => {
    const response = await app.request('/live/colors/index.m3u8', {
      method: 'OPTIONS',
      headers: { origin: 'https://player.example', 'access-control-request-method': 'GET' },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(response.headers.get('access-control-allow-methods')).toContain('GET');
  });

  it('serves the player page with hls.js from the worker itself', async () => {
    const page = await app.request('/watch/colors');
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('src="/assets/hls-9.9.9.min.js"');
    expect(html).toContain('"/live/colors/index.m3u8"');
    const script = await app.request('/assets/hls-9.9.9.min.js');
    expect(script.headers.get('content-type')).toMatch(/javascript/);
    expect(script.headers.get('cache-control')).toContain('immutable');
    expect((await app.request('/watch/%3Cscript%3E')).status).toBe(400);
    const dash = await (await app.request('/watch/colors?format=dash')).text();
    expect(dash).toContain('src="/assets/dash-8.8.8.min.js"');
    expect(dash).toContain('"/live/colors/manifest.mpd"');
    // dash.js starts playback itself: a play() of the page's own before dash.js listens for the
    // video's "play" event would keep it from ever reloading the live MPD. (The page's script is
    // edge/player/client/, bundled and served beside the page.)
    const client = /<script src="(\/assets\/player-[0-9a-f]+\.js)"><\/script>/.exec(dash)?.[1];
    expect(client).toBeDefined();
    const clientScript = await (await app.request(client ?? '')).text();
    // The live stream's source autoplays (a recording after the live end may wait for the viewer).
    expect(clientScript).toMatch(/player\.initialize\(video, manifestUrl, source\.autoplay\)/);
    expect(clientScript).toMatch(/source = \{ url: config\.manifestUrl, autoplay: true, live: true \}/);
    expect(clientScript).toMatch(/engine = STARTERS\[config\.player\]\(page, source\);\s+if \(config\.player === "hls\.js" && source\.autoplay\) video\.play\(\)/);
    expect((await app.request('/assets/dash-8.8.8.min.js')).status).toBe(200);
    expect((await app.request('/watch/colors?format=flash')).status).toBe(400);
  });

  it.each([
    { name: 'max_height', query: 'max_height=360', hls: '"/live/colors/index.m3u8?max_height=360"', dash: '"/live/colors/manifest.mpd?max_height=360"' },
    { name: 'a DVR window and a token', query: 'dvr=30&token=123.abc', hls: '"/live/colors/index.m3u8?token=123.abc&dvr=30"', dash: '"/live/colors/manifest.mpd?token=123.abc&dvr=30"' },
  ])('hands the viewer\'s $name on from /watch to the manifests it plays', async ({ query, hls, dash }) => {
    expect(await (await app.request(`/watch/colors?${query}`)).text()).toContain(hls);
    expect(await (await app.request(`/watch/colors?format=dash&${query}`)).text()).toContain(dash);
    expect((await app.request('/watch/colors?max_height=tall')).status).toBe(400);
  });

  it('has an icon every page links, and answers /favicon.ico without a 404', async () => {
    expect(await (await app.request('/watch/colors')).text()).toContain('<link rel="icon" type="image/svg+xml" href="/favicon.svg">');
    const icon = await app.request('/favicon.svg');
    expect(icon.status).toBe(200);
    expect(icon.headers.get('content-type')).toBe('image/svg+xml');
    expect(await icon.text()).toMatch(/^<svg /);
    expect((await app.request('/favicon.ico')).status).toBe(204);
  });
});
