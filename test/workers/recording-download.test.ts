/**
 * `/recordings/ID/RID.mp4` inside the Workers runtime (workerd, R2): the download's headers and
 * length as a browser receives them, the file made of the stored fragments in time order, and
 * the refusals (400, 404, 409) with their reasons. The media are synthetic CMAF (no ffmpeg
 * here); the unit tests decode real recordings with ffprobe.
 */
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { R2ObjectStore } from '../../edge/storage/r2-object-store.ts';
import { createWorkerApp, type Env } from '../../edge/worker.ts';
import { recordingDocumentKey, type RecordingDocument } from '../../shared/recordings/recording-document.ts';
import { syntheticInit, syntheticSegment } from '../helpers/synthetic-cmaf.ts';

const bindings = env as unknown as Env;
const RECORDING = 'rworkers0001';
const SESSION = 'sessionwk1';

/** Where `needle` is in `haystack`, or -1. */
function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let at = 0; at + needle.length <= haystack.length; at += 1) {
    for (let index = 0; index < needle.length; index += 1) if (haystack[at + index] !== needle[index]) continue outer;
    return at;
  }
  return -1;
}

async function seed(store: R2ObjectStore, playbackId: string, state: 'recording' | 'ready'): Promise<void> {
  const status = { playbackId, state: 'ended', startedAt: 0, updatedAt: 0, targetDuration: 2, restarts: 0, renditions: [], playback: 'public' };
  await store.put(`streams/${playbackId}/status.json`, JSON.stringify(status), { contentType: 'application/json' });
  const renditions: RecordingDocument['renditions'] = [];
  for (const [name, kind, handler, timescale] of [['source', 'video', 'vide', 90_000], ['audio', 'audio', 'soun', 48_000]] as const) {
    const initKey = `streams/${playbackId}/${name}/init-${SESSION}.mp4`;
    await store.put(initKey, syntheticInit(handler, timescale), { contentType: 'video/mp4' });
    const segments = [];
    for (let index = 0; index < 3; index += 1) {
      const time = index * 2 * timescale;
      const key = `streams/${playbackId}/${name}/${SESSION}-${time}.m4s`;
      // Each fragment's one sample says which track, segment and fragment it is.
      const bytes = syntheticSegment(time, 3, (2 * timescale) / 3, (fragment) => new TextEncoder().encode(`${name}-${index}-${fragment}`.padEnd(64, '.')));
      await store.put(key, bytes, { contentType: 'video/mp4' });
      segments.push({ key, durationSeconds: 2, bytes: bytes.length });
    }
    renditions.push({ name, kind, codecs: kind === 'video' ? 'avc1.64001f' : 'mp4a.40.2', ...(kind === 'video' ? { width: 640, height: 360 } : {}), bandwidth: 1_000_000, initKey, segments });
  }
  const now = Date.now();
  const document: RecordingDocument = {
    version: 1, playbackId, recordingId: RECORDING, state,
    startedAt: new Date(now - 10_000).toISOString(), ...(state === 'ready' ? { endedAt: new Date(now).toISOString() } : {}),
    durationSeconds: 6, bytes: 0, renditions,
  };
  await store.put(recordingDocumentKey(playbackId, RECORDING), JSON.stringify(document), { contentType: 'application/json' });
}

describe('recording MP4 download in the Workers runtime', () => {
  let app: ReturnType<typeof createWorkerApp>;

  beforeAll(async () => {
    const store = new R2ObjectStore(bindings.BUCKET);
    await seed(store, 'concert', 'ready');
    await seed(store, 'tonight', 'recording');
    app = createWorkerApp({ ...bindings, INGEST_SECRET: 'secret' }, { store });
  });

  it('streams the file with its exact length, as an attachment, cached as immutable, fragments in time order', async () => {
    const response = await app.request(`/recordings/concert/${RECORDING}.mp4`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('video/mp4');
    expect(response.headers.get('content-disposition')).toBe(`attachment; filename="concert-${RECORDING}.mp4"`);
    expect(response.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const body = new Uint8Array(await response.arrayBuffer());
    expect(body.length).toBe(Number(response.headers.get('content-length')));
    expect(new TextDecoder().decode(body.subarray(4, 8))).toBe('ftyp');
    // Every stored sample is there once, video and audio segments alternating by start time.
    const positions = ['source-0-0', 'audio-0-0', 'source-1-0', 'audio-1-0', 'source-2-2', 'audio-2-2'].map((label) => indexOf(body, new TextEncoder().encode(label)));
    expect(positions.every((position) => position > 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(new TextDecoder().decode(body.subarray(body.length - 24 - 16 - 8 - 3 * 19 + 4, body.length - 24 - 16 - 8 - 3 * 19 + 8))).toBe('mfra');
  });

  it('serves a byte range (206) with the bytes the whole file has there', async () => {
    const path = `/recordings/concert/${RECORDING}.mp4`;
    const file = new Uint8Array(await (await app.request(path)).arrayBuffer());
    const response = await app.request(path, { headers: { range: 'bytes=700-1999' } });
    expect(response.status).toBe(206);
    expect(response.headers.get('content-range')).toBe(`bytes 700-1999/${file.length}`);
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(file.subarray(700, 2000));
  });

  it('answers HEAD with the headers only', async () => {
    const response = await app.request(`/recordings/concert/${RECORDING}.mp4`, { method: 'HEAD' });
    expect(response.status).toBe(200);
    expect(Number(response.headers.get('content-length'))).toBeGreaterThan(1000);
    expect((await response.arrayBuffer()).byteLength).toBe(0);
  });

  it('refuses a bad id (400), an unknown recording (404), one still recording (409), with the reason', async () => {
    const cases = [
      { path: `/recordings/concert/R-bad.mp4`, status: 400, error: /invalid recording id/ },
      { path: `/recordings/concert/r00000000absent.mp4`, status: 404, error: /no such recording/ },
      { path: `/recordings/tonight/${RECORDING}.mp4`, status: 409, error: /not complete yet/ },
    ];
    for (const { path, status, error } of cases) {
      const response = await app.request(path);
      expect(response.status, path).toBe(status);
      expect(((await response.json()) as { error: string }).error, path).toMatch(error);
    }
  });
});
