/**
 * `npm run bench:edge`: what the edge costs per request.
 *
 * 1. CPU time per manifest rewrite (as the edge serves it: a token and a DVR window) for
 *    live playlists of 100, 1 000 and 7 200 segments (4 h of 2 s segments), median of batches.
 * 2. Requests per second for a cached live playlist through the local Workers runtime
 *    (`wrangler dev`, workerd), from concurrent clients on 127.0.0.1, median of runs.
 * 3. Storage reads per object when 500 viewers ask for it at once (the edge app over a store
 *    that counts reads; the same figure is asserted inside workerd by test/workers).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { createApp } from '../edge/app.ts';
import { parsePlaybackQuery, rewriteMediaPlaylist } from '../edge/manifest/playback-rewrite.ts';
import { renderMediaPlaylist, type MediaPlaylist } from '../shared/hls/media-playlist.ts';
import { MemoryObjectStore } from '../shared/storage/memory-object-store.ts';
import type { ByteRange } from '../shared/storage/object-store.ts';
import { streamWriteToken, WRITE_API_PREFIX } from '../shared/write-api.ts';
import { median } from './bench/measure.ts';
import { PROJECT_ROOT } from './lib/local-platform.ts';
import { startPlatform } from './lib/platform.ts';
import { positiveInteger } from './lib/cli-numbers.ts';

const program = new Command('bench:edge')
  .description('CPU per manifest rewrite, requests per second for a cached playlist in the local Workers runtime, storage reads per object under a crowd.')
  .addOption(new Option('--runs <n>', 'runs per measurement (the median is reported)').default(5).argParser(positiveInteger))
  .addOption(new Option('--seconds <n>', 'seconds per requests-per-second run').default(5).argParser(positiveInteger))
  .addOption(new Option('--clients <n>', 'concurrent clients for requests per second').default(32).argParser(positiveInteger))
  .addOption(new Option('--out <file>', 'JSON results').default(join(PROJECT_ROOT, 'bench-results', 'edge.json')))
  .parse();
const options = program.opts<{ runs: number; seconds: number; clients: number; out: string }>();
const status = (line: string) => console.log(`[bench:edge] ${line}`);

function livePlaylist(segments: number): string {
  const start = Date.parse('2026-11-24T12:00:00Z');
  const playlist: MediaPlaylist = {
    targetDuration: 2,
    mediaSequence: 1000,
    discontinuitySequence: 0,
    ended: false,
    segments: Array.from({ length: segments }, (_, i) => ({
      uri: `mwabc123def4-${i * 32000}.m4s`,
      duration: 2,
      initUri: 'init-mwabc123def4.mp4',
      programDateTime: start + i * 2000,
    })),
  };
  return renderMediaPlaylist(playlist);
}

/**
 * Microseconds per rewrite, medians over batches: the time on the rewriting thread (wall time of
 * a synchronous function: what a Worker's CPU limit counts), and the process's CPU time (which
 * adds V8's garbage collection on its helper threads).
 */
function rewriteCost(segments: number): { thread: number; process: number } {
  const text = livePlaylist(segments);
  const parsed = parsePlaybackQuery(new URLSearchParams(`token=1900000000.${'a'.repeat(43)}&dvr=3600`));
  if (!parsed.ok) throw new Error(parsed.reason);
  const batch = Math.max(3, Math.round(20_000 / segments));
  const thread: number[] = [];
  const processCpu: number[] = [];
  for (let run = 0; run < options.runs + 1; run++) {
    const before = process.cpuUsage();
    const started = performance.now();
    for (let i = 0; i < batch; i++) rewriteMediaPlaylist(text, parsed.query);
    const elapsed = performance.now() - started;
    const used = process.cpuUsage(before);
    // The first batch warms the JIT up.
    if (run > 0) {
      thread.push((elapsed * 1000) / batch);
      processCpu.push((used.user + used.system) / batch);
    }
  }
  return { thread: median(thread), process: median(processCpu) };
}

async function requestsPerSecond(edgeUrl: string, path: string): Promise<number[]> {
  const runs: number[] = [];
  for (let run = 1; run <= options.runs; run++) {
    status(`requests per second, run ${run}/${options.runs}: ${options.clients} clients for ${options.seconds} s`);
    const deadline = performance.now() + options.seconds * 1000;
    let done = 0;
    let failed = 0;
    await Promise.all(
      Array.from({ length: options.clients }, async () => {
        while (performance.now() < deadline) {
          const response = await fetch(edgeUrl + path).catch(() => undefined);
          if (response?.ok) {
            await response.arrayBuffer();
            done += 1;
          } else failed += 1;
        }
      }),
    );
    if (failed > 0) status(`  ${failed} request(s) failed`);
    runs.push(done / options.seconds);
  }
  return runs;
}

/** The edge app over a store that counts reads; 500 viewers at once, per object kind. */
async function readsUnderCrowd(): Promise<{ segment: number; playlist: number }> {
  class CountingStore extends MemoryObjectStore {
    readonly reads = new Map<string, number>();
    override get(key: string, range?: ByteRange) {
      this.reads.set(key, (this.reads.get(key) ?? 0) + 1);
      return super.get(key, range);
    }
  }
  const store = new CountingStore();
  await store.put('streams/crowd/status.json', JSON.stringify({ playbackId: 'crowd', state: 'live', startedAt: 0, updatedAt: 0, targetDuration: 2, restarts: 0, renditions: [], playback: 'public' }), { contentType: 'application/json' });
  await store.put('streams/crowd/source/index.m3u8', livePlaylist(10), { contentType: 'application/vnd.apple.mpegurl' });
  await store.put('streams/crowd/source/mwabc123def4-0.m4s', new Uint8Array(500_000), { contentType: 'video/mp4' });
  const app = createApp({ store, ingestSecret: undefined, assets: { hlsJsVersion: '1', hlsJsSource: '', dashJsVersion: '1', dashJsSource: '' } });
  const crowd = (path: string) => Promise.all(Array.from({ length: 500 }, async () => (await app.request(path)).arrayBuffer()));
  await crowd('/live/crowd/source/mwabc123def4-0.m4s');
  await crowd('/live/crowd/source/index.m3u8');
  return { segment: store.reads.get('streams/crowd/source/mwabc123def4-0.m4s') ?? 0, playlist: store.reads.get('streams/crowd/source/index.m3u8') ?? 0 };
}

status('CPU per rewrite (parse + token + DVR window + render)');
const rewrites = [100, 1000, 7200].map((segments) => ({ segments, microseconds: rewriteCost(segments) }));

status('starting the local Workers runtime (wrangler dev)');
const work = mkdtempSync(join(tmpdir(), 'bench-edge-'));
const platform = await startPlatform({ edge: 'wrangler', dir: join(work, 'platform'), edgeLogLevel: 'warn', ingest: false, onLine: () => {} });
let rps: number[];
try {
  const { edgeUrl } = platform;
  const token = await streamWriteToken(platform.ingestSecret, 'bench');
  const put = (key: string, body: string, contentType: string) =>
    fetch(`${edgeUrl}${WRITE_API_PREFIX}${key}`, { method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': contentType }, body });
  await put('streams/bench/status.json', JSON.stringify({ playbackId: 'bench', state: 'live', startedAt: Date.now(), updatedAt: Date.now(), targetDuration: 2, restarts: 0, renditions: [], playback: 'public' }), 'application/json');
  await put('streams/bench/source/index.m3u8', livePlaylist(10), 'application/vnd.apple.mpegurl');
  rps = await requestsPerSecond(edgeUrl, '/live/bench/source/index.m3u8');
} finally {
  await platform.stop();
  rmSync(work, { recursive: true, force: true });
}

status('storage reads under a crowd of 500');
const crowd = await readsUnderCrowd();

console.log('\nTime per live playlist rewrite, token + 1 h DVR window (median; goal under 2 ms at 7 200 segments)');
for (const { segments, microseconds } of rewrites) {
  console.log(`  ${String(segments).padStart(5)} segments: ${(microseconds.thread / 1000).toFixed(3)} ms on the thread, ${(microseconds.process / 1000).toFixed(3)} ms process CPU (with GC threads)`);
}
console.log(`\nCached live playlist through wrangler dev (workerd), ${options.clients} clients: median ${Math.round(median(rps))} requests/s (runs: ${rps.map(Math.round).join(', ')})`);
console.log('  (local figure: one workerd process and the load generator on the same small machine; not production capacity)');
console.log(`\nStorage reads with 500 concurrent viewers (goal 1): segment ${crowd.segment}, live playlist ${crowd.playlist}`);

mkdirSync(join(options.out, '..'), { recursive: true });
writeFileSync(options.out, JSON.stringify({ date: new Date().toISOString(), runs: options.runs, rewrites, requestsPerSecond: { clients: options.clients, runs: rps, median: median(rps) }, readsUnder500Viewers: crowd }, null, 2) + '\n');
console.log(`\nresults: ${options.out}`);
