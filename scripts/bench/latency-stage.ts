/**
 * Stage "latency": glass-to-glass latency in hls.js in headless Chromium, both servers at once,
 * fed by one publisher whose frames carry their capture time (`clock-pattern.ts`). Each run
 * publishes a new stream, then for each playback mode opens one page per server side by side,
 * lets playback settle, and reads the clock off presented frames for the measured seconds.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { PLAYER_CATCH_UP_RATE, PLAYER_HLS_CONFIG } from '../../edge/player/client/hls-config.ts';
import { catchUpRate, catchUpWithLive } from '../../edge/player/client/live-catch-up.ts';
import { CLOCK_LAYOUT, decodeClockCells, unwrapClockValue } from './clock-pattern.ts';
import { fetchText, pause, waitFor, type BenchContext, type ServersUnderTest } from './bench-context.ts';
import { renderLatencyPage, type PageReport } from './latency-page.ts';
import { startupBreakdown, startupText } from './latency-startup.ts';
import { median, percentile } from './measure.ts';
import { ourUrls, startOurNodeEdge, startOurSidecar } from './our-platform.ts';
import { clockPublisherArgs, DEFAULT_KEYFRAME_SECONDS, startPublisher } from './publishers.ts';
import { parseMediaSegments } from './segment-timeline.ts';

const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const JOIN_AFTER_SEGMENTS = 5;

export interface PlaybackMode {
  name: string;
  /** hls.js configuration (`{}`: its defaults). */
  hlsConfig: Record<string, unknown>;
  /** The URL hls.js loads on our edge: LL-HLS may get its own once the edge serves it. */
  oursUrl: (origin: string, stream: string) => string;
  /** What the page does beside hls.js (JavaScript run with `hls` and `video`), as the player page does. */
  playerScript?: string;
}

/**
 * The player page's hls.js settings (`edge/player/client/hls-config.ts`: low-latency mode, holes
 * up to 0.5 s seeked over, hls.js's own catch-up off) with the page's catch-up (up to 1.5x back to
 * the target latency, `live-catch-up.ts`).
 */
export const LOW_LATENCY_HLS_CONFIG: Record<string, unknown> = { ...PLAYER_HLS_CONFIG };
const PLAYER_PAGE_SCRIPT = `const catchUpRate = ${catchUpRate.toString()};\n(${catchUpWithLive.toString()})(hls, video, ${PLAYER_CATCH_UP_RATE});`;

/**
 * hls.js as a site that sets nothing plays it: low-latency mode is its default in 1.x (written
 * out so a change of default does not silently change the figure), no playback-rate catch-up.
 */
export const HLS_JS_DEFAULTS_CONFIG = { lowLatencyMode: true };

/** Modes by the short name `--latency-modes` takes (results are keyed by the long one, as before). */
export const LATENCY_MODES = {
  standard: 'standard',
  'hls-defaults': 'hls.js defaults',
  'low-latency': 'low-latency',
  'encoded-360p': 'low-latency, encoded 360p',
} as const;
export type LatencyModeName = (typeof LATENCY_MODES)[keyof typeof LATENCY_MODES];

/**
 * How viewers play: a standard HLS player (hls.js with `lowLatencyMode: false`: whole segments,
 * its live sync three target durations back); hls.js at its defaults (low-latency mode: parts,
 * blocking reloads, PART-HOLD-BACK; no catch-up); the player page's setting (`low-latency`: the
 * same with a 1.5x catch-up) on the top rendition as ABR picks it; and that held to an encoded
 * rung (`max_height=360` on our edge). nginx's playlist is the same in every mode.
 */
export function playbackModes(lowLatencyUrlTemplate?: string, only?: readonly LatencyModeName[]): PlaybackMode[] {
  const fromTemplate = (template: string) => (origin: string, stream: string) => template.replaceAll('{origin}', origin).replaceAll('{stream}', stream);
  const lowLatencyUrl = lowLatencyUrlTemplate ? fromTemplate(lowLatencyUrlTemplate) : ourUrls.multivariant;
  const modes: (PlaybackMode & { name: LatencyModeName })[] = [
    { name: 'standard', hlsConfig: { lowLatencyMode: false }, oursUrl: ourUrls.multivariant },
    { name: 'hls.js defaults', hlsConfig: HLS_JS_DEFAULTS_CONFIG, oursUrl: lowLatencyUrl },
    { name: 'low-latency', hlsConfig: LOW_LATENCY_HLS_CONFIG, oursUrl: lowLatencyUrl, playerScript: PLAYER_PAGE_SCRIPT },
    { name: 'low-latency, encoded 360p', hlsConfig: LOW_LATENCY_HLS_CONFIG, oursUrl: (origin, stream) => `${ourUrls.multivariant(origin, stream)}?max_height=360`, playerScript: PLAYER_PAGE_SCRIPT },
  ];
  return only ? modes.filter((mode) => only.includes(mode.name)) : modes;
}

export interface LatencyFigures {
  /** Seconds, every decoded frame of every run. */
  samples: number[];
  p50: number;
  p95: number;
  /** Median latency of each run. */
  runMedians: number[];
  /** Frames read whose clock could not be decoded (not counted). */
  unreadable: number;
  /** hls.js's own estimate (Date.now() - playingDate), median, where the playlist has dates. */
  playingDateMedian: number | null;
  /**
   * hls.js's own latency estimate (`hls.latency`: its live edge, carried forward with the wall
   * time since the playlist loaded, minus the playhead), median: beside the glass-to-glass figure
   * it shows whether hls.js knows how late it plays (its target, raised by stalls) or not.
   */
  behindEdgeMedian: number | null;
  heights: number[];
  errors: string[];
  /** Stalls of each run's page during the measured seconds (settling apart). */
  stalls: number[];
  /**
   * Stalls of each run's page from its first frame to the measurement: each one raises hls.js's
   * target latency by `liveSyncOnStallIncrease` (1 s, up to a target duration) for good.
   */
  stallsWhileSettling: number[];
  /** Each run's start-up: ms from loadSource to the first frame played, and hls.js's latency estimate and target then (s). */
  startups: ({ playingAfterMs: number; latency: number; targetLatency: number | null } | null)[];
  /** Each run's start-up, piece by piece (`latency-startup.ts`): the first media playlist, each track's init and parts loaded one after another, the seek. */
  startupBreakdowns: string[];
}

export type LatencyResult = Record<string, { ours: LatencyFigures; nginx: LatencyFigures }>;

interface RunReading {
  /** Where start-up went (latency-startup.ts), one line. */
  startupBreakdown: string;
  latencies: number[];
  unreadable: number;
  playingDate: number[];
  behindEdge: number[];
  heights: Set<number>;
  errors: string[];
  stalls: number;
  stallsWhileSettling: number;
  startup: PageReport['startup'];
}

export const hlsJsSource = () => readFileSync(createRequire(import.meta.url).resolve('hls.js/dist/hls.min.js'), 'utf8');

/** Opens the measuring page on the server's own origin (served by the browser itself: no CORS, same page for both). */
async function openMeasuringPage(browser: Browser, origin: string, playlistUrl: string, mode: PlaybackMode, hlsJs: string): Promise<Page> {
  const page = await browser.newPage();
  const html = renderLatencyPage({ playlistUrl, hlsConfig: mode.hlsConfig, hlsScriptUrl: '/__bench__/hls.min.js', layout: CLOCK_LAYOUT, sampleEveryMs: 200, playerScript: mode.playerScript });
  await page.route(`${origin}/__bench__/**`, (route) =>
    route.request().url().endsWith('.js')
      ? route.fulfill({ contentType: 'text/javascript', body: hlsJs })
      : route.fulfill({ contentType: 'text/html', body: html }),
  );
  await page.goto(`${origin}/__bench__/latency.html`);
  return page;
}

function readingOf(report: PageReport, epochMs: number, stallsWhileSettling: number): RunReading {
  const reading: RunReading = { startupBreakdown: startupText(startupBreakdown(report)), latencies: [], unreadable: 0, playingDate: [], behindEdge: [], heights: new Set(), errors: report.errors, stalls: report.stalls, stallsWhileSettling, startup: report.startup };
  for (const sample of report.samples) {
    const value = decodeClockCells(sample.brightness);
    if (value === null) {
      reading.unreadable += 1;
      continue;
    }
    reading.latencies.push((sample.at - unwrapClockValue(value, epochMs, sample.at)) / 1000);
    reading.heights.add(sample.height);
    if (sample.playingDate !== null) reading.playingDate.push((sample.at - sample.playingDate) / 1000);
    if (sample.behindEdge !== null && sample.behindEdge !== undefined) reading.behindEdge.push(sample.behindEdge);
  }
  return reading;
}

function figuresOf(readings: RunReading[]): LatencyFigures {
  const samples = readings.flatMap((reading) => reading.latencies);
  const playingDate = readings.flatMap((reading) => reading.playingDate);
  const behindEdge = readings.flatMap((reading) => reading.behindEdge);
  return {
    samples,
    p50: percentile(samples, 0.5),
    p95: percentile(samples, 0.95),
    runMedians: readings.map((reading) => median(reading.latencies)),
    unreadable: readings.reduce((sum, reading) => sum + reading.unreadable, 0),
    playingDateMedian: playingDate.length > 0 ? median(playingDate) : null,
    behindEdgeMedian: behindEdge.length > 0 ? median(behindEdge) : null,
    heights: [...new Set(readings.flatMap((reading) => [...reading.heights]))].sort((a, b) => a - b),
    errors: [...new Set(readings.flatMap((reading) => reading.errors))],
    stalls: readings.map((reading) => reading.stalls),
    stallsWhileSettling: readings.map((reading) => reading.stallsWhileSettling),
    startups: readings.map((reading) => reading.startup),
    startupBreakdowns: readings.map((reading) => reading.startupBreakdown),
  };
}

const startupSummary = (startup: PageReport['startup']) =>
  startup ? `${startup.playingAfterMs} ms after loading, ${startup.latency.toFixed(2)} s behind its live edge (target ${startup.targetLatency?.toFixed(2) ?? '?'} s)` : 'never';

/**
 * `edge`: ours as `npm start` runs it (`wrangler dev`, the shared servers), or the self-hosted
 * Node edge with a sidecar of its own (the default ladder, as the shared one): its per-request
 * time is a fraction of `wrangler dev`'s local proxy's, which a viewer's start-up pays per part.
 */
export interface LatencyStageOptions {
  /** Our edge: wrangler dev (as npm start) or the Node edge with a sidecar of its own. */
  edge?: 'wrangler' | 'node';
  /** The publisher's keyframe interval (DEFAULT_KEYFRAME_SECONDS unless told). */
  keyframeSeconds?: number;
}

export async function runLatencyStage(context: BenchContext, modes: PlaybackMode[], { edge = 'wrangler', keyframeSeconds = DEFAULT_KEYFRAME_SECONDS }: LatencyStageOptions = {}): Promise<LatencyResult> {
  const shared = await context.servers();
  const nodeOurs = edge === 'node' ? await startNodeOurs(context) : undefined;
  try {
    return await measureLatency(context, modes, nodeOurs ? { ...shared, ours: nodeOurs.ours } : shared, keyframeSeconds);
  } finally {
    await nodeOurs?.stop();
  }
}

async function startNodeOurs(context: BenchContext): Promise<{ ours: ServersUnderTest['ours']; stop: () => Promise<void> }> {
  context.status('latency: starting the Node edge (edge/node-server.ts) and a sidecar of its own (default ladder)…');
  const startedEdge = await startOurNodeEdge(join(context.work, 'latency-node-edge'));
  const edge = context.track({ ...startedEdge, stop: () => startedEdge.process.stop() });
  const started = await startOurSidecar(edge, join(context.work, 'latency-node-sidecar'));
  const sidecar = context.track({ ...started, stop: () => started.process.stop() });
  return {
    ours: { edge, sidecar },
    stop: async () => {
      for (const resource of [sidecar, edge]) {
        context.untrack(resource);
        await resource.stop();
      }
    },
  };
}

async function measureLatency(context: BenchContext, modes: PlaybackMode[], servers: ServersUnderTest, keyframeSeconds: number): Promise<LatencyResult> {
  const hlsJs = hlsJsSource();
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--autoplay-policy=no-user-gesture-required'],
  });
  const closeBrowser = context.track({ stop: () => browser.close() });
  const readings = new Map<string, { ours: RunReading[]; nginx: RunReading[] }>(modes.map((mode) => [mode.name, { ours: [], nginx: [] }]));
  try {
    for (let run = 1; run <= context.runs; run++) {
      const stream = `lat${run}${Date.now().toString(36)}`;
      // Long enough for hls.js to reach its target latency after start-up (it catches up at up to 1.5x in low-latency mode).
      const settleSeconds = 15;
      // Start-up (up to 40 s) plus each mode's settling and measuring, with room to spare.
      const publishSeconds = 60 + modes.length * (settleSeconds + context.seconds + 15);
      const publisher = context.track(
        startPublisher(context.ffmpeg, clockPublisherArgs({ epochMs: context.epochMs, size: '1280x720', seconds: publishSeconds, keyframeSeconds, targets: [servers.ours.sidecar.publishUrl(stream), servers.nginx.publishUrl(stream)] })),
      );
      try {
        // Viewers join a running stream: hls.js starts differently on a playlist of one or two segments.
        context.status(`latency run ${run}/${context.runs}: waiting for both servers to list ${JOIN_AFTER_SEGMENTS} segments of stream ${stream} (source keyframes every ${keyframeSeconds} s)`);
        const listed = async (url: string) => parseMediaSegments((await fetchText(url)) ?? '').length;
        await waitFor(`${JOIN_AFTER_SEGMENTS} segments in both playlists`, 60_000, 250, context.signal, async () =>
          (await listed(ourUrls.mediaPlaylist(servers.ours.edge.origin, stream))) >= JOIN_AFTER_SEGMENTS && (await listed(servers.nginx.playlistUrl(stream))) >= JOIN_AFTER_SEGMENTS ? true : undefined,
        );
        for (const mode of modes) {
          context.status(`latency run ${run}/${context.runs}, hls.js ${mode.name}: playing both, ${settleSeconds} s to settle, ${context.seconds} s measured`);
          const pair = await measurePair(context, browser, servers, stream, mode, hlsJs, settleSeconds);
          readings.get(mode.name)!.ours.push(pair.ours);
          readings.get(mode.name)!.nginx.push(pair.nginx);
          context.status(
            `  ours median ${median(pair.ours.latencies).toFixed(2)} s (${pair.ours.latencies.length} frames, stalls ${pair.ours.stallsWhileSettling} settling + ${pair.ours.stalls} measured),` +
              ` nginx ${median(pair.nginx.latencies).toFixed(2)} s (${pair.nginx.latencies.length} frames, stalls ${pair.nginx.stallsWhileSettling} + ${pair.nginx.stalls});` +
            ` ours started ${startupSummary(pair.ours.startup)} (${pair.ours.startupBreakdown})`,
          );
        }
      } finally {
        context.untrack(publisher);
        await publisher.stop();
      }
    }
  } finally {
    context.untrack(closeBrowser);
    await browser.close();
  }
  return Object.fromEntries([...readings].map(([mode, { ours, nginx }]) => [mode, { ours: figuresOf(ours), nginx: figuresOf(nginx) }]));
}

async function measurePair(
  context: BenchContext,
  browser: Browser,
  servers: ServersUnderTest,
  stream: string,
  mode: PlaybackMode,
  hlsJs: string,
  settleSeconds: number,
): Promise<{ ours: RunReading; nginx: RunReading }> {
  const pages = [
    await openMeasuringPage(browser, servers.ours.edge.origin, mode.oursUrl(servers.ours.edge.origin, stream), mode, hlsJs),
    await openMeasuringPage(browser, servers.nginx.origin, servers.nginx.playlistUrl(stream), mode, hlsJs),
  ];
  try {
    for (const page of pages) {
      await waitFor('playback', 40_000, 250, context.signal, async () => {
        const report = (await page.evaluate('window.bench')) as PageReport;
        if (report.fatal) throw new Error(`hls.js failed: ${report.fatal}`);
        return report.playing ? true : undefined;
      });
    }
    await pause(settleSeconds * 1000, context.signal);
    const settling = (await Promise.all(pages.map((page) => page.evaluate('(() => { const n = window.bench.stalls; window.bench.samples = []; window.bench.stalls = 0; return n; })()')))) as number[];
    await pause(context.seconds * 1000, context.signal);
    const [ours, nginx] = await Promise.all(pages.map(async (page, i) => readingOf((await page.evaluate('window.bench')) as PageReport, context.epochMs, settling[i]!)));
    return { ours: ours!, nginx: nginx! };
  } finally {
    await Promise.all(pages.map((page) => page.close()));
  }
}
