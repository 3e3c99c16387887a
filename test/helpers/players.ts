/**
 * Real players for end-to-end checks: the platform's player page and the player harness
 * (hls.js, Shaka Player, dash.js from npm) in Debian's Chromium, watched by one helper
 * (`watchPlayback`: error events, HTTP errors, stalls, playhead), and VLC.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, chmodSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page, type Request } from 'playwright-core';
import { eventually } from './network.ts';
import { playerScript, renderHarnessPage, type PlayerSetup } from './player-harness.ts';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--autoplay-policy=no-user-gesture-required',
  // Two pages play side by side (ours and the reference): neither may be throttled as a background tab.
  '--disable-background-timer-throttling', '--disable-renderer-backgrounding', '--disable-backgrounding-occluded-windows',
];

/** Each launched browser's mark on its command line, so that one that will not close can be found and killed. */
const browserMarks = new WeakMap<Browser, string>();

/** Debian's Chromium, headless, as every player check runs it (never a downloaded browser). */
export async function launchChromium(): Promise<Browser> {
  // Chromium ignores a switch it does not know and keeps it on its own command line (not its helpers').
  const mark = `--test-browser=${process.pid}-${randomUUID()}`;
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS, mark] });
  browserMarks.set(browser, mark);
  return browser;
}

const BROWSER_CLOSE_MS = 15_000;

/**
 * Closes a browser from launchChromium within 15 s: Playwright's close waits for Chromium to exit,
 * without end, and a Chromium wedged in its shutdown (seen once in CI, under load) would hold a
 * test's teardown past its timeout. Past 15 s its processes are killed, and a line says so.
 */
export async function closeChromium(browser: Browser): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const closed = browser.close().then(() => true, () => true);
  const gaveUp = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), BROWSER_CLOSE_MS)));
  const inTime = await Promise.race([closed, gaveUp]);
  clearTimeout(timer);
  const mark = browserMarks.get(browser);
  if (inTime || !mark) return;
  const killed = killProcessesMarked(mark);
  console.log(`[player] Chromium did not close within ${BROWSER_CLOSE_MS / 1000} s: killed (${killed} process group(s))`);
}

/** Kills every process whose command line holds `mark` (with its group); how many were found. */
function killProcessesMarked(mark: string): number {
  let killed = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let commandLine: string;
    try {
      commandLine = readFileSync(`/proc/${entry}/cmdline`, 'latin1');
    } catch {
      continue; // Gone meanwhile.
    }
    if (!commandLine.split('\0').includes(mark)) continue;
    // Playwright starts Chromium as the leader of its own group: the group takes its helpers too.
    for (const target of [-Number(entry), Number(entry)]) {
      try {
        process.kill(target, 'SIGKILL');
        killed += 1;
        break;
      } catch {
        // Not a group leader, or gone meanwhile.
      }
    }
  }
  return killed;
}

export interface BrowserPlayback {
  playedSeconds: number;
  fatal: string | null;
  errors: { type: string; details: string; fatal: boolean }[];
  pageErrors: string[];
}

/** The video element's clock, read in the page. */
export interface PlayheadSample {
  /** Wall clock, epoch ms. */
  at: number;
  currentTime: number;
}

/** A media segment (`.m4s`) the page requested. */
export interface SegmentRequest {
  /** Wall clock, epoch ms. */
  at: number;
  url: string;
  /** When its response body was in (or it failed), epoch ms; undefined while in flight. */
  doneAt?: number;
}

/** What the page saw at a `waiting` event of its video after the first frame (recorded in the page). */
export interface StallRecord {
  /** Wall clock, epoch ms. */
  at: number;
  currentTime: number;
  /** Buffered media ahead of the playhead in the range holding it (0: none), s. */
  bufferedAhead: number;
  /** The video's buffered ranges, "start-end". */
  ranges: string[];
}

export interface PlayerPage {
  currentTime(): Promise<number>;
  /** The video's currentTime every 250 ms, from its first frame on, while it holds media (readyState > 0). */
  playhead(): Promise<PlayheadSample[]>;
  /** The media segments (and low-latency parts) the player requested, in order. */
  segmentRequests: SegmentRequest[];
  /** The playlists (and MPDs) the player requested, in order (query strings included). */
  playlistRequests: SegmentRequest[];
  state(): Promise<{ playing: boolean; fatal: string | null; errors: BrowserPlayback['errors']; streamState?: string; stalls?: number }>;
  /** The text of an element of the page. */
  text(selector: string): Promise<string>;
  /** A value of the page's script (an expression evaluated in the page). */
  evaluate<T>(expression: string): Promise<T>;
  /** Chooses an option of the quality menu by its label's start (e.g. "360p"); returns the labels offered. */
  chooseQuality(labelStart: string): Promise<string[]>;
  /** A PNG screenshot of the video element. */
  screenshotVideo(): Promise<Buffer>;
  pageErrors: string[];
  /** Responses with a 4xx or 5xx status: `STATUS URL`. */
  httpErrors: string[];
  /** What the page logged as errors (Chromium logs every failed load, 4xx/5xx included). */
  consoleErrors: string[];
  close(): Promise<void>;
}

export interface OpenPageOptions {
  /** A browser shared by several pages (closed by its owner); default: one launched for this page. */
  browser?: Browser;
  /** Before the page loads: e.g. `page.route` to serve it (see `openHarnessPage`). */
  prepare?: (page: Page) => Promise<void>;
  /** The window's size (CSS pixels); default Playwright's 1280x720. The player page's video takes its width less 32 px. */
  viewport?: { width: number; height: number };
}

/** Opens the platform's player page (or any page reporting into `window.playerState`) in headless Chromium; the caller drives and reads it. */
export async function openPlayerPage(pageUrl: string, options: OpenPageOptions = {}): Promise<PlayerPage> {
  const browser = options.browser ?? (await launchChromium());
  const pageErrors: string[] = [];
  const httpErrors: string[] = [];
  const consoleErrors: string[] = [];
  const segmentRequests: SegmentRequest[] = [];
  const playlistRequests: SegmentRequest[] = [];
  const page = await browser.newPage(options.viewport ? { viewport: options.viewport } : {});
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('response', (response) => {
    if (response.status() >= 400) httpErrors.push(`${response.status()} ${response.url()}`);
  });
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  const pending = new Map<Request, SegmentRequest>();
  page.on('request', (request) => {
    const path = new URL(request.url()).pathname;
    const record = { at: Date.now(), url: request.url() };
    if (path.endsWith('.m4s')) segmentRequests.push(record);
    if (path.endsWith('.m3u8') || path.endsWith('.mpd')) playlistRequests.push(record);
    if (path.endsWith('.m4s') || path.endsWith('.m3u8') || path.endsWith('.mpd')) pending.set(request, record);
  });
  const done = (request: Request) => {
    const record = pending.get(request);
    if (record) record.doneAt = Date.now();
    pending.delete(request);
  };
  page.on('requestfinished', done);
  page.on('requestfailed', done);
  // Page code is given as strings: it runs in the browser, not under this file's Node types.
  // Sampled in the page, so a jump of the playhead shows however busy the test process is. Not
  // while the video holds nothing (readyState 0): between two media sources (dash.js opens one
  // per Period) its currentTime reads 0, which is no position of the stream.
  await page.addInitScript(
    'window.playheadSamples = []; setInterval(() => { const video = document.querySelector("video");' +
      ' if (video && video.readyState > 0 && window.playerState && window.playerState.playing) window.playheadSamples.push({ at: Date.now(), currentTime: video.currentTime }); }, 250);',
  );
  // Every stall with what was buffered then, for any page: media events do not bubble, but a
  // capturing listener on the document sees them.
  await page.addInitScript(
    'window.stallRecords = []; document.addEventListener("waiting", (event) => { const v = event.target;' +
      ' if (!(v instanceof HTMLMediaElement) || !window.playerState || !window.playerState.playing) return; const ranges = []; let ahead = 0;' +
      ' for (let i = 0; i < v.buffered.length; i++) { ranges.push(v.buffered.start(i).toFixed(2) + "-" + v.buffered.end(i).toFixed(2));' +
      ' if (v.buffered.start(i) <= v.currentTime + 0.1 && v.buffered.end(i) >= v.currentTime) ahead = v.buffered.end(i) - v.currentTime; }' +
      ' window.stallRecords.push({ at: Date.now(), currentTime: v.currentTime, bufferedAhead: ahead, ranges }); }, true);',
  );
  await options.prepare?.(page);
  await page.goto(pageUrl);
  return {
    pageErrors,
    httpErrors,
    consoleErrors,
    segmentRequests,
    playlistRequests,
    currentTime: async () => (await page.evaluate('document.querySelector("video").currentTime')) as number,
    playhead: async () => (await page.evaluate('window.playheadSamples')) as PlayheadSample[],
    state: async () =>
      (await page.evaluate(
        '({ playing: window.playerState.playing, fatal: window.playerState.fatal, errors: window.playerState.errors, streamState: window.playerState.streamState, stalls: window.playerState.stalls })',
      )) as Awaited<
        ReturnType<PlayerPage['state']>
      >,
    text: async (selector) => (await page.textContent(selector)) ?? '',
    evaluate: async <T>(expression: string) => (await page.evaluate(expression)) as T,
    chooseQuality: async (labelStart) => {
      const labels = await page.locator('#quality option').allTextContents();
      const label = labels.find((candidate) => candidate.startsWith(labelStart));
      if (!label) throw new Error(`no quality "${labelStart}" among ${labels.join(', ')}`);
      await page.selectOption('#quality', { label });
      return labels;
    },
    screenshotVideo: () => page.locator('video').screenshot(),
    close: () => (options.browser ? page.close() : closeChromium(browser)),
  };
}

const HARNESS_PATH = '/__player-harness__/';

/**
 * Opens the player harness (player-harness.ts) playing `manifestUrl` with `setup`. The page and
 * the player's script are served by the browser itself on the manifest's origin, so the player
 * fetches same-origin, as from the platform's own page (no CORS in the way, the same for any server).
 */
export function openHarnessPage(manifestUrl: string, setup: PlayerSetup, browser: Browser): Promise<PlayerPage> {
  const origin = new URL(manifestUrl).origin;
  const html = renderHarnessPage(setup, manifestUrl, `${HARNESS_PATH}${setup.library}.js`);
  return openPlayerPage(`${origin}${HARNESS_PATH}page.html`, {
    browser,
    prepare: async (page) => {
      await page.route(`${origin}${HARNESS_PATH}**`, (route) =>
        route.request().url().endsWith('.js')
          ? route.fulfill({ contentType: 'text/javascript', body: playerScript(setup.library) })
          : route.fulfill({ contentType: 'text/html', body: html }),
      );
    },
  });
}

/** What a viewer of a live stream would have seen, and every problem any part of the page reported. */
export interface WatchReport {
  /** Time from opening to the first frame playing, ms. */
  startupMs: number;
  /** How far the playhead moved during the watch (`wall`: between its samples in the watch; `played`: `playheadMoved`). */
  playedSeconds: number;
  /** The video's currentTime at the end of the watch minus at its start. */
  playheadMoved: number;
  /** `waiting` events of the video after it first played (counted in the page). */
  stalls: number;
  /** The video's currentTime at each stall, where the page records it (the harness does): tells stalls at segment boundaries. */
  stallPositions: number[];
  /**
   * At each stall, how far (s) the playhead was behind the end of what the player's playlists
   * listed, where the harness can ask the player (hls.js, Shaka Player; null otherwise): a stall at
   * the live edge waits for the next part; one seconds behind it is the player missing media it was offered.
   */
  stallsBehindEnd: (number | null)[];
  /** Every media and playlist request of the page, with when it started and finished. */
  mediaRequests: SegmentRequest[];
  /** Each stall as the page saw it (time, playhead, buffer ahead). */
  stallRecords: StallRecord[];
  /** Holes in the buffer the player jumped over (Shaka Player's `gapsJumped`), where it counts them. */
  gapsJumped: number | null;
  /** Every error event of the player, fatal or not. */
  errors: BrowserPlayback['errors'];
  fatal: string | null;
  httpErrors: string[];
  consoleErrors: string[];
  pageErrors: string[];
  jumpsBack: PlayheadJump[];
  /** The player's own latency estimate, median over the watch, where it gives one (s). */
  medianLatency: number | null;
  /** How many latency estimates the watch read (every 0.5 s). */
  latencySamples: number;
  /** Distinct media segments and parts first requested during the watch. */
  segmentsFetchedWhilePlaying: number;
  /** Their URLs. */
  segmentUrlsFetchedWhilePlaying: string[];
}

export interface WatchOptions {
  /** How long the first frame may take, from the call (ms); default 30 s. */
  startTimeoutMs?: number;
  /**
   * `wall` (default): watch `seconds` of wall time. `played`: stop once the playhead moved
   * `seconds` (or on a fatal error), at the latest `startTimeoutMs` after the call.
   */
  until?: 'wall' | 'played';
}

/**
 * The one checker of every player test: watches a page reporting into `window.playerState` (the
 * player page, the harness) from its first frame, and reports every error event (fatal or not),
 * stalls, how far and which way the playhead went, the segments fetched, and the player's
 * latency. Waits for the first frame (see `WatchOptions`); a player that does not start (or
 * fails before it does) throws, with what it reported.
 */
export async function watchPlayback(player: PlayerPage, seconds: number, options: number | WatchOptions = {}): Promise<WatchReport> {
  const { startTimeoutMs = 30_000, until = 'wall' } = typeof options === 'number' ? { startTimeoutMs: options } : options;
  const opened = Date.now();
  await eventually('the first frame', startTimeoutMs, async () => {
    const state = await player.state();
    if (state.fatal !== null) throw new Error(`fatal: ${state.fatal}`);
    return state.playing ? true : undefined;
  }).catch(async (error: unknown) => {
    throw new Error(`the player did not start: ${String(error)}; it reported ${JSON.stringify(await player.state())}, HTTP errors: ${player.httpErrors.join(', ') || 'none'}; ${await describePlayer(player)}`);
  });
  const startupMs = Date.now() - opened;
  const fetchedBefore = new Set(player.segmentRequests.map((request) => request.url));
  const watchedFrom = Date.now();
  const playheadFrom = await player.currentTime();
  const latencies: number[] = [];
  const watching = async (): Promise<boolean> => {
    if (until === 'wall') return Date.now() - watchedFrom < seconds * 1000;
    return Date.now() < opened + startTimeoutMs && (await player.state()).fatal === null && (await player.currentTime()) < playheadFrom + seconds;
  };
  while (await watching()) {
    await new Promise((resolve) => setTimeout(resolve, until === 'wall' ? 500 : 250));
    const latency = await player.evaluate<number | null>('window.playerState.latency');
    if (typeof latency === 'number' && Number.isFinite(latency)) latencies.push(latency);
  }
  const playheadMoved = (await player.currentTime()) - playheadFrom;
  const samples = (await player.playhead()).filter((sample) => sample.at >= watchedFrom);
  const state = await player.state();
  latencies.sort((a, b) => a - b);
  const fetched = [...new Set(player.segmentRequests.filter((r) => r.at >= watchedFrom && !fetchedBefore.has(r.url)).map((r) => r.url))];
  return {
    startupMs,
    playedSeconds: until === 'played' ? playheadMoved : samples.length > 0 ? samples.at(-1)!.currentTime - samples[0]!.currentTime : 0,
    playheadMoved,
    stalls: state.stalls ?? 0,
    stallPositions: (await player.evaluate<number[] | undefined>('window.playerState.stallTimes')) ?? [],
    stallsBehindEnd: (await player.evaluate<(number | null)[] | undefined>('window.playerState.stallsBehindEnd')) ?? [],
    gapsJumped: (await player.evaluate<number | null | undefined>('window.playerState.gapsJumped')) ?? null,
    mediaRequests: [...player.segmentRequests, ...player.playlistRequests].sort((a, b) => a.at - b.at),
    stallRecords: (await player.evaluate<StallRecord[] | undefined>('window.stallRecords')) ?? [],
    errors: state.errors,
    fatal: state.fatal,
    httpErrors: [...player.httpErrors],
    consoleErrors: [...player.consoleErrors],
    pageErrors: [...player.pageErrors],
    jumpsBack: playheadJumpsBack(samples),
    medianLatency: latencies.length > 0 ? latencies[Math.floor(latencies.length / 2)]! : null,
    latencySamples: latencies.length,
    segmentsFetchedWhilePlaying: fetched.length,
    segmentUrlsFetchedWhilePlaying: fetched,
  };
}

/** Every problem a watch reported, one line each: what a test expects to be empty. */
export function problemsOf(report: WatchReport): string[] {
  return [
    ...report.errors.map((error) => `player error${error.fatal ? ' (fatal)' : ''}: ${error.type} ${error.details}`),
    ...report.httpErrors.map((line) => `HTTP ${line}`),
    ...report.consoleErrors.map((line) => `console: ${line}`),
    ...report.pageErrors.map((line) => `page error: ${line}`),
  ];
}

/** What a failure message needs to tell why a video did not end: playhead, buffered ranges, hls.js's view of its playlists. */
const VIDEO_STATE =
  '(() => { const v = document.querySelector("video"); const ranges = []; for (let i = 0; i < v.buffered.length; i++) ranges.push(v.buffered.start(i).toFixed(2) + "-" + v.buffered.end(i).toFixed(2));' +
  ' const h = window.hls; const about = (d) => d && { live: d.live, edge: d.edge, last: d.fragments.at(-1) && [d.fragments.at(-1).sn, d.fragments.at(-1).start, d.fragments.at(-1).duration] };' +
  ' return JSON.stringify({ currentTime: v.currentTime, duration: v.duration, buffered: ranges, readyState: v.readyState, paused: v.paused, errors: window.playerState.errors.slice(-5),' +
  ' level: h && h.levels[h.currentLevel] && about(h.levels[h.currentLevel].details), audio: h && h.audioTracks[h.audioTrack] && about(h.audioTracks[h.audioTrack].details) }); })()';

/**
 * A stream that ended plays out as a viewer expects: the video reaches its last frame and ends,
 * the page says the stream ended, and nothing failed. Throws with the video's state otherwise.
 */
export async function waitUntilPlayedToTheEnd(page: PlayerPage, timeoutMs = 30_000): Promise<void> {
  const playedOut = async () => (await page.evaluate<boolean>('document.querySelector("video").ended')) && (await page.text('#stream-state')).includes('has ended');
  const ended = await eventually('the ended stream to play out', timeoutMs, async () => ((await playedOut()) ? true : undefined)).catch(() => false);
  const { fatal } = await page.state();
  if (ended && fatal === null && page.pageErrors.length === 0) return;
  throw new Error(`the ended stream did not play out within ${timeoutMs} ms (played out: ${ended}, fatal: ${fatal}); ${await describePlayer(page)}`);
}

/** Waits until the playhead passes `position` (seconds); throws with the player's state otherwise. */
export async function waitForPlayheadPast(page: PlayerPage, position: number, what: string, timeoutMs: number): Promise<void> {
  const passed = await eventually(what, timeoutMs, async () => ((await page.currentTime()) > position ? true : undefined)).catch(() => false);
  if (!passed) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (past ${position.toFixed(2)} s); ${await describePlayer(page)}`);
}

/** The page, the video and hls.js as a failure message needs them, with the last playlist and media requests and the page's moves of a dash.js playhead. */
async function describePlayer(page: PlayerPage): Promise<string> {
  const at = (request: SegmentRequest) => `${new Date(request.at).toISOString().slice(14, 23)}${request.doneAt ? '' : ' (unanswered)'} ${new URL(request.url).pathname}`;
  const lastPlaylists = page.playlistRequests.slice(-8).map((request) => `${at(request)}${new URL(request.url).search}`);
  const playheadMoves = await page.evaluate<string[] | undefined>('window.playerState && window.playerState.playheadMoves');
  return (
    `page says "${await page.text('#stream-state')}", page errors: ${page.pageErrors.join('; ') || 'none'};` +
    ` the video: ${await page.evaluate<string>(VIDEO_STATE)}; its last playlist requests: ${lastPlaylists.join(', ')};` +
    ` its last media requests: ${page.segmentRequests.slice(-6).map(at).join(', ') || 'none'}; the page moved its playhead: ${playheadMoves?.join(', ') ?? 'never'}`
  );
}

/**
 * Opens the player page and watches it (`watchPlayback`) until the video has played `seconds`
 * past its first frame, a fatal error, or `timeoutMs` in all.
 */
export async function playInChromium(pageUrl: string, seconds: number, timeoutMs = 45_000): Promise<BrowserPlayback> {
  const player = await openPlayerPage(pageUrl);
  try {
    return await watchPlayback(player, seconds, { startTimeoutMs: timeoutMs, until: 'played' });
  } finally {
    await player.close();
  }
}

export interface PlayheadJump {
  at: number;
  from: number;
  to: number;
}

/**
 * Where the playhead went back by more than `toleranceSeconds`: a live player replaying what it
 * already showed. (Forward jumps are fine: a player skipping a gap, or catching up.)
 */
export function playheadJumpsBack(samples: readonly PlayheadSample[], toleranceSeconds = 0.25): PlayheadJump[] {
  return samples.slice(1).flatMap((sample, i) => {
    const previous = samples[i]!;
    return sample.currentTime < previous.currentTime - toleranceSeconds ? [{ at: sample.at, from: previous.currentTime, to: sample.currentTime }] : [];
  });
}

/**
 * Opens the player page, waits for its first frame, then watches it (`watchPlayback`) for
 * `seconds` of wall time: a live player must keep moving forward, and keep fetching new segments to do so.
 */
export async function watchLiveInChromium(pageUrl: string, seconds: number, startTimeoutMs = 30_000): Promise<WatchReport> {
  const player = await openPlayerPage(pageUrl);
  try {
    return await watchPlayback(player, seconds, { startTimeoutMs });
  } finally {
    await player.close();
  }
}

export interface VlcPlayback {
  firstPicture: boolean;
  /** VLC hit the end of the input before it was stopped (a live stream must not end). */
  reachedEnd: boolean;
  /** Error lines from the parts of VLC that fetch, demux and decode (not its desktop integration, nor its start-up flow control). */
  mediaErrors: string[];
  /** Distinct media segments VLC's HLS client requested after its first picture: live playback going on. */
  segmentsFetchedWhilePlaying: number;
  /** The media sequence number of the first segment VLC fetched from each HLS rendition (by its folder URL): see vlcStartSegments. */
  startSegments: Record<string, number>;
  log: string;
}

/** A line of VLC's debug log saying its HLS/DASH client fetches a media segment (the URL). */
const VLC_SEGMENT_FETCH = /adaptive demux debug: Retrieving (\S+\.m4s)$/;

/**
 * The media sequence number of the first segment VLC's HLS client fetched, per rendition (the
 * segment's URL without its file name), from VLC's debug log: the segment lists it prints for each
 * playlist ("Segment #N url=...") and its fetches ("Retrieving ...m4s"). The platform's renditions
 * number their segments alike (one number, one media time), so two different numbers mean VLC began
 * its audio and its video at different media times.
 */
export function vlcStartSegments(log: string): Record<string, number> {
  const sequenceOf = new Map<string, number>();
  for (const match of log.matchAll(/ Segment #(\d+) url=(\S+)/g)) sequenceOf.set(match[2]!, Number(match[1]));
  const starts: Record<string, number> = {};
  for (const line of log.split('\n')) {
    const url = VLC_SEGMENT_FETCH.exec(line)?.[1];
    if (url === undefined) continue;
    const rendition = url.slice(0, url.lastIndexOf('/') + 1);
    const sequence = sequenceOf.get(url);
    if (!(rendition in starts) && sequence !== undefined) starts[rendition] = sequence;
  }
  return starts;
}

/** VLC began its renditions on different segments (vlcStartSegments): VLC 3.0's known live start fault (README), not the stream's. */
export function vlcStartedApart(startSegments: Record<string, number>): boolean {
  return new Set(Object.values(startSegments)).size > 1;
}

export interface HlsInVlcPlayback extends VlcPlayback {
  /** The first attempt's start segments when it showed no picture because VLC began its renditions apart, and was opened again. */
  openedAgainAfter: Record<string, number> | null;
}

/**
 * Plays an HLS stream in VLC as a VLC 3.0 viewer does (README): VLC picks each rendition's first
 * segment from that rendition's own playlist, fetched a segment download apart, so when a segment
 * is listed in between, its audio and video begin 2 s apart and VLC 3.0 never shows a picture (its
 * decoder starts idle: "buffer deadlock prevented"). No server can list two playlists at one
 * instant for a client that reads them at two; the viewer opens the stream again. So does this,
 * once, only for that fault (no picture and start segments that differ, both from VLC's own log):
 * any other failure, or the same fault twice, is the caller's to see. Both attempts' logs are kept.
 */
export async function playHlsInVlc(url: string, seconds: number, startTimeoutMs?: number): Promise<HlsInVlcPlayback> {
  const first = await playInVlc(url, seconds, startTimeoutMs);
  if (first.firstPicture || !vlcStartedApart(first.startSegments)) return { ...first, openedAgainAfter: null };
  const again = await playInVlc(url, seconds, startTimeoutMs);
  const marker = `--- VLC began its renditions on different segments (${JSON.stringify(first.startSegments)}) and showed no picture: opened again ---`;
  return { ...again, log: [first.log, marker, again.log].join('\n'), openedAgainAfter: first.startSegments };
}

// Errors VLC prints about the headless environment (no D-Bus, no hotkeys, no XDG runtime dir).
const ENVIRONMENT_ERROR = /dbus|interface error|libvlc error: interface|XDG_RUNTIME_DIR/;
// VLC's start-up flow control, not the stream: "buffer deadlock prevented" says VLC's input, waiting
// for every track's decoder to hold data before it starts the clock, found one idle with nothing
// queued yet (its track's first segment still on its way, on a busy machine) and started without
// waiting. Seen with HLS and DASH; the callers assert that playback goes on (a first picture, then
// segments fetched while playing).
const START_UP_FLOW_CONTROL = /buffer deadlock prevented/;

/**
 * Plays `url` in cvlc with dummy audio and video outputs for `seconds` of wall time from its first
 * picture (as the browser checks count from theirs: VLC's own start-up, its Lua scripts and
 * module probing, is seconds of a busy machine's time and not the stream's), then stops it; with
 * no picture within `startTimeoutMs`, it stops there. (VLC's --run-time counts media time from the
 * stream's start, not from joining a live stream, so it is no bound here.) VLC refuses to run as
 * root: as root it runs as nobody.
 */
export function playInVlc(url: string, seconds: number, startTimeoutMs = 20_000): Promise<VlcPlayback> {
  const home = mkdtempSync(join(tmpdir(), 'vlc-home-'));
  chmodSync(home, 0o777);
  // No hardware decoding: on a machine without a GPU, VLC first tries VA-API and VDPAU, whose
  // failures (get_buffer() failed) on a busy machine kept it from its first picture for 8 s (CI).
  // One rendition, the highest: VLC 3.0's adaptive logic started on 240p and switched to the source
  // before its first picture, and the new decoder's get_buffer() failed until it was stopped, with
  // its dummy video output (CI, 2026-12-07 07:00 UTC; the "one start in eight without a picture").
  // Whether a desktop VLC shows the same is not known here: its ABR start is not what this checks.
  const vlcArgs = ['-I', 'dummy', '--vout', 'dummy', '--aout', 'dummy', '--avcodec-hw', 'none', '--adaptive-logic', 'highest', '--no-video-title-show', '--play-and-exit', '-vv', url];
  const [command, args] =
    process.getuid?.() === 0
      ? ['setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'cvlc', ...vlcArgs]]
      : ['cvlc', vlcArgs];
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: { ...process.env, HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    let stopper = setTimeout(() => child.kill('SIGTERM'), startTimeoutMs);
    let killer = setTimeout(() => child.kill('SIGKILL'), startTimeoutMs + 10_000);
    let playing = false;
    const collect = (chunk: Buffer) => {
      log += chunk;
      if (playing || !log.includes('Received first picture')) return;
      playing = true;
      clearTimeout(stopper);
      clearTimeout(killer);
      stopper = setTimeout(() => child.kill('SIGTERM'), seconds * 1000);
      killer = setTimeout(() => child.kill('SIGKILL'), (seconds + 10) * 1000);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', reject);
    child.on('close', () => {
      clearTimeout(stopper);
      clearTimeout(killer);
      rmSync(home, { recursive: true, force: true });
      const lines = log.split('\n');
      const firstPictureAt = lines.findIndex((line) => line.includes('Received first picture'));
      const fetchedAfter = firstPictureAt < 0 ? [] : lines.slice(firstPictureAt);
      resolve({
        firstPicture: firstPictureAt >= 0,
        reachedEnd: lines.some((line) => line.includes('EOF reached')),
        mediaErrors: lines.filter((line) => / error[:!]/.test(line) && !ENVIRONMENT_ERROR.test(line) && !START_UP_FLOW_CONTROL.test(line)),
        segmentsFetchedWhilePlaying: new Set(fetchedAfter.flatMap((line) => VLC_SEGMENT_FETCH.exec(line)?.[1] ?? [])).size,
        startSegments: vlcStartSegments(log),
        log,
      });
    });
  });
}
