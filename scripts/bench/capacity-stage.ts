/**
 * Stage "capacity": concurrent passthrough publishers, ramped (1, 5, 10, 25, 50, …) on each
 * server until p95 segment availability delay exceeds 2 s or errors appear, within a time limit.
 * Publishers copy a pre-encoded 720p30 FLV in real time, looped (little publisher CPU), started
 * 0.1 s apart. Ours runs a sidecar of its own with `--ladder none`, `--thumbnails off` and low latency on (its
 * default): with AAC-LC audio the sidecar remuxes the source in-process and starts no ffmpeg at
 * all (each step records the sidecar's child processes to show it), so neither server
 * transcodes. Ours is ramped once per edge asked for: the self-hosted Node edge
 * (`edge/node-server.ts`, a folder for storage; issue 21's figure) and `wrangler dev` (local R2),
 * each with a fresh sidecar so its memory starts from idle. The sidecar's and the edge's CPU and
 * RSS are measured apart: the goals are the sidecar's.
 *
 * Every publisher connects from 127.0.0.1 (ffmpeg's RTMP client cannot pick its source
 * address), so the bench's sidecar gets `--rtmp-max-connections-per-ip` and
 * `--rtmp-max-connections` above the ramp's top: the per-address limit is not what is measured.
 *
 * A few streams per step are polled every 50 ms (polling every stream would load the machine
 * more than the servers); every stream's playlist is checked once per step.
 */
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { pause, type BenchContext } from './bench-context.ts';
import { perStreamFigures, sidecarConnectionLimits, type PerStreamFigures } from './capacity-figures.ts';
import { percentile, processTree, treeCpuSeconds, treeRssBytes } from './measure.ts';
import { describeLogSummary, summarizeLog, type LogSummary } from './log-summary.ts';
import { ourUrls, startOurNodeEdge, startOurSidecar, type OurEdge } from './our-platform.ts';
import { pollPlaylist, type PlaylistPoller } from './playlist-poller.ts';
import { filePublisherArgs, startPublisher, type Publisher } from './publishers.ts';
import { availabilityDelays } from './segment-timeline.ts';

export interface CapacityStep {
  publishers: number;
  p50: number;
  p95: number;
  segmentsMeasured: number;
  errors: string[];
  /** CPU of the server's process tree over the measured stretch, % of one core (ours: the sidecar and any child, not the edge). */
  cpuPercent: number;
  /** Ours: the edge's process tree (Node, or wrangler + workerd), % of one core. */
  edgeCpuPercent?: number;
  /** The server's process tree (ours: the sidecar and any child). */
  rssMegabytes: number;
  /** Ours: the edge's process tree. */
  edgeRssMegabytes?: number;
  /** Ours: processes under the sidecar (0: no ffmpeg runs). */
  sidecarChildren?: number;
  /** The machine's 1-minute load average at the end of the step: how shared the machine was. */
  load1?: number;
  /** The end-of-step check (every stream's playlist asked at once): p50 and the slowest of its answers, s (not kept before 2026-12-07). */
  playlistCheck?: { p50: number; max: number; answered: number };
}

export interface CapacityFigures {
  steps: CapacityStep[];
  /** The most publishers with p95 within the limit and no errors. */
  lastGood: number;
  stoppedBecause: string;
}

export type CapacityEdge = 'node' | 'wrangler';

export interface OurCapacityFigures extends CapacityFigures {
  edge: CapacityEdge;
  /** The sidecar's arguments beyond the bench's usual ones (the raised connection limits among them). */
  sidecarArgs: string[];
  /** The sidecar's RSS before its first publisher. */
  idleRssMegabytes: number;
  perStream: PerStreamFigures;
  /** ours.lastGood / nginx.lastGood in the same run. */
  ratio: number;
  /** The sidecar's warnings and errors over the whole ramp (not kept before 2026-12-07). */
  sidecarLog?: LogSummary;
}

export interface CapacityResult {
  nginx: CapacityFigures;
  /** Ours, by the edge it was measured with (those asked for). */
  ours: Partial<Record<CapacityEdge, OurCapacityFigures>>;
}

export interface CapacityOptions {
  steps: number[];
  minutesPerServer: number;
  edges: CapacityEdge[];
}

const P95_LIMIT_SECONDS = 2;
const WARM_UP_SECONDS = 8;
const SAMPLED_PER_STEP = 4;

interface ServerUnderRamp {
  name: string;
  rootPid: number;
  edgePid?: number;
  publishUrl(stream: string): string;
  playlistUrl(stream: string): string;
}

/**
 * The streams whose playlist is not there at the end of a step, by what was answered: a status
 * (the stream has no playlist yet) or no answer in time (the server too busy to say); and how long
 * the answers took (every playlist asked at once: a burst, as a CDN's many edges might).
 */
async function playlistsMissing(urls: readonly string[]): Promise<{ total: number; describe: string; answerSeconds: number[] }> {
  const answerSeconds: number[] = [];
  const outcomes = await Promise.all(
    urls.map(async (url) => {
      const asked = performance.now();
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
        await response.body?.cancel();
        answerSeconds.push((performance.now() - asked) / 1000);
        return response.ok ? undefined : `HTTP ${response.status}`;
      } catch (error) {
        return error instanceof Error && error.name === 'TimeoutError' ? 'no answer within 5 s' : 'connection failed';
      }
    }),
  );
  const counts = new Map<string, number>();
  for (const outcome of outcomes) if (outcome) counts.set(outcome, (counts.get(outcome) ?? 0) + 1);
  return { total: [...counts.values()].reduce((a, b) => a + b, 0), describe: [...counts].map(([outcome, count]) => `${outcome}: ${count}`).join(', '), answerSeconds };
}

const cpuPercentOver = (pid: number, before: number, seconds: number) => ((treeCpuSeconds(pid) - before) / seconds) * 100;
const megabytes = (bytes: number) => bytes / 1024 / 1024;

async function ramp(context: BenchContext, server: ServerUnderRamp, options: CapacityOptions, source: string): Promise<CapacityFigures> {
  const deadline = Date.now() + options.minutesPerServer * 60_000;
  const publishers: { stream: string; publisher: Publisher }[] = [];
  const pollers = new Map<string, PlaylistPoller>();
  const steps: CapacityStep[] = [];
  let stoppedBecause = 'every step passed';
  const prefix = `cap${server.name.replace(/\W/g, '')}${Date.now().toString(36)}n`;
  try {
    for (const target of options.steps) {
      const stepSeconds = WARM_UP_SECONDS + context.seconds + (target - publishers.length) * 0.1 + target * 0.05;
      if (Date.now() + stepSeconds * 1000 > deadline) {
        stoppedBecause = `time limit (${options.minutesPerServer} min) before ${target} publishers`;
        break;
      }
      context.status(`capacity ${server.name}: ${target} publisher(s)`);
      const added: string[] = [];
      while (publishers.length < target) {
        const stream = `${prefix}${publishers.length}`;
        const seconds = options.minutesPerServer * 60 + 60;
        publishers.push({ stream, publisher: context.track(startPublisher(context.ffmpeg, filePublisherArgs({ file: source, seconds, targets: [server.publishUrl(stream)] }), stream)) });
        added.push(stream);
        await pause(100, context.signal);
      }
      // Poll the first stream throughout, and the newest few of this step from their start.
      for (const stream of [publishers[0]!.stream, ...added.slice(-SAMPLED_PER_STEP)]) {
        if (!pollers.has(stream)) pollers.set(stream, pollPlaylist(server.playlistUrl(stream)));
      }
      await pause(WARM_UP_SECONDS * 1000, context.signal);
      const windowStart = Date.now();
      const cpuBefore = treeCpuSeconds(server.rootPid);
      const edgeBefore = server.edgePid ? treeCpuSeconds(server.edgePid) : 0;
      await pause(context.seconds * 1000, context.signal);
      const windowEnd = Date.now();
      const windowSeconds = (windowEnd - windowStart) / 1000;
      const cpuPercent = cpuPercentOver(server.rootPid, cpuBefore, windowSeconds);
      const edgeCpuPercent = server.edgePid ? cpuPercentOver(server.edgePid, edgeBefore, windowSeconds) : undefined;
      const errors: string[] = [];
      const delays: number[] = [];
      for (const [stream, poller] of pollers) {
        const firstFrameAt = publishers.find((entry) => entry.stream === stream)!.publisher.firstFrameAt();
        const inWindow = poller.timeline.segments.filter((segment) => segment.firstListedAt >= windowStart && segment.firstListedAt <= windowEnd);
        if (firstFrameAt === undefined || inWindow.length === 0) errors.push(`${stream}: no segment listed while measured (${firstFrameAt === undefined ? 'the publisher sent no frame yet' : `${poller.timeline.segments.length} listed before, ${poller.failures} polls failed`})`);
        else delays.push(...availabilityDelays(inWindow, firstFrameAt, 1));
      }
      const exited = publishers.filter((entry) => entry.publisher.process.hasExited);
      if (exited.length > 0) errors.push(`${exited.length} publisher(s) stopped: ${exited[0]!.publisher.errors.slice(-1).join('')}`);
      const missing = await playlistsMissing(publishers.map(({ stream }) => server.playlistUrl(stream)));
      if (missing.total > 0) errors.push(`${missing.total} stream(s) without a playlist (${missing.describe})`);
      const step: CapacityStep = {
        publishers: target,
        p50: percentile(delays, 0.5),
        p95: percentile(delays, 0.95),
        segmentsMeasured: delays.length,
        errors,
        cpuPercent,
        rssMegabytes: megabytes(treeRssBytes(server.rootPid)),
        ...(server.edgePid === undefined
          ? {}
          : { edgeCpuPercent, edgeRssMegabytes: megabytes(treeRssBytes(server.edgePid)), sidecarChildren: processTree(server.rootPid).length - 1 }),
        load1: loadavg()[0],
        playlistCheck: { p50: percentile(missing.answerSeconds, 0.5), max: Math.max(0, ...missing.answerSeconds), answered: missing.answerSeconds.length },
      };
      steps.push(step);
      const ours = step.edgeCpuPercent === undefined ? '' : ` (sidecar; edge ${step.edgeCpuPercent.toFixed(0)} %, ${step.edgeRssMegabytes!.toFixed(0)} MB; sidecar children ${step.sidecarChildren})`;
      context.status(
        `  p50 ${step.p50.toFixed(2)} s, p95 ${step.p95.toFixed(2)} s (${delays.length} segments), CPU ${cpuPercent.toFixed(0)} %, RSS ${step.rssMegabytes.toFixed(0)} MB${ours}, load ${step.load1?.toFixed(1)}, playlist check p50 ${step.playlistCheck!.p50.toFixed(2)} s, slowest ${step.playlistCheck!.max.toFixed(2)} s${errors.length ? `, errors: ${errors.join('; ')}` : ''}`,
      );
      // Streams of this step that are no longer sampled stop being polled (the first one stays).
      for (const [stream, poller] of pollers) {
        if (stream !== publishers[0]!.stream) {
          await poller.stop();
          pollers.delete(stream);
        }
      }
      if (errors.length > 0) {
        stoppedBecause = `errors at ${target} publishers`;
        break;
      }
      if (!(step.p95 <= P95_LIMIT_SECONDS)) {
        stoppedBecause = `p95 over ${P95_LIMIT_SECONDS} s at ${target} publishers`;
        break;
      }
    }
  } finally {
    await Promise.all([...pollers.values()].map((poller) => poller.stop()));
    for (const { publisher } of publishers) {
      context.untrack(publisher);
      await publisher.stop();
    }
  }
  const good = steps.filter(isGood);
  return { steps, lastGood: good.at(-1)?.publishers ?? 0, stoppedBecause };
}

const isGood = (step: CapacityStep) => step.errors.length === 0 && step.p95 <= P95_LIMIT_SECONDS;

/** Ours with one edge: a fresh `--ladder none` sidecar uploading through it, ramped. */
async function rampOurs(context: BenchContext, edge: OurEdge, edgeName: CapacityEdge, options: CapacityOptions, source: string, nginxLastGood: number): Promise<OurCapacityFigures> {
  const limits = sidecarConnectionLimits(Math.max(...options.steps));
  // Thumbnails off: their ffmpeg runs (a keyframe every 10 s per stream) are not packaging; their
  // cost per stream is the thumbnails stage's figure (`--only thumbnails`), as in the sidecar stage.
  const sidecarArgs = ['--ladder', 'none', '--thumbnails', 'off', '--rtmp-max-connections-per-ip', String(limits.perAddress), '--rtmp-max-connections', String(limits.total)];
  context.status(`capacity ours (${edgeName} edge): a sidecar of its own, ${sidecarArgs.join(' ')} (every publisher comes from 127.0.0.1: the per-address limit raised so it is not what is measured)`);
  // Its warnings are kept: what went wrong under load is what the ramp is for.
  const sidecarLines: string[] = [];
  const started = await startOurSidecar(edge, join(context.work, `capacity-sidecar-${edgeName}`), { extraArgs: sidecarArgs, onLine: (line) => sidecarLines.push(line) });
  const sidecar = context.track({ ...started, stop: () => started.process.stop() });
  try {
    // Settled a moment, so the idle figure is not start-up's transient.
    await pause(2000, context.signal);
    const idleRssMegabytes = megabytes(treeRssBytes(sidecar.process.pid!));
    const figures = await ramp(
      context,
      {
        name: `ours (${edgeName} edge)`,
        rootPid: sidecar.process.pid!,
        edgePid: edge.process.pid!,
        publishUrl: (s) => sidecar.publishUrl(s),
        playlistUrl: (s) => ourUrls.mediaPlaylist(edge.origin, s),
      },
      options,
      source,
    );
    const perStream = perStreamFigures(
      figures.steps.map((step) => ({ ...step, good: isGood(step) })),
      idleRssMegabytes,
    );
    context.status(
      `  ours (${edgeName} edge): last good ${figures.lastGood}; sidecar CPU per stream ${perStream.cpuPercentPerStream.toFixed(2)} % at ${perStream.atPublishers} (${perStream.cpuPercentPerAddedStream.toFixed(2)} % per added), RSS per added stream ${perStream.rssMegabytesPerAddedStream.toFixed(2)} MB (idle ${idleRssMegabytes.toFixed(0)} MB)`,
    );
    const sidecarLog = summarizeLog(sidecarLines);
    context.status(`  ours (${edgeName} edge): the sidecar's warnings and errors: ${describeLogSummary(sidecarLog)}`);
    return { ...figures, edge: edgeName, sidecarArgs, idleRssMegabytes, perStream, ratio: figures.lastGood / nginxLastGood, sidecarLog };
  } finally {
    context.untrack(sidecar);
    await sidecar.stop();
  }
}

export async function runCapacityStage(context: BenchContext, options: CapacityOptions): Promise<CapacityResult> {
  const servers = await context.servers();
  const source = await context.sourceFile(720);
  const nginx = await ramp(context, { name: 'nginx', rootPid: servers.nginx.process.pid!, publishUrl: (s) => servers.nginx.publishUrl(s), playlistUrl: (s) => servers.nginx.playlistUrl(s) }, options, source);
  const ours: CapacityResult['ours'] = {};
  for (const edgeName of options.edges) {
    if (edgeName === 'wrangler') {
      ours.wrangler = await rampOurs(context, servers.ours.edge, 'wrangler', options, source, nginx.lastGood);
      continue;
    }
    context.status('capacity ours: starting the Node edge (edge/node-server.ts, a folder for storage)…');
    const started = await startOurNodeEdge(join(context.work, 'capacity-node-edge'));
    const edge = context.track({ ...started, stop: () => started.process.stop() });
    try {
      ours.node = await rampOurs(context, edge, 'node', options, source, nginx.lastGood);
    } finally {
      context.untrack(edge);
      await edge.stop();
    }
  }
  return { nginx, ours };
}

/**
 * Results written before ours was measured per edge had one `ours` (wrangler dev, with ffmpeg
 * encoding audio): read as the wrangler figure, so `--report` still draws old JSON.
 */
export function capacityOfAnyVersion(capacity: CapacityResult | { ours: CapacityFigures; nginx: CapacityFigures; ratio: number }): CapacityResult {
  if (!('steps' in capacity.ours)) return capacity as CapacityResult;
  const old = capacity as { ours: CapacityFigures; nginx: CapacityFigures; ratio: number };
  return {
    nginx: old.nginx,
    ours: {
      wrangler: {
        ...old.ours,
        edge: 'wrangler',
        sidecarArgs: ['--ladder', 'none'],
        idleRssMegabytes: Number.NaN,
        perStream: perStreamFigures(old.ours.steps.map((step) => ({ ...step, good: isGood(step) })), undefined),
        ratio: old.ratio,
      },
    },
  };
}
