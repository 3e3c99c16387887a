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
 * with its own log, every request, every SourceBuffer abort(), timestampOffset and append, the
 * buffered ranges and every playlist it got). Both Shaka HLS default rows run the same player:
 * `streaming.lowLatencyMode` is on by default in 5.2. Its stalls were 3.5-7.6 s behind the end of
 * what the playlists listed, with holes in the buffer (`behindEndAtStalls`, `gapsJumped` in the
 * log), not at the live edge. The holes are a Shaka 5.2.12 bug (its issue 10589, fixed on its main
 * branch, not released): in segments mode it works out a timestampOffset for every part from the
 * playlist's times; when that comes out a hair below zero (float noise) it adds 1 ms (an old Edge
 * workaround), so the next part's offset differs by 1 ms, it calls abort() before appending it,
 * and Chromium drops the part's frames up to the next keyframe. Held 4 s behind the end on a light
 * setup (Node edge, passthrough only) Shaka stalled at every segment (12 stalls, 10 gap jumps in
 * 30 s: abort() right before each segment's p8 and p9, exactly those 0.4 s missing); with
 * `manifest.hls.ignoreManifestTimestampsInSegmentsMode` (the player page's setting, a row below)
 * none; and with each part's DURATION listed rounded up to the next 10 us (the edge since,
 * low-latency-playlist.ts), Shaka at its defaults none either (12 stalls before). This matrix's
 * setup (wrangler dev, the 480p + 360p ladder) still gave Shaka 37 stalls in 30 s 3.3-4.9 s
 * behind the listed end with 14 gap jumps after that change (12:39 UTC, load 16-21): holes of
 * another cause, not found yet (the log has the stall positions: each even second, +0.16, +0.6).
 * Second: Shaka
 * starts one PART-HOLD-BACK behind the end but needed 7-10 s to its first frame (each part request to
 * wrangler dev took 0.5-1.4 s, and Shaka asks for most parts twice: every playlist update makes
 * new segment references and its prefetcher, keyed by reference, aborts what it prefetched and asks
 * again), and it never catches up (its liveSync is off by default). Once it plays more than three
 * target durations behind the end, the segment it is in loses its EXT-X-PART lines (parts are
 * listed for the last three target durations only, §4.4.4.9/§6.2.2), Shaka rebuilds that segment's
 * reference without parts, and its segment iterator, pointing into the old part list, moves on to
 * the next segment's first part: the rest of the segment is never fetched, a hole up to the next
 * keyframe, a stall and a gap jump at every segment (seen in the playlists it got: segment 10's
 * parts p0-p1 appended, then segment 10 listed without parts, then 11.p0 fetched). The same
 * stream through the Node edge with a passthrough-only ladder (requests fast enough) played 30 s
 * with no stall at 2.9 s latency in one run. Not served around: listing parts further back goes against the
 * part window, and Shaka's iterator skips wherever the window ends. Shaka also counts the preload
 * hint as listed media (a part of PART-TARGET at the end of the last segment), so it plays
 * PART-HOLD-BACK less one part target behind the newest part.
 */
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/network.ts';
import { startTestPlatform, type Platform } from '../helpers/platform.ts';
import type { PlayerSetup } from '../helpers/player-harness.ts';
import { launchChromium, openHarnessPage, playInVlc, problemsOf, watchPlayback, type WatchReport } from '../helpers/players.ts';
import { publishTestPattern, type TestPublisher } from '../helpers/publisher.ts';
import { startReferenceStream, type ReferenceStream } from '../helpers/reference-stream.ts';

const WATCH_SECONDS = 30;
const STREAM = 'matrix';
// 480p: the sidecar passes the source through and encodes a 360p rung (a ladder), cheaply enough
// for two players decoding at once on 2 cores.
const SOURCE_SIZE = '854x480';

/**
 * The matrix runs only when asked for (`npm run test:players`, PLAYER_MATRIX=1): it compares
 * stalls with a reference in the same seconds, and on a 2-core machine under load a player's
 * single stall or blocking-reload timeout decides it (CI on 2026-12-06: hls.js low-latency one
 * levelLoadTimeOut, dash.js one stall against none on the reference, at load 6), so it cannot gate
 * `npm test` yet (issue 22 stays open). Players that still fail on a quiet machine run only with
 * PLAYER_MATRIX_ALL=1 as well. Measured
 * 2026-12-06 on a quiet 2-core machine: Shaka Player's HLS modes stall no more than on the
 * reference once segments are closed from their parts, but get 404s for hinted parts the sidecar
 * skipped (`the edge is not taking parts fast enough`: one HTTP request per part to wrangler dev
 * falls behind while two browsers decode); VLC got no first picture of this 480p + 360p ladder in
 * one run (it plays the 360p stream of live-path). What would close it: one persistent connection
 * per stream for parts (issue 21 item 4), so no part is skipped. Since (11:30-12:05 UTC, load
 * 17-31): Shaka's HLS stalls at default settings are its 5.2.12 abort() bug, and, once it falls
 * three target durations behind, its skipping the rest of every segment whose parts leave the
 * playlist (see the top of this file).
 */
const KNOWN_FAILURES: Readonly<Record<string, string>> = {
  'Shaka Player, HLS (defaults)': 'holes in its buffer at every segment on the ladder from wrangler dev (see the top of this file)',
  'Shaka Player, HLS, streaming.lowLatencyMode': 'the same player as the defaults (lowLatencyMode is on by default in Shaka 5.2)',
  VLC: 'no first picture in one run on a loaded machine',
};
const RUN_ALL = process.env.PLAYER_MATRIX_ALL === '1';
const RUN_MATRIX = RUN_ALL || process.env.PLAYER_MATRIX === '1';

const BROWSER_PLAYERS: PlayerSetup[] = [
  { label: 'hls.js, low-latency mode', library: 'hls.js', format: 'hls', config: { lowLatencyMode: true } },
  // What many sites configure; hls.js still sends blocking reloads when the playlist offers them.
  { label: 'hls.js, standard (lowLatencyMode: false)', library: 'hls.js', format: 'hls', config: { lowLatencyMode: false } },
  { label: 'Shaka Player, HLS (defaults)', library: 'shaka', format: 'hls', config: {} },
  { label: 'Shaka Player, HLS, streaming.lowLatencyMode', library: 'shaka', format: 'hls', config: { streaming: { lowLatencyMode: true } } },
  // As the player page configures Shaka (SHAKA_CONFIG in edge/player/client/shaka-engine.ts): around
  // Shaka 5.2.12's abort() before appending a part, which drops the part's frames (see the top of this file).
  { label: 'Shaka Player, HLS, the player page\'s configuration', library: 'shaka', format: 'hls', config: { manifest: { hls: { ignoreManifestTimestampsInSegmentsMode: true } } } },
  { label: 'Shaka Player, DASH (defaults)', library: 'shaka', format: 'dash', config: {} },
  { label: 'dash.js (defaults)', library: 'dash.js', format: 'dash', config: {} },
];

/** The part of a report a failure message and the log need. */
function summary(report: WatchReport): Record<string, unknown> {
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
  };
}

describe.skipIf(!RUN_MATRIX)('the players people use, on a live ladder stream from wrangler dev', () => {
  let dir: string;
  let edgeUrl: string;
  let platform: Platform | undefined;
  let publisher: TestPublisher | undefined;
  let reference: ReferenceStream | undefined;
  let browser: Browser | undefined;
  const lines: string[] = [];
  const results: string[] = [];

  beforeAll(async () => {
    platform = await startTestPlatform('e2e-player-matrix', {
      edge: 'wrangler',
      lines,
      edgeLogLevel: 'warn',
      ingest: { reconnectWindow: 0, env: { LOG_LEVEL: 'warn' } },
    });
    ({ dir, edgeUrl } = platform);
    // Long enough for every player below, one after another, with room to spare.
    const publishSeconds = 60 + (BROWSER_PLAYERS.length + 1) * (WATCH_SECONDS + 20);
    publisher = publishTestPattern(platform.publishUrl(STREAM), publishSeconds, SOURCE_SIZE);
    reference = await startReferenceStream(join(dir, 'reference'), publishSeconds, SOURCE_SIZE);
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
      results.push(`[player] ${setup.label}: ours ${JSON.stringify(summary(ours))}; reference ${JSON.stringify(summary(plain))}`);

      expect(problemsOf(ours), `${setup.label} on our stream`).toEqual([]);
      expect(ours.stalls, `${setup.label}: stalls on ours vs the reference (${JSON.stringify(summary(plain))})`).toBeLessThanOrEqual(plain.stalls);
      expect(ours.jumpsBack).toEqual([]);
      // Live playback went on: the playhead moved about as long as we watched, on new segments or parts.
      expect(ours.playedSeconds).toBeGreaterThan(WATCH_SECONDS - 4);
      expect(ours.segmentsFetchedWhilePlaying).toBeGreaterThan(WATCH_SECONDS / 4);
    });
  }

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
