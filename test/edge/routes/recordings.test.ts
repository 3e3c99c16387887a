/** A recording at the edge: VOD HLS and DASH under /recordings/ID/RID/, the management API's recordings, expiry. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { Hono } from 'hono';
import { beforeEach, describe, expect, it } from 'vitest';
import { errorResponse } from '../../../edge/errors.ts';
import { SqliteClient } from '../../../edge/platform/sqlite-client.ts';
import { SqlStreamRegistry } from '../../../edge/platform/stream-registry.ts';
import { expireRecordings } from '../../../edge/recordings/recording-store.ts';
import { recordingsApiRoutes } from '../../../edge/routes/recordings-api.ts';
import { recordingRoutes } from '../../../edge/routes/recordings.ts';
import { writeApiRoutes } from '../../../edge/routes/write-api.ts';
import type { CmafTrack } from '../../../ingest/package/cmaf-track.ts';
import { RenditionStats } from '../../../ingest/publish/rendition-stats.ts';
import { buildRecordingDocument, buildRecordingMediaPlaylist, buildRecordingMpd, buildRecordingMultivariant, type RecordedRendition } from '../../../ingest/recordings/recording-manifests.ts';
import { renderMpd } from '../../../shared/dash/mpd.ts';
import { renderMediaPlaylist } from '../../../shared/hls/media-playlist.ts';
import { renderMultivariantPlaylist } from '../../../shared/hls/multivariant-playlist.ts';
import { mintPlaybackToken } from '../../../shared/playback-token.ts';
import { recordingDocumentKey } from '../../../shared/recordings/recording-document.ts';
import { recordingObjectKey } from '../../../shared/recordings/recording-layout.ts';
import { MemoryObjectStore } from '../../../shared/storage/memory-object-store.ts';
import { PROJECT_ROOT } from '../../../scripts/lib/local-platform.ts';
import { putStreamStatus } from '../../helpers/edge-app.ts';
import { parseM3u8 } from '../../helpers/m3u8.ts';

const NOW = Date.parse('2026-12-06T10:00:00Z');
const ID = 'r00000000abc';
const ADMIN = 'admin-token-for-recordings';
const PLAYBACK_SECRET = 'playback-secret-for-recordings';
const VIDEO: CmafTrack = { trackId: 1, kind: 'video', timescale: 90000, codec: 'avc1.64001f', width: 1280, height: 720, defaultSampleDuration: 3000, defaultSampleFlags: 0 };
const AUDIO: CmafTrack = { trackId: 1, kind: 'audio', timescale: 48000, codec: 'mp4a.40.2', sampleRate: 48000, channels: 2, defaultSampleDuration: 1024, defaultSampleFlags: 0 };

function recorded(name: string, track: CmafTrack): RecordedRendition {
  const stats = new RenditionStats();
  stats.add(100_000, 2, 60);
  return {
    rendition: track.kind === 'video' ? { name, kind: 'video', encoding: 'copy' } : { name, kind: 'audio', encoding: 'aac', bitrate: 128_000, sampleRate: 48000, channels: 2 },
    track,
    stats,
    tracks: new Map([['sessiona1', track]]),
    initBytes: new Map([['sessiona1', 4]]),
    segments: [0, 1, 2].map((i) => ({ session: 'sessiona1', initSession: 'sessiona1', time: i * 2 * track.timescale, ticks: 2 * track.timescale, duration: 2, bytes: 5, programDateTime: NOW - 60_000 + i * 2000 })),
  };
}

/** What the sidecar stores for a recording of stream `colors`: media, manifests, document. */
async function storeRecording(store: MemoryObjectStore, options: { state?: 'recording' | 'ready'; expiresAt?: number; playbackId?: string; id?: string } = {}) {
  const playbackId = options.playbackId ?? 'colors';
  const id = options.id ?? ID;
  const renditions = [recorded('source', VIDEO), recorded('audio', AUDIO)];
  for (const { rendition, segments } of renditions) {
    await store.put(`streams/${playbackId}/${rendition.name}/init-sessiona1.mp4`, 'init', { contentType: 'video/mp4' });
    for (const segment of segments) await store.put(`streams/${playbackId}/${rendition.name}/sessiona1-${segment.time}.m4s`, 'media', { contentType: 'video/mp4' });
    await store.put(recordingObjectKey(playbackId, id, { kind: 'recording-media-playlist', rendition: rendition.name }), renderMediaPlaylist(buildRecordingMediaPlaylist(renditions[0]!, 2)), { contentType: 'application/vnd.apple.mpegurl' });
  }
  await store.put(recordingObjectKey(playbackId, id, { kind: 'recording-multivariant' }), renderMultivariantPlaylist(buildRecordingMultivariant(renditions)), { contentType: 'application/vnd.apple.mpegurl' });
  await store.put(recordingObjectKey(playbackId, id, { kind: 'recording-mpd' }), renderMpd(buildRecordingMpd(renditions, { sessionClocks: new Map([['sessiona1', NOW - 60_000]]), now: NOW, nominalTargetSeconds: 2 })), { contentType: 'application/dash+xml' });
  const state = options.state ?? 'ready';
  const document = buildRecordingDocument({ playbackId, recordingId: id, state, startedAt: NOW - 60_000, endedAt: state === 'ready' ? NOW - 30_000 : undefined, expiresAt: options.expiresAt }, renditions);
  await store.put(recordingDocumentKey(playbackId, id), JSON.stringify(document), { contentType: 'application/json' });
  return document;
}

function edge(store: MemoryObjectStore, registry?: SqlStreamRegistry) {
  const app = new Hono();
  app.route('/recordings', recordingRoutes({ store, playbackSecret: PLAYBACK_SECRET, now: () => NOW }));
  app.route('/api/v1/streams', recordingsApiRoutes({ registry, store, adminToken: ADMIN, now: () => NOW }));
  app.route('/_ingest/objects', writeApiRoutes({ store, secret: 'ingest-secret' }));
  app.onError(errorResponse);
  return app;
}

function newRegistry() {
  const dir = join(PROJECT_ROOT, 'migrations');
  const client = new SqliteClient(new DatabaseSync(':memory:'));
  client.migrate(readdirSync(dir).filter((name) => name.endsWith('.sql')).map((name) => ({ name, sql: readFileSync(join(dir, name), 'utf8') })));
  return new SqlStreamRegistry(client);
}

describe('recordings as VOD', () => {
  let store: MemoryObjectStore;
  beforeEach(async () => {
    store = new MemoryObjectStore();
    await putStreamStatus(store, 'colors');
  });

  it('serves the HLS playlists, the MPD and the stream\'s own media under the recording\'s URL, immutable', async () => {
    await storeRecording(store);
    const app = edge(store);
    const multivariant = await app.request(`/recordings/colors/${ID}/index.m3u8`);
    expect(multivariant.status).toBe(200);
    expect(multivariant.headers.get('content-type')).toBe('application/vnd.apple.mpegurl');
    expect(multivariant.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(parseM3u8(await multivariant.text()).playlists?.map((playlist) => playlist.uri)).toEqual(['source/index.m3u8']);

    const media = parseM3u8(await (await app.request(`/recordings/colors/${ID}/source/index.m3u8`)).text());
    expect(media.playlistType).toBe('VOD');
    expect(media.endList).toBe(true);
    for (const uri of [media.segments[0]!.map!.uri, ...media.segments.map((segment) => segment.uri)]) {
      const response = await app.request(`/recordings/colors/${ID}/source/${uri}`);
      expect(response.status, uri).toBe(200);
      expect(response.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    }

    const mpd = await app.request(`/recordings/colors/${ID}/manifest.mpd`);
    expect(mpd.status).toBe(200);
    expect(mpd.headers.get('content-type')).toBe('application/dash+xml');
    expect(await mpd.text()).toContain('type="static"');

    // ETag and 304 as for any playlist.
    const again = await app.request(`/recordings/colors/${ID}/index.m3u8`, { headers: { 'if-none-match': multivariant.headers.get('etag')! } });
    expect(again.status).toBe(304);
  });

  it.each([
    { name: 'a bad stream id', path: `/recordings/bad.id/${ID}/index.m3u8`, status: 400, error: 'invalid stream id' },
    { name: 'a bad recording id', path: '/recordings/colors/..%2F..%2Fx/index.m3u8', status: 400, error: 'invalid recording id: "r" and 8 to 31 lowercase letters or digits' },
    { name: 'an unknown recording', path: '/recordings/colors/r00000000zzz/index.m3u8', status: 404, error: 'no such recording (or it expired, or was deleted)' },
    { name: 'the document itself', path: `/recordings/colors/${ID}/recording.json`, status: 404 },
    { name: 'a path out of the stream', path: `/recordings/colors/${ID}/source/..%2F..%2Fstatus.json`, status: 404 },
    { name: 'a status document by another name', path: `/recordings/colors/${ID}/status.json`, status: 404 },
    { name: 'a rendition it does not have', path: `/recordings/colors/${ID}/nothere/index.m3u8`, status: 404, error: 'this recording has no rendition "nothere"' },
  ])('answers $name with $status and the reason', async ({ path, status, error }) => {
    await storeRecording(store);
    const response = await edge(store).request(path);
    expect(response.status).toBe(status);
    expect(response.headers.get('cache-control')).toBe('no-store');
    if (error) expect(await response.json()).toEqual({ error });
  });

  it('a recording still going on is not served yet (409), an expired one is gone (404)', async () => {
    await storeRecording(store, { state: 'recording' });
    expect((await edge(store).request(`/recordings/colors/${ID}/index.m3u8`)).status).toBe(409);
    await storeRecording(store, { expiresAt: NOW - 1 });
    expect((await edge(store).request(`/recordings/colors/${ID}/index.m3u8`)).status).toBe(404);
  });

  it('a signed stream\'s recording needs its token, carried to every URI, and no shared cache keeps it', async () => {
    await putStreamStatus(store, 'colors', 'signed');
    await storeRecording(store);
    const app = edge(store);
    expect((await app.request(`/recordings/colors/${ID}/source/index.m3u8`)).status).toBe(401);
    expect((await app.request(`/recordings/colors/${ID}/source/sessiona1-0.m4s`)).status).toBe(401);
    const token = await mintPlaybackToken(PLAYBACK_SECRET, 'colors', Math.floor(NOW / 1000) + 600);
    const playlist = await app.request(`/recordings/colors/${ID}/source/index.m3u8?token=${token}`);
    expect(playlist.status).toBe(200);
    expect(playlist.headers.get('cache-control')).toBe('private, no-store');
    const parsed = parseM3u8(await playlist.text());
    expect(parsed.segments.every((segment) => segment.uri.endsWith(`?token=${token}`))).toBe(true);
    const segment = await app.request(`/recordings/colors/${ID}/source/${parsed.segments[0]!.uri}`);
    expect(segment.status).toBe(200);
    expect(segment.headers.get('cache-control')).toMatch(/^private, max-age=\d+$/);
  });

  it('the sidecar stores a recording\'s documents through the write API, in its stream\'s prefix only', async () => {
    const app = edge(store);
    const put = (key: string, type: string) => app.request(`/_ingest/objects/${key}`, { method: 'PUT', headers: { authorization: 'Bearer ingest-secret', 'content-type': type }, body: '{}' });
    expect((await put(recordingDocumentKey('colors', ID), 'application/json')).status).toBe(201);
    expect((await put(recordingObjectKey('colors', ID, { kind: 'recording-mpd' }), 'application/json')).status).toBe(415);
    expect((await put(`streams/colors/recordings/${ID}/notes.txt`, 'application/json')).status).toBe(400);
    expect((await put('streams/colors/recordings/not-an-id/recording.json', 'application/json')).status).toBe(400);
  });
});

describe('recordings in the management API', () => {
  let store: MemoryObjectStore;
  let registry: SqlStreamRegistry;
  const api = (path: string, init: RequestInit = {}, token = ADMIN) =>
    edge(store, registry).request(`https://edge.example/api/v1/streams${path}`, { ...init, headers: { authorization: `Bearer ${token}` } });

  beforeEach(async () => {
    store = new MemoryObjectStore();
    registry = newRegistry();
    const at = new Date(NOW).toISOString();
    await registry.create({ name: 'studio', playbackId: 'colors', keySha256: 'a'.repeat(64), playback: 'public', reconnectWindowSeconds: null, retention: null, enabled: true, createdAt: at, keyRotatedAt: at, updatedAt: at, webhookUrls: null });
    await putStreamStatus(store, 'colors');
  });

  it('lists, shows and deletes a stream\'s recordings with their sizes, durations and URLs', async () => {
    const document = await storeRecording(store);
    const older = await storeRecording(store, { id: 'r00000000aaa', state: 'ready' });
    const list = await api('/studio/recordings');
    expect(list.status).toBe(200);
    const { recordings } = (await list.json()) as { recordings: Record<string, unknown>[] };
    expect(recordings.map((recording) => recording.id)).toEqual([older.recordingId, ID]);
    expect(recordings[1]).toMatchObject({
      id: ID,
      state: 'ready',
      startedAt: document.startedAt,
      endedAt: document.endedAt,
      durationSeconds: 6,
      bytes: document.bytes,
      urls: { hls: `https://edge.example/recordings/colors/${ID}/index.m3u8`, dash: `https://edge.example/recordings/colors/${ID}/manifest.mpd`, mp4: `https://edge.example/recordings/colors/${ID}.mp4` },
    });
    expect(((await (await api(`/studio/recordings/${ID}`)).json()) as { recording: { bytes: number } }).recording.bytes).toBe(document.bytes);

    // The stream ended with this recording as its latest broadcast: its live playlists list its media.
    await store.put('streams/colors/status.json', JSON.stringify({ playbackId: 'colors', state: 'ended', startedAt: 0, updatedAt: 0, targetDuration: 2, restarts: 0, renditions: [], recording: { id: ID, state: 'ready', hls: `/recordings/colors/${ID}/index.m3u8`, dash: `/recordings/colors/${ID}/manifest.mpd`, mp4: `/recordings/colors/${ID}.mp4` } }), { contentType: 'application/json' });
    for (const key of ['streams/colors/index.m3u8', 'streams/colors/source/index.m3u8', 'streams/colors/audio/index.m3u8', 'streams/colors/manifest.mpd']) await store.put(key, 'listing', { contentType: 'text/plain' });
    const deleted = await api(`/studio/recordings/${ID}`, { method: 'DELETE' });
    expect(deleted.status).toBe(200);
    expect((await api(`/studio/recordings/${ID}`)).status).toBe(404);
    // Its media and documents are gone; the other recording's are not touched.
    const left = [...store.objects.keys()];
    expect(left.filter((key) => key.includes(`/recordings/${ID}/`))).toEqual([]);
    expect(left).toContain(recordingDocumentKey('colors', 'r00000000aaa'));
    // ... and so are the ended stream's playlists that listed its media (no playlist of deleted segments).
    expect(left.filter((key) => /^streams\/colors\/([a-z]+\/)?(index\.m3u8|manifest\.mpd)$/.test(key))).toEqual([]);
    expect(left).toContain('streams/colors/status.json');
  });

  it.each([
    { name: 'no token', path: '/studio/recordings', token: '', status: 401 },
    { name: 'a wrong token', path: '/studio/recordings', token: 'wrong', status: 403 },
    { name: 'an unknown stream', path: '/nobody/recordings', token: ADMIN, status: 404 },
    { name: 'a bad recording id', path: '/studio/recordings/R0000%2F..', token: ADMIN, status: 400 },
    { name: 'an unknown recording', path: '/studio/recordings/r00000000zzz', token: ADMIN, status: 404 },
  ])('refuses $name ($status)', async ({ path, token, status }) => {
    await storeRecording(store);
    const response = await api(path, {}, token);
    expect(response.status).toBe(status);
    expect(((await response.json()) as { error: string }).error).toBeTruthy();
  });

  it('deleting an older recording leaves the stream\'s playlists (they list its latest broadcast)', async () => {
    await storeRecording(store, { id: 'r00000000aaa' });
    await store.put('streams/colors/source/index.m3u8', 'listing', { contentType: 'text/plain' });
    expect((await api('/studio/recordings/r00000000aaa', { method: 'DELETE' })).status).toBe(200);
    expect(store.objects.has('streams/colors/source/index.m3u8')).toBe(true);
  });

  it('pages through many recordings, oldest first, 100 at most a page', async () => {
    const ids = ['r00000000aa1', 'r00000000aa2', 'r00000000aa3'];
    for (const id of ids) await storeRecording(store, { id });
    const page = async (query: string) => (await (await api(`/studio/recordings${query}`)).json()) as { recordings: { id: string }[]; nextCursor: string | null };
    const first = await page('?limit=2');
    expect(first.recordings.map((recording) => recording.id)).toEqual(ids.slice(0, 2));
    expect(first.nextCursor).toBe(ids[1]);
    const second = await page(`?limit=2&cursor=${first.nextCursor}`);
    expect(second).toMatchObject({ recordings: [{ id: ids[2] }], nextCursor: null });
    for (const bad of ['?limit=0', '?limit=101', '?limit=2x', '?cursor=..']) expect((await api(`/studio/recordings${bad}`)).status, bad).toBe(400);
  });

  it('a recording in progress is listed as recording and cannot be deleted yet; one abandoned (its stream went on without it) can', async () => {
    await storeRecording(store, { state: 'recording' });
    const recording = { id: ID, state: 'recording', hls: `/recordings/colors/${ID}/index.m3u8`, dash: `/recordings/colors/${ID}/manifest.mpd`, mp4: `/recordings/colors/${ID}.mp4` };
    const status = (state: string, named: unknown) => store.put('streams/colors/status.json', JSON.stringify({ playbackId: 'colors', state, startedAt: 0, updatedAt: 0, targetDuration: 2, restarts: 0, renditions: [], recording: named }), { contentType: 'application/json' });
    await status('live', recording);
    const { recordings } = (await (await api('/studio/recordings')).json()) as { recordings: { state: string; endedAt: unknown }[] };
    expect(recordings).toMatchObject([{ state: 'recording', endedAt: null }]);
    expect((await api(`/studio/recordings/${ID}`, { method: 'DELETE' })).status).toBe(409);
    await status('live', { ...recording, id: 'r00000000new' });
    expect((await api(`/studio/recordings/${ID}`, { method: 'DELETE' })).status).toBe(200);
  });
});

describe('expiry', () => {
  it('deletes expired recordings with their media, and nothing else', async () => {
    const store = new MemoryObjectStore();
    await storeRecording(store, { expiresAt: NOW - 1 });
    await storeRecording(store, { playbackId: 'other', expiresAt: NOW + 86_400_000 });
    await storeRecording(store, { playbackId: 'kept' });
    expect(await expireRecordings(store, NOW)).toBe(1);
    expect([...store.objects.keys()].filter((key) => key.startsWith('streams/colors/'))).toEqual([]);
    expect(store.objects.has(recordingDocumentKey('other', ID))).toBe(true);
    expect(store.objects.has('streams/other/source/sessiona1-0.m4s')).toBe(true);
    expect(store.objects.has(recordingDocumentKey('kept', ID))).toBe(true);
    expect(await expireRecordings(store, NOW)).toBe(0);
  });

  it('makes at most its budget of reads a sweep (listings and documents); later sweeps get to the rest', async () => {
    const store = new MemoryObjectStore();
    for (const playbackId of ['a1', 'b2', 'c3']) await storeRecording(store, { playbackId, expiresAt: NOW - 1 });
    // Two reads a stream (its listing, its one document): four reads get to two of them.
    expect(await expireRecordings(store, NOW, 4)).toBe(2);
    expect(await expireRecordings(store, NOW, 4)).toBe(1);
    expect([...store.objects.keys()].filter((key) => key.includes('/recordings/'))).toEqual([]);
  });

  it('gets to every stream in turn, however many there are, each sweep going on where the last stopped', async () => {
    const store = new MemoryObjectStore();
    // More streams than one listing holds (R2 and S3 list 1 000 at most), the expired last in key order.
    for (let i = 0; i < 1_200; i += 1) await store.put(`streams/a${String(i).padStart(4, '0')}/status.json`, '{}', { contentType: 'application/json' });
    const expired = ['z1', 'z2', 'z3'];
    for (const playbackId of expired) await storeRecording(store, { playbackId, expiresAt: NOW - 1 });
    let sweeps = 0;
    let deleted = 0;
    while (deleted < expired.length && sweeps < 20) {
      deleted += await expireRecordings(store, NOW, 200);
      sweeps += 1;
    }
    expect(deleted).toBe(3);
    // 1 203 streams and 3 documents, 200 reads a sweep.
    expect(sweeps).toBe(7);
    // Round again: nothing left, nothing deleted twice.
    for (let i = 0; i < 7; i += 1) expect(await expireRecordings(store, NOW, 200)).toBe(0);
  });
});
