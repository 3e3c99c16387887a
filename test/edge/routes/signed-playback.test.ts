/** Signed playback and per-viewer rewriting through the edge app: what a player sees for each query. */
import { beforeEach, describe, expect, it } from 'vitest';
import { renderMediaPlaylist } from '../../../shared/hls/media-playlist.ts';
import { renderMultivariantPlaylist } from '../../../shared/hls/multivariant-playlist.ts';
import { mintPlaybackToken } from '../../../shared/playback-token.ts';
import type { MemoryObjectStore } from '../../../shared/storage/memory-object-store.ts';
import { edgeAppForTest, putStreamStatus, TEST_PLAYBACK_SECRET } from '../../helpers/edge-app.ts';
import { parseM3u8 } from '../../helpers/m3u8.ts';

const HLS = { contentType: 'application/vnd.apple.mpegurl' };
const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;

async function seed(store: MemoryObjectStore, playbackId: string, playback: 'public' | 'signed') {
  await putStreamStatus(store, playbackId, playback);
  await store.put(
    `streams/${playbackId}/index.m3u8`,
    renderMultivariantPlaylist({
      audio: [{ groupId: 'audio', name: 'audio', uri: 'audio/index.m3u8', channels: 2, isDefault: true }],
      variants: [
        { uri: 'source/index.m3u8', bandwidth: 5_000_000, codecs: ['avc1.640028', 'mp4a.40.2'], resolution: { width: 1920, height: 1080 }, audioGroupId: 'audio' },
        { uri: '360p/index.m3u8', bandwidth: 900_000, codecs: ['avc1.64001e', 'mp4a.40.2'], resolution: { width: 640, height: 360 }, audioGroupId: 'audio' },
      ],
    }),
    HLS,
  );
  const segments = [0, 1, 2, 3, 4].map((i) => ({ uri: `sessiona1-${i * 2000}.m4s`, duration: 2, initUri: 'init-sessiona1.mp4', programDateTime: Date.now() + i * 2000 }));
  await store.put(`streams/${playbackId}/source/index.m3u8`, renderMediaPlaylist({ targetDuration: 2, mediaSequence: 7, discontinuitySequence: 0, segments, ended: false }), HLS);
  await store.put(`streams/${playbackId}/source/sessiona1-0.m4s`, new Uint8Array(10), { contentType: 'video/mp4' });
}

describe('signed playback at the edge', () => {
  let app: ReturnType<typeof edgeAppForTest>['app'];
  let store: MemoryObjectStore;

  beforeEach(async () => {
    ({ app, store } = edgeAppForTest({ playbackSecret: TEST_PLAYBACK_SECRET }));
    await seed(store, 'vip', 'signed');
    await seed(store, 'open', 'public');
  });

  it('refuses every playlist and segment of a signed stream without a token (401), with a wrong or expired one (403)', async () => {
    const expired = await mintPlaybackToken(TEST_PLAYBACK_SECRET, 'vip', Math.floor(Date.now() / 1000) - 1);
    const foreign = await mintPlaybackToken(TEST_PLAYBACK_SECRET, 'open', inAnHour());
    for (const path of ['/live/vip/index.m3u8', '/live/vip.m3u8', '/live/vip/source/index.m3u8', '/live/vip/source/sessiona1-0.m4s']) {
      const missing = await app.request(path);
      expect(missing.status, path).toBe(401);
      expect(await missing.json()).toEqual({ error: expect.stringContaining('token') });
      expect(missing.headers.get('cache-control')).toBe('no-store');
      expect((await app.request(`${path}?token=${expired}`)).status, path).toBe(403);
      expect((await app.request(`${path}?token=${foreign}`)).status, path).toBe(403);
    }
    // The status document stays public: it is how a page learns that a token is needed.
    expect((await app.request('/live/vip/status.json')).status).toBe(200);
  });

  it('serves a signed stream with a valid token, and carries the token to every child URI', async () => {
    const token = await mintPlaybackToken(TEST_PLAYBACK_SECRET, 'vip', inAnHour());
    const multivariant = parseM3u8(await (await app.request(`/live/vip/index.m3u8?token=${token}`)).text());
    expect(multivariant.playlists!.map((p) => p.uri)).toEqual([`source/index.m3u8?token=${token}`, `360p/index.m3u8?token=${token}`]);
    expect(multivariant.mediaGroups!.AUDIO!.audio!.audio!.uri).toBe(`audio/index.m3u8?token=${token}`);
    const media = parseM3u8(await (await app.request(`/live/vip/source/index.m3u8?token=${token}`)).text());
    expect(media.segments[0]!.uri).toBe(`sessiona1-0.m4s?token=${token}`);
    expect(media.segments[0]!.map?.uri).toBe(`init-sessiona1.mp4?token=${token}`);
    expect((await app.request(`/live/vip/source/sessiona1-0.m4s?token=${token}`)).status).toBe(200);
  });

  it('keeps a signed stream out of shared caches: playlists private, no-store, without a validator; media no longer than the token lives', async () => {
    const expiresAt = Math.floor(Date.now() / 1000) + 600;
    const token = await mintPlaybackToken(TEST_PLAYBACK_SECRET, 'vip', expiresAt);
    await store.put('streams/vip/manifest.mpd', '<?xml version="1.0"?><MPD type="dynamic" maxSegmentDuration="PT2S"><Period/></MPD>', { contentType: 'application/dash+xml' });
    for (const path of ['/live/vip/index.m3u8', '/live/vip.m3u8', '/live/vip/source/index.m3u8', '/live/vip/manifest.mpd']) {
      const response = await app.request(`${path}?token=${token}`);
      expect(response.status, path).toBe(200);
      expect(response.headers.get('cache-control'), path).toBe('private, no-store');
      expect(response.headers.get('etag'), path).toBeNull();
    }
    const segment = await app.request(`/live/vip/source/sessiona1-0.m4s?token=${token}`);
    const maxAge = Number(/^private, max-age=(\d+)$/.exec(segment.headers.get('cache-control') ?? '')?.[1]);
    expect(maxAge).toBeGreaterThan(590);
    expect(maxAge).toBeLessThanOrEqual(600);
    // Its validator is the stored object's: nothing of the token in any header.
    for (const [name, value] of segment.headers) expect(value, name).not.toContain(token.split('.')[1]!);
  });

  it('never puts a token in an ETag, even on a public stream given one', async () => {
    const token = await mintPlaybackToken(TEST_PLAYBACK_SECRET, 'open', inAnHour());
    const response = await app.request(`/live/open/index.m3u8?token=${token}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('etag')).not.toContain(token.split('.')[1]!);
    expect(response.headers.get('etag')).not.toContain(token.split('.')[0]!);
  });

  it('serves a public stream without a token, its playlists as stored', async () => {
    expect((await app.request('/live/open/source/sessiona1-0.m4s')).status).toBe(200);
    const text = await (await app.request('/live/open/index.m3u8')).text();
    expect(text).toBe((await store.text('streams/open/index.m3u8'))!);
  });

  it('refuses a signed stream when the edge has no playback secret (503), rather than serving it openly', async () => {
    const bare = edgeAppForTest();
    await seed(bare.store, 'vip', 'signed');
    const response = await bare.app.request('/live/vip/index.m3u8?token=1.abc');
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ error: expect.stringContaining('PLAYBACK_SECRET') });
  });

  it('filters renditions and trims the DVR window per query, and refuses malformed queries with 400', async () => {
    const filtered = parseM3u8(await (await app.request('/live/open/index.m3u8?max_height=720&dvr=6')).text());
    expect(filtered.playlists!.map((p) => p.uri)).toEqual(['360p/index.m3u8?dvr=6']);
    const trimmed = parseM3u8(await (await app.request('/live/open/source/index.m3u8?dvr=6')).text());
    expect(trimmed.segments).toHaveLength(3);
    expect(trimmed.mediaSequence).toBe(9);
    for (const query of ['max_height=tall', 'dvr=-1', 'token=a%20b']) {
      const response = await app.request(`/live/open/index.m3u8?${query}`);
      expect(response.status, query).toBe(400);
      expect(await response.json()).toEqual({ error: expect.any(String) });
    }
  });

  it('points segments at the CDN base URL when one is set', async () => {
    const cdn = edgeAppForTest({ segmentBaseUrl: 'https://cdn.example/live/' });
    await seed(cdn.store, 'open', 'public');
    const media = parseM3u8(await (await cdn.app.request('/live/open/source/index.m3u8')).text());
    expect(media.segments[0]!.uri).toBe('https://cdn.example/live/open/source/sessiona1-0.m4s');
  });
});
