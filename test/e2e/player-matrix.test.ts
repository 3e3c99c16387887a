/**
 * The players people use, checked as viewers see them: on one live ladder stream from the edge
 * in the Workers runtime (`wrangler dev`), hls.js (low-latency and standard), Shaka Player (HLS,
 * HLS in low-latency mode, DASH), dash.js and VLC each play 30 s. Any error event of a player,
 * fatal or not, fails its test, and so does any 4xx/5xx response or console error in the page;
 * a browser player may stall no more often than the same player, in the same seconds, on a plain
 * reference stream (ffmpeg's own HLS and DASH muxers on the same test pattern; see
 * reference-stream.ts for why not nginx-rtmp).
 *
 * One stream, one browser, players one after another (each beside its reference): about 4
 * minutes on 2 cores.
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
 */
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/network.ts';
import { startTestPlatform, type Platform } from '../helpers/platform.ts';
import type { PlayerSetup } from '../helpers/player-harness.ts';
import { launchChromium, openHarnessPage, openPlayerPage, playInVlc, problemsOf, watchPlayback, type WatchReport } from '../helpers/players.ts';
import { publishTestPattern, type TestPublisher } from '../helpers/publisher.ts';
import { startReferenceStream, type ReferenceStream } from '../helpers/reference-stream.ts';
import { followPartListing, type PartListing } from '../helpers/part-listing.ts';
import { stallEvidence } from '../helpers/stall-evidence.ts';

const WATCH_SECONDS = 30;
const STREAM = 'matrix';
// 480p: the sidecar passes the source through and encodes a 360p rung (a ladder), cheaply enough
// for two players decoding at once on 2 cores.
const SOURCE_SIZE = '854x480';

/**
 * The matrix runs only when asked for (`npm run test:players`, PLAYER_MATRIX=1): it compares
 * stalls with a reference in the same seconds, and on a 2-core machine a low-latency player's
 * single stall decides it: it plays 1.5-2.5 s behind live where the reference's player plays 7-9 s
 * behind, so a hiccup of the machine that the reference's buffer absorbs stalls it (CI on
 * 2026-12-06 at load 6: hls.js low-latency one levelLoadTimeOut, dash.js one stall against none).
 * Whole runs on this machine, 2026-12-06: 15:27 UTC, load 3-5, 7 of 7 passed in 246 s (VLC not
 * run, then a known failure); 15:31 UTC, load 2-5, 6 of 7 in 247 s (Shaka HLS defaults 2 stalls
 * 1.0-1.1 s behind the listed end, one gap jumped); 15:38 UTC, load 3-5, 7 of 8 with VLC in 282 s
 * (the player page's Shaka row 2 stalls against 0). Rows alone (-t Shaka, VLC), 15:07-15:38 UTC
 * at load 3-14: Shaka HLS defaults passed 5 of 6 runs, with lowLatencyMode 4 of 5, the player
 * page's Shaka 3 of 4 (shown 640x360), VLC 2 of 2. Every failure was one or two stalls near the
 * live edge, none an error event. So it does not gate `npm test` yet (issue 22 stays open); a row
 * that fails on a quiet machine would be listed here and run only with PLAYER_MATRIX_ALL=1.
 */
const KNOWN_FAILURES: Readonly<Record<string, string>> = {};
const RUN_ALL = process.env.PLAYER_MATRIX_ALL === '1';
/** The rows' one-line summaries, in the order they ran (printed and saved with the log). */
const results: string[] = [];
const RUN_MATRIX = RUN_ALL || process.env.PLAYER_MATRIX === '1';

const SHAKA_DEFAULTS: PlayerSetup = { label: 'Shaka Player, HLS (defaults)', library: 'shaka', format: 'hls', config: {} };
const PLAYER_PAGE_SHAKA = 'The player page with Shaka Player (?player=shaka)';

const BROWSER_PLAYERS: PlayerSetup[] = [
  { label: 'hls.js, low-latency mode', library: 'hls.js', format: 'hls', config: { lowLatencyMode: true } },
  // What many sites configure; hls.js still sends blocking reloads when the playlist offers them.
  { label: 'hls.js, standard (lowLatencyMode: false)', library: 'hls.js', format: 'hls', config: { lowLatencyMode: false } },
  SHAKA_DEFAULTS,
  { label: 'Shaka Player, HLS, streaming.lowLatencyMode', library: 'shaka', format: 'hls', config: { streaming: { lowLatencyMode: true } } },
  { label: 'Shaka Player, DASH (defaults)', library: 'shaka', format: 'dash', config: {} },
  { label: 'dash.js (defaults)', library: 'dash.js', format: 'dash', config: {} },
];

/** The renditions whose part listing the matrix follows all along (the evidence beside every stall). */
const FOLLOWED_RENDITIONS = ['source', '360p', 'audio'];
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

describe.skipIf(!RUN_MATRIX)('the players people use, on a live ladder stream from wrangler dev', () => {
  let dir: string;
  let edgeUrl: string;
  let platform: Platform | undefined;
  let publisher: TestPublisher | undefined;
  let reference: ReferenceStream | undefined;
  let browser: Browser | undefined;
  const lines: string[] = [];

  beforeAll(async () => {
    platform = await startTestPlatform('e2e-player-matrix', {
      edge: 'wrangler',
      lines,
      edgeLogLevel: 'warn',
      ingest: { reconnectWindow: 0, env: { LOG_LEVEL: 'warn' } },
    });
    ({ dir, edgeUrl } = platform);
    // Long enough for every player below (the harness's, the player page's, VLC), one after another, with room to spare.
    const publishSeconds = 60 + (BROWSER_PLAYERS.length + 2) * (WATCH_SECONDS + 20);
    publisher = publishTestPattern(platform.publishUrl(STREAM), publishSeconds, SOURCE_SIZE);
    reference = await startReferenceStream(join(dir, 'reference'), publishSeconds, SOURCE_SIZE);
    for (const rendition of FOLLOWED_RENDITIONS) listings.set(rendition, followPartListing(`${edgeUrl}/live/${STREAM}/${rendition}/index.m3u8`));
    browser = await launchChromium();
    // Viewers join a running stream with its ladder: both video renditions listed, parts flowing.
    await eventually('a ladder with parts in the live playlists', 60_000, async () => {
      const multivariant = await fetch(`${edgeUrl}/live/${STREAM}/index.m3u8`).then((response) => (response.ok ? response.text() : ''));
      const media = await fetch(`${edgeUrl}/live/${STREAM}/source/index.m3u8`).then((response) => (response.ok ? response.text() : ''));
      return multivariant.includes('360p') && (media.match(/^#EXTINF/gm)?.length ?? 0) >= 3 && media.includes('#EXT-X-PART:') ? true : undefined;
    });
  });

  afterAll(async () => {
    await browser?.close();
    await Promise.all([...listings.values()].map((listing) => listing.stop()));
    await publisher?.stop();
    await reference?.stop();
    lines.unshift(...results);
    await platform?.stop();
    console.log(results.join('\n'));
  });

  for (const setup of BROWSER_PLAYERS) {
    it.skipIf(!RUN_ALL && setup.label in KNOWN_FAILURES)(`${setup.label} plays ${WATCH_SECONDS} s without an error event, stalling no more than on the reference`, async () => {
      const oursUrl = setup.format === 'hls' ? `${edgeUrl}/live/${STREAM}/index.m3u8` : `${edgeUrl}/live/${STREAM}/manifest.mpd`;
      const referenceUrl = setup.format === 'hls' ? reference!.hlsUrl : reference!.mpdUrl;
      // Side by side, the same seconds: what the machine does to one it does to the other.
      const pages = await Promise.all([openHarnessPage(oursUrl, setup, browser!), openHarnessPage(referenceUrl, setup, browser!)]);
      const [ours, plain] = await Promise.all(pages.map((page) => watchPlayback(page, WATCH_SECONDS))).finally(() => Promise.all(pages.map((page) => page.close())));
      if (!ours || !plain) throw new Error('two pages, two reports');
      expectPlaysLikeReference(setup.label, ours, plain);
    });
  }

  // The player page's own Shaka Player (its configuration in edge/player/client/shaka-engine.ts),
  // beside Shaka at its defaults on the reference. Late in the stream on purpose: older than its
  // live window, where the page's former setting never played (see the top of this file).
  it.skipIf(!RUN_ALL && PLAYER_PAGE_SHAKA in KNOWN_FAILURES)(`${PLAYER_PAGE_SHAKA} plays ${WATCH_SECONDS} s without an error event, stalling no more than Shaka on the reference`, async () => {
    // A window whose page shows the video 640x360, as the harness does beside it: the same decoding
    // and drawing cost (a 1248 px video dropped frames enough for Shaka's ABR to ban a rendition).
    const page = openPlayerPage(`${edgeUrl}/watch/${STREAM}?player=shaka`, { browser: browser!, viewport: { width: 672, height: 600 } });
    const pages = await Promise.all([page, openHarnessPage(reference!.hlsUrl, SHAKA_DEFAULTS, browser!)]);
    const [ours, plain] = await Promise.all(pages.map((page) => watchPlayback(page, WATCH_SECONDS))).finally(() => Promise.all(pages.map((page) => page.close())));
    if (!ours || !plain) throw new Error('two pages, two reports');
    expectPlaysLikeReference(PLAYER_PAGE_SHAKA, ours, plain);
  });

  it.skipIf(!RUN_ALL && 'VLC' in KNOWN_FAILURES)(`VLC plays the HLS stream ${WATCH_SECONDS} s without a media error`, async () => {
    // VLC reports no stalls a test can count the same way; its errors and its playback going on are checked.
    const vlc = await playInVlc(`${edgeUrl}/live/${STREAM}/index.m3u8`, WATCH_SECONDS);
    results.push(`[player] VLC: ${JSON.stringify({ firstPicture: vlc.firstPicture, reachedEnd: vlc.reachedEnd, segments: vlc.segmentsFetchedWhilePlaying, mediaErrors: vlc.mediaErrors.slice(0, 10) })}`);
    expect(vlc.firstPicture).toBe(true);
    expect(vlc.mediaErrors).toEqual([]);
    expect(vlc.reachedEnd).toBe(false);
    expect(vlc.segmentsFetchedWhilePlaying).toBeGreaterThan(WATCH_SECONDS / 4);
  });
});
