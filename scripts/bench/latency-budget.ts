/**
 * Where glass-to-glass time goes on our platform, stage by stage (no nginx: a diagnosis, not the
 * comparison; `npm run bench -- --only latency` is the figure):
 *
 * - **listed**: a client follows the source rendition's media playlist by blocking reloads (as
 *   hls.js does) and notes, for every part, when the first playlist that lists it arrived, minus
 *   the wall time its last frame was captured (the publisher's clock, burnt into the frames,
 *   equals EXT-X-PROGRAM-DATE-TIME within a few ms: the availability stage checks it). This is
 *   encode + RTMP + the sidecar cutting the part + the live channel + the edge releasing the
 *   held reload.
 * - **hls.js**: a page plays the multivariant playlist with the given configuration and reports
 *   its start-up (what it loaded, when it first played, its latency estimate and target then)
 *   and the burnt-in clock's latency after settling.
 *
 * Where in a segment the viewer joins matters to hls.js's start-up: it loads the parts of the
 * segment holding its start position from that segment's first (independent) part on, one after
 * another. Joining right after the fifth segment is listed (the default, as the latency stage
 * does) puts its start position about 0.1 s before the next segment's start, the longest run;
 * `--join-delay S` joins S seconds later (e.g. 1 for the middle of a 2 s segment).
 *
 * `--edge node` serves the same from the Node edge instead of `wrangler dev`: whether a figure is
 * the platform's or local workerd's (on a saturated machine workerd's answers wait longest).
 *
 * Usage: node scripts/node24.mjs scripts/bench/latency-budget.ts [--chunk-duration S] [--seconds N] [--player hls-defaults|low-latency|...] [--ladder ...] [--join-delay S] [--edge wrangler|node]
 */
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { locateFfmpeg } from '../../ingest/transcode/ffmpeg-binary.ts';
import { startPlatform } from '../lib/platform.ts';
import { CLOCK_LAYOUT, decodeClockCells, unwrapClockValue } from './clock-pattern.ts';
import { renderLatencyPage, type PageReport } from './latency-page.ts';
import { hlsJsSource, LATENCY_MODES, playbackModes } from './latency-stage.ts';
import { platformCpuSources, sampleCpu } from './latency-cpu.ts';
import { startupBreakdown, startupText } from './latency-startup.ts';
import { median, percentile, treeCpuSeconds } from './measure.ts';
import { clockPublisherArgs, startPublisher } from './publishers.ts';

const { values } = parseArgs({
  options: {
    'chunk-duration': { type: 'string' },
    seconds: { type: 'string', default: '20' },
    'join-delay': { type: 'string', default: '0' },
    player: { type: 'string', default: 'hls-defaults' },
    ladder: { type: 'string' },
    edge: { type: 'string', default: 'wrangler' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log(`Usage: node scripts/node24.mjs scripts/bench/latency-budget.ts [options]

Where glass-to-glass time goes on our platform, stage by stage: when each part is listed after its
last frame was captured, and hls.js's start-up request by request (no nginx: a diagnosis).

Options:
  --player MODE         hls.js configuration: ${Object.keys(LATENCY_MODES).join(', ')} (default: hls-defaults)
  --seconds N           seconds measured after settling (default: 20)
  --chunk-duration S    the sidecar's part target in seconds (default: the sidecar's)
  --ladder LADDER       the sidecar's --ladder (default: the sidecar's)
  --join-delay S        join S seconds after the fifth segment is listed (default: 0)
  --edge EDGE           wrangler (wrangler dev, as npm start and the bench) or node (npm run edge:node) (default: wrangler)
  -h, --help            this text`);
  process.exit(0);
}
const seconds = Number(values.seconds);
if (values.edge !== 'wrangler' && values.edge !== 'node') throw new Error('--edge: wrangler or node');
const edge: 'wrangler' | 'node' = values.edge;
const mode = playbackModes(undefined, [LATENCY_MODES[values.player as keyof typeof LATENCY_MODES]])[0];
if (!mode) throw new Error(`--player: one of ${Object.keys(LATENCY_MODES).join(', ')}`);
const hlsConfig = mode.hlsConfig;

/** The newest part a media playlist lists: its segment's number, its index, and its end on the program-date-time clock (epoch ms). */
export interface NewestPart {
  msn: number;
  index: number;
  endsAt: number;
}

/** Reads a low-latency media playlist: the last part listed and when its media ends (by the last EXT-X-PROGRAM-DATE-TIME plus durations). */
export function newestPart(text: string): NewestPart | undefined {
  let msn = 0;
  let segment = 0;
  let date: number | undefined;
  // Seconds from the last dated segment's start to the end of what has been read.
  let sinceDate = 0;
  let index = -1;
  let newest: NewestPart | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('#EXT-X-MEDIA-SEQUENCE:')) segment = msn = Number(line.slice(22));
    else if (line.startsWith('#EXT-X-PROGRAM-DATE-TIME:')) {
      date = Date.parse(line.slice(25));
      sinceDate = 0;
    } else if (line.startsWith('#EXT-X-PART:')) {
      index += 1;
      sinceDate += Number(/DURATION=([\d.]+)/.exec(line)?.[1] ?? 0);
      if (date !== undefined) newest = { msn: segment, index, endsAt: date + sinceDate * 1000 };
    } else if (line.startsWith('#EXTINF:')) {
      // A whole segment: its parts (if listed) were counted already.
      if (index < 0) sinceDate += Number(/^#EXTINF:([\d.]+)/.exec(line)?.[1] ?? 0);
    } else if (line !== '' && !line.startsWith('#')) {
      segment += 1;
      index = -1;
      msn = segment;
    }
  }
  void msn;
  return newest;
}

async function followParts(url: string, until: number): Promise<number[]> {
  const delays: number[] = [];
  let last: NewestPart | undefined;
  while (Date.now() < until) {
    const query = last ? `?_HLS_msn=${last.msn}&_HLS_part=${last.index + 1}` : '';
    const response = await fetch(url + query);
    const arrived = Date.now();
    const text = await response.text();
    const part = newestPart(text);
    if (!part) continue;
    // Only a part seen for the first time counts (the first playlist's newest was listed before we asked).
    if (last && (part.msn > last.msn || part.index > last.index)) delays.push((arrived - part.endsAt) / 1000);
    last = part;
  }
  return delays;
}

const stats = (values: number[]) =>
  values.length === 0 ? 'none' : `p50 ${median(values).toFixed(3)} s, p95 ${percentile(values, 0.95).toFixed(3)} s, min ${Math.min(...values).toFixed(3)} s (${values.length})`;

const ffmpeg = locateFfmpeg();
const epochMs = Date.now();
const args = [...(values['chunk-duration'] ? ['--chunk-duration', values['chunk-duration']] : []), ...(values.ladder ? ['--ladder', values.ladder] : [])];
const platform = await startPlatform({ edge, ingest: { reconnectWindow: 0, args, env: { LOG_LEVEL: 'warn' } }, dirPrefix: 'latency-budget-' });
const stream = `budget${Date.now().toString(36)}`;
const publisher = startPublisher(ffmpeg, clockPublisherArgs({ epochMs, size: '1280x720', seconds: 60 + 2 * seconds, targets: [platform.publishUrl(stream)] }));
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--autoplay-policy=no-user-gesture-required'] });
try {
  const media = `${platform.edgeUrl}/live/${stream}/source/index.m3u8`;
  for (let tries = 0; ; tries++) {
    const text = await fetch(media).then((r) => (r.ok ? r.text() : ''));
    if ((text.match(/#EXTINF/g) ?? []).length >= 5) break;
    if (tries > 120) throw new Error('no 5 segments in 60 s');
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  await new Promise((resolve) => setTimeout(resolve, Number(values['join-delay']) * 1000));
  const page = await browser.newPage();
  const origin = platform.edgeUrl;
  const html = renderLatencyPage({ playlistUrl: mode.oursUrl(origin, stream), hlsConfig, hlsScriptUrl: '/__bench__/hls.min.js', layout: CLOCK_LAYOUT, sampleEveryMs: 200, playerScript: mode.playerScript });
  const hlsJs = hlsJsSource();
  await page.route(`${origin}/__bench__/**`, (route) =>
    route.request().url().endsWith('.js') ? route.fulfill({ contentType: 'text/javascript', body: hlsJs }) : route.fulfill({ contentType: 'text/html', body: html }),
  );
  let requests = 0;
  page.on('request', (request) => {
    if (request.url().includes('/live/')) requests += 1;
  });
  const listing = followParts(media, Date.now() + (seconds + 12) * 1000);
  // Who had the machine's CPU during the start-up: with none idle, every request waits for a core (latency-cpu.ts).
  const machineCpu = sampleCpu({ ...platformCpuSources(platform.edge!.pid!, platform.ingest!.pid!), publisher: () => treeCpuSeconds(publisher.process.pid!) });
  const loadedAt = Date.now();
  await page.goto(`${origin}/__bench__/latency.html`);
  await new Promise((resolve) => setTimeout(resolve, 12_000));
  await page.evaluate('window.bench.samples = []');
  // What the measured seconds cost: the sidecar's process tree (its ffmpeg for the encoded rungs too), the edge's, the viewer's requests.
  const cpu = () => ({ sidecar: treeCpuSeconds(platform.ingest!.pid!), edge: treeCpuSeconds(platform.edge!.pid!), requests });
  const before = cpu();
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const after = cpu();
  const report = (await page.evaluate('window.bench')) as PageReport;
  const clock = report.samples.flatMap((sample) => {
    const value = decodeClockCells(sample.brightness);
    return value === null ? [] : [(sample.at - unwrapClockValue(value, epochMs, sample.at)) / 1000];
  });
  const behind = report.samples.flatMap((sample) => (sample.behindEdge === null ? [] : [sample.behindEdge]));
  console.log(`edge ${edge}; hls.js ${mode.name} ${JSON.stringify(hlsConfig)}: start-up ${JSON.stringify(report.startup)}, stalls after start ${report.stalls}, errors ${report.errors.join(', ') || 'none'}`);
  for (const [n, event] of report.events.entries()) if (n < 120 || /waiting|seeking|playing|rate/.test(event.what)) console.log(`  ${String(event.at).padStart(6)} ms  ${event.what}`);
  console.log(`start-up: ${startupText(startupBreakdown(report))}`);
  machineCpu.stop();
  console.log(`CPU during the start-up (page loaded to first frame): ${report.startup ? machineCpu.window(loadedAt, loadedAt + report.startup.playingAfterMs) : 'never played'}`);
  console.log(`glass-to-glass (burnt-in clock), after 12 s: ${stats(clock)}; hls.latency ${stats(behind)}`);
  console.log(`over ${seconds} s: sidecar ${((after.sidecar - before.sidecar) / seconds * 100).toFixed(1)} % of a core, edge ${((after.edge - before.edge) / seconds * 100).toFixed(1)} %, one viewer ${((after.requests - before.requests) / seconds).toFixed(1)} requests/s (plus the part follower)`);
  console.log(`part listed after its last frame's capture (source rendition, blocking reloads): ${stats(await listing)}`);
} finally {
  await browser.close();
  await publisher.stop();
  await platform.stop();
}
