/**
 * The players people use, checked as viewers see them: on one live ladder stream from the edge
 * in the Workers runtime (`wrangler dev`), hls.js (low-latency and standard), Shaka Player (HLS,
 * HLS in low-latency mode, DASH), dash.js and VLC each play 30 s. Any error event of a player,
 * fatal or not, fails its test, and so does any 4xx/5xx response or console error in the page;
 * a browser player may stall no more often than the same player, in the same seconds, on a plain
 * reference stream (ffmpeg's own HLS and DASH muxers on the same test pattern; see
 * reference-stream.ts for why not nginx-rtmp).
 *
 * One platform, one stream, one browser, players one after another near the live edge, those
 * that play far behind it at the same time (each beside its reference): about 4 minutes on 2 cores
 * with PLAYER_MATRIX=1 (`npm run test:players`); `npm test` runs every row but those in MATRIX_ONLY
 * (none today). Every stall comes with its evidence in the log (`atStalls`,
 * stall-evidence.ts): the buffer ahead and buffered ranges, the requests then in flight and how
 * long they took, and how the edge's part listing stood (part-listing.ts follows three renditions).
 *
 * What it found when written (2026-12-06, four runs): Shaka Player on our HLS stalls at segment
 * boundaries (the log's `stalledAt` is at even seconds: lowLatencyMode 15 stalls in 30 s, the
 * default 1-2) because the next segment's first part is listed only once the sidecar's stored
 * playlist lists the previous segment (0.3-1 s later, against 0.3 s between parts); and a part
 * the sidecar skipped (`MAX_PARTS_IN_FLIGHT`, the edge slow to take parts under load) leaves a
 * hint that never comes, which the edge answers 404 and hls.js and Shaka report as error events.
 *
 * Shaka Player 5.2 looked at again (2026-12-06 11:30-12:25 UTC, load 17-31; Shaka's debug build
 * with its own log, every request, SourceBuffer abort(), timestampOffset and append, the buffered
 * ranges and every playlist it got). Both Shaka HLS default rows run the same player:
 * `streaming.lowLatencyMode` is on by default in 5.2. Its stalls then were holes in its buffer
 * 3.5-7.6 s behind the listed end, from a Shaka 5.2.12 bug (its issue 10589, fixed on its main
 * branch only): per part it sets a timestampOffset from the playlist's times, a hair below zero it
 * adds 1 ms, then calls abort() before the next part and Chromium drops that part's frames up to
 * the next keyframe. Each part's DURATION is listed rounded up to the next 10 us since
 * (low-latency-playlist.ts): 12 stalls -> 0 on a light setup. On this matrix's setup it then still
 * stalled 37 times in 30 s (12:39 UTC, load 16-21), not reproduced since at load 3-14. Seen then
 * too: once Shaka plays more than three target durations behind, the segment it is in loses its
 * EXT-X-PART lines (§6.2.2), Shaka rebuilds its reference without parts, and its segment iterator
 * moves on to the next segment's first part: the rest of that segment is never fetched.
 *
 * Again 15:05-15:26 UTC (load 0-14, same tools): the Shaka HLS rows at Shaka's defaults played 30 s
 * without an error event, 0-1 stalls (the one: 1.1 s behind the newest part, at the live edge, where
 * the reference plays 7-9 s behind), 1.2-2.1 s to the first frame, 1.4-3.1 s behind live. Part
 * requests from Chromium to wrangler dev took p50 100-180 ms, p90 250-350 ms, nearly all of it the
 * edge's answer (Chromium's queueing p50 10 ms, with up to 10 requests open at once), most of them
 * held hinted parts (Shaka sits at the live edge); a part already listed took 15 ms from Node's
 * fetch with the machine quiet (wrangler dev's own floor: /time 13 ms). So the 0.5-1.4 s seen at
 * 11:30-12:25 were the machine's load, not the edge holding listed parts. Shaka asks for 5-20 % of
 * parts twice: a segment that lists parts is rebuilt at every playlist update (Shaka 5.2.12's
 * createSegments_ reuses only references without parts), and its prefetcher is keyed by reference
 * object, not URI, so nothing the edge lists can make the two match. Two further findings:
 * - The player page's former setting, `manifest.hls.ignoreManifestTimestampsInSegmentsMode`, never
 *   played on a stream older than its live window: Shaka then appends at the media's own times
 *   (the buffer at 58-68 s) while its playhead follows the playlist's (20.6 s); the row "the player
 *   page's configuration" ran last and "did not start in 30 s". The page now runs Shaka's defaults,
 *   and the page itself is a row below, late in the stream.
 * - Shaka's ABR bans the video rendition it plays for 30 s when 15 % of frames dropped in 2 s
 *   (`abr.droppedFrames`, on by default): on the player page's 1248 px video in headless Chromium
 *   it banned 360p and switched to 480p with 5 s of buffering (10 stalls in one run, at load 8-14).
 *   The reference has one rendition, nothing to switch to; so the page is shown 640x360, as the
 *   harness shows both players.
 *
 * With that evidence, 2026-12-06 17:42-18:01 UTC (another helper's 720p ladder benchmark and
 * browsers on the same 2 cores):
 * - 17:42, load 7-17: 5 of 8 rows failed. Part and playlist requests took 0.4-3.5 s, and the
 *   stream itself came late: no new source part listed for 2-4 s before the stalls at
 *   17:44:18-23, parts listed up to 3.9 s later against their media time than 10 s earlier. That
 *   is the machine starving the publisher and the sidecar, a test-setup problem, not the edge;
 *   the reference's player, 7-9 s behind live, absorbed it.
 * - So the low-latency rows now play beside the reference's 1/3 s segments, which players play
 *   about as close to live (reference-stream.ts). 17:56, load 3-10: hls.js low-latency 2 stalls
 *   (reported as bufferStalledError events) with 0.04-0.35 s ahead and a part 0.6 s in flight;
 *   Shaka HLS defaults 8 stalls against 0, lowLatencyMode 18 against 1, the page's hls.js 5
 *   against 0, its Shaka 12 and a fatal 1001 on a 404 of a hinted part while parts took 1.9 s.
 *   Shaka's stalls: first at the live edge (1.4-2.7 s behind the listed end, the next segment's
 *   first two parts requested together and 0.2-0.9 s in flight), then, fallen back to 3-5 s
 *   behind the listed end, at every segment boundary with gaps jumped (3 and 8): a segment that
 *   starts more than three target durations from the end loses its EXT-X-PART lines
 *   (rendition-timeline.ts, §6.2.2) and Shaka 5.2.12 moves on to the next segment's first part,
 *   as found at 12:39. The short-segment reference stalled 0-1 times in the same seconds.
 *   The listing at those stalls: parts 0.4-1.9 s later against their media time than the best of
 *   the 10 s before (a poll every 250 ms, itself slow at load: under ~0.7 s is noise), the newest
 *   part 0.01-0.65 s old at most stalls: the busy machine delays both the stream and the requests.
 * - 18:33, load 4-8, with the lighter stream below (360p with a 240p rung, was 480p with 360p): 11
 *   of 12 in 327 s; Shaka's HLS rows and the page's Shaka 0 stalls (1.0-1.9 s behind live), the
 *   page's hls.js 0. The one failure, hls.js low-latency, 2 stalls (bufferStalledError, then
 *   bufferNudgeOnStall) 3.0 s behind the listed end on a 60 ms hole in the buffer at a segment
 *   boundary (buffered 17.60-39.94 and 40.00-40.32, playhead 39.88): media missing between one
 *   segment's last part and the next's first, in the video or the audio (not found which; the
 *   former low-latency file's hls.js reported bufferSeekOverHole too, 18:33, load 6-8).
 * - In `npm test`'s rows (18:29-18:33, load 5-12) the page's hls.js stalled once in each of two
 *   runs, at the live edge (0.03-0.05 s ahead, a part or playlist 0.1-0.25 s in flight) or right
 *   after its start; the former low-latency file, run from git in the same minutes, failed the
 *   same way (1 stall). Both passed at load 4-9 (17:50, and in a whole `npm test` at 18:10).
 * - 18:43 and 18:48, load 1.6-2.8 (the machine nearly quiet): 12 of 12 in 317 s, then 11 of 12 in
 *   315 s. The failure: Shaka HLS defaults 2 stalls against 0, at the live edge (1.26 s behind the
 *   listed end, the hint included: 0.06 s buffered, waiting on the held part it needed, 57 ms in
 *   flight), then a jumped gap of a whole segment (buffered 20.01-26.33 and 28.33-29.50): Shaka
 *   skipped the segment after the one it stalled in, with nothing late in the listing or the
 *   requests (0.1 s each). Playing 1 s behind the end (PART-HOLD-BACK, three part targets) leaves
 *   Shaka under a part of media to spare; a longer PART-HOLD-BACK (the spec allows more) is the
 *   lever not tried yet, at a cost in latency (issue 22 item 4).
 * - The 60 ms hole (found 2026-12-06, be16b16): not missing media (0 gaps between parts in the
 *   sidecar's remux of a real ffmpeg FLV) but a segment's last audio part of 3 AAC frames (64 ms,
 *   after six parts of 15 frames): 39.936-40.000 is exactly such a part before a cut at 40.000,
 *   and the range after the hole, 0.32 s, one 15-frame part. Audio parts are now sized per segment
 *   so that the last is 9-11 frames (~0.2 s, like the video's). 22:09-22:14, load ~1: 12 of 12 in
 *   304 s, every row of ours 0 stalls. Why hls.js dropped the sliver is not pinned down in its code.
 * Not yet known: whether the whole matrix passes 4 runs in a row (it did not in 3 at load under
 * 8 before the audio parts changed; 1 of 1 since), and why a hinted part 404'd (the sidecar
 * skipping a part under load, as found when this file was written, is the likely cause).
 *
 * Why Shaka skipped a segment (found 2026-12-08 with Shaka's debug build and its audio segment
 * index sampled every 20 ms, 51cf524): not the stall, which came after. The stored playlists
 * dated segments and gave their EXTINF each rounded on its own (48 kHz audio segments of 2.00533 s
 * listed 2.005 and dated 2.006 apart at about one boundary in three). Shaka 5.2 places a segment
 * at the end of the one before and moves it to its date where the two disagree by 1 ms or more,
 * so across playlist updates one audio segment came out at two start times 2 ms apart; its merge
 * keeps a reference whose start differs by a rounded millisecond, both stayed in the index, every
 * position after them shifted by one when the older one left, and its segment iterator, held by
 * position, pointed past the end: it fetched nothing for that segment after its first part and
 * went on at the second part of the next (the 2 s hole, then the stall). Dates and durations now
 * add up exactly (shared/segment-clock.ts): 0 of 8 such runs against 1-2 of 6-8 before.
 */
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PLAYER_HLS_CONFIG } from '../../edge/player/client/hls-config.ts';
import { eventually } from '../helpers/network.ts';
import { followPartListing, type PartListing } from '../helpers/part-listing.ts';
import { startTestPlatform, type Platform } from '../helpers/platform.ts';
import type { PlayerSetup } from '../helpers/player-harness.ts';
import { closeChromium, launchChromium, openHarnessPage, openPlayerPage, playHlsInVlc, problemsOf, watchPlayback, type PlayerPage, type WatchReport } from '../helpers/players.ts';
import { publishTestPattern, type TestPublisher } from '../helpers/publisher.ts';
import { startReferenceStream, type ReferenceStream } from '../helpers/reference-stream.ts';
import { stallEvidence } from '../helpers/stall-evidence.ts';

const RUN_ALL = process.env.PLAYER_MATRIX_ALL === '1';
const RUN_MATRIX = RUN_ALL || process.env.PLAYER_MATRIX === '1';
/** Each player's watch (issue 22). */
const WATCH_SECONDS = 30;
const VLC_SECONDS = 30;
const STREAM = 'matrix';
// 360p: the sidecar passes the source through and encodes a 240p rung (a ladder). A 480p source
// with a 360p rung starved the stream itself at load over 10 (see the top of this file): this one
// costs the publisher, the reference's encoder, the sidecar's rung and every player less.
const SOURCE_SIZE = '640x360';
const RUNG = '240p';

/**
 * Rows that fail on a quiet machine, each with why: run only with PLAYER_MATRIX_ALL=1. None today.
 * Under load (3-17, other engineers' runs on the same cores, 2026-12-06) whole runs passed 3 to 12
 * of 12 rows, every failure one or two stalls near the live edge, none an error event; on a quiet
 * machine, 2026-12-07 08:25-09:19 UTC, 4 of 8 whole runs passed every row (the failures below).
 */
const KNOWN_FAILURES: Readonly<Record<string, string>> = {};
/** The rows' one-line summaries, in the order they ran (printed and saved with the log). */
const results: string[] = [];

/**
 * Which reference a row is compared with: players that sit near the live edge of our low-latency
 * playlists (1-2.5 s behind live) play the reference's 1/3 s segments, where they sit about as
 * close (Shaka 1.4 s, hls.js 3.4-3.6 s by the playlists' dates, 2026-12-06 17:54 UTC), so a hiccup
 * at the live edge reaches both; the others, 6-10 s behind on ours, its 2 s segments, or its DASH.
 */
type ReferenceKind = 'hls' | 'short-hls' | 'dash';
type MatrixRow = PlayerSetup & { reference: ReferenceKind };

const SHAKA_DEFAULTS: PlayerSetup = { label: 'Shaka Player, HLS (defaults)', library: 'shaka', format: 'hls', config: {} };
const SHAKA_LOW_LATENCY = 'Shaka Player, HLS, streaming.lowLatencyMode';
const PAGE_HLS_JS = 'The player page (hls.js, the default)';
const PAGE_SHAKA = 'The player page with Shaka Player (?player=shaka)';
const HLS_JS_STANDARD = 'hls.js, standard (lowLatencyMode: false)';

/**
 * Rows that gate `npm test` only in part, each with why: with PLAYER_MATRIX=1 (`npm run
 * test:players`) they play beside the reference like every row; in `npm test` they do not play.
 * On a 2-core machine one stall or one time-out decides a row. None today.
 */
// hls.js with lowLatencyMode off was here until 2026-12-07: starting on a playlist whose newest
// segment had just begun, it blocked at once for that segment's last part and timed out at 1.6 s
// (1 of 16 starts). The edge now shows a plain request the segment's end then
// (answersPlainAtSegmentEnd, rendition-timeline.ts): 0 of 16, its longest first wait 1.36 s.
// Shaka Player's HLS rows (its defaults, lowLatencyMode, the player page with Shaka) were here
// until 2026-12-08: one whole run in five stalled once or twice on a 2 s audio hole, the dates and
// EXTINF that did not add up (see the top of this file). Since the fix: 4 of 4 matrix runs, 12 of
// 12 Shaka watches without a stall.
const MATRIX_ONLY: Readonly<Record<string, string>> = {};

const BROWSER_PLAYERS: MatrixRow[] = [
  { label: 'hls.js, low-latency mode', library: 'hls.js', format: 'hls', config: { lowLatencyMode: true }, reference: 'short-hls' },
  { ...SHAKA_DEFAULTS, reference: 'short-hls' },
  { label: SHAKA_LOW_LATENCY, library: 'shaka', format: 'hls', config: { streaming: { lowLatencyMode: true } }, reference: 'short-hls' },
  // What many sites configure; hls.js still sends blocking reloads when the playlist offers them.
  { label: HLS_JS_STANDARD, library: 'hls.js', format: 'hls', config: { lowLatencyMode: false }, reference: 'hls' },
  { label: 'Shaka Player, DASH (defaults)', library: 'shaka', format: 'dash', config: {}, reference: 'dash' },
  { label: 'dash.js (defaults)', library: 'dash.js', format: 'dash', config: {}, reference: 'dash' },
];

/**
 * Rows whose players sit 6-10 s behind live on both streams (the reference's 2 s segments or its
 * DASH) play at the same time, each beside its reference in the same seconds: their buffers
 * absorb what three players at once do to the machine, and the matrix takes a minute less. Rows
 * near the live edge play one at a time (vitest runs consecutive concurrent tests together: these
 * rows come last in BROWSER_PLAYERS).
 */
const playsFarFromLive = (row: MatrixRow): boolean => row.reference !== 'short-hls';

/** The renditions whose part listing the file follows all along (the evidence beside every stall). */
const FOLLOWED_RENDITIONS = ['source', RUNG, 'audio'];
const listings = new Map<string, PartListing>();

/** The part of a report a failure message and the log need. */
function summary(report: WatchReport): Record<string, unknown> {
  const listed = Object.fromEntries([...listings].map(([name, listing]) => [name, listing.parts()]));
  return {
    startupMs: report.startupMs,
    played: Number(report.playedSeconds.toFixed(2)),
    stalls: report.stalls,
    stalledAt: report.stallPositions.map((position) => Number(position.toFixed(2))),
    behindEndAtStalls: report.stallsBehindEnd.map((behind) => (behind === null ? null : Number(behind.toFixed(2)))),
    gapsJumped: report.gapsJumped,
    latency: report.medianLatency === null ? null : Number(report.medianLatency.toFixed(2)),
    segments: report.segmentsFetchedWhilePlaying,
    problems: problemsOf(report).slice(0, 12),
    problemCount: problemsOf(report).length,
    jumpsBack: report.jumpsBack.length,
    atStalls: report.stallRecords.map((stall) => stallEvidence(stall, report.mediaRequests, listed)),
  };
}

/** What every browser row asserts of our stream's watch, beside the reference's in the same seconds; the summaries go to the log. */
function expectPlaysLikeReference(label: string, ours: WatchReport, plain: WatchReport): void {
  results.push(`[player] ${label}: ours ${JSON.stringify(summary(ours))}; reference ${JSON.stringify(summary(plain))}`);
  expect(problemsOf(ours), `${label} on our stream`).toEqual([]);
  expect(ours.stalls, `${label}: stalls on ours vs the reference (${JSON.stringify(summary(plain))})`).toBeLessThanOrEqual(plain.stalls);
  expect(ours.jumpsBack).toEqual([]);
  // Live playback went on: the playhead moved about as long as we watched, on new segments or parts.
  expect(ours.playedSeconds).toBeGreaterThan(WATCH_SECONDS - 4);
  expect(ours.segmentsFetchedWhilePlaying).toBeGreaterThan(WATCH_SECONDS / 4);
}

describe('the players people use, on a live ladder stream from wrangler dev', () => {
  let dir: string;
  let edgeUrl: string;
  let platform: Platform | undefined;
  let publisher: TestPublisher | undefined;
  let reference: ReferenceStream | undefined;
  let browser: Browser | undefined;
  const lines: string[] = [];
  const get = (path: string) => fetch(new URL(path, edgeUrl), { signal: AbortSignal.timeout(10_000) });

  /**
   * Watches `ours` for WATCH_SECONDS beside `referenceSetup` playing the reference in the same
   * seconds, asserting what every row does, then runs `check` on ours. A MATRIX_ONLY row in
   * `npm test` plays without the reference: its `check` is what it asserts.
   */
  async function watchBesideReference(label: string, ours: Promise<PlayerPage>, referenceSetup: MatrixRow, check: (page: PlayerPage, report: WatchReport) => Promise<void>): Promise<void> {
    const beside = RUN_MATRIX || !(label in MATRIX_ONLY);
    const referenceUrl = { hls: reference!.hlsUrl, 'short-hls': reference!.shortSegmentHlsUrl, dash: reference!.mpdUrl }[referenceSetup.reference];
    const pages = await Promise.all(beside ? [ours, openHarnessPage(referenceUrl, referenceSetup, browser!)] : [ours]);
    try {
      const [report, plain] = await Promise.all(pages.map((page) => watchPlayback(page, WATCH_SECONDS)));
      if (plain) expectPlaysLikeReference(label, report!, plain);
      else results.push(`[player] ${label}: ours ${JSON.stringify(summary(report!))}`);
      await check(pages[0]!, report!);
    } finally {
      await Promise.all(pages.map((page) => page.close()));
    }
  }

  beforeAll(async () => {
    platform = await startTestPlatform('e2e-player-matrix', {
      edge: 'wrangler',
      lines,
      edgeLogLevel: 'warn',
      ingest: { reconnectWindow: 0, args: ['--ladder', `${RUNG.slice(0, -1)}:400k`], env: { LOG_LEVEL: 'warn' } },
    });
    ({ dir, edgeUrl } = platform);
    // Long enough for every player below, one after another, with room to spare.
    const publishSeconds = 90 + (BROWSER_PLAYERS.length + 3) * (WATCH_SECONDS + 20);
    publisher = publishTestPattern(platform.publishUrl(STREAM), publishSeconds, SOURCE_SIZE);
    reference = await startReferenceStream(join(dir, 'reference'), publishSeconds, SOURCE_SIZE);
    for (const rendition of FOLLOWED_RENDITIONS) listings.set(rendition, followPartListing(`${edgeUrl}/live/${STREAM}/${rendition}/index.m3u8`));
    browser = await launchChromium();
    // Viewers join a running stream with its ladder: both video renditions listed, parts flowing.
    await eventually('a ladder with parts in the live playlists', 60_000, async () => {
      const multivariant = await fetch(`${edgeUrl}/live/${STREAM}/index.m3u8`).then((response) => (response.ok ? response.text() : ''));
      const media = await fetch(`${edgeUrl}/live/${STREAM}/source/index.m3u8`).then((response) => (response.ok ? response.text() : ''));
      return multivariant.includes(RUNG) && (media.match(/^#EXTINF/gm)?.length ?? 0) >= 3 && media.includes('#EXT-X-PART:') ? true : undefined;
    });
  });

  afterAll(async () => {
    if (browser) await closeChromium(browser);
    await Promise.all([...listings.values()].map((listing) => listing.stop()));
    await publisher?.stop();
    await reference?.stop();
    lines.unshift(...results);
    await platform?.stop();
    console.log(results.join('\n'));
  });

  it('answers a blocking reload for a part ahead only once the sidecar has announced it', async () => {
    const text = await (await get(`/live/${STREAM}/source/index.m3u8`)).text();
    const sequence = Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(text)![1]);
    const segments = text.match(/^#EXTINF:/gm)!.length;
    const pending = text.slice(text.lastIndexOf('.m4s\n')).match(/^#EXT-X-PART:/gm)?.length ?? 0;
    const asked = Date.now();
    // The part after the next: the next one may arrive between the two requests (parts come every
    // third of a second), and would be answered at once, as it should.
    const held = await get(`/live/${STREAM}/source/index.m3u8?_HLS_msn=${sequence + segments}&_HLS_part=${pending + 1}`);
    const waited = Date.now() - asked;
    expect(held.status).toBe(200);
    const answer = await held.text();
    // Held for a while (the next part was a fraction of a second away), never beyond a part or two.
    expect(waited).toBeGreaterThan(20);
    expect(waited).toBeLessThan(3000);
    expect(answer.match(/^#EXT-X-PART:/gm)!.length).toBeGreaterThan(0);
    // Every part listed is there, with bytes.
    const parts = [...answer.matchAll(/URI="([^"]+\.p\d+\.m4s)"/g)].map((match) => match[1]!);
    for (const part of parts.slice(-3)) {
      const response = await get(`/live/${STREAM}/source/${part}`);
      expect(response.status, part).toBe(200);
      expect((await response.arrayBuffer()).byteLength).toBeGreaterThan(0);
    }
  });

  it('joins 200 concurrent viewers of the next part in the Workers runtime (requests of their own, some leaving early): every viewer answered, nothing in the log about requests waiting on each other', async () => {
    const text = await (await get(`/live/${STREAM}/source/index.m3u8`)).text();
    const sequence = Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(text)![1]);
    const segments = text.match(/^#EXTINF:/gm)!.length;
    const pending = text.slice(text.lastIndexOf('.m4s\n')).match(/^#EXT-X-PART:/gm)?.length ?? 0;
    const hinted = /#EXT-X-PRELOAD-HINT:TYPE=PART,URI="([^"]+)"/.exec(text)![1]!;
    const target = `_HLS_msn=${sequence + segments}&_HLS_part=${pending + 1}`;
    // Every tenth viewer leaves after 50 ms: the request that made a call others joined may be one.
    const viewers = Array.from({ length: 200 }, async (_, n) => {
      const leaving = n % 10 === 0 ? AbortSignal.timeout(50) : AbortSignal.timeout(15_000);
      const read = async (path: string) => {
        const response = await fetch(new URL(path, edgeUrl), { signal: leaving });
        return { status: response.status, body: Buffer.from(await response.arrayBuffer()) };
      };
      try {
        return { left: false, playlist: await read(`/live/${STREAM}/source/index.m3u8?${target}`), part: await read(`/live/${STREAM}/source/${hinted}`) };
      } catch (error) {
        if (n % 10 === 0) return { left: true };
        throw error;
      }
    });
    const answers = await Promise.all(viewers);
    const stayed = answers.filter((answer) => !answer.left);
    expect(stayed.length).toBeGreaterThanOrEqual(180);
    for (const answer of stayed) {
      expect(answer.playlist!.status).toBe(200);
      expect(answer.part!.status).toBe(200);
    }
    expect(new Set(stayed.map((answer) => answer.part!.body.toString('base64'))).size).toBe(1);
    // Anything a request did on behalf of another would be in the edge's log by now.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(lines.filter((line) => line.startsWith('[edge]') && /different request|can never settle|never complete|had hung/.test(line))).toEqual([]);
  });

  it('the player page with Shaka Player waits for a stream that is not live yet, saying so, with no failure shown', async () => {
    const page = await openPlayerPage(`${edgeUrl}/watch/nobody?player=shaka`, { browser: browser! });
    try {
      await eventually('the page to say the stream is not live yet', 15_000, async () => ((await page.text('#status')).includes('not live yet; retrying') ? true : undefined));
      expect((await page.state()).fatal).toBeNull();
      expect(await page.evaluate<boolean>('document.getElementById("error").hidden')).toBe(true);
      expect(await page.text('#stream-state')).toBe('Not live yet.');
    } finally {
      await page.close();
    }
  });

  for (const setup of BROWSER_PLAYERS) {
    const skipped = (!RUN_ALL && setup.label in KNOWN_FAILURES) || (!RUN_MATRIX && setup.label in MATRIX_ONLY);
    const name = `${setup.label} plays ${WATCH_SECONDS} s without an error event, stalling no more than on the reference`;
    const watchRow = async () => {
      const oursUrl = setup.format === 'hls' ? `${edgeUrl}/live/${STREAM}/index.m3u8` : `${edgeUrl}/live/${STREAM}/manifest.mpd`;
      // Side by side, the same seconds: what the machine does to one it does to the other.
      await watchBesideReference(setup.label, openHarnessPage(oursUrl, setup, browser!), setup, async () => {});
    };
    if (playsFarFromLive(setup)) (skipped ? it.concurrent.skip : it.concurrent)(name, watchRow);
    else it.skipIf(skipped)(name, watchRow);
  }

  // The player page's own hls.js (its settings in edge/player/client/hls-config.ts), beside hls.js
  // with the same settings on the reference.
  it.skipIf(!RUN_ALL && PAGE_HLS_JS in KNOWN_FAILURES)(`${PAGE_HLS_JS} plays ${WATCH_SECONDS} s in low-latency mode without an error event or a stall, taking parts`, async () => {
    const referenceSetup: MatrixRow = { label: 'hls.js, the player page\'s settings', library: 'hls.js', format: 'hls', config: { ...PLAYER_HLS_CONFIG }, reference: 'short-hls' };
    await watchBesideReference(PAGE_HLS_JS, openPlayerPage(`${edgeUrl}/watch/${STREAM}`, { browser: browser! }), referenceSetup, async (page, report) => {
      const parts = page.segmentRequests.filter((request) => /\.p\d+\.m4s/.test(request.url));
      const blocking = page.playlistRequests.filter((request) => request.url.includes('_HLS_msn='));
      expect(problemsOf(report), PAGE_HLS_JS).toEqual([]);
      expect(report.fatal).toBeNull();
      expect(await page.evaluate<boolean>('window.playerState.lowLatency')).toBe(true);
      expect(report.stalls, JSON.stringify(summary(report))).toBe(0);
      expect(report.playheadMoved).toBeGreaterThan(WATCH_SECONDS - 1.5);
      // Parts and blocking reloads all along (about three parts a second).
      expect(parts.length).toBeGreaterThan(WATCH_SECONDS * 2);
      expect(blocking.length).toBeGreaterThan(WATCH_SECONDS * 2);
      // Standard HLS with 2 s segments plays 6 s or more behind; low latency stays well under that
      // (the benchmark measures glass-to-glass properly; this is the player's PROGRAM-DATE-TIME view).
      expect(report.latencySamples).toBeGreaterThan(WATCH_SECONDS / 2);
      expect(report.medianLatency).toBeLessThan(3);
    });
  });

  // The player page's own Shaka Player (its configuration in edge/player/client/shaka-engine.ts),
  // beside Shaka at its defaults on the reference. Late in the stream on purpose: older than its
  // live window, where the page's former setting never played (see the top of this file).
  it.skipIf(!RUN_ALL && PAGE_SHAKA in KNOWN_FAILURES)(`${PAGE_SHAKA} plays ${WATCH_SECONDS} s without an error event, stalling no more than Shaka on the reference, its stats line and quality menu filled`, async () => {
    // A window whose page shows the video 640x360, as the harness does beside it: the same decoding
    // and drawing cost (a 1248 px video dropped frames enough for Shaka's ABR to ban a rendition).
    const page = openPlayerPage(`${edgeUrl}/watch/${STREAM}?player=shaka`, { browser: browser!, viewport: { width: 672, height: 600 } });
    await watchBesideReference(PAGE_SHAKA, page, { ...SHAKA_DEFAULTS, reference: 'short-hls' }, async (page, report) => {
      expect(problemsOf(report), PAGE_SHAKA).toEqual([]);
      expect(report.fatal).toBeNull();
      expect(report.jumpsBack).toEqual([]);
      expect(report.playedSeconds).toBeGreaterThan(WATCH_SECONDS - 4);
      expect(report.segmentsFetchedWhilePlaying).toBeGreaterThan(WATCH_SECONDS / 4);
      expect(await page.evaluate<string>('window.playerState.player')).toBe('shaka');
      expect(await page.evaluate<boolean>('window.hls === undefined && window.shakaPlayer !== undefined')).toBe(true);
      // "low latency": Shaka takes the playlist's parts (its lowLatencyMode is on by default).
      expect(await page.text('#stats')).toMatch(/^\d+p \(auto\) · buffer \d+\.\d s · \d+\.\d s behind live( · low latency)?$/);
      expect(await page.text('#status')).toMatch(/^Playing · watched \d+\.\d s$/);
      expect(await page.evaluate<boolean>('document.getElementById("error").hidden')).toBe(true);
      const labels = await page.chooseQuality('360p');
      expect(labels.slice(1)).toEqual(expect.arrayContaining([expect.stringMatching(/^360p · \d+ kb\/s$/)]));
    });
  });

  // Two players at once, as in the rows beside a reference: VLC (a native player) and the page's DASH.
  it.skipIf(!RUN_ALL && 'VLC' in KNOWN_FAILURES)(`VLC plays the HLS stream ${VLC_SECONDS} s without a media error, while the player page plays it as DASH with Shaka Player (?format=dash&player=shaka) without an error event`, async () => {
    // VLC reports no stalls a test can count the same way; its errors and its playback going on are checked.
    const [vlc, dash] = await Promise.all([
      // VLC plays 30 s in both modes: given 20 s it once showed no first picture (18:40 UTC, load 3-4).
      // As a VLC 3.0 viewer would: opened again, once, after VLC's known start fault (playHlsInVlc).
      playHlsInVlc(`${edgeUrl}/live/${STREAM}/index.m3u8`, VLC_SECONDS),
      (async () => {
        const page = await openPlayerPage(`${edgeUrl}/watch/${STREAM}?format=dash&player=shaka`, { browser: browser!, viewport: { width: 672, height: 600 } });
        try {
          const report = await watchPlayback(page, WATCH_SECONDS);
          return { report, format: await page.evaluate<string>('window.playerState.format'), stats: await page.text('#stats') };
        } finally {
          await page.close();
        }
      })(),
    ]);
    results.push(`[player] the player page, DASH with Shaka Player: ours ${JSON.stringify(summary(dash.report))}`);
    results.push(`[player] VLC: ${JSON.stringify({ openedAgainAfter: vlc.openedAgainAfter, firstPicture: vlc.firstPicture, reachedEnd: vlc.reachedEnd, segments: vlc.segmentsFetchedWhilePlaying, mediaErrors: vlc.mediaErrors.slice(0, 10) })}`);
    // VLC's own log (-vv) in test-output/e2e-player-matrix.log when it did not play: no first picture
    // in 20 s happened here and in live-path without a log that said why.
    if (!vlc.firstPicture || vlc.mediaErrors.length > 0) lines.push(...vlc.log.split('\n').map((line) => `[vlc] ${line}`));
    expect(vlc.firstPicture).toBe(true);
    expect(vlc.mediaErrors).toEqual([]);
    expect(vlc.reachedEnd).toBe(false);
    expect(vlc.segmentsFetchedWhilePlaying).toBeGreaterThan(VLC_SECONDS / 4);
    expect(dash.format).toBe('dash');
    expect(problemsOf(dash.report), 'the player page, DASH with Shaka Player').toEqual([]);
    expect(dash.report.fatal).toBeNull();
    expect(dash.report.playedSeconds).toBeGreaterThan(WATCH_SECONDS * 0.6);
    expect(dash.stats).toMatch(/^\d+p \(auto\) · buffer \d+\.\d s · \d+\.\d s behind live/);
  });
});
