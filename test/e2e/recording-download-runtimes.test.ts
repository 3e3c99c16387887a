/**
 * The recording MP4 download on the self-hosted edges over real HTTP: Deno (`edge/deno-server.ts`
 * over an S3-compatible server) and Node (`@hono/node-server` over a folder), each serving a
 * recording of real CMAF put straight into its storage (no sidecar: what is checked is the
 * download). Each sends the announced length, not chunked framing, and the same bytes the muxer
 * makes in-process; a byte range is those bytes; ffprobe reads the file as H.264 + AAC.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordingMp4 } from '../../shared/mp4/recording-mp4.ts';
import { recordingDocumentKey, type RecordingDocument } from '../../shared/recordings/recording-document.ts';
import { FilesystemObjectStore } from '../../shared/storage/filesystem-object-store.ts';
import type { ObjectStore } from '../../shared/storage/object-store.ts';
import { S3ObjectStore } from '../../shared/storage/s3-object-store.ts';
import { runFfprobe } from '../helpers/ffprobe.ts';
import { makeFlv } from '../helpers/media-fixtures.ts';
import { startTestPlatform, type Platform } from '../helpers/platform.ts';
import { remuxFlv, type RemuxedTrack } from '../helpers/remux.ts';
import { startS3Server, type TestS3Server } from '../helpers/s3-server.ts';

const STREAM = 'archive';
const RECORDING = 'rruntimes0001';
const SESSION = 'sessionrt1';

interface Seeded {
  tracks: { video: RemuxedTrack; audio: RemuxedTrack };
  /** The file as the muxer makes it in-process from the same media. */
  expected: Uint8Array;
}

async function seed(store: ObjectStore, tracks: Seeded['tracks']): Promise<void> {
  const status = { playbackId: STREAM, state: 'ended', startedAt: 0, updatedAt: 0, targetDuration: 2, restarts: 0, renditions: [], playback: 'public' };
  await store.put(`streams/${STREAM}/status.json`, JSON.stringify(status), { contentType: 'application/json' });
  const renditions: RecordingDocument['renditions'] = [];
  for (const [name, track] of [['source', tracks.video], ['audio', tracks.audio]] as const) {
    const initKey = `streams/${STREAM}/${name}/init-${SESSION}.mp4`;
    await store.put(initKey, track.init, { contentType: 'video/mp4' });
    const segments = [];
    for (const segment of track.segments) {
      const key = `streams/${STREAM}/${name}/${SESSION}-${segment.startTime}.m4s`;
      await store.put(key, segment.bytes, { contentType: 'video/mp4' });
      segments.push({ key, durationSeconds: segment.duration / segment.track.timescale, bytes: segment.bytes.length });
    }
    const video = track === tracks.video;
    renditions.push({ name, kind: video ? 'video' : 'audio', codecs: track.track.codec, ...(video ? { width: track.track.width!, height: track.track.height! } : {}), bandwidth: 1_000_000, initKey, segments });
  }
  const document: RecordingDocument = {
    version: 1, playbackId: STREAM, recordingId: RECORDING, state: 'ready',
    startedAt: new Date(Date.now() - 60_000).toISOString(), endedAt: new Date().toISOString(),
    durationSeconds: renditions[0]!.segments.reduce((sum, segment) => sum + segment.durationSeconds, 0), bytes: 0, renditions,
  };
  await store.put(recordingDocumentKey(STREAM, RECORDING), JSON.stringify(document), { contentType: 'application/json' });
}

async function expectDownload(edgeUrl: string, expected: Uint8Array): Promise<void> {
  const url = `${edgeUrl}/recordings/${STREAM}/${RECORDING}.mp4`;
  const response = await fetch(url);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-length')).toBe(String(expected.length));
  expect(response.headers.get('transfer-encoding')).toBeNull();
  expect(response.headers.get('content-disposition')).toBe(`attachment; filename="${STREAM}-${RECORDING}.mp4"`);
  const body = new Uint8Array(await response.arrayBuffer());
  expect(body).toEqual(expected);
  const { out, code } = await runFfprobe(['-v', 'error', '-show_entries', 'stream=codec_name', '-of', 'csv=p=0', '-i', 'pipe:0'], body);
  expect(code).toBe(0);
  expect(out.trim().split('\n')).toEqual(['h264', 'aac']);
  const head = await fetch(url, { method: 'HEAD' });
  expect(head.headers.get('content-length')).toBe(String(expected.length));
  const range = await fetch(url, { headers: { range: 'bytes=1000-200999' } });
  expect(range.status).toBe(206);
  expect(new Uint8Array(await range.arrayBuffer())).toEqual(expected.subarray(1000, 201_000));
}

describe('recording MP4 download on the Deno and Node edges', () => {
  let tracks: Seeded['tracks'];
  let expected: Uint8Array;
  let s3: TestS3Server | undefined;
  const platforms: Platform[] = [];

  beforeAll(async () => {
    const remuxed = remuxFlv(await makeFlv({ seconds: 6, gopFrames: 60 }));
    tracks = { video: remuxed.video!, audio: remuxed.audio! };
    const bytes = new Map<string, Uint8Array>();
    const inputs = [tracks.video, tracks.audio].map((track, index) => ({
      inits: [track.init],
      segments: track.segments.map((segment, at) => {
        bytes.set(`${index}/${at}`, segment.bytes);
        return { key: `${index}/${at}`, durationSeconds: segment.duration / segment.track.timescale, bytes: segment.bytes.length };
      }),
    }));
    expected = new Uint8Array(await new Response(recordingMp4({ tracks: inputs, readSegment: async (key) => bytes.get(key)!.slice() }).stream()).arrayBuffer());
  });

  afterAll(async () => {
    for (const platform of platforms) await platform.stop();
    await s3?.close();
  });

  it('Deno (S3 storage) sends the file with its length, as the muxer makes it', async () => {
    s3 = await startS3Server();
    await seed(new S3ObjectStore({ endpoint: s3.endpoint, bucket: s3.bucket, region: 'auto', accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }), tracks);
    const platform = await startTestPlatform('e2e-recording-download-deno', {
      edge: 'deno',
      s3: { endpoint: s3.endpoint, bucket: s3.bucket, accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      ingest: false,
    });
    platforms.push(platform);
    await expectDownload(platform.edgeUrl, expected);
  });

  it('Node (folder storage) sends the file with its length, as the muxer makes it', async () => {
    const platform = await startTestPlatform('e2e-recording-download-node', { edge: 'node', ingest: false });
    platforms.push(platform);
    await seed(new FilesystemObjectStore(join(platform.dir, 'media')), tracks);
    await expectDownload(platform.edgeUrl, expected);
  });
});
