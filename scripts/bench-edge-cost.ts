/**
 * What one low-latency passthrough stream costs the self-hosted Node edge (issue 21: the Node edge
 * cost as much as the sidecar per stream). One Node edge (`edge/node-server.ts`, a folder for
 * storage), one `--ladder none --thumbnails off` sidecar, N publishers copying a 720p30 FLV in
 * real time (looped), and the viewers the capacity bench puts on a stream: one poller per stream
 * (its source playlist every 500 ms) and, on a few streams, a low-latency viewer (blocking
 * reload for the next part, then that part, as hls.js does). The edge's CPU (its /proc stat) over
 * the measured stretch after a warm-up, per stream; RSS loaded minus idle. The sidecar's CPU
 * per stream is printed beside it (the two share the live channel's work: what one stops doing
 * by HTTP the other may do by message).
 *
 *   npm run bench:edge-cost -- [--streams 10] [--ll-viewers 3] [--segment-viewers 0] [--seconds 30] [--poll-ms 500 (0: no pollers)] [--runs 1] [--cpu-prof DIR] [--edge-root DIR,DIR]
 *
 * `--segment-viewers V` puts V standard HLS viewers on every stream (the playlist every second,
 * each new segment): what many viewers of one stream cost an edge without a CDN in front.
 *
 * The machine's load average is printed with every run: the figure is only as quiet as the machine.
 *
 * `--cpu-prof DIR` runs the edge under `node --cpu-prof` (written to DIR when it stops).
 * `--edge-root A,B` runs the edge and its sidecar from each checkout in turn (e.g. `git archive`
 * of an earlier commit, with node_modules linked in), run after run, the same load for each: a
 * before/after pair from one command. The sidecar comes from the edge's checkout because the
 * two ship together (the live channel's messages). Default: this checkout.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { locateFfmpeg } from '../ingest/transcode/ffmpeg-binary.ts';
import { sourceFileArgs } from './bench/ladder-recipes.ts';
import { median, processTree, runMeasured, treeCpuSeconds, treeRssBytes } from './bench/measure.ts';
import { ourUrls, startOurSidecar, type OurEdge } from './bench/our-platform.ts';
import { freePort } from './lib/free-port.ts';
import { answersAsOurEdge, PROJECT_ROOT } from './lib/local-platform.ts';
import { ManagedProcess } from './lib/managed-process.ts';
import { filePublisherArgs, startPublisher, type Publisher } from './bench/publishers.ts';
import { sidecarConnectionLimits } from './bench/capacity-figures.ts';
import { positiveInteger } from './lib/cli-numbers.ts';

function wholeNumber(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0) throw new InvalidArgumentError('expected a whole number (0 or more)');
  return parsed;
}

const program = new Command('bench:edge-cost')
  .description('What one low-latency passthrough stream costs the self-hosted Node edge: its CPU and RSS per stream under pollers and low-latency viewers.')
  .addOption(new Option('--streams <n>', 'publishers (720p30 FLV, looped in real time)').default(10).argParser(positiveInteger))
  .addOption(new Option('--ll-viewers <n>', 'streams that also get a low-latency viewer (blocking reload, then the part)').default(3).argParser(wholeNumber))
  .addOption(new Option('--poll-ms <ms>', "each stream's poller reads its source playlist this often (0: no pollers)").default(500).argParser(wholeNumber))
  .addOption(new Option('--segment-viewers <n>', 'viewers per stream playing it as a standard HLS player would: its source playlist every second, each new segment once').default(0).argParser(wholeNumber))
  .addOption(new Option('--seconds <n>', 'measured stretch after a 10 s warm-up').default(30).argParser(positiveInteger))
  .addOption(new Option('--runs <n>', 'runs per edge checkout (median reported)').default(1).argParser(positiveInteger))
  .addOption(new Option('--cpu-prof <dir>', 'run the edge under node --cpu-prof, profiles written to DIR'))
  .addOption(new Option('--edge-root <dirs>', 'comma-separated checkouts whose edge and sidecar run in turn, run after run (default: this one)'))
  .parse();
const options = program.opts<{ streams: number; llViewers: number; segmentViewers: number; pollMs: number; seconds: number; runs: number; cpuProf?: string; edgeRoot?: string }>();
const streams = options.streams;
const llViewers = Math.min(streams, options.llViewers);
const seconds = options.seconds;
const pollMs = options.pollMs;
const runs = options.runs;
const WARM_UP_MS = 10_000;
const edgeRoots = (options.edgeRoot ?? PROJECT_ROOT).split(',').map((root) => resolve(root));

/** The Node edge from `root` (edge/node-server.ts there), storing under `dir`; profiled into `cpuProfileDir` when given. */
async function startEdge(root: string, dir: string, cpuProfileDir: string | undefined): Promise<OurEdge> {
  const port = await freePort();
  const secret = randomBytes(16).toString('hex');
  mkdirSync(dir, { recursive: true });
  const process = new ManagedProcess({
    name: 'edge:node',
    command: globalThis.process.execPath,
    args: [...(cpuProfileDir ? ['--cpu-prof', '--cpu-prof-dir', resolve(cpuProfileDir)] : []), join(root, 'edge', 'node-server.ts'), '--port', String(port), '--storage-dir', join(dir, 'media')],
    cwd: root,
    // A checkout from before bufferutil was a dependency runs as installed then (node_modules may be this one's, linked).
    env: { ...globalThis.process.env, INGEST_SECRET: secret, ...(readFileSync(join(root, 'package.json'), 'utf8').includes('"bufferutil"') ? {} : { WS_NO_BUFFER_UTIL: '1' }) },
  });
  const deadline = Date.now() + 30_000;
  while (!(await answersAsOurEdge(port).catch(() => false))) {
    if (process.hasExited || Date.now() > deadline) throw new Error(`the Node edge from ${root} did not start`);
    await sleep(200);
  }
  return { process, origin: `http://127.0.0.1:${port}`, secret };
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));
const megabytes = (bytes: number) => bytes / 1024 / 1024;

/** A viewer loop until `running()` is false; counts answers and failures. */
interface ViewerCounts {
  answers: number;
  failures: number;
}

async function poll(url: string, everyMs: number, running: () => boolean, counts: ViewerCounts): Promise<void> {
  while (running()) {
    const started = Date.now();
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
      await response.arrayBuffer();
      if (response.ok) counts.answers += 1;
    } catch {
      counts.failures += 1;
    }
    await sleep(Math.max(0, everyMs - (Date.now() - started)));
  }
}

/** A standard HLS viewer: the media playlist every second, each segment it lists newly (the newest one at first). */
async function playSegments(url: string, running: () => boolean, counts: ViewerCounts): Promise<void> {
  const fetched = new Set<string>();
  while (running()) {
    const started = Date.now();
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
      const text = await response.text();
      if (!response.ok) throw new Error(String(response.status));
      counts.answers += 1;
      const segments = text.split('\n').filter((line) => line.endsWith('.m4s'));
      for (const segment of fetched.size === 0 ? segments.slice(-1) : segments.filter((name) => !fetched.has(name))) {
        const media = await fetch(new URL(segment, url), { signal: AbortSignal.timeout(5000) });
        await media.arrayBuffer();
        if (!media.ok) throw new Error(`${media.status} for ${segment}`);
        counts.answers += 1;
        fetched.add(segment);
      }
    } catch {
      counts.failures += 1;
    }
    await sleep(Math.max(0, 1000 - (Date.now() - started)));
  }
}

/** The next part after the playlist's last one: what hls.js asks for with _HLS_msn/_HLS_part. */
function nextPart(playlist: string): { msn: number; part: number } | undefined {
  const sequence = Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(playlist)?.[1]);
  if (!Number.isFinite(sequence)) return undefined;
  const lines = playlist.split('\n');
  let msn = sequence;
  let parts = 0;
  for (const line of lines) {
    if (line.startsWith('#EXT-X-PART:')) parts += 1;
    else if (line.startsWith('#EXTINF')) {
      msn += 1;
      parts = 0;
    }
  }
  return { msn, part: parts };
}

/** A low-latency viewer: blocking reloads of the media playlist for the next part, and the hinted part. */
async function followLive(url: string, running: () => boolean, counts: ViewerCounts): Promise<void> {
  let next: { msn: number; part: number } | undefined;
  while (running()) {
    try {
      const target = next ? `${url}?_HLS_msn=${next.msn}&_HLS_part=${next.part}` : url;
      const response = await fetch(target, { signal: AbortSignal.timeout(8000) });
      const text = await response.text();
      if (!response.ok) throw new Error(String(response.status));
      counts.answers += 1;
      next = nextPart(text);
      const hint = /#EXT-X-PRELOAD-HINT:TYPE=PART,URI="([^"]+)"/.exec(text)?.[1];
      if (hint) {
        const part = await fetch(new URL(hint, url), { signal: AbortSignal.timeout(8000) });
        await part.arrayBuffer();
        if (part.ok) counts.answers += 1;
      }
    } catch {
      counts.failures += 1;
      next = undefined;
      await sleep(500);
    }
  }
}

const work = mkdtempSync(join(tmpdir(), 'edge-cost-'));
const ffmpeg = locateFfmpeg();
const source = join(work, 'source-720p.flv');
await runMeasured(ffmpeg, sourceFileArgs(720, 20, source), join(work, 'ffmpeg.log'));
const perRun = new Map<string, number[]>(edgeRoots.map((root) => [root, []]));
const sidecarPerRun = new Map<string, number[]>(edgeRoots.map((root) => [root, []]));
try {
  for (let index = 0; index < runs * edgeRoots.length; index++) {
    const run = index;
    const root = edgeRoots[index % edgeRoots.length]!;
    const edge = await startEdge(root, join(work, `edge-${run}`), options.cpuProf);
    const limits = sidecarConnectionLimits(streams);
    const sidecar = await startOurSidecar(edge, join(work, `sidecar-${run}`), {
      root,
      extraArgs: ['--ladder', 'none', '--thumbnails', 'off', '--rtmp-max-connections-per-ip', String(limits.perAddress), '--rtmp-max-connections', String(limits.total)],
    });
    const publishers: Publisher[] = [];
    let running = true;
    const viewers: Promise<void>[] = [];
    const counts: ViewerCounts = { answers: 0, failures: 0 };
    try {
      const pid = edge.process.pid!;
      await sleep(1000);
      const idle = treeRssBytes(pid);
      for (let index = 0; index < streams; index++) {
        const stream = `edgecost${run}n${index}`;
        publishers.push(startPublisher(ffmpeg, filePublisherArgs({ file: source, seconds: seconds + 60, targets: [sidecar.publishUrl(stream)] }), stream));
        const playlist = ourUrls.mediaPlaylist(edge.origin, stream);
        if (pollMs > 0) viewers.push(poll(playlist, pollMs, () => running, counts));
        if (index < llViewers) viewers.push(followLive(playlist, () => running, counts));
        for (let viewer = 0; viewer < options.segmentViewers; viewer++) viewers.push(playSegments(playlist, () => running, counts));
        await sleep(100);
      }
      await sleep(WARM_UP_MS);
      const cpuBefore = treeCpuSeconds(pid);
      const sidecarPid = sidecar.process.pid!;
      const sidecarCpuBefore = treeCpuSeconds(sidecarPid);
      const answersBefore = counts.answers;
      // Failures before this are the streams' start (a playlist not there yet): not the edge's.
      const failuresBefore = counts.failures;
      const from = performance.now();
      await sleep(seconds * 1000);
      const elapsed = (performance.now() - from) / 1000;
      const cpuPercent = ((treeCpuSeconds(pid) - cpuBefore) / elapsed) * 100;
      const sidecarCpuPercent = ((treeCpuSeconds(sidecarPid) - sidecarCpuBefore) / elapsed) * 100;
      const loaded = treeRssBytes(pid);
      const stopped = publishers.filter((publisher) => publisher.process.hasExited);
      // A run whose publishers stopped measured less than its streams: reported, not counted.
      if (stopped.length === 0) {
        perRun.get(root)!.push(cpuPercent / streams);
        sidecarPerRun.get(root)!.push(sidecarCpuPercent / streams);
      }
      console.log(
        `run ${run + 1} (edge from ${root})${stopped.length ? ' NOT COUNTED (publishers stopped)' : ''}: ${streams} streams (${llViewers} low-latency viewers, ${options.segmentViewers * streams} segment viewers), edge CPU ${cpuPercent.toFixed(1)} % (${(cpuPercent / streams).toFixed(2)} % per stream), ` +
          `RSS ${megabytes(idle).toFixed(0)} → ${megabytes(loaded).toFixed(0)} MB (${(megabytes(loaded - idle) / streams).toFixed(2)} MB per stream), ` +
          `sidecar CPU ${sidecarCpuPercent.toFixed(1)} % (${(sidecarCpuPercent / streams).toFixed(2)} % per stream), viewer answers ${((counts.answers - answersBefore) / elapsed).toFixed(1)}/s, failures ${counts.failures - failuresBefore} (${failuresBefore} while streams started), publishers stopped ${stopped.length}, edge children ${processTree(pid).length - 1}, load ${loadavg().map((load) => load.toFixed(1)).join(' ')}`,
      );
    } finally {
      running = false;
      await Promise.all(viewers);
      for (const publisher of publishers) await publisher.stop();
      await sidecar.process.stop();
      await edge.process.stop();
    }
  }
  const listed = (figures: number[]) => `${median(figures).toFixed(2)} % of a core per stream (${figures.map((figure) => figure.toFixed(2)).join(', ')})`;
  for (const [root, figures] of perRun) console.log(`from ${root}: edge median ${listed(figures)}; sidecar median ${listed(sidecarPerRun.get(root)!)}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
