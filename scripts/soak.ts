/**
 * `npm run soak`: K publishers and V simulated viewers against the local platform (the edge
 * under `wrangler dev`, one sidecar), for a bounded time. Viewers come through a CDN stand-in
 * (nginx caching by the edge's Cache-Control, `--cdn nginx`, as production viewers come through
 * Cloudflare's cache) or straight to the origin (`--cdn none`: every viewer request reaches the
 * one local workerd, which then also carries the sidecar's uploads). Viewers behave as standard HLS
 * players: each reloads its stream's video and audio playlists every half target duration and
 * fetches every segment newly listed. Reports errors (any failed playlist or segment request once
 * the stream is live), availability delay percentiles (a segment's media end, by its
 * EXT-X-PROGRAM-DATE-TIME, to the first time a viewer saw it listed) and the sidecar's RSS drift
 * (the last minute's median against the second minute's). Everything on 127.0.0.1; every process
 * it started is stopped at the end and on Ctrl-C.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, writeFileSync, type WriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { ALLOCATOR_ENV, YOUNG_GENERATION_FLAG } from '../ingest/memory-allocator.ts';
import { locateFfmpeg } from '../ingest/transcode/ffmpeg-binary.ts';
import { readCacheLog, startCdnCache } from './bench/cdn-cache.ts';
import { sourceFileArgs } from './bench/ladder-recipes.ts';
import { median, percentile, processAllocator, processAnonymousRssBytes, processCpuSeconds, processNodeFlags, processRssBytes, runMeasured, slopePerMinute } from './bench/measure.ts';
import { ourUrls } from './bench/our-platform.ts';
import { filePublisherArgs, startPublisher, type Publisher } from './bench/publishers.ts';
import { parseMediaSegments } from './bench/segment-timeline.ts';
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
  .addOption(new Option('--cdn <kind>', 'what viewers reach: nginx (a caching proxy in front of the edge) or none (the edge itself)').choices(['nginx', 'none']).default('nginx'))
  .addOption(new Option('--sidecar-node-flags <flags>', `Node flags for the sidecar, space-separated (it adds ${YOUNG_GENERATION_FLAG} unless a --max-semi-space-size is given)`))
  .addOption(new Option('--sidecar-env <KEY=VALUE...>', `extra environment for the sidecar, e.g. settings to compare: ${ALLOCATOR_ENV}=system (glibc malloc instead of jemalloc), MALLOC_ARENA_MAX=2`).argParser(collectEnv))
  .addOption(new Option('--out <file>', 'JSON results').default(join(PROJECT_ROOT, 'bench-results', 'soak.json')))
  .parse();
const options = program.opts<{ publishers: number; viewers: number; minutes: number; cdn: 'nginx' | 'none'; sidecarNodeFlags?: string; sidecarEnv?: Record<string, string>; out: string }>();
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

interface ViewerStats {
  requests: number;
  errors: string[];
  /** Segment URL -> first time a viewer saw it listed (epoch ms) and its media end (epoch ms). */
  firstSeen: Map<string, { seenAt: number; mediaEndAt?: number }>;
}

const stats: ViewerStats = { requests: 0, errors: [], firstSeen: new Map() };

interface V8HeapSample {
  totalBytes: number;
  usedBytes: number;
  /** Memory outside V8's heap that V8 objects hold: Buffers and other ArrayBuffers, mostly. */
  externalBytes: number;
}

/** V8's heap, committed and in use, and what it holds outside, from the sidecar's Prometheus metrics (prom-client's defaults). */
async function sidecarV8Heap(metricsUrl: string, adminToken: string): Promise<V8HeapSample | undefined> {
  const response = await fetch(metricsUrl, { headers: { authorization: `Bearer ${adminToken}` }, signal: AbortSignal.timeout(2000) }).catch(() => undefined);
  if (!response?.ok) return undefined;
  const text = await response.text();
  const gauge = (name: string) => Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1] ?? Number.NaN);
  const sample = { totalBytes: gauge('nodejs_heap_size_total_bytes'), usedBytes: gauge('nodejs_heap_size_used_bytes'), externalBytes: gauge('nodejs_external_memory_bytes') };
  return Object.values(sample).every(Number.isFinite) ? sample : undefined;
}
const TIMEOUT_MS = 10_000;

/** A whole response body (text for playlists), or undefined after counting the error; the timeout covers the body too. */
async function get(url: string, as: 'text'): Promise<string | undefined>;
async function get(url: string, as: 'bytes'): Promise<ArrayBuffer | undefined>;
async function get(url: string, as: 'text' | 'bytes'): Promise<string | ArrayBuffer | undefined> {
  stats.requests += 1;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
    if (!response.ok) {
      stats.errors.push(`${response.status} ${new URL(url).pathname}`);
      await response.body?.cancel();
      return undefined;
    }
    return as === 'text' ? await response.text() : await response.arrayBuffer();
  } catch (error) {
    stats.errors.push(`${(error as Error).name} ${new URL(url).pathname}`);
    return undefined;
  }
}

/** One viewer of one stream: its two media playlists, reloaded every half target duration, and every new segment. */
async function viewer(origin: string, stream: string, until: number): Promise<void> {
  const playlists = ['source', 'audio'].map((rendition) => `${origin}/live/${stream}/${rendition}/index.m3u8`);
  const fetched = new Set<string>();
  // Viewers do not all reload at the same instant.
  await new Promise((resolve) => setTimeout(resolve, Math.random() * 1000));
  while (Date.now() < until && !stopping) {
    const started = Date.now();
    await Promise.all(
      playlists.map(async (url) => {
        const text = await get(url, 'text');
        if (text === undefined) return;
        const seenAt = Date.now();
        for (const segment of parseMediaSegments(text)) {
          const segmentUrl = new URL(segment.uri, url).href;
          if (!stats.firstSeen.has(segmentUrl)) {
            stats.firstSeen.set(segmentUrl, { seenAt, mediaEndAt: segment.programDateTime === undefined ? undefined : segment.programDateTime + segment.duration * 1000 });
          }
          if (fetched.has(segmentUrl)) continue;
          // A player joining fetches the newest few, then every new one.
          fetched.add(segmentUrl);
          if (fetched.size > 3 || seenAt - (stats.firstSeen.get(segmentUrl)!.seenAt) < 1000) {
            await get(segmentUrl, 'bytes');
          }
        }
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, 1000 - (Date.now() - started))));
  }
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
    onLine: (tag, line) => stamped(tag === 'ingest' ? sidecarLog : edgeLog)(line),
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
  const sidecarRuntime = { nodeFlags: processNodeFlags(pid), allocator: processAllocator(pid) };
  status(`every stream live; ${options.viewers} viewers watch for ${options.minutes} min`);
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
    const delays = [...stats.firstSeen.values()].filter((entry) => entry.mediaEndAt !== undefined).map((entry) => (entry.seenAt - entry.mediaEndAt!) / 1000);
    status(
      `${Math.round((Date.now() - startedAt) / 1000)} s: ${stats.requests} requests, ${stats.errors.length} errors, availability p50 ${percentile(delays, 0.5).toFixed(2)} s, sidecar RSS ${((rss.at(-1)?.bytes ?? 0) / 1e6).toFixed(0)} MB (V8 heap ${((rss.at(-2)?.v8HeapBytes ?? 0) / 1e6).toFixed(0)} MB, ${((rss.at(-2)?.v8HeapUsedBytes ?? 0) / 1e6).toFixed(0)} MB used; Buffers ${((rss.at(-2)?.v8ExternalBytes ?? 0) / 1e6).toFixed(0)} MB)`,
    );
  }, 30_000);
  await Promise.all(Array.from({ length: options.viewers }, (_, i) => viewer(viewerOrigin, streams[i % streams.length]!, until)));
  clearInterval(sampler);
  clearInterval(progress);
  const sidecarCpuPercent = ((processCpuSeconds(pid) - cpuAtStart) / ((Date.now() - startedAt) / 1000)) * 100;
  // nginx flushes its log buffer every 5 s.
  if (cdn) await new Promise((resolve) => setTimeout(resolve, 6000));
  const cache = cdn ? readCacheLog(cdn.accessLog) : undefined;

  const delays = [...stats.firstSeen.values()].filter((entry) => entry.mediaEndAt !== undefined).map((entry) => (entry.seenAt - entry.mediaEndAt!) / 1000);
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
    cdn: options.cdn,
    requests: stats.requests,
    originRequestsFromViewers: cache?.toOrigin ?? stats.requests,
    cacheStatus: cache?.byStatus,
    errors: stats.errors.length,
    errorSamples: [...new Set(stats.errors)].slice(0, 20),
    availability: { segments: delays.length, p50: percentile(delays, 0.5), p95: percentile(delays, 0.95), p99: percentile(delays, 0.99) },
    sidecarRssMb: drift('bytes'),
    // Without the pages of code and libraries (file-backed) that join the resident set as new code paths run.
    sidecarAnonymousRssMb: drift('anonymousBytes'),
    // What V8 holds for its heap (committed, resident or not): its growth is the warm-up of the heap, not a leak.
    sidecarV8HeapMb: drift('v8HeapBytes'),
    // Buffers the sidecar's JavaScript holds (malloc'd outside V8's heap): live data, apart from the allocator's own overhead.
    sidecarBuffersMb: drift('v8ExternalBytes'),
    // As the sidecar runs (it restarts itself into its memory settings), not as it was asked to.
    sidecarNodeFlags: sidecarRuntime.nodeFlags.join(' '),
    sidecarAllocator: sidecarRuntime.allocator,
    sidecarEnv: options.sidecarEnv ?? {},
    sidecarCpuPercentOfACore: sidecarCpuPercent,
    rssSamples: rss,
    publisherErrors: publishers.flatMap((publisher) => publisher.errors).slice(0, 10),
  };
  console.log('\nSoak result:');
  console.table({
    'publishers × viewers': `${result.publishers} × ${result.viewers}`,
    minutes: result.minutes,
    'viewer requests': result.requests,
    'of which reached the origin': `${result.originRequestsFromViewers}${cdn ? ' (through the nginx cache)' : ' (no cache)'}`,
    errors: result.errors,
    'availability p50 / p95 / p99 (s)': `${result.availability.p50.toFixed(2)} / ${result.availability.p95.toFixed(2)} / ${result.availability.p99.toFixed(2)}`,
    'sidecar RSS 2nd → last minute (MB)': `${result.sidecarRssMb.secondMinute.toFixed(0)} → ${result.sidecarRssMb.lastMinute.toFixed(0)}`,
    'RSS drift (goal < 5 %)': `${result.sidecarRssMb.driftPercent.toFixed(1)} %`,
    'RSS slope over the second half': `${result.sidecarRssMb.secondHalfMbPerMinute.toFixed(2)} MB/min`,
    'anonymous RSS 2nd → last minute (MB)': `${result.sidecarAnonymousRssMb.secondMinute.toFixed(0)} → ${result.sidecarAnonymousRssMb.lastMinute.toFixed(0)} (${result.sidecarAnonymousRssMb.driftPercent.toFixed(1)} %)`,
    'V8 heap 2nd → last minute (MB)': `${result.sidecarV8HeapMb.secondMinute.toFixed(0)} → ${result.sidecarV8HeapMb.lastMinute.toFixed(0)} (${result.sidecarV8HeapMb.driftPercent.toFixed(1)} %)`,
    'Buffers held 2nd → last minute (MB)': `${result.sidecarBuffersMb.secondMinute.toFixed(0)} → ${result.sidecarBuffersMb.lastMinute.toFixed(0)}`,
    'sidecar Node flags': result.sidecarNodeFlags || '(none)',
    'sidecar malloc': result.sidecarAllocator,
    'sidecar extra environment': Object.entries(result.sidecarEnv).map(([key, value]) => `${key}=${value}`).join(' ') || '(none)',
    'sidecar CPU (its own process, not ffmpeg)': `${result.sidecarCpuPercentOfACore.toFixed(1)} % of a core`,
  });
  if (result.errorSamples.length > 0) console.log('errors (distinct, first 20):', result.errorSamples);
  mkdirSync(dirname(options.out), { recursive: true });
  writeFileSync(options.out, `${JSON.stringify(result, null, 2)}\n`);
  status(`results written to ${options.out}`);
} finally {
  await cleanUp();
}
