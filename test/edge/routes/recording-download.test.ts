/**
 * `/recordings/ID/RID.mp4` through the edge app on Node, over a recording of real CMAF (the
 * sidecar's own remux) in storage: what someone downloading it gets (headers, a file ffprobe
 * reads as H.264 + AAC of the recording's length), and every refusal with its reason.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mintPlaybackToken } from '../../../shared/playback-token.ts';
import { recordingDocumentKey, type RecordingDocument } from '../../../shared/recordings/recording-document.ts';
import type { MemoryObjectStore } from '../../../shared/storage/memory-object-store.ts';
import type { ByteRange, ObjectStore } from '../../../shared/storage/object-store.ts';
import type { CmafSegment } from '../../../ingest/package/cmaf-segmenter.ts';
import { runFfprobe } from '../../helpers/ffprobe.ts';
import { edgeAppForTest, putStreamStatus, TEST_PLAYBACK_SECRET } from '../../helpers/edge-app.ts';
import { makeFlv } from '../../helpers/media-fixtures.ts';
import { remuxFlv, type RemuxedTrack } from '../../helpers/remux.ts';

const RECORDING = 'rmp4test0001';
const SESSION = 'sessiondl1';

interface Media {
  video: RemuxedTrack;
  audio: RemuxedTrack;
}

function renditionOf(playbackId: string, name: string, kind: 'video' | 'audio', track: RemuxedTrack, session = SESSION) {
  const segmentKey = (segment: CmafSegment) => `streams/${playbackId}/${name}/${session}-${segment.startTime}.m4s`;
  return {
    name,
    kind,
    codecs: track.track.codec,
    ...(kind === 'video' ? { width: track.track.width!, height: track.track.height! } : {}),
    bandwidth: 1_000_000,
    initKey: `streams/${playbackId}/${name}/init-${session}.mp4`,
    segments: track.segments.map((segment) => ({ key: segmentKey(segment), durationSeconds: segment.duration / segment.track.timescale, bytes: segment.bytes.length })),
    store: async (store: ObjectStore) => {
      await store.put(`streams/${playbackId}/${name}/init-${session}.mp4`, track.init, { contentType: 'video/mp4' });
      for (const segment of track.segments) await store.put(segmentKey(segment), segment.bytes, { contentType: 'video/mp4' });
    },
  };
}

/** A stream with one recording of `media` (state as given), its status document, and its media in storage. */
async function seedRecording(
  store: ObjectStore,
  media: Media,
  playbackId: string,
  options: { state?: 'recording' | 'ready'; playback?: 'public' | 'signed'; reconnect?: Media } = {},
): Promise<RecordingDocument> {
  await putStreamStatus(store, playbackId, options.playback ?? 'public');
  const renditions = [renditionOf(playbackId, 'source', 'video', media.video), renditionOf(playbackId, 'audio', 'audio', media.audio)];
  for (const rendition of renditions) await rendition.store(store);
  if (options.reconnect) {
    // The publisher came back within the window: a second session, its segments naming its own init segment.
    const later = [renditionOf(playbackId, 'source', 'video', options.reconnect.video, 'sessiondl2'), renditionOf(playbackId, 'audio', 'audio', options.reconnect.audio, 'sessiondl2')];
    for (const [index, rendition] of later.entries()) {
      await rendition.store(store);
      renditions[index]!.segments.push(...rendition.segments.map((segment) => ({ ...segment, initKey: rendition.initKey })));
    }
  }
  const state = options.state ?? 'ready';
  const document: RecordingDocument = {
    version: 1,
    playbackId,
    recordingId: RECORDING,
    state,
    startedAt: new Date(Date.now() - 60_000).toISOString(),
    ...(state === 'ready' ? { endedAt: new Date().toISOString() } : {}),
    durationSeconds: renditions[0]!.segments.reduce((sum, segment) => sum + segment.durationSeconds, 0),
    bytes: 0,
    renditions: renditions.map(({ store: _store, ...rendition }) => rendition),
  };
  await store.put(recordingDocumentKey(playbackId, RECORDING), JSON.stringify(document), { contentType: 'application/json' });
  return document;
}

/** Counts the reads of media segments that reach the store. */
function countSegmentReads(store: MemoryObjectStore): { reads: number } {
  const counter = { reads: 0 };
  const get = store.get.bind(store);
  store.get = (key: string, range?: ByteRange) => {
    if (key.endsWith('.m4s')) counter.reads += 1;
    return get(key, range);
  };
  return counter;
}

describe('downloading a recording as one MP4', () => {
  let media: Media;
  let app: ReturnType<typeof edgeAppForTest>['app'];
  let store: MemoryObjectStore;

  beforeAll(async () => {
    const remuxed = remuxFlv(await makeFlv({ seconds: 6, gopFrames: 60 }));
    media = { video: remuxed.video!, audio: remuxed.audio! };
  });

  beforeEach(() => {
    ({ app, store } = edgeAppForTest({ playbackSecret: TEST_PLAYBACK_SECRET }));
  });

  it('serves a ready recording as an attachment of its exact length that ffprobe reads as H.264 + AAC of its duration', async () => {
    const document = await seedRecording(store, media, 'film');
    const response = await app.request(`/recordings/film/${RECORDING}.mp4`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('video/mp4');
    expect(response.headers.get('content-disposition')).toBe(`attachment; filename="film-${RECORDING}.mp4"`);
    expect(response.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const body = new Uint8Array(await response.arrayBuffer());
    expect(body.length).toBe(Number(response.headers.get('content-length')));
    // As a downloaded file (seekable): over a pipe ffprobe reads a fragmented MP4's duration from its first fragments only.
    const file = join(await mkdtemp(join(tmpdir(), 'recording-mp4-')), 'download.mp4');
    await writeFile(file, body);
    const { out, err, code } = await runFfprobe(['-v', 'error', '-show_entries', 'stream=codec_name:format=duration', '-of', 'json', '-i', file], new Uint8Array());
    await rm(dirname(file), { recursive: true });
    expect(err.trim()).toBe('');
    expect(code).toBe(0);
    const probed = JSON.parse(out) as { streams: { codec_name: string }[]; format: { duration: string } };
    expect(probed.streams.map((stream) => stream.codec_name)).toEqual(['h264', 'aac']);
    expect(Number(probed.format.duration)).toBeCloseTo(document.durationSeconds, 0);
  });

  it('makes one file of a broadcast with a reconnect (two sessions), from its tallest video rendition', async () => {
    const reconnect = remuxFlv(await makeFlv({ seconds: 4, gopFrames: 60 }));
    const document = await seedRecording(store, media, 'film', { reconnect: { video: reconnect.video!, audio: reconnect.audio! } });
    // A lower rung whose segments storage does not hold: were it chosen, the download would fail.
    const low = { ...structuredClone(document.renditions[0]!), name: 'low', width: 320, height: 180, bandwidth: 9_000_000 };
    low.initKey = low.initKey.replace('/source/', '/low/');
    low.segments = low.segments.map((segment) => ({ key: segment.key.replace('/source/', '/low/'), durationSeconds: segment.durationSeconds, bytes: segment.bytes }));
    await store.put(recordingDocumentKey('film', RECORDING), JSON.stringify({ ...document, renditions: [low, ...document.renditions] }), { contentType: 'application/json' });
    const response = await app.request(`/recordings/film/${RECORDING}.mp4`);
    expect(response.status).toBe(200);
    const body = new Uint8Array(await response.arrayBuffer());
    expect(body.length).toBe(Number(response.headers.get('content-length')));
    const file = join(await mkdtemp(join(tmpdir(), 'recording-mp4-')), 'download.mp4');
    await writeFile(file, body);
    const { out, err } = await runFfprobe(['-v', 'error', '-count_frames', '-show_entries', 'stream=codec_name,width,height,nb_read_frames:format=duration', '-of', 'json', '-i', file], new Uint8Array());
    await rm(dirname(file), { recursive: true });
    expect(err.trim()).toBe('');
    const probed = JSON.parse(out) as { streams: { codec_name: string; width?: number; nb_read_frames: string }[]; format: { duration: string } };
    expect(probed.streams.map((stream) => stream.codec_name)).toEqual(['h264', 'aac']);
    expect(probed.streams[0]!.width).toBe(640);
    expect(document.durationSeconds).toBeCloseTo(6 + 4, 1);
    expect(Number(probed.format.duration)).toBeCloseTo(document.durationSeconds, 0);
    expect(Number(probed.streams[0]!.nb_read_frames)).toBe((6 + 4) * 30);
  });

  it('answers HEAD with the same headers and reads no segment; If-None-Match gets a 304', async () => {
    await seedRecording(store, media, 'film');
    const reads = countSegmentReads(store);
    const head = await app.request(`/recordings/film/${RECORDING}.mp4`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(Number(head.headers.get('content-length'))).toBeGreaterThan(100_000);
    expect(head.headers.get('content-disposition')).toContain('attachment');
    expect(await head.text()).toBe('');
    const again = await app.request(`/recordings/film/${RECORDING}.mp4`, { headers: { 'if-none-match': head.headers.get('etag')! } });
    expect(again.status).toBe(304);
    expect(reads.reads).toBe(0);
  });

  it('reads the segments as the client reads the body, not before', async () => {
    await seedRecording(store, media, 'film');
    const reads = countSegmentReads(store);
    const response = await app.request(`/recordings/film/${RECORDING}.mp4`);
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    await reader.read();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(reads.reads).toBeLessThanOrEqual(2);
    await reader.cancel();
    const total = media.video.segments.length + media.audio.segments.length;
    expect(reads.reads).toBeLessThan(total);
  });

  it('serves one byte range (206) as the whole file has those bytes, 416 beyond its end, the whole file for a stale If-Range', async () => {
    await seedRecording(store, media, 'film');
    const path = `/recordings/film/${RECORDING}.mp4`;
    const whole = await app.request(path);
    expect(whole.headers.get('accept-ranges')).toBe('bytes');
    const file = new Uint8Array(await whole.arrayBuffer());
    const size = file.length;
    const middle = Math.floor(size / 2);
    const cases = [
      { header: 'bytes=0-99', offset: 0, length: 100 },
      { header: `bytes=${middle}-${middle + 250_000}`, offset: middle, length: 250_001 },
      { header: 'bytes=-500', offset: size - 500, length: 500 },
      { header: `bytes=${size - 10}-`, offset: size - 10, length: 10 },
    ];
    for (const { header, offset, length } of cases) {
      const response = await app.request(path, { headers: { range: header, 'if-range': whole.headers.get('etag')! } });
      expect(response.status, header).toBe(206);
      expect(response.headers.get('content-range'), header).toBe(`bytes ${offset}-${offset + length - 1}/${size}`);
      expect(Number(response.headers.get('content-length')), header).toBe(length);
      expect(new Uint8Array(await response.arrayBuffer()), header).toEqual(file.subarray(offset, offset + length));
    }
    const beyond = await app.request(path, { headers: { range: `bytes=${size}-` } });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get('content-range')).toBe(`bytes */${size}`);
    const stale = await app.request(path, { headers: { range: 'bytes=0-99', 'if-range': '"another-file"' } });
    expect(stale.status).toBe(200);
    expect((await stale.arrayBuffer()).byteLength).toBe(size);
  });

  it('refuses bad ids (400), unknown recordings (404) and one still recording (409), each with its reason', async () => {
    await seedRecording(store, media, 'film');
    await seedRecording(store, media, 'ongoing', { state: 'recording' });
    const cases: { path: string; status: number; error: RegExp }[] = [
      { path: `/recordings/Bad..Id/${RECORDING}.mp4`, status: 400, error: /invalid stream id/ },
      { path: '/recordings/film/notarecording.mp4', status: 400, error: /invalid recording id/ },
      { path: '/recordings/film/r00000000nothere.mp4', status: 404, error: /no such recording/ },
      { path: `/recordings/nostream/${RECORDING}.mp4`, status: 404, error: /not found/ },
      { path: `/recordings/ongoing/${RECORDING}.mp4`, status: 409, error: /not complete yet/ },
    ];
    for (const { path, status, error } of cases) {
      const response = await app.request(path);
      expect(response.status, path).toBe(status);
      expect((await response.json()) as { error: string }, path).toEqual({ error: expect.stringMatching(error) });
      expect(response.headers.get('cache-control'), path).toBe('no-store');
    }
  });

  it("never reads outside the stream's prefix: a document naming another stream's segment is refused as unreadable", async () => {
    const document = await seedRecording(store, media, 'film');
    await seedRecording(store, media, 'other');
    const forged = structuredClone(document);
    forged.renditions[0]!.segments[0]!.key = forged.renditions[0]!.segments[0]!.key.replace('streams/film/', 'streams/other/');
    await store.put(recordingDocumentKey('film', RECORDING), JSON.stringify(forged), { contentType: 'application/json' });
    const response = await app.request(`/recordings/film/${RECORDING}.mp4`);
    expect(response.status).toBe(502);
  });

  it("honours signed playback as /live does: no token 401, another stream's 403, a valid one 200 kept private", async () => {
    await seedRecording(store, media, 'vip', { playback: 'signed' });
    const path = `/recordings/vip/${RECORDING}.mp4`;
    expect((await app.request(path)).status).toBe(401);
    const foreign = await mintPlaybackToken(TEST_PLAYBACK_SECRET, 'film', Math.floor(Date.now() / 1000) + 3600);
    expect((await app.request(`${path}?token=${foreign}`)).status).toBe(403);
    const token = await mintPlaybackToken(TEST_PLAYBACK_SECRET, 'vip', Math.floor(Date.now() / 1000) + 3600);
    const response = await app.request(`${path}?token=${token}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toMatch(/^private, max-age=(3599|3600)$/);
    expect((await response.arrayBuffer()).byteLength).toBe(Number(response.headers.get('content-length')));
  });
});
