/// <reference types="@cloudflare/vitest-plugin/types" />
/**
 * Recordings inside workerd, through the worker's own app (R2, the Cache API, D1): a ready
 * recording plays as VOD HLS and DASH from its own URLs, the management API lists and deletes it,
 * and the worker's scheduled handler (the hourly Cron Trigger) deletes an expired one.
 */
import { applyD1Migrations, type D1Migration } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { D1Client } from '../../edge/platform/d1-client.ts';
import { SqlStreamRegistry } from '../../edge/platform/stream-registry.ts';
import { R2ObjectStore } from '../../edge/storage/r2-object-store.ts';
import worker, { createWorkerApp, type Env } from '../../edge/worker.ts';
import { recordingDocumentKey, type RecordingDocument } from '../../shared/recordings/recording-document.ts';
import { recordingObjectKey } from '../../shared/recordings/recording-layout.ts';

const bindings = env as unknown as Env & { TEST_MIGRATIONS: D1Migration[] };
const ADMIN_TOKEN = 'recordings-admin-token-0123456789';
const ORIGIN = 'https://edge.example.com';
const ID = 'r00000000wkr';
const store = new R2ObjectStore(bindings.BUCKET);

const MEDIA_PLAYLIST = ['#EXTM3U', '#EXT-X-VERSION:7', '#EXT-X-TARGETDURATION:2', '#EXT-X-MEDIA-SEQUENCE:0', '#EXT-X-PLAYLIST-TYPE:VOD', '#EXT-X-MAP:URI="init-sessiona1.mp4"', '#EXTINF:2.000,', 'sessiona1-0.m4s', '#EXT-X-ENDLIST', ''].join('\n');

/** A one-segment recording of stream `pbrec` as the sidecar stores it. */
async function storeRecording(playbackId: string, expiresAt?: string): Promise<RecordingDocument> {
  const status = { playbackId, state: 'ended', startedAt: 0, updatedAt: 0, targetDuration: 2, restarts: 0, renditions: [], playback: 'public' };
  await store.put(`streams/${playbackId}/status.json`, JSON.stringify(status), { contentType: 'application/json' });
  await store.put(`streams/${playbackId}/source/init-sessiona1.mp4`, 'init', { contentType: 'video/mp4' });
  await store.put(`streams/${playbackId}/source/sessiona1-0.m4s`, 'segment', { contentType: 'video/mp4' });
  await store.put(recordingObjectKey(playbackId, ID, { kind: 'recording-multivariant' }), '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1000\nsource/index.m3u8\n', { contentType: 'application/vnd.apple.mpegurl' });
  await store.put(recordingObjectKey(playbackId, ID, { kind: 'recording-media-playlist', rendition: 'source' }), MEDIA_PLAYLIST, { contentType: 'application/vnd.apple.mpegurl' });
  await store.put(recordingObjectKey(playbackId, ID, { kind: 'recording-mpd' }), '<?xml version="1.0"?>\n<MPD type="static" maxSegmentDuration="PT2S"></MPD>\n', { contentType: 'application/dash+xml' });
  const document: RecordingDocument = {
    version: 1,
    playbackId,
    recordingId: ID,
    state: 'ready',
    startedAt: '2026-12-06T09:00:00.000Z',
    endedAt: '2026-12-06T09:00:02.000Z',
    ...(expiresAt ? { expiresAt } : {}),
    durationSeconds: 2,
    bytes: 11,
    renditions: [{ name: 'source', kind: 'video', codecs: 'avc1.64001f', bandwidth: 1000, initKey: `streams/${playbackId}/source/init-sessiona1.mp4`, segments: [{ key: `streams/${playbackId}/source/sessiona1-0.m4s`, durationSeconds: 2, bytes: 7 }] }],
  };
  await store.put(recordingDocumentKey(playbackId, ID), JSON.stringify(document), { contentType: 'application/json' });
  return document;
}

const app = () => createWorkerApp({ ...bindings, INGEST_SECRET: undefined, ADMIN_TOKEN }, { store });

beforeAll(async () => {
  await applyD1Migrations(bindings.DB, bindings.TEST_MIGRATIONS);
});

beforeEach(async () => {
  await bindings.DB.prepare('DELETE FROM streams').run();
});

describe('recordings in workerd', () => {
  it('plays as VOD from its own URLs (immutable, CORS) and the API lists, shows and deletes it', async () => {
    await storeRecording('pbrec');
    const playlist = await app().request(`${ORIGIN}/recordings/pbrec/${ID}/source/index.m3u8`, { headers: { origin: 'https://player.example' } });
    expect(playlist.status).toBe(200);
    expect(playlist.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(playlist.headers.get('access-control-allow-origin')).toBe('*');
    expect(await playlist.text()).toContain('#EXT-X-PLAYLIST-TYPE:VOD');
    const segment = await app().request(`${ORIGIN}/recordings/pbrec/${ID}/source/sessiona1-0.m4s`);
    expect(segment.status).toBe(200);
    expect(await segment.text()).toBe('segment');
    const mpd = await app().request(`${ORIGIN}/recordings/pbrec/${ID}/manifest.mpd`);
    expect(mpd.headers.get('content-type')).toBe('application/dash+xml');
    expect((await app().request(`${ORIGIN}/recordings/pbrec/not-an-id/index.m3u8`)).status).toBe(400);

    const registry = new SqlStreamRegistry(new D1Client(bindings.DB));
    const at = new Date().toISOString();
    await registry.create({ name: 'rec', playbackId: 'pbrec', keySha256: 'b'.repeat(64), playback: 'public', reconnectWindowSeconds: null, retention: 'all', enabled: true, createdAt: at, keyRotatedAt: at, updatedAt: at, webhookUrls: null });
    const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
    const list = await app().request(`${ORIGIN}/api/v1/streams/rec/recordings`, { headers: auth });
    expect(list.status).toBe(200);
    expect(await list.json()).toMatchObject({ recordings: [{ id: ID, state: 'ready', durationSeconds: 2, bytes: 11, urls: { hls: `${ORIGIN}/recordings/pbrec/${ID}/index.m3u8`, mp4: `${ORIGIN}/recordings/pbrec/${ID}.mp4` } }] });
    expect((await app().request(`${ORIGIN}/api/v1/streams/rec/recordings`)).status).toBe(401);
    expect((await app().request(`${ORIGIN}/api/v1/streams/rec/recordings/${ID}`, { method: 'DELETE', headers: auth })).status).toBe(200);
    expect(await store.head('streams/pbrec/source/sessiona1-0.m4s')).toBeNull();
    expect(await store.head(recordingDocumentKey('pbrec', ID))).toBeNull();
    expect(await (await app().request(`${ORIGIN}/api/v1/streams/rec/recordings`, { headers: auth })).json()).toEqual({ recordings: [], nextCursor: null });
  });

  it("the worker's scheduled handler deletes an expired recording with its media, and keeps one that is not", async () => {
    await storeRecording('pbold', '2026-01-01T00:00:00.000Z');
    await storeRecording('pbnew', '2999-01-01T00:00:00.000Z');
    await worker.scheduled({ scheduledTime: Date.now(), cron: '17 * * * *', noRetry: () => {} } as ScheduledController, bindings);
    expect(await store.head(recordingDocumentKey('pbold', ID))).toBeNull();
    expect(await store.head('streams/pbold/source/sessiona1-0.m4s')).toBeNull();
    expect(await store.head(recordingDocumentKey('pbnew', ID))).not.toBeNull();
  });

  it("the worker's scheduled handler also ends a broadcast left live (its status unwritten for over an hour), and no live one", async () => {
    const playlist = MEDIA_PLAYLIST.replace('#EXT-X-PLAYLIST-TYPE:VOD\n', '').replace('#EXT-X-ENDLIST\n', '');
    for (const [playbackId, updatedAt] of [['pbstale', Date.now() - 66 * 60_000], ['pblive', Date.now() - 5_000]] as const) {
      const status = { playbackId, state: 'live', startedAt: 0, updatedAt, targetDuration: 2, restarts: 0, renditions: [{ name: 'source', kind: 'video', codec: 'avc1.64001f', bandwidth: 1000 }], playback: 'public' };
      await store.put(`streams/${playbackId}/status.json`, JSON.stringify(status), { contentType: 'application/json' });
      await store.put(`streams/${playbackId}/source/index.m3u8`, playlist, { contentType: 'application/vnd.apple.mpegurl' });
    }
    await worker.scheduled({ scheduledTime: Date.now(), cron: '17 * * * *', noRetry: () => {} } as ScheduledController, bindings);
    const text = async (key: string) => new Response((await store.get(key))!.body).text();
    expect(await text('streams/pbstale/source/index.m3u8')).toContain('#EXT-X-ENDLIST');
    expect(JSON.parse(await text('streams/pbstale/status.json')).state).toBe('ended');
    expect(await text('streams/pblive/source/index.m3u8')).toBe(playlist);
    expect(JSON.parse(await text('streams/pblive/status.json')).state).toBe('live');
  });

  it('R2 lists folders page by page after one (what the expiry sweep goes on from)', async () => {
    for (const name of ['pg-a', 'pg-a-b', 'pg-a0', 'pg-b']) await store.put(`pages/${name}/x/status.json`, '{}', { contentType: 'application/json' });
    expect(await store.listChildren('pages/', 10)).toEqual(['pg-a-b', 'pg-a', 'pg-a0', 'pg-b']);
    expect(await store.listChildren('pages/', 2, 'pg-a-b')).toEqual(['pg-a', 'pg-a0']);
    expect(await store.listChildren('pages/', 10, 'pg-a0')).toEqual(['pg-b']);
  });
});
