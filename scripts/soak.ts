/**
 * `npm run soak`: K publishers and V simulated viewers against the local platform (the edge
 * under `wrangler dev`, one sidecar), for a bounded time. Viewers come through a CDN stand-in
 * (nginx caching by the edge's Cache-Control, `--cdn nginx`, as production viewers come through
 * Cloudflare's cache) or straight to the origin (`--cdn none`: every viewer request reaches the
 * one local workerd, which then also carries the sidecar's uploads). Viewers behave as standard HLS
 * players (`soak/standard-viewer.ts`: plain reloads, every new segment; reported: availability
 * delay percentiles, a segment's media end by its EXT-X-PROGRAM-DATE-TIME to the first time a
 * viewer saw it listed) or as low-latency ones (`--viewer-kind low-latency`,
 * `soak/low-latency-viewer.ts`: blocking reloads, hinted parts held, one request in ten abandoned;
 * reported: blocking-reload answer delay percentiles, withdrawn hints apart from errors). Both
 * report errors (any failed request once the stream is live), the edge's log lines about requests
 * waiting on each other across request contexts (any is a failure) and the sidecar's RSS drift
 * (the last minute's median against the second minute's). Everything on 127.0.0.1; every process
 * it started is stopped at the end and on Ctrl-C.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, writeFileSync, type WriteStream } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { ALLOCATOR_ENV, YOUNG_GENERATION_FLAG } from '../ingest/memory-allocator.ts';
import { locateFfmpeg } from '../ingest/transcode/ffmpeg-binary.ts';
import { readCacheLog, startCdnCache } from './bench/cdn-cache.ts';
import { sourceFileArgs } from './bench/ladder-recipes.ts';
import { median, percentile, processAllocator, processAnonymousRssBytes, processCpuSeconds, processNodeFlags, processRssBytes, runMeasured, slopePerMinute, treeCpuSeconds } from './bench/measure.ts';
import { ourUrls } from './bench/our-platform.ts';
import { filePublisherArgs, startPublisher, type Publisher } from './bench/publishers.ts';
import { parseMediaSegments } from './bench/segment-timeline.ts';
import { lowLatencyViewer, newLowLatencySoakStats, summarizeLowLatency } from './soak/low-latency-viewer.ts';
import { availabilityDelays, newStandardSoakStats, standardViewer } from './soak/standard-viewer.ts';
import { freePort } from './lib/free-port.ts';
import { PROJECT_ROOT } from './lib/local-platform.ts';
import { startPlatform } from './lib/platform.ts';
import { positiveNumber } from './lib/cli-numbers.ts';

function collectEnv(value: string, previous: Record<string, string> | undefined): Record<string, string> {
  const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(value);
  if (!match) throw new InvalidArgumentError(`${value}: expected KEY=VALUE`);
  return { ...previous, [match[1]!]: match[2]! };
}

const program = new Command('soak')
  .description('K publishers and V simulated viewers for a bounded time: errors, availability delay, sidecar RSS drift.')
  .addOption(new Option('--publishers <k>', 'concurrent publishers (360p30 passthrough sources, launched 0.1 s apart)').default(10).argParser(positiveNumber))
  .addOption(new Option('--viewers <v>', 'simulated viewers, spread over the streams').default(200).argParser(positiveNumber))
  .addOption(new Option('--minutes <m>', 'how long viewers watch, after every stream is live').default(10).argParser(positiveNumber))
  .addOption(
    new Option('--viewer-kind <kind>', 'standard: plain reloads every second, every new segment; low-latency: blocking reloads of the next part as hls.js sends them, the hinted part held, every new part, one request in ten abandoned after 30 ms (straight to the edge: --cdn none)')
      .choices(['standard', 'low-latency'])
      .default('standard'),
  )
  .addOption(new Option('--cdn <kind>', 'what viewers reach: nginx (a caching proxy in front of the edge; default for standard viewers) or none (the edge itself; the only choice for low-latency viewers: nginx collapses identical blocking reloads itself, waking its waiters every 500 ms)').choices(['nginx', 'none']))
  .addOption(new Option('--sidecar-node-flags <flags>', `Node flags for the sidecar, space-separated (it adds ${YOUNG_GENERATION_FLAG} unless a --max-semi-space-size is given)`))
  .addOption(new Option('--sidecar-env <KEY=VALUE...>', `extra environment for the sidecar, e.g. settings to compare: ${ALLOCATOR_ENV}=system (glibc malloc instead of jemalloc), MALLOC_ARENA_MAX=2`).argParser(collectEnv))
  .addOption(new Option('--out <file>', 'JSON results (default: bench-results/soak.json, or soak-low-latency.json for low-latency viewers)'))
  .parse();
const parsed = program.opts<{ publishers: number; viewers: number; minutes: number; viewerKind: 'standard' | 'low-latency'; cdn?: 'nginx' | 'none'; sidecarNodeFlags?: string; sidecarEnv?: Record<string, string>; out?: string }>();
const lowLatency = parsed.viewerKind === 'low-latency';
if (lowLatency && parsed.cdn === 'nginx') program.error('--viewer-kind low-latency goes straight to the edge (--cdn none): nginx would collapse identical blocking reloads itself (the edge\'s joining would not be exercised) and wake its waiting requests every 500 ms (parts are 0.333 s)');
const options = {
  ...parsed,
  cdn: parsed.cdn ?? (lowLatency ? 'none' : 'nginx'),
  out: parsed.out ?? join(PROJECT_ROOT, 'bench-results', lowLatency ? 'soak-low-latency.json' : 'soak.json'),
};
const sidecarNodeFlags = options.sidecarNodeFlags?.split(' ').filter((flag) => flag !== '');
const status = (line: string) => console.log(`[soak ${new Date().toISOString().slice(11, 19)}] ${line}`);

const work = mkdtempSync(join(tmpdir(), 'soak-'));
const stoppers: Array<() => Promise<void>> = [];
let stopping = false;
async function cleanUp(): Promise<void> {
  if (stopping) return;
  stopping = true;
  for (const stop of stoppers.reverse()) await stop().catch(() => undefined);
  rmSync(work, { recursive: true, force: true });
}
process.on('SIGINT', () => void cleanUp().then(() => process.exit(130)));

const standard = newStandardSoakStats();
const low = newLowLatencySoakStats();
/** The edge's log lines about requests waiting on each other across request contexts (workerd's words): any is a failure. */
const CROSS_REQUEST_TROUBLE = /different request|can never settle|never complete|had hung/;
const edgeTrouble: string[] = [];

interface V8HeapSample {
  totalBytes: number;
  usedBytes: number;
  /** Memory outside V8's heap that V8 objects hold: Buffers and other ArrayBuffers, mostly. */
  externalBytes: number;
}

/** The sidecar's Prometheus metrics as text, or undefined when they did not answer in time. */
async function sidecarMetricsText(metricsUrl: string, adminToken: string): Promise<string | undefined> {
  const response = await fetch(metricsUrl, { headers: { authorization: `Bearer ${adminToken}` }, signal: AbortSignal.timeout(2000) }).catch(() => undefined);
  return response?.ok ? response.text() : undefined;
}

/** V8's heap, committed and in use, and what it holds outside, from the sidecar's Prometheus metrics (prom-client's defaults). */
async function sidecarV8Heap(metricsUrl: string, adminToken: string): Promise<V8HeapSample | undefined> {
  const text = await sidecarMetricsText(metricsUrl, adminToken);
  if (text === undefined) return undefined;
  const gauge = (name: string) => Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1] ?? Number.NaN);
  const sample = { totalBytes: gauge('nodejs_heap_size_total_bytes'), usedBytes: gauge('nodejs_heap_size_used_bytes'), externalBytes: gauge('nodejs_external_memory_bytes') };
  return Object.values(sample).every(Number.isFinite) ? sample : undefined;
}
/** Garbage collections so far, by kind (prom-client's `nodejs_gc_duration_seconds`): how many and their seconds. */
type GcTotals = Record<string, { count: number; seconds: number }>;

async function sidecarGcTotals(metricsUrl: string, adminToken: string): Promise<GcTotals | undefined> {
  const text = await sidecarMetricsText(metricsUrl, adminToken);
  if (text === undefined) return undefined;
  const totals: GcTotals = {};
  for (const [, field, kind, value] of text.matchAll(/^nodejs_gc_duration_seconds_(count|sum)\{kind="(\w+)"\} (\S+)$/gm)) {
    const entry = (totals[kind!] ??= { count: 0, seconds: 0 });
    if (field === 'count') entry.count = Number(value);
    else entry.seconds = Number(value);
  }
  return totals;
}

/**
 * Collections per minute between two readings, by kind, and the share of time they took: what
 * Buffer churn costs. Allocating a Buffer's memory outside V8's heap counts toward V8's external
 * memory limit, which starts a major (mark-compact) collection when crossed; its small views and
 * wrappers fill the young generation (minor collections).
 */
function gcRates(before: GcTotals | undefined, after: GcTotals | undefined, minutes: number): Record<string, { perMinute: number; percentOfTime: number }> | undefined {
  if (!before || !after) return undefined;
  return Object.fromEntries(
    Object.entries(after).map(([kind, { count, seconds }]) => [
      kind,
      { perMinute: (count - (before[kind]?.count ?? 0)) / minutes, percentOfTime: ((seconds - (before[kind]?.seconds ?? 0)) / (minutes * 60)) * 100 },
    ]),
  );
}

try {
  const ffmpeg = locateFfmpeg();
  const source = join(work, 'source-360p.flv');
  status('making a 360p30 H.264/AAC source (2 s keyframes)…');
  await runMeasured(ffmpeg, sourceFileArgs(360, 20, source), join(work, 'ffmpeg.log'));
  status('starting the edge (wrangler dev) and the sidecar…');
  // Their warnings and errors, kept beside the results: where a run's errors came from.
  const logDir = join(dirname(options.out), 'soak-logs');
  mkdirSync(logDir, { recursive: true });
  const edgeLog = createWriteStream(join(logDir, 'edge.log'));
  const sidecarLog = createWriteStream(join(logDir, 'sidecar.log'));
  stoppers.push(async () => {
    edgeLog.end();
    sidecarLog.end();
  });
  const stamped = (log: WriteStream) => (line: string) => log.write(`${new Date().toISOString()} ${line}\n`);
  // Its /metrics shows V8's heap beside the RSS: where a drift comes from.
  const sidecarApi = { adminToken: randomBytes(16).toString('hex') };
  // A stream ends as soon as its publisher leaves (no reconnect window).
  const platform = await startPlatform({
    edge: 'wrangler',
    dir: join(work, 'platform'),
    edgeLogLevel: 'warn',
    onLine: (tag, line) => {
      if (tag !== 'ingest' && CROSS_REQUEST_TROUBLE.test(line)) edgeTrouble.push(line);
      stamped(tag === 'ingest' ? sidecarLog : edgeLog)(line);
    },
    ingest: {
      reconnectWindow: 0,
      api: true,
      args: ['--rtmp-host', '127.0.0.1'],
      env: { LOG_LEVEL: 'warn', ADMIN_TOKEN: sidecarApi.adminToken, ...options.sidecarEnv },
      nodeFlags: sidecarNodeFlags,
    },
  });
  stoppers.push(() => platform.stop());
  const metricsUrl = `${platform.apiUrl}/metrics`;
  status(`edge and sidecar warnings go to ${logDir}`);
  const cdn = options.cdn === 'nginx' ? await startCdnCache(platform.edgeUrl, await freePort()) : undefined;
  if (cdn) {
    stoppers.push(() => cdn.stop());
    status(`viewers come through the CDN stand-in (nginx cache) at ${cdn.url}`);
  }
  const viewerOrigin = cdn?.url ?? platform.edgeUrl;
  const streams = Array.from({ length: options.publishers }, (_, i) => `soak${i}`);
  const publishers: Publisher[] = [];
  const publishSeconds = options.minutes * 60 + 120;
  for (const stream of streams) {
    const publisher = startPublisher(ffmpeg, filePublisherArgs({ file: source, seconds: publishSeconds, targets: [platform.publishUrl(stream)] }), `publisher-${stream}`);
    publishers.push(publisher);
    stoppers.push(() => publisher.stop());
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  status(`${streams.length} publishers started; waiting for every stream to be live…`);
  const deadline = Date.now() + 90_000;
  for (const stream of streams) {
    for (;;) {
      const text = await fetch(ourUrls.mediaPlaylist(platform.edgeUrl, stream)).then((r) => (r.ok ? r.text() : '')).catch(() => '');
      if (parseMediaSegments(text).length >= 2) break;
      if (Date.now() > deadline) throw new Error(`stream ${stream} did not go live within 90 s`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  const pid = platform.ingest!.pid!;
  const until = Date.now() + options.minutes * 60_000;
  const startedAt = Date.now();
  // The sidecar's own process (its ffmpeg children apart): what its memory settings cost it.
  const cpuAtStart = processCpuSeconds(pid);
  // The edge's whole process tree (wrangler and its workerd): what the viewers cost it, on cores it shares with everything else here.
  const edgePid = platform.edge!.pid!;
  const edgeCpuAtStart = treeCpuSeconds(edgePid);
  const loads: number[] = [];
  const sidecarRuntime = { nodeFlags: processNodeFlags(pid), allocator: processAllocator(pid) };
  status(`every stream live; ${options.viewers} ${options.viewerKind} viewers watch for ${options.minutes} min`);
  const gcAtStart = await sidecarGcTotals(metricsUrl, sidecarApi.adminToken);
  const rss: Array<{ at: number; bytes: number; anonymousBytes: number; v8HeapBytes?: number; v8HeapUsedBytes?: number; v8ExternalBytes?: number }> = [];
  const sampler = setInterval(() => {
    const at = Date.now() - startedAt;
    let sample: (typeof rss)[number];
    try {
      sample = { at, bytes: processRssBytes(pid), anonymousBytes: processAnonymousRssBytes(pid) };
    } catch {
      return; // The sidecar is gone: reported below as missing samples.
    }
    rss.push(sample);
    void sidecarV8Heap(metricsUrl, sidecarApi.adminToken).then((heap) => {
      if (heap) Object.assign(sample, { v8HeapBytes: heap.totalBytes, v8HeapUsedBytes: heap.usedBytes, v8ExternalBytes: heap.externalBytes });
    });
  }, 5000);
  const progress = setInterval(() => {
    loads.push(loadavg()[0]!);
    const figures = lowLatency
      ? (({ requests, errors, blockingAnswered, answerDelaySeconds, abandoned }) => `${requests} requests (${abandoned} abandoned), ${errors} errors, ${blockingAnswered} blocking reloads answered (p50 ${answerDelaySeconds.p50.toFixed(2)} s, p99 ${answerDelaySeconds.p99.toFixed(2)} s), ${edgeTrouble.length} edge log lines about requests waiting on each other`)(summarizeLowLatency(low))
      : `${standard.requests} requests, ${standard.errors.length} errors, availability p50 ${percentile(availabilityDelays(standard), 0.5).toFixed(2)} s`;
    status(
      `${Math.round((Date.now() - startedAt) / 1000)} s (load ${loads.at(-1)!.toFixed(1)}): ${figures}, sidecar RSS ${((rss.at(-1)?.bytes ?? 0) / 1e6).toFixed(0)} MB (V8 heap ${((rss.at(-2)?.v8HeapBytes ?? 0) / 1e6).toFixed(0)} MB, ${((rss.at(-2)?.v8HeapUsedBytes ?? 0) / 1e6).toFixed(0)} MB used; Buffers ${((rss.at(-2)?.v8ExternalBytes ?? 0) / 1e6).toFixed(0)} MB)`,
    );
  }, 30_000);
  const stopped = () => stopping;
  await Promise.all(
    Array.from({ length: options.viewers }, (_, i) => {
      const stream = streams[i % streams.length]!;
      return lowLatency ? lowLatencyViewer(viewerOrigin, stream, until, low, stopped) : standardViewer(viewerOrigin, stream, until, standard, stopped);
    }),
  );
  clearInterval(sampler);
  clearInterval(progress);
  const gc = gcRates(gcAtStart, await sidecarGcTotals(metricsUrl, sidecarApi.adminToken), (Date.now() - startedAt) / 60_000);
  const sidecarCpuPercent = ((processCpuSeconds(pid) - cpuAtStart) / ((Date.now() - startedAt) / 1000)) * 100;
  const edgeCpuSeconds = treeCpuSeconds(edgePid) - edgeCpuAtStart;
  // nginx flushes its log buffer every 5 s.
  if (cdn) await new Promise((resolve) => setTimeout(resolve, 6000));
  const cache = cdn ? readCacheLog(cdn.accessLog) : undefined;

  const delays = availabilityDelays(standard);
  const viewed = lowLatency
    ? summarizeLowLatency(low)
    : { requests: standard.requests, errors: standard.errors.length, errorSamples: [...new Set(standard.errors)].slice(0, 20), availability: { segments: delays.length, p50: percentile(delays, 0.5), p95: percentile(delays, 0.95), p99: percentile(delays, 0.99) } };
  const totalMs = options.minutes * 60_000;
  const drift = (field: 'bytes' | 'anonymousBytes' | 'v8HeapBytes' | 'v8ExternalBytes') => {
    const window = (from: number, to: number) => rss.filter((sample) => sample.at >= from && sample.at < to && sample[field] !== undefined).map((sample) => sample[field]!);
    const baseline = median(window(60_000, 120_000).length > 0 ? window(60_000, 120_000) : window(0, totalMs));
    const last = median(window(totalMs - 60_000, totalMs + 10_000));
    // A leak grows steadily: the slope over the run's second half, past any warm-up.
    const secondHalf = rss.filter((sample) => sample.at >= totalMs / 2 && sample[field] !== undefined);
    return { secondMinute: baseline / 1e6, lastMinute: last / 1e6, driftPercent: ((last - baseline) / baseline) * 100, secondHalfMbPerMinute: slopePerMinute(secondHalf.map((sample) => [sample.at, sample[field]! / 1e6])) };
  };
  const result = {
    date: new Date().toISOString(),
    publishers: options.publishers,
    viewers: options.viewers,
    minutes: options.minutes,
    viewerKind: options.viewerKind,
    cdn: options.cdn,
    ...viewed,
    originRequestsFromViewers: cache?.toOrigin ?? viewed.requests,
    cacheStatus: cache?.byStatus,
    edgeLogTrouble: { lines: edgeTrouble.length, samples: edgeTrouble.slice(0, 10) },
    sidecarRssMb: drift('bytes'),
    // Without the pages of code and libraries (file-backed) that join the resident set as new code paths run.
    sidecarAnonymousRssMb: drift('anonymousBytes'),
    // What V8 holds for its heap (committed, resident or not): its growth is the warm-up of the heap, not a leak.
    sidecarV8HeapMb: drift('v8HeapBytes'),
    // Buffers the sidecar's JavaScript holds (malloc'd outside V8's heap): live data, apart from the allocator's own overhead.
    sidecarBuffersMb: drift('v8ExternalBytes'),
    // The sidecar's garbage collections while viewers watched, by kind: what its Buffer churn costs.
    sidecarGc: gc,
    // As the sidecar runs (it restarts itself into its memory settings), not as it was asked to.
    sidecarNodeFlags: sidecarRuntime.nodeFlags.join(' '),
    sidecarAllocator: sidecarRuntime.allocator,
    sidecarEnv: options.sidecarEnv ?? {},
    sidecarCpuPercentOfACore: sidecarCpuPercent,
    edgeCpu: { percentOfACore: (edgeCpuSeconds / ((Date.now() - startedAt) / 1000)) * 100, msPerViewerRequest: (edgeCpuSeconds * 1000) / viewed.requests },
    // The machine's 1-minute load average every 30 s: what else ran on its 2 cores meanwhile.
    loadAverage: { min: Math.min(...loads), median: median(loads), max: Math.max(...loads) },
    rssSamples: rss,
    publisherErrors: publishers.flatMap((publisher) => publisher.errors).slice(0, 10),
  };
  console.log('\nSoak result:');
  console.table({
    'publishers × viewers': `${result.publishers} × ${result.viewers} (${result.viewerKind})`,
    minutes: result.minutes,
    'viewer requests': result.requests,
    'of which reached the origin': `${result.originRequestsFromViewers}${cdn ? ' (through the nginx cache)' : ' (no cache)'}`,
    errors: result.errors,
    'edge log lines about requests waiting on each other': result.edgeLogTrouble.lines,
    ...('availability' in result
      ? { 'availability p50 / p95 / p99 (s)': `${result.availability.p50.toFixed(2)} / ${result.availability.p95.toFixed(2)} / ${result.availability.p99.toFixed(2)}` }
      : {
          'blocking reloads answered (not listing the part asked; abandoned requests)': `${result.blockingAnswered} (${result.answersWithoutAskedPart}; ${result.abandoned})`,
          'answer delay p50 / p95 / p99 / max (s)': [result.answerDelaySeconds.p50, result.answerDelaySeconds.p95, result.answerDelaySeconds.p99, result.answerDelaySeconds.max].map((delay) => delay.toFixed(2)).join(' / '),
          'withdrawn hints (404 at once)': JSON.stringify(result.withdrawnHints),
        }),
    'sidecar RSS 2nd → last minute (MB)': `${result.sidecarRssMb.secondMinute.toFixed(0)} → ${result.sidecarRssMb.lastMinute.toFixed(0)}`,
    'RSS drift (goal < 5 %)': `${result.sidecarRssMb.driftPercent.toFixed(1)} %`,
    'RSS slope over the second half': `${result.sidecarRssMb.secondHalfMbPerMinute.toFixed(2)} MB/min`,
    'anonymous RSS 2nd → last minute (MB)': `${result.sidecarAnonymousRssMb.secondMinute.toFixed(0)} → ${result.sidecarAnonymousRssMb.lastMinute.toFixed(0)} (${result.sidecarAnonymousRssMb.driftPercent.toFixed(1)} %)`,
    'V8 heap 2nd → last minute (MB)': `${result.sidecarV8HeapMb.secondMinute.toFixed(0)} → ${result.sidecarV8HeapMb.lastMinute.toFixed(0)} (${result.sidecarV8HeapMb.driftPercent.toFixed(1)} %)`,
    'Buffers held 2nd → last minute (MB)': `${result.sidecarBuffersMb.secondMinute.toFixed(0)} → ${result.sidecarBuffersMb.lastMinute.toFixed(0)}`,
    'sidecar collections per minute (% of the time)': result.sidecarGc
      ? Object.entries(result.sidecarGc).map(([kind, { perMinute, percentOfTime }]) => `${kind} ${perMinute.toFixed(1)} (${percentOfTime.toFixed(2)} %)`).join(', ')
      : '(no /metrics)',
    'sidecar Node flags': result.sidecarNodeFlags || '(none)',
    'sidecar malloc': result.sidecarAllocator,
    'sidecar extra environment': Object.entries(result.sidecarEnv).map(([key, value]) => `${key}=${value}`).join(' ') || '(none)',
    'sidecar CPU (its own process, not ffmpeg)': `${result.sidecarCpuPercentOfACore.toFixed(1)} % of a core`,
    'edge CPU (wrangler + workerd)': `${result.edgeCpu.percentOfACore.toFixed(1)} % of a core, ${result.edgeCpu.msPerViewerRequest.toFixed(2)} ms per viewer request`,
    'load average min / median / max': `${result.loadAverage.min.toFixed(1)} / ${result.loadAverage.median.toFixed(1)} / ${result.loadAverage.max.toFixed(1)}`,
  });
  if (result.errorSamples.length > 0) console.log('errors (first 20):', result.errorSamples);
  if (edgeTrouble.length > 0) console.log('edge log, requests waiting on each other (first 10):', result.edgeLogTrouble.samples);
  // A low-latency run fails on any error or any such log line (what it is there to find).
  if (lowLatency && (result.errors > 0 || edgeTrouble.length > 0)) process.exitCode = 1;
  mkdirSync(dirname(options.out), { recursive: true });
  writeFileSync(options.out, `${JSON.stringify(result, null, 2)}\n`);
  status(`results written to ${options.out}`);
} finally {
  await cleanUp();
}
