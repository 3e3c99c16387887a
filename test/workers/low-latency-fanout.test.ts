/**
 * Low-latency viewers fanned out at the edge location (issue 16 item 5), inside the Workers
 * runtime: 2 000 concurrent viewers of one stream hold a blocking playlist reload and the hinted
 * part on video or audio, through the app production builds from its bindings; the calls that
 * reach the stream's real Durable Object are counted there (its counters), per (rendition,
 * part). A signed stream's viewers, each with a token of their own, share the same calls and
 * still get playlists rewritten for them alone.
 *
 * The viewers' requests run in the test's request context, as the other tests here do
 * (@cloudflare/vitest-plugin turns workerd's cross-request promise resolution off); e2e
 * low-latency sends viewers as requests of their own to `wrangler dev`.
 */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { createWorkerApp, type Env } from '../../edge/worker.ts';
import { DurableObjectCoordinator } from '../../edge/low-latency/live-stream-object.ts';
import { partAnnouncementHeaders } from '../../shared/low-latency.ts';
import { mintPlaybackToken } from '../../shared/playback-token.ts';
import { MemoryObjectStore } from '../../shared/storage/memory-object-store.ts';

const bindings = env as unknown as Env;
const secret = 'workers-fanout-ingest-secret';
const playbackSecret = 'workers-fanout-playback-secret';
// Storage in memory (the R2 binding's local emulation is a service of its own): a status read the
// edge's cache lets expire during the intake of 4 000 requests must not turn into 4 000 local R2
// reads queued behind each other, which is this machine's limit, not the edge's. The stream's
// object, its calls counted, is the real one.
const app = createWorkerApp({ ...bindings, INGEST_SECRET: secret, PLAYBACK_SECRET: playbackSecret }, { store: new MemoryObjectStore() });
const objects = new DurableObjectCoordinator(bindings.LIVE);

const VIEWERS = 2000;
const SIGNED_VIEWERS = 200;
const RENDITIONS = ['video', 'audio'] as const;
const SESSION = 'fanoutsession1';
const SEGMENT_TICKS = 180_000;
// Each (rendition, part) may cost the object at most this many calls of each kind, whatever the viewer count.
const CALLS_PER_RENDITION_PART = 2;

const partFile = (msn: number, index: number) => `${SESSION}-${msn * SEGMENT_TICKS}.p${index}.m4s`;
const partBytes = (rendition: string, index: number) => Uint8Array.from({ length: 3000 + index }, (_, i) => (i * 7 + index + (rendition === 'audio' ? 100 : 0)) % 251);

function canonicalPlaylist(count: number): string {
  const lines = ['#EXTM3U', '#EXT-X-VERSION:7', '#EXT-X-TARGETDURATION:2', '#EXT-X-MEDIA-SEQUENCE:0', `#EXT-X-MAP:URI="init-${SESSION}.mp4"`];
  for (let msn = 0; msn < count; msn++) lines.push('#EXTINF:2.00000,', `${SESSION}-${msn * SEGMENT_TICKS}.m4s`);
  return `${lines.join('\n')}\n`;
}

async function put(id: string, path: string, body: string | Uint8Array, headers: Record<string, string>): Promise<void> {
  const response = await app.request(`/_ingest/objects/streams/${id}/${path}`, { method: 'PUT', headers: { authorization: `Bearer ${secret}`, ...headers }, body });
  expect(response.status, `PUT ${path}: ${await response.clone().text()}`).toBe(201);
}

function announce(id: string, rendition: string, index: number): Promise<void> {
  return put(id, `${rendition}/${partFile(3, index)}`, partBytes(rendition, index), {
    'content-type': rendition === 'audio' ? 'audio/mp4' : 'video/mp4',
    ...partAnnouncementHeaders({ msn: 3, duration: 0.33333, independent: index === 0, next: partFile(3, index + 1), partTarget: 0.4 }),
  });
}

/** A live stream: three segments listed on each rendition, part 0 of the fourth announced. */
async function liveStream(id: string, playback: 'public' | 'signed'): Promise<void> {
  const status = { playbackId: id, state: 'live', startedAt: 0, updatedAt: 0, targetDuration: 2, restarts: 0, renditions: [], playback, lowLatency: { partTarget: 0.4 } };
  await put(id, 'status.json', JSON.stringify(status), { 'content-type': 'application/json' });
  for (const rendition of RENDITIONS) {
    await put(id, `${rendition}/index.m3u8`, canonicalPlaylist(3), { 'content-type': 'application/vnd.apple.mpegurl' });
    await announce(id, rendition, 0);
  }
}

interface Viewer {
  rendition: (typeof RENDITIONS)[number];
  /** A signed stream's viewer's own token. */
  token?: string;
}

type Get = (path: string) => Promise<Response>;
const viewerRequest: Get = async (path) => app.request(path);

function viewersOf(count: number): Viewer[] {
  return Array.from({ length: count }, (_, n) => ({ rendition: RENDITIONS[n % 2]! }));
}

async function signedViewersOf(id: string, count: number): Promise<Viewer[]> {
  const expiry = Math.floor(Date.now() / 1000) + 3600;
  return Promise.all(viewersOf(count).map(async (viewer, n) => ({ ...viewer, token: await mintPlaybackToken(playbackSecret, id, expiry + n) })));
}

/** Every viewer's blocking reload for part `index` of segment 3 and its request for that (hinted) part. */
function holdFor(get: Get, id: string, viewers: Viewer[], index: number) {
  return viewers.map((viewer) => {
    const token = viewer.token ? `token=${viewer.token}` : '';
    return {
      viewer,
      playlist: get(`/live/${id}/${viewer.rendition}/index.m3u8?_HLS_msn=3&_HLS_part=${index}${token ? `&${token}` : ''}`),
      part: get(`/live/${id}/${viewer.rendition}/${partFile(3, index)}${token ? `?${token}` : ''}`),
    };
  });
}

async function stillPending(promise: Promise<unknown>, ms = 500): Promise<boolean> {
  const marker = Symbol('pending');
  return (await Promise.race([promise, new Promise((resolve) => setTimeout(() => resolve(marker), ms))])) === marker;
}

/** Each viewer's playlist is its own (its token on every URI) and lists the part; its part is that rendition's bytes. */
async function expectAnswered(held: ReturnType<typeof holdFor>, index: number): Promise<void> {
  let checked = 0;
  for (const { viewer, playlist, part } of held) {
    const playlistResponse = await playlist;
    expect(playlistResponse.status).toBe(200);
    const text = await playlistResponse.text();
    expect(text).toContain(`URI="${partFile(3, index)}${viewer.token ? `?token=${viewer.token}` : ''}"`);
    // Only this viewer's token: the shared answer was rewritten per viewer, after.
    expect(new Set([...text.matchAll(/token=([^"\s&]+)/g)].map((match) => match[1]))).toEqual(new Set(viewer.token ? [viewer.token] : []));
    const partResponse = await part;
    expect(partResponse.status).toBe(200);
    expect(partResponse.headers.get('cache-control')).toMatch(viewer.token ? /^private/ : /immutable/);
    expect(new Uint8Array(await partResponse.arrayBuffer())).toEqual(partBytes(viewer.rendition, index));
    checked += 1;
  }
  expect(checked).toBe(held.length);
}

/**
 * Rounds of viewers on parts 1 and 2: the object's calls per (rendition, part) while they wait
 * and once answered, then late viewers of the same part (answered from the location's cache).
 */
async function fanOut(get: Get, id: string, rounds: Viewer[][]): Promise<{ playlist: number; part: number }> {
  const before = (await objects.counters(id)).calls;
  const limit = CALLS_PER_RENDITION_PART * RENDITIONS.length;
  for (const [round, viewers] of rounds.entries()) {
    const index = round + 1;
    // A plain reload first, as a player's first load: the stream's status is then in the edge's
    // cache (a cold status read by 4 000 requests at once is storage's load, not this test's).
    expect((await get(`/live/${id}/video/index.m3u8${viewers[0]!.token ? `?token=${viewers[0]!.token}` : ''}`)).status).toBe(200);
    const start = (await objects.counters(id)).calls;
    const held = holdFor(get, id, viewers, index);
    expect(await stillPending(Promise.all(held.map(({ playlist }) => playlist)))).toBe(true);
    expect(await stillPending(Promise.all(held.map(({ part }) => part)), 50)).toBe(true);
    // While they wait: a call or so per rendition, not one per viewer.
    const waiting = await objects.counters(id);
    expect(waiting.calls.playlist - start.playlist).toBeLessThanOrEqual(limit);
    expect(waiting.calls.part - start.part).toBeLessThanOrEqual(limit);
    expect(waiting.held).toBeLessThanOrEqual(2 * limit);
    for (const rendition of RENDITIONS) await announce(id, rendition, index);
    // The answers exist once the first viewer of each rendition has them.
    await Promise.all(held.slice(0, RENDITIONS.length).flatMap(({ playlist, part }) => [playlist, part]));
    const answered = (await objects.counters(id)).calls;
    // Viewers who ask from here on (another isolate of the location, or stragglers), while the
    // location keeps the answers (three target durations: asked now, not after the 2 000 answers
    // above are read, which can take longer on a loaded machine), are answered without a call.
    const late = holdFor(get, id, viewers.slice(0, 100), index);
    await expectAnswered(held, index);
    const after = (await objects.counters(id)).calls;
    expect(after.playlist - start.playlist, `playlist calls for part ${index}`).toBeLessThanOrEqual(limit);
    expect(after.part - start.part, `part calls for part ${index}`).toBeLessThanOrEqual(limit);
    expect(after.playlist - start.playlist).toBeGreaterThan(0);
    await expectAnswered(late, index);
    expect((await objects.counters(id)).calls).toEqual(answered);
  }
  const total = (await objects.counters(id)).calls;
  return { playlist: total.playlist - before.playlist, part: total.part - before.part };
}

describe('low-latency viewers fanned out at the edge location', () => {
  it(`costs the stream's Durable Object a small constant number of calls per (rendition, part) for ${VIEWERS} concurrent viewers`, { timeout: 300_000 }, async () => {
    await liveStream('fanout', 'public');
    const calls = await fanOut(viewerRequest, 'fanout', [viewersOf(VIEWERS), viewersOf(VIEWERS / 4)]);
    console.log(`fan-out: ${VIEWERS} viewers, 2 parts, each a blocking reload and the hinted part: ${calls.playlist} playlist and ${calls.part} part calls at the stream's object`);
  });

  it(`shares the calls between ${SIGNED_VIEWERS} viewers of a signed stream, each answered with their own token`, { timeout: 120_000 }, async () => {
    await liveStream('fanoutsigned', 'signed');
    // Without a token: refused before anything is waited for.
    expect((await viewerRequest('/live/fanoutsigned/video/index.m3u8?_HLS_msn=3&_HLS_part=1')).status).toBe(401);
    const viewers = await signedViewersOf('fanoutsigned', SIGNED_VIEWERS);
    await fanOut(viewerRequest, 'fanoutsigned', [viewers, viewers]);
  });
});
