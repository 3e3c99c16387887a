/**
 * Stage "capacity": concurrent passthrough publishers, ramped (1, 5, 10, 25, 50, …) on each
 * server until p95 segment availability delay exceeds 2 s or errors appear, within a time limit.
 * Publishers copy a pre-encoded 720p30 FLV in real time, looped (little publisher CPU), started
 * 0.1 s apart. Ours runs a sidecar of its own with `--ladder none` (the source passes through;
 * only audio is encoded), so both servers repackage without transcoding video. A few streams
 * per step are polled every 50 ms (polling every stream would load the machine more than the
 * servers); every stream's playlist is checked once per step.
 */
import { join } from 'node:path';
import { fetchText, pause, type BenchContext } from './bench-context.ts';
import { percentile, treeCpuSeconds, treeRssBytes } from './measure.ts';
import { ourUrls, startOurSidecar } from './our-platform.ts';
import { pollPlaylist, type PlaylistPoller } from './playlist-poller.ts';
import { filePublisherArgs, startPublisher, type Publisher } from './publishers.ts';
import { availabilityDelays } from './segment-timeline.ts';

export interface CapacityStep {
  publishers: number;
  p50: number;
  p95: number;
  segmentsMeasured: number;
  errors: string[];
  /** CPU of the server's process tree over the measured stretch, % of one core. */
  cpuPercent: number;
  /** Ours: the edge (wrangler dev) as well, % of one core. */
  edgeCpuPercent?: number;
  rssMegabytes: number;
}

export interface CapacityFigures {
  steps: CapacityStep[];
  /** The most publishers with p95 within the limit and no errors. */
  lastGood: number;
  stoppedBecause: string;
}

export interface CapacityResult {
  ours: CapacityFigures;
  nginx: CapacityFigures;
  ratio: number;
}

export interface CapacityOptions {
  steps: number[];
  minutesPerServer: number;
}

const P95_LIMIT_SECONDS = 2;
const WARM_UP_SECONDS = 8;
const SAMPLED_PER_STEP = 4;

interface ServerUnderRamp {
  name: 'ours' | 'nginx';
  rootPid: number;
  edgePid?: number;
  publishUrl(stream: string): string;
  playlistUrl(stream: string): string;
}

async function ramp(context: BenchContext, server: ServerUnderRamp, options: CapacityOptions, source: string): Promise<CapacityFigures> {
  const deadline = Date.now() + options.minutesPerServer * 60_000;
  const publishers: { stream: string; publisher: Publisher }[] = [];
  const pollers = new Map<string, PlaylistPoller>();
  const steps: CapacityStep[] = [];
  let stoppedBecause = 'every step passed';
  const prefix = `cap${server.name}${Date.now().toString(36)}n`;
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
      const cpuPercent = ((treeCpuSeconds(server.rootPid) - cpuBefore) / ((windowEnd - windowStart) / 1000)) * 100;
      const edgeCpuPercent = server.edgePid ? ((treeCpuSeconds(server.edgePid) - edgeBefore) / ((windowEnd - windowStart) / 1000)) * 100 : undefined;
      const errors: string[] = [];
      const delays: number[] = [];
      for (const [stream, poller] of pollers) {
        const firstFrameAt = publishers.find((entry) => entry.stream === stream)!.publisher.firstFrameAt();
        const inWindow = poller.timeline.segments.filter((segment) => segment.firstListedAt >= windowStart && segment.firstListedAt <= windowEnd);
        if (firstFrameAt === undefined || inWindow.length === 0) errors.push(`${stream}: no segment listed while measured`);
        else delays.push(...availabilityDelays(inWindow, firstFrameAt, 1));
      }
      const exited = publishers.filter((entry) => entry.publisher.process.hasExited);
      if (exited.length > 0) errors.push(`${exited.length} publisher(s) stopped: ${exited[0]!.publisher.errors.slice(-1).join('')}`);
      const missing = (await Promise.all(publishers.map(async ({ stream }) => ((await fetchText(server.playlistUrl(stream), 5000).catch(() => undefined)) ? 0 : 1)))).reduce<number>((a, b) => a + b, 0);
      if (missing > 0) errors.push(`${missing} stream(s) without a playlist`);
      const step: CapacityStep = {
        publishers: target,
        p50: percentile(delays, 0.5),
        p95: percentile(delays, 0.95),
        segmentsMeasured: delays.length,
        errors,
        cpuPercent,
        ...(edgeCpuPercent === undefined ? {} : { edgeCpuPercent }),
        rssMegabytes: treeRssBytes(server.rootPid) / 1024 / 1024,
      };
      steps.push(step);
      context.status(
        `  p50 ${step.p50.toFixed(2)} s, p95 ${step.p95.toFixed(2)} s (${delays.length} segments), CPU ${cpuPercent.toFixed(0)} %${edgeCpuPercent === undefined ? '' : ` (+ edge ${edgeCpuPercent.toFixed(0)} %)`}, RSS ${step.rssMegabytes.toFixed(0)} MB${errors.length ? `, errors: ${errors.join('; ')}` : ''}`,
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
  const good = steps.filter((step) => step.errors.length === 0 && step.p95 <= P95_LIMIT_SECONDS);
  return { steps, lastGood: good.at(-1)?.publishers ?? 0, stoppedBecause };
}

export async function runCapacityStage(context: BenchContext, options: CapacityOptions): Promise<CapacityResult> {
  const servers = await context.servers();
  const source = await context.sourceFile(720);
  const nginx = await ramp(context, { name: 'nginx', rootPid: servers.nginx.process.pid!, publishUrl: (s) => servers.nginx.publishUrl(s), playlistUrl: (s) => servers.nginx.playlistUrl(s) }, options, source);
  context.status('capacity ours: a sidecar of its own with --ladder none (passthrough)');
  const sidecar = context.track(await startOurSidecar(servers.ours.edge, join(context.work, 'capacity-sidecar'), { extraArgs: ['--ladder', 'none'] }).then((s) => ({ ...s, stop: () => s.process.stop() })));
  try {
    const ours = await ramp(
      context,
      {
        name: 'ours',
        rootPid: sidecar.process.pid!,
        edgePid: servers.ours.edge.process.pid!,
        publishUrl: (s) => sidecar.publishUrl(s),
        playlistUrl: (s) => ourUrls.mediaPlaylist(servers.ours.edge.origin, s),
      },
      options,
      source,
    );
    return { ours, nginx, ratio: ours.lastGood / nginx.lastGood };
  } finally {
    context.untrack(sidecar);
    await sidecar.stop();
  }
}
