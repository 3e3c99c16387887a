/**
 * `npm run hostile:rtmp`: starts a sidecar (keyed, one stream, storage in a temporary folder),
 * publishes one legitimate stream to it with ffmpeg, then fires hostile RTMP connections of
 * every kind in waves from many loopback addresses, and reports the sidecar's peak memory,
 * whether every hostile connection was closed by the sidecar, what it refused and why, and
 * whether the live stream kept producing segments without a stall.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { StreamStore } from '../ingest/streams/stream-store.ts';
import { locateFfmpeg } from '../ingest/transcode/ffmpeg-binary.ts';
import { RssSampler } from './bench/measure.ts';
import { describeHostileKind, HOSTILE_KINDS } from './lib/hostile-rtmp.ts';
import { runHostileWaves, type KindTally } from './lib/hostile-waves.ts';
import { testPatternPublishArgs } from './lib/ffmpeg-args.ts';
import { startPlatform } from './lib/platform.ts';
import { SegmentWatch } from './lib/segment-watch.ts';
import { positiveInteger } from './lib/cli-numbers.ts';

const SEGMENT_SECONDS = 2;
/** No new segment for this long is a stall (a player would have run dry). */
const STALL_MS = 3 * SEGMENT_SECONDS * 1000;
const GOAL_RSS_BYTES = 300 * 1024 * 1024;

const program = new Command('hostile:rtmp')
  .description('Hostile RTMP connections in waves against a sidecar started here, while one legitimate stream is live: peak sidecar memory and whether the stream stalled.')
  .addOption(new Option('--connections <n>', 'hostile connections in all').default(10_000).argParser(positiveInteger))
  .addOption(new Option('--wave-size <n>', 'connections launched per wave').default(500).argParser(positiveInteger))
  .addOption(new Option('--max-in-flight <n>', 'hostile connections open at once at most').default(400).argParser(positiveInteger))
  .addOption(new Option('--sources <n>', 'loopback source addresses they come from (127.0.1.1 upwards)').default(250).argParser(positiveInteger))
  .addOption(new Option('--flood-every <n>', 'every n-th connection comes from one address (127.0.0.2), to meet the per-address limit').default(20).argParser(positiveInteger))
  .addOption(new Option('--kinds <list>', `comma-separated kinds (default: all): ${HOSTILE_KINDS.join(', ')}`))
  .addOption(new Option('--give-up <seconds>', 'a hostile connection still open this long counts as held open').default(25).argParser(positiveInteger))
  .addOption(new Option('--unguarded', 'run the sidecar with --unguarded-rtmp (node-media-server without the gate), to measure it'))
  .addOption(new Option('--sidecar-args <args>', 'more sidecar flags, space-separated (e.g. "--rtmp-max-connections 500")').default(''))
  .addOption(new Option('--out <file>', 'also write the results as JSON'))
  .parse();
const options = program.opts<{
  connections: number;
  waveSize: number;
  maxInFlight: number;
  sources: number;
  floodEvery: number;
  kinds?: string;
  giveUp: number;
  unguarded?: boolean;
  sidecarArgs: string;
  out?: string;
}>();
const kinds = options.kinds ? options.kinds.split(',').map((kind) => kind.trim()) : HOSTILE_KINDS;
const unknown = kinds.filter((kind) => !HOSTILE_KINDS.includes(kind));
if (unknown.length > 0) program.error(`error: unknown kinds ${unknown.join(', ')} (known: ${HOSTILE_KINDS.join(', ')})`);

const status = (line: string) => console.log(`[hostile:rtmp] ${line}`);
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

const work = mkdtempSync(join(tmpdir(), 'hostile-rtmp-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));
const store = new StreamStore(join(work, 'streams.json'));
const { stream, key } = store.add('main');
const lines: string[] = [];

status(`starting a sidecar${options.unguarded ? ' UNGUARDED (--unguarded-rtmp)' : ''} (keyed, one stream, --ladder none, storage in ${work})`);
const platform = await startPlatform({
  edge: 'none',
  dir: join(work, 'platform'),
  onLine: (_tag, line) => lines.push(line),
  ingest: {
    streamsFile: join(work, 'streams.json'),
    reconnectWindow: 0,
    args: [
      '--storage', 'fs', '--storage-dir', join(work, 'media'),
      '--ladder', 'none',
      ...(options.unguarded ? ['--unguarded-rtmp'] : []),
      ...options.sidecarArgs.split(' ').filter(Boolean),
    ],
    env: { LOG_LEVEL: 'info' },
  },
});
const ingest = platform.ingest!;
const rtmpPort = platform.ports.rtmp;
status(`sidecar on :${rtmpPort}`);
const pid = ingest.pid!;
const rss = new RssSampler(pid);
await new Promise((resolve) => setTimeout(resolve, 1000));
const restingRss = rss.last;
status(`sidecar pid ${pid}, RSS at rest ${mb(restingRss)}`);

// The legitimate publisher: a test pattern as OBS would send it (2 s keyframes: passed through).
const publisher = spawn(
  locateFfmpeg(),
  testPatternPublishArgs(platform.publishUrl(key), { preset: 'ultrafast' }),
  { stdio: ['pipe', 'ignore', 'ignore'] },
);
publisher.stdin.on('error', () => {});
const segments = new SegmentWatch(join(work, 'media', 'streams', stream.playbackId, 'source', 'index.m3u8'));
const warmupDeadline = performance.now() + 30_000;
while (segments.segments < 2) {
  if (performance.now() > warmupDeadline || ingest.hasExited || publisher.exitCode !== null) {
    status('the legitimate stream produced no segments within 30 s; giving up');
    await platform.stop();
    process.exit(1);
  }
  await new Promise((resolve) => setTimeout(resolve, 200));
}
status(`legitimate stream live (playback id ${stream.playbackId}), ${segments.segments} segments; RSS ${mb(rss.last)}`);

rss.resetPeak();
const attackStarted = performance.now();
status(`firing ${options.connections} hostile connections, ${options.waveSize} per wave, at most ${options.maxInFlight} open, from ${options.sources} addresses (+ every ${options.floodEvery}th from one), kinds: ${kinds.length}`);
const tally = await runHostileWaves({
  host: '127.0.0.1',
  port: rtmpPort,
  connections: options.connections,
  waveSize: options.waveSize,
  maxInFlight: options.maxInFlight,
  giveUpMs: options.giveUp * 1000,
  kinds,
  sources: options.sources,
  floodEvery: options.floodEvery,
  onWave: ({ wave, waves, done, inFlight }) =>
    status(
      `wave ${wave}/${waves} launched: ${done} ended, ${inFlight} open; sidecar RSS ${mb(rss.last)} (peak ${mb(rss.peak)})` +
        `${ingest.hasExited ? ' SIDECAR EXITED' : ''}; live stream ${segments.segmentsSince(attackStarted)} segments since the attack began, newest ${seconds(segments.quietMs)} ago`,
    ),
});
const attackMs = performance.now() - attackStarted;
// A few more segments after the attack: the stream must go on.
const settleUntil = performance.now() + 3 * SEGMENT_SECONDS * 1000;
while (performance.now() < settleUntil) await new Promise((resolve) => setTimeout(resolve, 200));

const peakRss = rss.peak;
const sidecarAlive = !ingest.hasExited;
const longestGapMs = segments.longestGapMs(attackStarted);
const segmentsDuring = segments.segmentsSince(attackStarted);
rss.stop();
segments.stop();
publisher.stdin.end('q');
await platform.stop();

const refusals: Record<string, number> = {};
for (const line of lines) {
  const entry = parseLine(line);
  if (entry?.msg?.startsWith('RTMP connection refused')) refusals[entry.reason ?? '?'] = (refusals[entry.reason ?? '?'] ?? 0) + 1;
  else if (entry?.msg?.startsWith('publish refused')) refusals['publish refused (registry)'] = (refusals['publish refused (registry)'] ?? 0) + 1;
}
const totals = Object.values(tally).reduce(
  (sum, kind) => ({ closed: sum.closed + kind.closedByServer, held: sum.held + kind.held, failed: sum.failed + kind.connectFailed }),
  { closed: 0, held: 0, failed: 0 },
);
const stalled = longestGapMs > STALL_MS;

console.log('');
console.log(`Hostile RTMP: ${options.connections} connections in ${seconds(attackMs)}${options.unguarded ? ' (UNGUARDED sidecar)' : ''}`);
console.log(`  closed by the sidecar ${totals.closed}, still open after ${options.giveUp} s ${totals.held}, could not connect ${totals.failed}`);
console.log(`  ${'kind'.padEnd(24)} ${'sent'.padStart(6)} ${'closed'.padStart(7)} ${'held'.padStart(6)} ${'no-conn'.padStart(8)} ${'slowest'.padStart(9)}  what`);
for (const [kind, entry] of Object.entries(tally) as [string, KindTally][]) {
  console.log(
    `  ${kind.padEnd(24)} ${String(entry.started).padStart(6)} ${String(entry.closedByServer).padStart(7)} ${String(entry.held).padStart(6)} ${String(entry.connectFailed).padStart(8)} ${seconds(entry.slowestMs).padStart(9)}  ${describeHostileKind(kind)}`,
  );
}
console.log(`  refusals the sidecar logged: ${Object.entries(refusals).sort(([, a], [, b]) => b - a).map(([reason, count]) => `${reason} ${count}`).join(', ') || 'none'}`);
console.log(`  sidecar RSS: at rest ${mb(restingRss)}, peak during the attack ${mb(peakRss)} (goal < ${mb(GOAL_RSS_BYTES)}: ${peakRss < GOAL_RSS_BYTES ? 'met' : 'MISSED'})`);
console.log(`  sidecar alive at the end: ${sidecarAlive ? 'yes' : 'NO'}`);
console.log(
  `  live stream: ${segmentsDuring} segments from the start of the attack to ${SEGMENT_SECONDS * 3} s after it, longest wait for a segment ${seconds(longestGapMs)} (${stalled ? 'STALLED' : 'no stall'}; a stall is > ${seconds(STALL_MS)})`,
);
if (options.out) {
  writeFileSync(
    options.out,
    JSON.stringify({ options, attackSeconds: attackMs / 1000, restingRssBytes: restingRss, peakRssBytes: peakRss, sidecarAlive, segmentsDuring, longestGapSeconds: longestGapMs / 1000, stalled, refusals, tally }, null, 2),
  );
}
process.exit(sidecarAlive && !stalled && peakRss < GOAL_RSS_BYTES && totals.held === 0 ? 0 : 1);

function parseLine(line: string): { msg?: string; reason?: string } | undefined {
  try {
    return JSON.parse(line) as { msg?: string; reason?: string };
  } catch {
    return undefined;
  }
}
