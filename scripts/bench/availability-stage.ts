/**
 * Stage "availability": how long after a segment's media ends (publisher clock: its first
 * frame's wall time plus media time) viewers' playlists first list it, polling every 50 ms: our
 * source rendition's media playlist through the edge, nginx's playlist over its HTTP. One
 * publisher (a pre-encoded 720p30 file copied in real time) feeds every server at once; a new
 * stream per run. Ours twice: the shared platform (`wrangler dev`, default ladder) and issue 21's
 * setup, a passthrough sidecar (`--ladder none`) through the self-hosted Node edge.
 */
import { join } from 'node:path';
import type { BenchContext, ServersUnderTest } from './bench-context.ts';
import { median, percentile } from './measure.ts';
import { ourUrls, startOurNodeEdge, startOurSidecar, type OurEdge, type OurSidecar } from './our-platform.ts';
import { pollPlaylist } from './playlist-poller.ts';
import { filePublisherArgs, startPublisher } from './publishers.ts';
import { availabilityDelays, type SegmentAvailability } from './segment-timeline.ts';
import { pause } from './bench-context.ts';

export interface AvailabilityFigures {
  /** Seconds, every steady-state segment of every run. */
  delays: number[];
  p50: number;
  p95: number;
  runMedians: number[];
  /** The first segment's delay of each run: the server's start-up. */
  firstSegment: number[];
  /** Ours: media end by EXT-X-PROGRAM-DATE-TIME (the sidecar's clock) minus by the publisher's clock, median, seconds. */
  programDateTimeOffset?: number;
  /** Every run's segments: media end (s), first listed (ms after the publisher's first frame), program date time likewise. */
  timelines: { mediaEnd: number; listedAfterMs: number; programDateTimeAfterMs?: number }[][];
}

export interface AvailabilityResult {
  ours: AvailabilityFigures;
  /** A `--ladder none` sidecar through the Node edge (absent in results from before 2026-12-06 12:00). */
  oursPassthroughNode?: AvailabilityFigures;
  nginx: AvailabilityFigures;
  ratioP50: number;
}

/** Segments whose delay counts: all but the first (start-up), while the publisher still ran. */
const STEADY_FROM = 1;

interface RunTimelines {
  ours: SegmentAvailability[];
  oursPassthroughNode: SegmentAvailability[];
  nginx: SegmentAvailability[];
  firstFrameAt: number;
}

type Server = Exclude<keyof RunTimelines, 'firstFrameAt'>;

function figures(runs: RunTimelines[], server: Server): AvailabilityFigures {
  const perRun = runs.map((run) => availabilityDelays(run[server], run.firstFrameAt, STEADY_FROM));
  const delays = perRun.flat();
  const dated = runs.flatMap((run) =>
    run[server].flatMap((segment) => (segment.programDateTime === undefined ? [] : [(segment.programDateTime + segment.duration * 1000 - (run.firstFrameAt + segment.mediaEnd * 1000)) / 1000])),
  );
  return {
    delays,
    p50: percentile(delays, 0.5),
    p95: percentile(delays, 0.95),
    runMedians: perRun.map((run) => median(run)),
    firstSegment: runs.flatMap((run) => availabilityDelays(run[server], run.firstFrameAt).slice(0, 1)),
    ...(dated.length > 0 ? { programDateTimeOffset: median(dated) } : {}),
    timelines: runs.map((run) =>
      run[server].map((segment) => ({
        mediaEnd: segment.mediaEnd,
        listedAfterMs: Math.round(segment.firstListedAt - run.firstFrameAt),
        ...(segment.programDateTime === undefined ? {} : { programDateTimeAfterMs: Math.round(segment.programDateTime - run.firstFrameAt) }),
      })),
    ),
  };
}

/** Issue 21's setup: the Node edge (a folder for storage) and a sidecar that encodes nothing. */
async function startPassthroughNode(context: BenchContext): Promise<{ edge: OurEdge; sidecar: OurSidecar; stop(): Promise<void> }> {
  context.status('availability: starting the Node edge and a --ladder none sidecar beside the shared platform…');
  const edge = await startOurNodeEdge(join(context.work, 'availability-node-edge'));
  try {
    const sidecar = await startOurSidecar(edge, join(context.work, 'availability-passthrough-sidecar'), { extraArgs: ['--ladder', 'none', '--thumbnails', 'off'] });
    return { edge, sidecar, stop: async () => void (await Promise.all([sidecar.process.stop(), edge.process.stop()])) };
  } catch (error) {
    await edge.process.stop();
    throw error;
  }
}

export async function runAvailabilityStage(context: BenchContext): Promise<AvailabilityResult> {
  const servers = await context.servers();
  const source = await context.sourceFile(720);
  const passthrough = context.track(await startPassthroughNode(context));
  const runs: RunTimelines[] = [];
  try {
    for (let run = 1; run <= context.runs; run++) runs.push(await measureRun(context, servers, passthrough, source, run));
  } finally {
    context.untrack(passthrough);
    await passthrough.stop();
  }
  const ours = figures(runs, 'ours');
  const nginx = figures(runs, 'nginx');
  return { ours, oursPassthroughNode: figures(runs, 'oursPassthroughNode'), nginx, ratioP50: ours.p50 / nginx.p50 };
}

async function measureRun(context: BenchContext, servers: ServersUnderTest, passthrough: { edge: OurEdge; sidecar: OurSidecar }, source: string, run: number): Promise<RunTimelines> {
  const stream = `avail${run}${Date.now().toString(36)}`;
  const pollers = {
    ours: pollPlaylist(ourUrls.mediaPlaylist(servers.ours.edge.origin, stream)),
    oursPassthroughNode: pollPlaylist(ourUrls.mediaPlaylist(passthrough.edge.origin, stream)),
    nginx: pollPlaylist(servers.nginx.playlistUrl(stream)),
  };
  // Start-up, then the measured seconds; the last segment (cut by the publisher's end) is not waited for.
  const seconds = context.seconds + 8;
  context.status(`availability run ${run}/${context.runs}: stream ${stream}, ${seconds} s of media to all three, playlists polled every 50 ms`);
  const targets = [servers.ours.sidecar.publishUrl(stream), passthrough.sidecar.publishUrl(stream), servers.nginx.publishUrl(stream)];
  const publisher = context.track(startPublisher(context.ffmpeg, filePublisherArgs({ file: source, seconds, targets })));
  try {
    await Promise.race([publisher.process.exited, pause((seconds + 15) * 1000, context.signal)]);
    // Segments finished just before the publisher stopped may still be on their way.
    await pause(3000, context.signal);
  } finally {
    context.untrack(publisher);
    await publisher.stop();
    await Promise.all(Object.values(pollers).map((poller) => poller.stop()));
  }
  const firstFrameAt = publisher.firstFrameAt();
  if (firstFrameAt === undefined) throw new Error(`the publisher never sent a frame: ${publisher.errors.join(' / ')}`);
  // Segments listed after the publisher stopped include the one its end cut short: left out.
  const until = (segments: SegmentAvailability[]) => segments.filter((segment) => segment.mediaEnd <= seconds - 2);
  const timelines: RunTimelines = {
    ours: until(pollers.ours.timeline.segments),
    oursPassthroughNode: until(pollers.oursPassthroughNode.timeline.segments),
    nginx: until(pollers.nginx.timeline.segments),
    firstFrameAt,
  };
  const runMedian = (server: Server) => `${median(availabilityDelays(timelines[server], firstFrameAt, STEADY_FROM)).toFixed(3)} s over ${timelines[server].length} segments`;
  context.status(`  median: ours ${runMedian('ours')}, ours passthrough via Node ${runMedian('oursPassthroughNode')}, nginx ${runMedian('nginx')}`);
  return timelines;
}
