/**
 * Low-latency HLS at the edge, as a player and the sidecar see it through HTTP: the same tests
 * run against the app with its in-process live state (Node) and inside workerd with the
 * Durable Object (test/workers). Writes go through the write API as the sidecar's do.
 */
import { describe, expect, it } from 'vitest';
import { partAnnouncementHeaders } from '../../shared/low-latency.ts';

/** A request to the edge; `client`: the viewer's address, as the runtime would tell it (Node's socket peer, Workers' cf-connecting-ip). */
export type EdgeRequest = (path: string, init?: RequestInit, client?: string) => Promise<Response>;

const SESSION = 'llsession1';
const TIMESCALE = 90_000;
const SEGMENT_TICKS = 2 * TIMESCALE;
const PARTS_PER_SEGMENT = 6;

function segmentTime(msn: number): number {
  return msn * SEGMENT_TICKS;
}

function partFile(msn: number, index: number): string {
  return index === PARTS_PER_SEGMENT ? `${SESSION}-${segmentTime(msn + 1)}.p0.m4s` : `${SESSION}-${segmentTime(msn)}.p${index}.m4s`;
}

/** A part's bytes: each rendition's differ (renditions share part names). */
function partBytes(msn: number, index: number, rendition = 'video'): Uint8Array {
  const salt = rendition === 'video' ? 0 : 101;
  return Uint8Array.from({ length: 1000 + index + salt }, (_, i) => (msn * 7 + index * 13 + i + salt) % 251);
}

/** A whole segment's bytes: its parts' end to end (cmaf-segmenter.ts's segmentOfChunks). */
function segmentBytes(msn: number, rendition = 'video'): Uint8Array {
  const parts = Array.from({ length: PARTS_PER_SEGMENT }, (_, index) => partBytes(msn, index, rendition));
  const bytes = new Uint8Array(parts.reduce((size, part) => size + part.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    bytes.set(part, offset);
    offset += part.byteLength;
  }
  return bytes;
}

/** Segment URIs of a playlist, in order. */
function segmentUris(text: string): string[] {
  return text.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
}

/** A canonical playlist as the sidecar stores it: segments 0..count-1 of one session (a window from `first`). */
function canonicalPlaylist(count: number, first = 0, ended = false): string {
  const lines = ['#EXTM3U', '#EXT-X-VERSION:7', '#EXT-X-TARGETDURATION:2', `#EXT-X-MEDIA-SEQUENCE:${first}`, `#EXT-X-MAP:URI="init-${SESSION}.mp4"`];
  for (let msn = first; msn < count; msn++) {
    lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(1_700_000_000_000 + msn * 2000).toISOString()}`, '#EXTINF:2.00000,', `${SESSION}-${segmentTime(msn)}.m4s`);
  }
  if (ended) lines.push('#EXT-X-ENDLIST');
  return `${lines.join('\n')}\n`;
}

export function lowLatencyEdgeTests(request: EdgeRequest, secret: string, streamPrefix: string): void {
  let streams = 0;
  const auth = { authorization: `Bearer ${secret}` };

  /** A fresh live stream with renditions `video` and `audio`, `segments` listed, and `parts` parts of the next one. */
  async function liveStream(segments: number, parts: number, first = 0) {
    streams += 1;
    const id = `${streamPrefix}${streams}`;
    const status = { playbackId: id, state: 'live', startedAt: 0, updatedAt: 0, targetDuration: 2, restarts: 0, renditions: [], playback: 'public', lowLatency: { partTarget: 0.4 } };
    const put = async (path: string, body: string | Uint8Array, headers: Record<string, string>) => {
      const response = await request(`/_ingest/objects/streams/${id}/${path}`, { method: 'PUT', headers: { ...auth, ...headers }, body });
      expect(response.status, `PUT ${path}: ${await response.clone().text()}`).toBe(201);
    };
    await put('status.json', JSON.stringify(status), { 'content-type': 'application/json' });
    const stream = {
      id,
      playlist: (rendition: string, count: number, from = first, ended = false) => put(`${rendition}/index.m3u8`, canonicalPlaylist(count, from, ended), { 'content-type': 'application/vnd.apple.mpegurl' }),
      part: (rendition: string, msn: number, index: number) =>
        put(`${rendition}/${partFile(msn, index)}`, partBytes(msn, index, rendition), {
          'content-type': rendition === 'audio' ? 'audio/mp4' : 'video/mp4',
          ...partAnnouncementHeaders({ msn, duration: 0.33333, independent: index === 0, next: partFile(msn, index + 1), partTarget: 0.4 }),
        }),
      get: (path: string, client?: string) => request(`/live/${id}/${path}`, undefined, client),
      /** A request with headers (Range) or another method (HEAD). */
      fetch: (path: string, init: RequestInit) => request(`/live/${id}/${path}`, init),
      /** The sidecar storing a segment: its parts' bytes end to end, as it builds them. */
      segment: (rendition: string, msn: number) => put(`${rendition}/${SESSION}-${segmentTime(msn)}.m4s`, segmentBytes(msn, rendition), { 'content-type': rendition === 'audio' ? 'audio/mp4' : 'video/mp4' }),
    };
    for (const rendition of ['video', 'audio']) {
      await stream.playlist(rendition, segments);
      for (let index = 0; index < parts; index++) await stream.part(rendition, segments, index);
    }
    return stream;
  }

  /** Whether a promise is still pending after a while. */
  async function stillPending(promise: Promise<unknown>, ms = 300): Promise<boolean> {
    const marker = Symbol('pending');
    return (await Promise.race([promise, new Promise((resolve) => setTimeout(() => resolve(marker), ms))])) === marker;
  }

  describe('low-latency HLS at the edge', () => {
    it('lists the parts of the segment being cut, a preload hint, the other rendition and the server control', async () => {
      const stream = await liveStream(4, 3);
      const response = await stream.get('video/index.m3u8');
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('application/vnd.apple.mpegurl');
      expect(response.headers.get('cache-control')).toBe('public, max-age=1, stale-while-revalidate=1');
      const text = await response.text();
      expect(text).toContain('#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.200,CAN-SKIP-UNTIL=12.0\n');
      expect(text).toContain('#EXT-X-PART-INF:PART-TARGET=0.40000\n');
      const parts = [...text.matchAll(/^#EXT-X-PART:DURATION=([\d.]+),URI="([^"]+)"(,INDEPENDENT=YES)?$/gm)].map((m) => m[2]);
      expect(parts).toEqual([0, 1, 2].map((index) => partFile(4, index)));
      // Parts follow the last whole segment, and the hint names the next part.
      expect(text.indexOf(`${SESSION}-${segmentTime(3)}.m4s`)).toBeLessThan(text.indexOf(partFile(4, 0)));
      expect(text).toContain(`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="${partFile(4, 3)}"\n`);
      expect(text).toContain('#EXT-X-RENDITION-REPORT:URI="../audio/index.m3u8",LAST-MSN=4,LAST-PART=2\n');
      expect(text).toMatch(/^#EXT-X-PART:DURATION=0\.33334,URI="[^"]+\.p0\.m4s",INDEPENDENT=YES$/m);
    });

    it('serves a listed part with the bytes announced, cacheable for good', async () => {
      const stream = await liveStream(2, 2);
      const response = await stream.get(`audio/${partFile(2, 1)}`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('audio/mp4');
      expect(response.headers.get('cache-control')).toContain('immutable');
      expect(new Uint8Array(await response.arrayBuffer())).toEqual(partBytes(2, 1, 'audio'));
      const unknown = await stream.get(`audio/${SESSION}-${segmentTime(9)}.p4.m4s`);
      expect(unknown.status).toBe(404);
      expect(unknown.headers.get('cache-control')).toBe('no-store');
    });

    it('answers a blocking reload at once when the part is there, and holds it until the part exists when not', async () => {
      const stream = await liveStream(3, 2);
      const ready = await stream.get('video/index.m3u8?_HLS_msn=3&_HLS_part=1');
      expect(ready.status).toBe(200);
      expect(await ready.text()).toContain(partFile(3, 1));

      const held = stream.get('video/index.m3u8?_HLS_msn=3&_HLS_part=2');
      expect(await stillPending(held)).toBe(true);
      await stream.part('video', 3, 2);
      const answer = await held;
      expect(answer.status).toBe(200);
      expect(answer.headers.get('cache-control')).toBe('public, max-age=12');
      expect(await answer.text()).toContain(`URI="${partFile(3, 2)}"`);

      // Waiting for the whole segment: released by the playlist that lists it.
      const segment = stream.get('video/index.m3u8?_HLS_msn=3');
      expect(await stillPending(segment)).toBe(true);
      await stream.playlist('video', 4);
      const listed = await (await segment).text();
      expect(listed).toContain(`${SESSION}-${segmentTime(3)}.m4s`);
      // The segment just listed keeps its parts in the playlist, before its EXTINF.
      expect(listed.indexOf(partFile(3, 2))).toBeLessThan(listed.indexOf(`${SESSION}-${segmentTime(3)}.m4s`));
    });

    it('refuses a request beyond the Advance Part Limit (3 / PART-TARGET: 7.5 parts at 0.4 s) with 400, and bad directives too', async () => {
      const stream = await liveStream(3, 1);
      for (const query of ['_HLS_msn=6', '_HLS_msn=3&_HLS_part=9', '_HLS_msn=4&_HLS_part=7', '_HLS_part=1', '_HLS_msn=x', '_HLS_msn=3&_HLS_msn=4', '_HLS_skip=NO']) {
        const response = await stream.get(`video/index.m3u8?${query}`);
        expect(response.status, query).toBe(400);
        expect(response.headers.get('cache-control')).toBe('no-store');
      }
      // Within the limits: held, not refused.
      for (const query of ['_HLS_msn=3&_HLS_part=3', '_HLS_msn=3&_HLS_part=7', '_HLS_msn=4&_HLS_part=6']) {
        expect(await stillPending(stream.get(`video/index.m3u8?${query}`), 200), query).toBe(true);
      }
    });

    it('holds part N+1 of a segment whose last part is N (hls.js at every boundary) until the next segment\'s first part is listed', async () => {
      const stream = await liveStream(3, PARTS_PER_SEGMENT);
      const boundary = stream.get(`video/index.m3u8?_HLS_msn=3&_HLS_part=${PARTS_PER_SEGMENT}&_HLS_skip=YES`);
      expect(await stillPending(boundary)).toBe(true);
      await stream.playlist('video', 4);
      expect(await stillPending(boundary)).toBe(true);
      await stream.part('video', 4, 0);
      const answer = await boundary;
      expect(answer.status).toBe(200);
      expect(await answer.text()).toContain(`URI="${partFile(4, 0)}"`);
    });

    it('answers a held hinted part with that rendition\'s bytes, and a hint that will not come with 404 at once', async () => {
      const stream = await liveStream(3, 2);
      const audio = stream.get(`audio/${partFile(3, 2)}`);
      const video = stream.get(`video/${partFile(3, 2)}`);
      // Both held (renditions share part names) before the video part comes.
      expect(await stillPending(Promise.race([audio, video]))).toBe(true);
      await stream.part('video', 3, 2);
      expect(new Uint8Array(await (await video).arrayBuffer())).toEqual(partBytes(3, 2, 'video'));
      expect(await stillPending(audio)).toBe(true);
      await stream.part('audio', 3, 2);
      expect(new Uint8Array(await (await audio).arrayBuffer())).toEqual(partBytes(3, 2, 'audio'));
      // The video segment ends early: the hinted part 3 never comes.
      const hinted = stream.get(`video/${partFile(3, 3)}`);
      expect(await stillPending(hinted, 100)).toBe(true);
      await stream.playlist('video', 4);
      await stream.part('video', 4, 0);
      const missing = await hinted;
      expect(missing.status).toBe(404);
      expect(missing.headers.get('cache-control')).toBe('no-store');
    });

    it('keeps serving a part, with the same bytes, after it left the playlist', async () => {
      const stream = await liveStream(3, PARTS_PER_SEGMENT);
      for (let msn = 4; msn <= 8; msn++) {
        await stream.playlist('video', msn);
        for (let index = 0; index < PARTS_PER_SEGMENT; index++) await stream.part('video', msn, index);
      }
      await stream.playlist('video', 9);
      const listed = await (await stream.get('video/index.m3u8')).text();
      expect(listed).not.toContain(partFile(3, 1));
      expect(listed).toContain(partFile(8, 1));
      const response = await stream.get(`video/${partFile(3, 1)}`);
      expect(response.status).toBe(200);
      expect(new Uint8Array(await response.arrayBuffer())).toEqual(partBytes(3, 1, 'video'));
    });

    it('says the same EXT-X-SERVER-CONTROL in every reload of every rendition', async () => {
      const stream = await liveStream(1, 0);
      const controls = new Set<string>();
      const read = async (path: string) => controls.add(/^#EXT-X-SERVER-CONTROL:.*$/m.exec(await (await stream.get(path)).text())?.[0] ?? 'none');
      for (let msn = 1; msn <= 8; msn++) {
        for (const rendition of ['video', 'audio']) {
          await read(`${rendition}/index.m3u8`);
          await stream.part(rendition, msn, 0);
          await read(`${rendition}/index.m3u8?_HLS_msn=${msn}&_HLS_part=0&_HLS_skip=YES`);
          await stream.playlist(rendition, msn + 1);
        }
      }
      expect([...controls]).toEqual(['#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.200,CAN-SKIP-UNTIL=12.0']);
    });

    it('answers a blocking request for a rendition the stream does not have with 404 at once, however many', async () => {
      const stream = await liveStream(3, 1);
      const started = Date.now();
      const responses = await Promise.all(Array.from({ length: 300 }, (_, n) => stream.get(`zz${n}/index.m3u8?_HLS_msn=5`)));
      expect(Date.now() - started).toBeLessThan(3000);
      for (const response of responses) {
        expect(response.status).toBe(404);
        expect(response.headers.get('cache-control')).toBe('no-store');
        expect(await response.json()).toEqual({ error: expect.stringContaining('no rendition') });
      }
    });

    it('holds at most fifty requests per client address on a stream, and answers more with 503 and Retry-After', async () => {
      const stream = await liveStream(3, 1);
      const address = '203.0.113.9';
      const held = Array.from({ length: 50 }, (_, n) => stream.get(`video/index.m3u8?_HLS_msn=3&_HLS_part=${1 + (n % 2)}`, address));
      expect(await stillPending(Promise.all(held))).toBe(true);
      const refused = await stream.get('video/index.m3u8?_HLS_msn=3&_HLS_part=1', address);
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toBe('1');
      expect(refused.headers.get('cache-control')).toBe('no-store');
      expect(await refused.json()).toEqual({ error: expect.stringContaining('limit') });
      // Another address is not affected.
      const other = stream.get('video/index.m3u8?_HLS_msn=3&_HLS_part=1', '203.0.113.10');
      expect(await stillPending(other)).toBe(true);
      await stream.part('video', 3, 1);
      await stream.part('video', 3, 2);
      expect((await Promise.all([...held, other])).every((response) => response.status === 200)).toBe(true);
    });

    it('holds a request for the hinted part and serves it whole once it exists', async () => {
      const stream = await liveStream(3, 2);
      const hinted = stream.get(`video/${partFile(3, 2)}`);
      expect(await stillPending(hinted)).toBe(true);
      await stream.part('video', 3, 2);
      const response = await hinted;
      expect(response.status).toBe(200);
      expect(new Uint8Array(await response.arrayBuffer())).toEqual(partBytes(3, 2, 'video'));
    });

    it('answers a delta update with EXT-X-SKIP when the playlist is longer than the skip boundary', async () => {
      const stream = await liveStream(10, 1);
      const full = await (await stream.get('video/index.m3u8')).text();
      expect(full).toContain('CAN-SKIP-UNTIL=12.0');
      const delta = await (await stream.get('video/index.m3u8?_HLS_skip=YES&_HLS_msn=10&_HLS_part=0')).text();
      expect(delta).toContain('#EXT-X-VERSION:9\n');
      expect(delta).toContain('#EXT-X-SKIP:SKIPPED-SEGMENTS=4\n');
      expect(delta).not.toContain(`${SESSION}-${segmentTime(3)}.m4s`);
      expect(delta).toContain(`${SESSION}-${segmentTime(4)}.m4s`);
      expect(delta).toContain(`#EXT-X-MAP:URI="init-${SESSION}.mp4"`);
      expect(delta).toContain(partFile(10, 0));
      // A playlist shorter than the skip boundary: the same server control, the full playlist.
      const short = await liveStream(4, 1);
      const answer = await (await short.get('video/index.m3u8?_HLS_skip=YES')).text();
      expect(answer).toContain('CAN-SKIP-UNTIL=12.0');
      expect(answer).not.toContain('#EXT-X-SKIP');
      expect(answer).toContain(`${SESSION}-${segmentTime(0)}.m4s`);
    });

    it('releases a thousand viewers held on the same part with one announcement', async () => {
      const stream = await liveStream(3, 1);
      const viewers = Array.from({ length: 1000 }, () => stream.get('video/index.m3u8?_HLS_msn=3&_HLS_part=1'));
      expect(await stillPending(Promise.all(viewers))).toBe(true);
      await stream.part('video', 3, 1);
      const responses = await Promise.all(viewers);
      expect(responses.every((response) => response.status === 200)).toBe(true);
      const texts = new Set(await Promise.all(responses.map((response) => response.text())));
      expect(texts.size).toBe(1);
      expect([...texts][0]).toContain(partFile(3, 1));
    });

    it('lists a segment whole from its parts the moment the next segment\'s first part arrives, and serves it from the parts until storage has it', async () => {
      const stream = await liveStream(3, PARTS_PER_SEGMENT);
      const segment = `${SESSION}-${segmentTime(3)}.m4s`;
      const whole = stream.get('video/index.m3u8?_HLS_msn=3');
      expect(await stillPending(whole)).toBe(true);
      // Not stored yet, not listed yet: not found.
      expect((await stream.get(`video/${segment}`)).status).toBe(404);
      await stream.part('video', 4, 0);
      // No stored playlist lists segment 3: the parts closed it.
      const held = await whole;
      expect(held.status).toBe(200);
      const text = await held.text();
      expect(segmentUris(text)).toEqual([0, 1, 2, 3].map((msn) => `${SESSION}-${segmentTime(msn)}.m4s`));
      expect(text).toContain(`#EXT-X-PART:DURATION=0.33334,URI="${partFile(3, 5)}"\n#EXT-X-PROGRAM-DATE-TIME:${new Date(1_700_000_006_000).toISOString()}\n#EXTINF:1.99998,\n${segment}\n#EXT-X-PART:DURATION=0.33334,URI="${partFile(4, 0)}",INDEPENDENT=YES\n`);
      // The audio rendition reports where video's playlist ends now.
      expect(await (await stream.get('audio/index.m3u8')).text()).toContain('#EXT-X-RENDITION-REPORT:URI="../video/index.m3u8",LAST-MSN=4,LAST-PART=0\n');

      // Its URI, before storage has it: the parts' bytes end to end, cacheable for good; ranges and HEAD too.
      const early = await stream.get(`video/${segment}`);
      expect(early.status).toBe(200);
      expect(early.headers.get('content-type')).toBe('video/mp4');
      expect(early.headers.get('cache-control')).toContain('immutable');
      expect(new Uint8Array(await early.arrayBuffer())).toEqual(segmentBytes(3));
      const ranged = await stream.fetch(`video/${segment}`, { headers: { range: 'bytes=1000-1009' } });
      expect(ranged.status).toBe(206);
      expect(ranged.headers.get('content-range')).toBe(`bytes 1000-1009/${segmentBytes(3).byteLength}`);
      expect(new Uint8Array(await ranged.arrayBuffer())).toEqual(segmentBytes(3).slice(1000, 1010));
      const head = await stream.fetch(`video/${segment}`, { method: 'HEAD' });
      expect(head.status).toBe(200);
      expect(head.headers.get('content-length')).toBe(String(segmentBytes(3).byteLength));
      // Another rendition's segment of the same name was not closed: not found.
      expect((await stream.get(`audio/${segment}`)).status).toBe(404);

      // Stored: served from storage (its validator with it), the same bytes.
      await stream.segment('video', 3);
      const late = await stream.get(`video/${segment}`);
      expect(late.headers.get('etag')).toMatch(/^"/);
      expect(new Uint8Array(await late.arrayBuffer())).toEqual(segmentBytes(3));

      // The stored playlist agrees: segment 3 once, as stored; the parts after it stay listed.
      await stream.playlist('video', 4);
      const reconciled = await (await stream.get('video/index.m3u8')).text();
      expect(segmentUris(reconciled)).toEqual([0, 1, 2, 3].map((msn) => `${SESSION}-${segmentTime(msn)}.m4s`));
      expect(reconciled).toContain(`URI="${partFile(4, 0)}"`);
    });

    it('lets a stored playlist that disagrees win, without a playlist going back in media sequence', async () => {
      const stream = await liveStream(3, PARTS_PER_SEGMENT);
      for (let index = 0; index < PARTS_PER_SEGMENT; index++) await stream.part('video', 4, index);
      await stream.part('video', 5, 0);
      expect(segmentUris(await (await stream.get('video/index.m3u8')).text()).slice(3)).toEqual([3, 4].map((msn) => `${SESSION}-${segmentTime(msn)}.m4s`));
      // The sidecar's playlist names another segment 3 (its parts' numbering went astray): it wins;
      // segment 4, already listed, stays until the stored playlist passes it; nothing more from parts.
      const other = `${SESSION}-${segmentTime(3) + 45_000}.m4s`;
      const storedText = canonicalPlaylist(4).replace(`${SESSION}-${segmentTime(3)}.m4s`, other);
      const response = await request(`/_ingest/objects/streams/${stream.id}/video/index.m3u8`, { method: 'PUT', headers: { ...auth, 'content-type': 'application/vnd.apple.mpegurl' }, body: storedText });
      expect(response.status).toBe(201);
      const text = await (await stream.get('video/index.m3u8')).text();
      expect(segmentUris(text).slice(3)).toEqual([other, `${SESSION}-${segmentTime(4)}.m4s`]);
      expect(text).not.toContain(partFile(5, 0));
    });

    it('serves an ended stream from storage, without low-latency tags', async () => {
      const stream = await liveStream(3, 2);
      await stream.playlist('video', 4, 0, true);
      const text = await (await stream.get('video/index.m3u8?_HLS_msn=3&_HLS_part=5')).text();
      expect(text).toContain('#EXT-X-ENDLIST');
      expect(text).not.toContain('#EXT-X-PART');
    });
  });
}
