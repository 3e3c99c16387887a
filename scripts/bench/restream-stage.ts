/**
 * Stage "restream" (run when named): whether restreaming holds back a stream's own HLS. One
 * publisher (the pre-encoded 720p30 file copied in real time) feeds two keyed streams of one
 * sidecar at once: one without outputs, one with two outputs (to nginx-rtmp's app `live`). The
 * availability delay of each one's source playlist (polled every 50 ms through our edge) is
 * compared in the same runs, and the outputs' states are read from the operations API mid-run.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { StreamStore } from '../../ingest/streams/stream-store.ts';
import type { BenchContext } from './bench-context.ts';
import { pause } from './bench-context.ts';
import { median, percentile } from './measure.ts';
import { ourUrls, startOurSidecar } from './our-platform.ts';
import { pollPlaylist } from './playlist-poller.ts';
import { filePublisherArgs, startPublisher } from './publishers.ts';
import { availabilityDelays, type SegmentAvailability } from './segment-timeline.ts';

export interface RestreamResult {
  /** Availability delay of the stream without outputs, seconds: p50, p95. */
  without: { p50: number; p95: number; segments: number };
  /** The same of the stream with two outputs, in the same runs. */
  withOutputs: { p50: number; p95: number; segments: number };
  /** withOutputs.p50 - without.p50, seconds. */
  differenceP50: number;
  /** Outputs seen `live` mid-run, of those configured, per run. */
  outputsLive: string[];
}

const ADMIN_TOKEN = 'bench-restream-admin';

export async function runRestreamStage(context: BenchContext): Promise<RestreamResult> {
  const servers = await context.servers();
  const source = await context.sourceFile(720);
  const dir = join(context.work, 'restream');
  mkdirSync(dir, { recursive: true });
  const store = new StreamStore(join(dir, 'streams.json'));
  store.add('bench-setup');
  const sidecar = await startOurSidecar(servers.ours.edge, dir, { streamsFile: store.path, api: { adminToken: ADMIN_TOKEN } });
  context.track({ stop: () => sidecar.process.stop() });
  const delays = { without: [] as number[], withOutputs: [] as number[] };
  const outputsLive: string[] = [];
  try {
    for (let run = 1; run <= context.runs; run++) {
      const suffix = `${run}${Date.now().toString(36)}`;
      const plain = store.add(`plain-${suffix}`);
      const restreamed = store.add(`restreamed-${suffix}`);
      for (const target of ['a', 'b']) store.addOutput(restreamed.stream.name, servers.nginx.publishUrl('x').replace(/\/x$/, ''), `rs-${suffix}-${target}`);
      const pollers = {
        without: pollPlaylist(ourUrls.mediaPlaylist(servers.ours.edge.origin, plain.stream.playbackId)),
        withOutputs: pollPlaylist(ourUrls.mediaPlaylist(servers.ours.edge.origin, restreamed.stream.playbackId)),
      };
      const seconds = context.seconds + 8;
      context.status(`restream run ${run}/${context.runs}: ${seconds} s of media to a stream without outputs and one with two, playlists polled every 50 ms`);
      const publisher = context.track(startPublisher(context.ffmpeg, filePublisherArgs({ file: source, seconds, targets: [sidecar.publishUrl(plain.key), sidecar.publishUrl(restreamed.key)] })));
      try {
        await pause(Math.min(15, seconds / 2) * 1000, context.signal);
        const answer = (await (await fetch(`${sidecar.apiUrl}/streams`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).json()) as { streams: { playbackId: string; outputs: { state: string }[] }[] };
        const outputs = answer.streams.find((stream) => stream.playbackId === restreamed.stream.playbackId)?.outputs ?? [];
        outputsLive.push(`${outputs.filter((output) => output.state === 'live').length}/2`);
        await Promise.race([publisher.process.exited, pause((seconds + 15) * 1000, context.signal)]);
        await pause(3000, context.signal);
      } finally {
        context.untrack(publisher);
        await publisher.stop();
        await Promise.all([pollers.without.stop(), pollers.withOutputs.stop()]);
      }
      const firstFrameAt = publisher.firstFrameAt();
      if (firstFrameAt === undefined) throw new Error(`the publisher never sent a frame: ${publisher.errors.join(' / ')}`);
      const until = (segments: SegmentAvailability[]) => segments.filter((segment) => segment.mediaEnd <= seconds - 2);
      const without = availabilityDelays(until(pollers.without.timeline.segments), firstFrameAt, 1);
      const withOutputs = availabilityDelays(until(pollers.withOutputs.timeline.segments), firstFrameAt, 1);
      delays.without.push(...without);
      delays.withOutputs.push(...withOutputs);
      context.status(`  without outputs median ${median(without).toFixed(3)} s over ${without.length} segments, with two ${median(withOutputs).toFixed(3)} s over ${withOutputs.length}; outputs live ${outputsLive.at(-1)}`);
    }
  } finally {
    await sidecar.process.stop();
  }
  const figures = (values: number[]) => ({ p50: percentile(values, 0.5), p95: percentile(values, 0.95), segments: values.length });
  const without = figures(delays.without);
  const withOutputs = figures(delays.withOutputs);
  return { without, withOutputs, differenceP50: withOutputs.p50 - without.p50, outputsLive };
}

export function restreamLines(result: RestreamResult): string[] {
  return [
    '## Restreaming and the stream\'s own HLS',
    '',
    `Availability delay of the source playlist, same runs: without outputs p50 ${result.without.p50.toFixed(3)} s / p95 ${result.without.p95.toFixed(3)} s (${result.without.segments} segments); ` +
      `with two outputs p50 ${result.withOutputs.p50.toFixed(3)} s / p95 ${result.withOutputs.p95.toFixed(3)} s (${result.withOutputs.segments}); difference of the p50s ${result.differenceP50.toFixed(3)} s. Outputs live mid-run: ${result.outputsLive.join(', ')}.`,
    '',
  ];
}
