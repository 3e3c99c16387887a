/**
 * Stage "sidecar": what one passthrough stream costs the sidecar alone, small and repeatable
 * (issue 21's goals: ≤ 1 % of a core and ≤ 3 MB RSS per stream). No nginx, no ramp: the
 * self-hosted Node edge (storage in a folder; its cost is not counted) and, per run, a fresh
 * `--ladder none` sidecar fed by N publishers copying the pre-encoded 720p30 FLV in real time,
 * looped (`-c copy`: the publishers cost little). Per run: the sidecar's RSS idle and with N
 * streams, its CPU (its own /proc stat, and any child's: there should be none) over the measured
 * stretch after a warm-up. Medians over --runs. Thumbnails are off here: their cost per stream is
 * the thumbnails stage's figure, to be added for a sidecar with thumbnails on (the default).
 *
 * `--sidecar-cpu-prof DIR` runs the sidecars under `node --cpu-prof` (profiles in DIR, one per
 * run, written when each sidecar stops): where the time goes.
 */
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { pause, type BenchContext } from './bench-context.ts';
import { median, processTree, treeCpuSeconds, treeRssBytes } from './measure.ts';
import { startOurNodeEdge, startOurSidecar } from './our-platform.ts';
import { filePublisherArgs, startPublisher, type Publisher } from './publishers.ts';
import { sidecarConnectionLimits } from './capacity-figures.ts';
import { freePort } from '../lib/free-port.ts';

export interface SidecarCostRun {
  idleRssMegabytes: number;
  loadedRssMegabytes: number;
  /** The sidecar's CPU over the measured stretch, % of one core (all its streams). */
  cpuPercent: number;
  /** cpuPercent / publishers: the goal's figure, the sidecar's fixed cost included. */
  cpuPercentPerStream: number;
  /**
   * The sidecar's CPU with no stream over IDLE_SECONDS before the publishers start, % of one core
   * (its timers, the bench's one /metrics scrape): the fixed cost inside cpuPercentPerStream.
   */
  idleCpuPercent: number;
  /** (cpuPercent - idleCpuPercent) / publishers: what each stream adds, shown beside the goal's figure. */
  cpuPercentPerAddedStream: number;
  rssMegabytesPerStream: number;
  /**
   * From its /metrics, loaded minus idle, per stream (MB): V8's heap in use and memory outside
   * it (Buffers): where the RSS per stream goes. Undefined when /metrics did not answer.
   */
  heapMegabytesPerStream?: number;
  externalMegabytesPerStream?: number;
  /** Processes under the sidecar while measured (0: no ffmpeg). */
  children: number;
  /** The machine's 1-minute load average at the end of the run. */
  load1: number;
}

export interface SidecarCostResult {
  publishers: number;
  secondsMeasured: number;
  runs: SidecarCostRun[];
  median: { cpuPercentPerStream: number; idleCpuPercent: number; cpuPercentPerAddedStream: number; rssMegabytesPerStream: number; heapMegabytesPerStream: number; externalMegabytesPerStream: number; cpuPercent: number; load1: number };
  goals: { cpuPercentPerStream: number; rssMegabytesPerStream: number };
}

export interface SidecarCostOptions {
  publishers: number;
  /** Profiles of each run's sidecar go here (node --cpu-prof); none without. */
  cpuProfileDir?: string;
}

const WARM_UP_SECONDS = 8;
const IDLE_SECONDS = 10;
const MAX_WARNINGS_KEPT = 50;
const SETTLE_MS = 2000;
const megabytes = (bytes: number) => bytes / 1024 / 1024;

/** V8 heap in use and external memory (bytes) from the sidecar's Prometheus metrics; undefined if they do not answer. */
async function memoryMetrics(apiUrl: string | undefined, adminToken: string): Promise<{ heap: number; external: number } | undefined> {
  if (!apiUrl) return undefined;
  try {
    const response = await fetch(`${apiUrl}/metrics`, { headers: { authorization: `Bearer ${adminToken}` }, signal: AbortSignal.timeout(5000) });
    const text = await response.text();
    const value = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
    return { heap: value('nodejs_heap_size_used_bytes'), external: value('nodejs_external_memory_bytes') };
  } catch {
    return undefined;
  }
}


export async function runSidecarCostStage(context: BenchContext, options: SidecarCostOptions): Promise<SidecarCostResult> {
  const source = await context.sourceFile(720);
  context.status('sidecar cost: starting the Node edge (edge/node-server.ts, a folder for storage)…');
  const startedEdge = await startOurNodeEdge(join(context.work, 'sidecar-cost-edge'));
  const edge = context.track({ ...startedEdge, stop: () => startedEdge.process.stop() });
  const limits = sidecarConnectionLimits(options.publishers);
  // Thumbnails off: their ffmpeg runs are children of the sidecar and would count here; what they
  // cost per stream is the thumbnails stage's figure (`--only thumbnails`), added to this one.
  const sidecarArgs = ['--ladder', 'none', '--thumbnails', 'off', '--rtmp-max-connections-per-ip', String(limits.perAddress), '--rtmp-max-connections', String(limits.total)];
  const runs: SidecarCostRun[] = [];
  try {
    for (let run = 0; run < context.runs; run++) {
      const nodeFlags = options.cpuProfileDir ? ['--cpu-prof', '--cpu-prof-dir', resolve(options.cpuProfileDir)] : undefined;
      const api = { port: await freePort(), adminToken: randomBytes(16).toString('hex') };
      // Its warnings and errors (it logs at warn here): why a passthrough stream started an ffmpeg, if one did.
      const warnings: string[] = [];
      const onLine = (line: string) => void (warnings.length < MAX_WARNINGS_KEPT && warnings.push(line));
      const started = await startOurSidecar(edge, join(context.work, `sidecar-cost-${run}`), { extraArgs: sidecarArgs, nodeFlags, api, onLine });
      const sidecar = context.track({ ...started, stop: () => started.process.stop() });
      const publishers: Publisher[] = [];
      try {
        await pause(SETTLE_MS, context.signal);
        const pid = sidecar.process.pid!;
        const idle = treeRssBytes(pid);
        const idleMemory = await memoryMetrics(started.apiUrl, api.adminToken);
        const idleCpuBefore = treeCpuSeconds(pid);
        const idleFrom = performance.now();
        await pause(IDLE_SECONDS * 1000, context.signal);
        const idleCpuPercent = ((treeCpuSeconds(pid) - idleCpuBefore) / ((performance.now() - idleFrom) / 1000)) * 100;
        const seconds = WARM_UP_SECONDS + context.seconds + 60;
        for (let index = 0; index < options.publishers; index++) {
          const stream = `cost${run}n${index}`;
          publishers.push(context.track(startPublisher(context.ffmpeg, filePublisherArgs({ file: source, seconds, targets: [sidecar.publishUrl(stream)] }), stream)));
          await pause(100, context.signal);
        }
        await pause(WARM_UP_SECONDS * 1000, context.signal);
        const cpuBefore = treeCpuSeconds(pid);
        const from = performance.now();
        await pause(context.seconds * 1000, context.signal);
        const cpuPercent = ((treeCpuSeconds(pid) - cpuBefore) / ((performance.now() - from) / 1000)) * 100;
        const loaded = treeRssBytes(pid);
        const loadedMemory = await memoryMetrics(started.apiUrl, api.adminToken);
        const perStream = (bytes: number) => megabytes(bytes) / options.publishers;
        const stopped = publishers.filter((publisher) => publisher.process.hasExited);
        if (stopped.length > 0) throw new Error(`${stopped.length} publisher(s) stopped: ${stopped[0]!.errors.slice(-1).join('')}`);
        const figures: SidecarCostRun = {
          idleRssMegabytes: megabytes(idle),
          loadedRssMegabytes: megabytes(loaded),
          cpuPercent,
          cpuPercentPerStream: cpuPercent / options.publishers,
          idleCpuPercent,
          cpuPercentPerAddedStream: (cpuPercent - idleCpuPercent) / options.publishers,
          rssMegabytesPerStream: megabytes(loaded - idle) / options.publishers,
          ...(idleMemory && loadedMemory
            ? { heapMegabytesPerStream: perStream(loadedMemory.heap - idleMemory.heap), externalMegabytesPerStream: perStream(loadedMemory.external - idleMemory.external) }
            : {}),
          children: processTree(pid).length - 1,
          load1: loadavg()[0]!,
        };
        runs.push(figures);
        if (figures.children > 0) {
          context.status(`  run ${run + 1}: ${figures.children} child process(es) under a --ladder none sidecar (counted in its CPU); its first warnings:`);
          for (const line of warnings.slice(0, 5)) context.status(`    ${line.slice(0, 300)}`);
        }
        context.status(
          `  run ${run + 1}: ${options.publishers} streams, sidecar CPU ${cpuPercent.toFixed(1)} % (${figures.cpuPercentPerStream.toFixed(2)} % per stream; idle ${idleCpuPercent.toFixed(2)} %, ${figures.cpuPercentPerAddedStream.toFixed(2)} % per added stream), RSS ${figures.idleRssMegabytes.toFixed(0)} → ${figures.loadedRssMegabytes.toFixed(0)} MB (${figures.rssMegabytesPerStream.toFixed(2)} MB per stream; V8 heap ${figures.heapMegabytesPerStream?.toFixed(2)}, external ${figures.externalMegabytesPerStream?.toFixed(2)}), children ${figures.children}, load ${figures.load1.toFixed(1)}`,
        );
      } finally {
        for (const publisher of publishers) {
          context.untrack(publisher);
          await publisher.stop();
        }
        context.untrack(sidecar);
        await sidecar.stop();
      }
    }
  } finally {
    context.untrack(edge);
    await edge.stop();
  }
  const result: SidecarCostResult = {
    publishers: options.publishers,
    secondsMeasured: context.seconds,
    runs,
    median: {
      cpuPercentPerStream: median(runs.map((run) => run.cpuPercentPerStream)),
      idleCpuPercent: median(runs.map((run) => run.idleCpuPercent)),
      cpuPercentPerAddedStream: median(runs.map((run) => run.cpuPercentPerAddedStream)),
      rssMegabytesPerStream: median(runs.map((run) => run.rssMegabytesPerStream)),
      heapMegabytesPerStream: median(runs.map((run) => run.heapMegabytesPerStream ?? Number.NaN).filter(Number.isFinite)),
      externalMegabytesPerStream: median(runs.map((run) => run.externalMegabytesPerStream ?? Number.NaN).filter(Number.isFinite)),
      cpuPercent: median(runs.map((run) => run.cpuPercent)),
      load1: median(runs.map((run) => run.load1)),
    },
    goals: { cpuPercentPerStream: 1, rssMegabytesPerStream: 3 },
  };
  context.status(
    `  sidecar cost, median of ${runs.length}: ${result.median.cpuPercentPerStream.toFixed(2)} % of a core per stream (goal ≤ 1; idle ${result.median.idleCpuPercent.toFixed(2)} %, ${result.median.cpuPercentPerAddedStream.toFixed(2)} % per added stream), ${result.median.rssMegabytesPerStream.toFixed(2)} MB RSS per stream (goal ≤ 3; V8 heap ${result.median.heapMegabytesPerStream.toFixed(2)}, external ${result.median.externalMegabytesPerStream.toFixed(2)}), load ${result.median.load1.toFixed(1)}`,
  );
  return result;
}
