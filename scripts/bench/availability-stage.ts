/**
 * Stage "availability": how long after a segment's media ends (publisher clock: its first
 * frame's wall time plus media time) viewers' playlists first list it, polling every 50 ms: our
 * source rendition's media playlist through the edge, nginx's playlist over its HTTP. One
 * publisher (a pre-encoded 720p30 file copied in real time) feeds both; a new stream per run.
 */
import type { BenchContext } from './bench-context.ts';
import { median, percentile } from './measure.ts';
import { ourUrls } from './our-platform.ts';
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
  nginx: AvailabilityFigures;
  ratioP50: number;
}

/** Segments whose delay counts: all but the first (start-up), while the publisher still ran. */
const STEADY_FROM = 1;

interface RunTimelines {
  ours: SegmentAvailability[];
  nginx: SegmentAvailability[];
  firstFrameAt: number;
}

function figures(runs: RunTimelines[], server: 'ours' | 'nginx'): AvailabilityFigures {
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

export async function runAvailabilityStage(context: BenchContext): Promise<AvailabilityResult> {
  const servers = await context.servers();
  const source = await context.sourceFile(720);
  const runs: RunTimelines[] = [];
  for (let run = 1; run <= context.runs; run++) {
    const stream = `avail${run}${Date.now().toString(36)}`;
    const pollers = {
      ours: pollPlaylist(ourUrls.mediaPlaylist(servers.ours.edge.origin, stream)),
      nginx: pollPlaylist(servers.nginx.playlistUrl(stream)),
    };
    // Start-up, then the measured seconds; the last segment (cut by the publisher's end) is not waited for.
    const seconds = context.seconds + 8;
    context.status(`availability run ${run}/${context.runs}: stream ${stream}, ${seconds} s of media to both, playlists polled every 50 ms`);
    const publisher = context.track(startPublisher(context.ffmpeg, filePublisherArgs({ file: source, seconds, targets: [servers.ours.sidecar.publishUrl(stream), servers.nginx.publishUrl(stream)] })));
    try {
      await Promise.race([publisher.process.exited, pause((seconds + 15) * 1000, context.signal)]);
      // Segments finished just before the publisher stopped may still be on their way.
      await pause(3000, context.signal);
    } finally {
      context.untrack(publisher);
      await publisher.stop();
      await Promise.all([pollers.ours.stop(), pollers.nginx.stop()]);
    }
    const firstFrameAt = publisher.firstFrameAt();
    if (firstFrameAt === undefined) throw new Error(`the publisher never sent a frame: ${publisher.errors.join(' / ')}`);
    // Segments listed after the publisher stopped include the one its end cut short: left out.
    const until = (segments: SegmentAvailability[]) => segments.filter((segment) => segment.mediaEnd <= seconds - 2);
    runs.push({ ours: until(pollers.ours.timeline.segments), nginx: until(pollers.nginx.timeline.segments), firstFrameAt });
    const last = runs.at(-1)!;
    context.status(
      `  ours median ${median(availabilityDelays(last.ours, firstFrameAt, STEADY_FROM)).toFixed(3)} s over ${last.ours.length} segments, nginx ${median(availabilityDelays(last.nginx, firstFrameAt, STEADY_FROM)).toFixed(3)} s over ${last.nginx.length}`,
    );
  }
  const ours = figures(runs, 'ours');
  const nginx = figures(runs, 'nginx');
  return { ours, nginx, ratioP50: ours.p50 / nginx.p50 };
}
