/**
 * `npm run bench:ll`: what low-latency HLS's blocking requests cost the edge, and how many one
 * stream's mechanism carries.
 *
 * 1. Our code alone (the edge app with its in-process live state, no sockets): N viewers hold a
 *    blocking reload for the next part, each with their own token (so each response is
 *    rewritten); one part announcement releases them. Reports the calls that reached the live
 *    state (one per distinct wait: the edge joins identical ones, edge/low-latency/location-collapse.ts), CPU per released response, time to release all,
 *    and errors, for N = 1 000 and 10 000 (`--viewers`).
 * 2. The local Workers runtime (`wrangler dev`: workerd, the Durable Object) over real sockets:
 *    the same, ramping held connections (`--sockets`) until errors appear, wrangler restarted
 *    between rounds. Locally, workerd's own file-handle limit caps held sockets (see
 *    ../shared/TOOLCHAIN.md); this shows where, next to figure 1 (which is ours).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest, Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { createApp } from '../edge/app.ts';
import { InProcessCoordinator, type LowLatencyCoordinator } from '../edge/low-latency/coordinator.ts';
import type { IncomingPart, PlaylistRequest } from '../edge/low-latency/live-stream-state.ts';
import { partAnnouncementHeaders } from '../shared/low-latency.ts';
import { MemoryObjectStore } from '../shared/storage/memory-object-store.ts';
import { WRITE_API_PREFIX } from '../shared/write-api.ts';
import { median } from './bench/measure.ts';
import { PROJECT_ROOT } from './lib/local-platform.ts';
import { startPlatform } from './lib/platform.ts';

function counts(value: string): number[] {
  const list = value.split(',').map(Number);
  if (list.some((n) => !Number.isInteger(n) || n < 1 || n > 100_000)) throw new InvalidArgumentError('expected whole numbers from 1 to 100000, comma-separated');
  return list;
}

const program = new Command('bench:ll')
  .description('Held low-latency playlist requests: CPU per response and capacity, in-process and through the local Workers runtime.')
  .addOption(new Option('--viewers <list>', 'held requests in-process').default([1000, 10_000]).argParser(counts))
  .addOption(new Option('--sockets <list>', 'held connections through wrangler dev (ramp; stops at the first round with errors)').default([250, 500, 1000, 2000]).argParser(counts))
  .addOption(new Option('--runs <n>', 'runs per in-process count (median reported)').default(3).argParser((value) => counts(value)[0]!))
  .addOption(new Option('--skip-workerd', 'in-process figures only'))
  .addOption(new Option('--out <file>', 'JSON results').default(join(PROJECT_ROOT, 'bench-results', 'low-latency.json')))
  .parse();
const options = program.opts<{ viewers: number[]; sockets: number[]; runs: number; skipWorkerd?: boolean; out: string }>();
const status = (line: string) => console.log(`[bench:ll] ${line}`);

const SESSION = 'benchsession1';
const SECRET = randomBytes(16).toString('hex');

function canonicalPlaylist(segments: number): string {
  const lines = ['#EXTM3U', '#EXT-X-VERSION:7', '#EXT-X-TARGETDURATION:2', '#EXT-X-MEDIA-SEQUENCE:0', `#EXT-X-MAP:URI="init-${SESSION}.mp4"`];
  for (let msn = 0; msn < segments; msn++) lines.push('#EXTINF:2.00000,', `${SESSION}-${msn * 180_000}.m4s`);
  return `${lines.join('\n')}\n`;
}

/** What the sidecar sends to set a stream up: status, both playlists, `parts` parts of segment 10. */
function seedWrites(playbackId: string, parts: number): Array<{ path: string; body: string | Uint8Array; headers: Record<string, string> }> {
  const status = { playbackId, state: 'live', startedAt: 0, updatedAt: 0, targetDuration: 2, restarts: 0, renditions: [], playback: 'public', lowLatency: { partTarget: 0.333 } };
  const writes: Array<{ path: string; body: string | Uint8Array; headers: Record<string, string> }> = [
    { path: 'status.json', body: JSON.stringify(status), headers: { 'content-type': 'application/json' } },
  ];
  for (const rendition of ['source', 'audio']) {
    writes.push({ path: `${rendition}/index.m3u8`, body: canonicalPlaylist(10), headers: { 'content-type': 'application/vnd.apple.mpegurl' } });
    for (let index = 0; index < parts; index++) writes.push(partWrite(rendition, index));
  }
  return writes.map((write) => ({ ...write, path: `${WRITE_API_PREFIX}streams/${playbackId}/${write.path}` }));
}

function partWrite(rendition: string, index: number) {
  const file = `${SESSION}-${10 * 180_000}.p${index}.m4s`;
  const next = `${SESSION}-${10 * 180_000}.p${index + 1}.m4s`;
  return {
    path: `${rendition}/${file}`,
    body: new Uint8Array(20_000).fill(index),
    headers: { 'content-type': rendition === 'audio' ? 'audio/mp4' : 'video/mp4', ...partAnnouncementHeaders({ msn: 10, duration: 0.3, independent: index === 0, next, partTarget: 0.333 }) },
  };
}

/** Counts the calls that get past the isolate's coalescing to the live state. */
class CountingCoordinator implements LowLatencyCoordinator {
  playlistCalls = 0;
  private readonly inner: LowLatencyCoordinator;
  constructor(inner: LowLatencyCoordinator) {
    this.inner = inner;
  }
  acceptPart(playbackId: string, rendition: string, part: IncomingPart) {
    return this.inner.acceptPart(playbackId, rendition, part);
  }
  acceptPlaylist(playbackId: string, rendition: string, text: string) {
    return this.inner.acceptPlaylist(playbackId, rendition, text);
  }
  openChannel(...args: Parameters<LowLatencyCoordinator['openChannel']>) {
    return this.inner.openChannel(...args);
  }
  playlist(playbackId: string, request: PlaylistRequest) {
    this.playlistCalls += 1;
    return this.inner.playlist(playbackId, request);
  }
  part(playbackId: string, rendition: string, file: string) {
    return this.inner.part(playbackId, rendition, file);
  }
  segment(playbackId: string, rendition: string, file: string) {
    return this.inner.segment(playbackId, rendition, file);
  }
}

interface InProcessResult {
  viewers: number;
  coordinatorCalls: number;
  cpuMicrosecondsPerResponse: number;
  releaseMilliseconds: number;
  errors: number;
}

async function inProcessRound(viewers: number): Promise<InProcessResult> {
  const store = new MemoryObjectStore();
  const counting = new CountingCoordinator(new InProcessCoordinator(store));
  const app = createApp({ store, ingestSecret: SECRET, lowLatency: counting, assets: { hlsJsVersion: '1', hlsJsSource: '', dashJsVersion: '1', dashJsSource: '' } });
  const write = async (path: string, body: string | Uint8Array, headers: Record<string, string>) => {
    const response = await app.request(path, { method: 'PUT', headers: { authorization: `Bearer ${SECRET}`, ...headers }, body });
    if (response.status !== 201) throw new Error(`seeding ${path}: ${response.status} ${await response.text()}`);
  };
  for (const seed of seedWrites('crowd', 2)) await write(seed.path, seed.body, seed.headers);
  const held = Array.from({ length: viewers }, (_, viewer) => app.request(`/live/crowd/source/index.m3u8?_HLS_msn=10&_HLS_part=2&token=viewer${viewer}`));
  // Every request reaches its wait before the part comes.
  await new Promise((resolve) => setTimeout(resolve, 200));
  const calls = counting.playlistCalls;
  const before = process.cpuUsage();
  const started = performance.now();
  const part = partWrite('source', 2);
  await write(`${WRITE_API_PREFIX}streams/crowd/${part.path}`, part.body, part.headers);
  const responses = await Promise.all(held.map(async (pending) => {
    const response = await pending;
    const text = await response.text();
    return response.status === 200 && text.includes('.p2.m4s');
  }));
  const releaseMilliseconds = performance.now() - started;
  const used = process.cpuUsage(before);
  return {
    viewers,
    coordinatorCalls: calls,
    cpuMicrosecondsPerResponse: (used.user + used.system) / viewers,
    releaseMilliseconds,
    errors: responses.filter((ok) => !ok).length,
  };
}

interface SocketResult {
  sockets: number;
  ok: number;
  errors: number;
  firstError?: string;
  releaseP50Ms: number;
  releaseP95Ms: number;
}

/** One GET on its own connection; resolves with the status (0: a connection error) and when it ended. */
function heldGet(port: number, path: string, agent: Agent): Promise<{ status: number; endedAt: number; error?: string }> {
  return new Promise((resolve) => {
    const request = httpRequest({ host: '127.0.0.1', port, path, agent, timeout: 20_000 }, (response) => {
      response.resume();
      response.on('end', () => resolve({ status: response.statusCode ?? 0, endedAt: performance.now() }));
      response.on('error', (error) => resolve({ status: 0, endedAt: performance.now(), error: error.message }));
    });
    request.on('timeout', () => request.destroy(new Error('timed out')));
    request.on('error', (error) => resolve({ status: 0, endedAt: performance.now(), error: error.message }));
    request.end();
  });
}

async function workerdRound(sockets: number, work: string): Promise<SocketResult> {
  const platform = await startPlatform({ edge: 'wrangler', dir: join(work, `edge-${sockets}`), ingestSecret: SECRET, edgeLogLevel: 'warn', ingest: false, onLine: () => {} });
  const port = platform.ports.edge!;
  try {
    const base = platform.edgeUrl;
    const playbackId = `crowd${sockets}`;
    for (const seed of seedWrites(playbackId, 2)) {
      const response = await fetch(base + seed.path, { method: 'PUT', headers: { authorization: `Bearer ${SECRET}`, ...seed.headers }, body: seed.body });
      if (response.status !== 201) throw new Error(`seeding ${seed.path}: ${response.status} ${await response.text()}`);
    }
    const agent = new Agent({ keepAlive: false, maxSockets: Number.POSITIVE_INFINITY });
    const held = Array.from({ length: sockets }, (_, viewer) => heldGet(port, `/live/${playbackId}/source/index.m3u8?_HLS_msn=10&_HLS_part=2&token=viewer${viewer}`, agent));
    // Connections open and requests arrive within a second or two; the hold limit is 6 s.
    await new Promise((resolve) => setTimeout(resolve, Math.min(4000, 1000 + sockets)));
    const part = partWrite('source', 2);
    const released = performance.now();
    await fetch(`${base}${WRITE_API_PREFIX}streams/${playbackId}/${part.path}`, { method: 'PUT', headers: { authorization: `Bearer ${SECRET}`, ...part.headers }, body: part.body });
    const results = await Promise.all(held);
    agent.destroy();
    const ok = results.filter((result) => result.status === 200);
    const delays = ok.map((result) => Math.max(0, result.endedAt - released)).sort((a, b) => a - b);
    const failed = results.filter((result) => result.status !== 200);
    return {
      sockets,
      ok: ok.length,
      errors: failed.length,
      firstError: failed[0] ? (failed[0].error ?? `HTTP ${failed[0].status}`) : undefined,
      releaseP50Ms: delays[Math.floor(delays.length * 0.5)] ?? Number.NaN,
      releaseP95Ms: delays[Math.floor(delays.length * 0.95)] ?? Number.NaN,
    };
  } finally {
    await platform.stop();
  }
}

const results: { date: string; inProcess: InProcessResult[]; workerd: SocketResult[] } = { date: new Date().toISOString(), inProcess: [], workerd: [] };

for (const viewers of options.viewers) {
  const rounds: InProcessResult[] = [];
  for (let run = 0; run < options.runs; run++) {
    status(`in-process: ${viewers} held viewers, run ${run + 1}/${options.runs}`);
    rounds.push(await inProcessRound(viewers));
  }
  results.inProcess.push({
    viewers,
    coordinatorCalls: Math.max(...rounds.map((round) => round.coordinatorCalls)),
    cpuMicrosecondsPerResponse: median(rounds.map((round) => round.cpuMicrosecondsPerResponse)),
    releaseMilliseconds: median(rounds.map((round) => round.releaseMilliseconds)),
    errors: rounds.reduce((sum, round) => sum + round.errors, 0),
  });
}

if (!options.skipWorkerd) {
  const work = mkdtempSync(join(tmpdir(), 'bench-ll-'));
  try {
    for (const sockets of options.sockets) {
      status(`workerd (wrangler dev): ${sockets} held connections`);
      const round = await workerdRound(sockets, work);
      results.workerd.push(round);
      if (round.errors > 0) {
        status(`errors at ${sockets} held connections (first: ${round.firstError}); the ramp stops here`);
        break;
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

console.log('\nHeld blocking reloads, in-process (our code: live state, per-viewer rewrite), medians:');
console.table(
  results.inProcess.map((row) => ({
    'held viewers': row.viewers,
    'calls to the live state': row.coordinatorCalls,
    'CPU µs per response': Math.round(row.cpuMicrosecondsPerResponse),
    'release all (ms)': Math.round(row.releaseMilliseconds),
    errors: row.errors,
  })),
);
if (results.workerd.length > 0) {
  console.log('Held blocking reloads through wrangler dev (workerd + Durable Object, one socket each):');
  console.table(
    results.workerd.map((row) => ({
      'held connections': row.sockets,
      ok: row.ok,
      errors: row.errors,
      'first error': row.firstError ?? '',
      'release p50 (ms)': Math.round(row.releaseP50Ms),
      'release p95 (ms)': Math.round(row.releaseP95Ms),
    })),
  );
}
mkdirSync(dirname(options.out), { recursive: true });
writeFileSync(options.out, `${JSON.stringify(results, null, 2)}\n`);
status(`results written to ${options.out}`);
