/**
 * The whole path, as a user runs it: the sidecar and the edge under `wrangler dev` (local R2),
 * ffmpeg publishing over RTMP, and real players watching what the edge serves.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { streamWriteToken } from '../../shared/write-api.ts';
import { concatBytes } from '../../ingest/package/bytes.ts';
import { encoderFfmpegChildren } from '../helpers/encoder-processes.ts';
import { probeDecode } from '../helpers/ffprobe.ts';
import { parseM3u8 } from '../helpers/m3u8.ts';
import { eventually } from '../helpers/network.ts';
import { startTestPlatform, type Platform } from '../helpers/platform.ts';
import { openPlayerPage, playheadJumpsBack, playHlsInVlc, playInChromium, playInVlc, waitUntilPlayedToTheEnd, watchLiveInChromium } from '../helpers/players.ts';
import { publishTestPattern, type TestPublisher } from '../helpers/publisher.ts';

// Long enough for every test below; the last one stops the publishers.
const PUBLISH_SECONDS = 60;

describe('publish over RTMP, watch from the edge', () => {
  let edgeUrl: string;
  /** The first segment the e2e stream listed: retention deletes it once it is a window behind. */
  let firstSegmentPath: string;
  let firstSegmentStatusAtStart: number;
  let e2eWriteToken: string;

  /**
   * Whether storage (R2) holds a stream object, asked through the write API: viewers' reads go
   * through the edge's cache, which keeps immutable media after storage dropped it.
   */
  async function storedStatus(livePath: string): Promise<number> {
    const key = livePath.replace(/^\/live\//, 'streams/');
    const response = await fetch(new URL(`/_ingest/objects/${key}`, edgeUrl), { headers: { authorization: `Bearer ${e2eWriteToken}` }, signal: AbortSignal.timeout(10_000) });
    await response.body?.cancel();
    return response.status;
  }
  let platform: Platform | undefined;
  let publishers: TestPublisher[] = [];
  const logLines: string[] = [];

  async function get(path: string) {
    return fetch(new URL(path, edgeUrl), { signal: AbortSignal.timeout(10_000) });
  }

  async function mediaPlaylistText(path: string) {
    const response = await get(path);
    return response.ok ? response.text() : undefined;
  }

  beforeAll(async () => {
    platform = await startTestPlatform('e2e-live-path', { edge: 'wrangler', lines: logLines, ingest: { reconnectWindow: 2 } });
    edgeUrl = platform.edgeUrl;
    e2eWriteToken = await streamWriteToken(platform.ingestSecret, 'e2e');
    publishers = [
      publishTestPattern(platform.publishUrl('e2e'), PUBLISH_SECONDS),
      // The blog's URL: application `stream` is an alias of `live`.
      publishTestPattern(platform.publishUrl('colors', 'stream'), PUBLISH_SECONDS),
    ];
    firstSegmentPath = await eventually('two segments listed in the e2e playlist', 30_000, async () => {
      const text = await mediaPlaylistText('/live/e2e/source/index.m3u8');
      const segments = text ? parseM3u8(text).segments : [];
      return segments.length >= 2 ? `/live/e2e/source/${segments[0]!.uri}` : undefined;
    });
    firstSegmentStatusAtStart = await storedStatus(firstSegmentPath);
  });

  afterAll(async () => {
    await Promise.all(publishers.map((publisher) => publisher.stop()));
    await platform?.stop();
  });

  it('serves the multivariant playlist with codecs, an audio group, and the headers players and CDNs need', async () => {
    const response = await get('/live/e2e/index.m3u8');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/vnd.apple.mpegurl');
    expect(response.headers.get('cache-control')).toBe('public, max-age=2');
    const manifest = parseM3u8(await response.text());
    expect(manifest.playlists).toHaveLength(1);
    expect(manifest.playlists![0]!.attributes).toMatchObject({
      CODECS: expect.stringMatching(/^avc1\.[0-9a-f]{6},mp4a\.40\.2$/),
      RESOLUTION: { width: 640, height: 360 },
      AUDIO: 'audio',
    });
    const cors = await fetch(new URL('/live/e2e/index.m3u8', edgeUrl), { headers: { origin: 'https://elsewhere.example' } });
    expect(cors.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('serves media playlists whose every URI is on the edge, and whose segments decode', async () => {
    for (const rendition of ['source', 'audio']) {
      const response = await get(`/live/e2e/${rendition}/index.m3u8`);
      expect(response.headers.get('cache-control')).toBe('public, max-age=1, stale-while-revalidate=1');
      const text = await response.text();
      const manifest = parseM3u8(text);
      expect(text).toMatch(/#EXT-X-PROGRAM-DATE-TIME:/);
      expect(manifest.endList).toBeFalsy();
      const segments = manifest.segments;
      expect(segments.length).toBeGreaterThanOrEqual(2);
      for (const segment of segments) {
        expect(Math.round(segment.duration)).toBeLessThanOrEqual(manifest.targetDuration!);
        expect(Math.abs(segment.dateTimeObject!.getTime() - Date.now())).toBeLessThan(60_000);
      }
      const base = new URL(`/live/e2e/${rendition}/index.m3u8`, edgeUrl);
      const init = await fetch(new URL(segments[0]!.map!.uri, base));
      expect(init.status).toBe(200);
      expect(init.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      const bodies: Uint8Array[] = [new Uint8Array(await init.arrayBuffer())];
      for (const segment of segments) {
        const media = await fetch(new URL(segment.uri, base));
        expect(media.status, segment.uri).toBe(200);
        expect(media.headers.get('content-type')).toBe(rendition === 'audio' ? 'audio/mp4' : 'video/mp4');
        bodies.push(new Uint8Array(await media.arrayBuffer()));
      }
      const decoded = await probeDecode(concatBytes(bodies));
      expect(decoded.codecType).toBe(rendition === 'audio' ? 'audio' : 'video');
      if (rendition === 'source') expect(decoded.decodedFrames).toBeGreaterThanOrEqual(segments.length * 55);
    }
  });

  it('answers 200 viewers asking at once for a segment just listed, each with the whole segment, and the Worker logs no cross-request error', async () => {
    // No request waits on another's read on Workers (edge/cache/cached-object-store.ts); this is the
    // real runtime's check of that, which @cloudflare/vitest-plugin (cross-request promise
    // handling turned off) cannot give.
    const listed = parseM3u8((await mediaPlaylistText('/live/e2e/source/index.m3u8'))!).segments.map((segment) => segment.uri);
    const fresh = await eventually('a new segment listed', 15_000, async () => {
      const uris = parseM3u8((await mediaPlaylistText('/live/e2e/source/index.m3u8')) ?? '').segments.map((segment) => segment.uri);
      return uris.find((uri) => !listed.includes(uri));
    });
    const bodies = await Promise.all(Array.from({ length: 200 }, async () => {
      const response = await get(`/live/e2e/source/${fresh}`);
      return response.status === 200 ? Buffer.from(await response.arrayBuffer()).toString('base64') : `status ${response.status}`;
    }));
    expect(new Set(bodies).size).toBe(1);
    expect(bodies[0]!.length).toBeGreaterThan(1000);
    expect(logLines.filter((line) => line.startsWith('[edge]') && /different request|can never settle|had hung/.test(line))).toEqual([]);
  });

  it('honours Range, If-None-Match and HEAD in the Workers runtime with R2', async () => {
    const manifest = parseM3u8((await mediaPlaylistText('/live/e2e/source/index.m3u8'))!);
    const segmentUrl = new URL(manifest.segments[0]!.uri, new URL('/live/e2e/source/index.m3u8', edgeUrl));
    const whole = new Uint8Array(await (await fetch(segmentUrl)).arrayBuffer());
    const ranged = await fetch(segmentUrl, { headers: { range: 'bytes=100-1099' } });
    expect(ranged.status).toBe(206);
    expect(ranged.headers.get('content-range')).toBe(`bytes 100-1099/${whole.length}`);
    expect(new Uint8Array(await ranged.arrayBuffer())).toEqual(whole.subarray(100, 1100));
    expect((await fetch(segmentUrl, { headers: { range: `bytes=${whole.length}-` } })).status).toBe(416);
    const head = await fetch(segmentUrl, { method: 'HEAD' });
    expect(head.headers.get('content-length')).toBe(String(whole.length));
    const etag = head.headers.get('etag')!;
    const revalidated = await fetch(segmentUrl, { headers: { 'if-none-match': etag } });
    expect(revalidated.status).toBe(304);
    expect(revalidated.headers.get('cache-control')).toContain('immutable');
  });

  it('plays in hls.js in Chromium, on the player page, for 3 s without a fatal error', async () => {
    const playback = await playInChromium(`${edgeUrl}/watch/e2e`, 3);
    expect(playback.fatal).toBeNull();
    expect(playback.pageErrors).toEqual([]);
    expect(playback.playedSeconds).toBeGreaterThanOrEqual(3);
  });

  it('serves a DASH MPD over the same segments, and dash.js follows the live stream in Chromium for 14 s', async () => {
    const response = await get('/live/e2e/manifest.mpd');
    expect(response.headers.get('content-type')).toBe('application/dash+xml');
    expect(response.headers.get('cache-control')).toBe('public, max-age=1, stale-while-revalidate=1');
    const mpd = await response.text();
    expect(mpd).toContain('type="dynamic"');
    const hls = parseM3u8((await mediaPlaylistText('/live/e2e/source/index.m3u8'))!);
    // The MPD names the same segment files the HLS playlist lists (by their media time).
    const last = hls.segments.at(-2)!.uri;
    expect(mpd).toContain(`media="source/${last.split('-')[0]}-$Time$.m4s"`);
    // Players take the time from the edge's clock, which no cache may keep.
    expect(mpd).toContain('<UTCTiming schemeIdUri="urn:mpeg:dash:utc:http-iso:2014" value="/time"/>');
    const time = await get('/time');
    expect(time.headers.get('cache-control')).toBe('no-store');
    expect(Math.abs(Date.parse(await time.text()) - Date.now())).toBeLessThan(5000);

    // Long enough to outlast the segments of the first MPD it loads (a player that never
    // reloads it stalls after ~6 s, then replays them): it must keep moving forward on new ones.
    const playback = await watchLiveInChromium(`${edgeUrl}/watch/e2e?format=dash`, 14);
    expect(playback.fatal).toBeNull();
    expect(playback.pageErrors).toEqual([]);
    expect(playback.jumpsBack).toEqual([]);
    expect(playback.playedSeconds).toBeGreaterThanOrEqual(11);
    const newVideoSegments = playback.segmentUrlsFetchedWhilePlaying.filter((url) => url.includes('/live/e2e/source/'));
    expect(newVideoSegments.length, newVideoSegments.join(' ')).toBeGreaterThanOrEqual(5);
  });

  it("plays the blog's URL /live/colors.m3u8 in VLC", async () => {
    // As a VLC 3.0 viewer would: opened again, once, after VLC's known start fault (playHlsInVlc).
    const playback = await playHlsInVlc(`${edgeUrl}/live/colors.m3u8`, 8);
    logLines.push(...playback.log.split('\n').map((line) => `[vlc] ${line}`));
    if (playback.openedAgainAfter) console.log(`[live-path] VLC began its renditions on different segments (${JSON.stringify(playback.openedAgainAfter)}), showed no picture, and was opened again`);
    expect(playback.mediaErrors).toEqual([]);
    expect(playback.firstPicture, 'VLC decoded no picture (see test-output/e2e-live-path.log)').toBe(true);
    expect(playback.reachedEnd, 'VLC reached the end of a live stream').toBe(false);
    // 8 s of playing a live stream of 2 s segments: new segments keep coming, for video and audio.
    expect(playback.segmentsFetchedWhilePlaying).toBeGreaterThanOrEqual(4);
  });

  it('plays the DASH MPD in VLC, and keeps fetching new segments', async () => {
    const playback = await playInVlc(`${edgeUrl}/live/colors/manifest.mpd`, 8);
    logLines.push(...playback.log.split('\n').map((line) => `[vlc-dash] ${line}`));
    expect(playback.mediaErrors).toEqual([]);
    expect(playback.firstPicture, 'VLC decoded no picture from the MPD (see test-output/e2e-live-path.log)').toBe(true);
    expect(playback.reachedEnd, 'VLC reached the end of a live MPD').toBe(false);
    expect(playback.segmentsFetchedWhilePlaying).toBeGreaterThanOrEqual(4);
  });

  it('packaged both streams the players above played without any ffmpeg (a 360p H.264/AAC source: the default ladder has nothing to encode)', async () => {
    const started = logLines.filter((line) => line.includes('remux started (no ffmpeg)') || line.includes('encoder started'));
    expect(started.filter((line) => line.includes('"stream":"e2e"'))).toHaveLength(1);
    expect(started.filter((line) => line.includes('"stream":"colors"'))).toHaveLength(1);
    expect(started.every((line) => line.includes('remux started (no ffmpeg)')), started.join('\n')).toBe(true);
    expect(encoderFfmpegChildren(platform!.ingest!.pid!)).toEqual([]);
  });

  it('deletes media a window after it left the live playlist (retention, through the write API), never what a playlist lists', async () => {
    expect(firstSegmentStatusAtStart).toBe(200);
    await eventually(`${firstSegmentPath} to be deleted from storage`, 45_000, async () => ((await storedStatus(firstSegmentPath)) === 404 ? true : undefined));
    const playlist = parseM3u8((await mediaPlaylistText('/live/e2e/source/index.m3u8'))!);
    expect(playlist.segments.map((segment) => `/live/e2e/source/${segment.uri}`)).not.toContain(firstSegmentPath);
    for (const segment of playlist.segments) expect((await get(`/live/e2e/source/${segment.uri}`)).status, segment.uri).toBe(200);
  });

  it('ends every media playlist with EXT-X-ENDLIST once the publishers leave, and dash.js watching then plays on to the end', async () => {
    // A DASH viewer watching when the stream ends: the MPD's last (static) version keeps the live
    // timeline, so dash.js turns the presentation into VOD in place and plays it out.
    const dash = await openPlayerPage(`${edgeUrl}/watch/e2e?format=dash`);
    await eventually('dash.js to start', 30_000, async () => ((await dash.state()).playing ? true : undefined));
    const periodStart = (mpd: string) => /<Period id="[^"]+" start="([^"]+)"/.exec(mpd)?.[1];
    const liveStart = periodStart(await (await get('/live/e2e/manifest.mpd')).text());
    await Promise.all(publishers.map((publisher) => publisher.stop()));
    for (const path of ['/live/e2e/source/index.m3u8', '/live/e2e/audio/index.m3u8', '/live/colors/source/index.m3u8']) {
      const text = await eventually(`ENDLIST in ${path}`, 20_000, async () => {
        const body = await mediaPlaylistText(path);
        return body?.includes('#EXT-X-ENDLIST') ? body : undefined;
      });
      expect(parseM3u8(text).endList).toBe(true);
      expect((await get(path)).headers.get('cache-control')).toBe('public, max-age=60');
    }
    const ended = await eventually('the static MPD', 20_000, async () => {
      const mpd = await (await get('/live/e2e/manifest.mpd')).text();
      return mpd.includes('type="static"') ? mpd : undefined;
    });
    expect(periodStart(ended)).toBe(liveStart);
    try {
      await waitUntilPlayedToTheEnd(dash, 40_000);
      expect(playheadJumpsBack(await dash.playhead())).toEqual([]);
      expect((await dash.state()).errors).toEqual([]);
    } finally {
      await dash.close();
    }
  });
});
