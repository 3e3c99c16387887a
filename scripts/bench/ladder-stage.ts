/**
 * Stage "ladder": what a ladder costs live, and what it looks like. The same source file
 * (720p30 or 1080p30, H.264/AAC, 2 s keyframes) is published in real time to our sidecar
 * (default ladder, thumbnails off) and, separately, to nginx's app `abr720`/`abr1080` (the blog's `exec ffmpeg` five-rung
 * ladder); CPU seconds of the whole process tree (sidecar + its ffmpeg; nginx + its exec
 * ffmpeg) are counted over a steady-state stretch, and the pace of the ladder's output is
 * checked against real time.
 * Quality: each recipe run once on the file (`ladder-recipes.ts`, the same arguments), SSIM of
 * every rendition against the source.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pause, type BenchContext, type ServersUnderTest } from './bench-context.ts';
import { oursLadderArgs, peerLadderArgs, peerLadderHeights, planOurLadder } from './ladder-recipes.ts';
import { median, runMeasured, treeCpuSeconds } from './measure.ts';
import { measureSsim } from './quality.ts';
import { ourUrls, startOurSidecar, type OurSidecar } from './our-platform.ts';
import { pollPlaylist } from './playlist-poller.ts';
import { filePublisherArgs, startPublisher } from './publishers.ts';

export interface LadderFigures {
  renditions: string[];
  /** CPU seconds per media second, median of runs. */
  cpuPerMediaSecond: number;
  runs: number[];
  /** Media seconds put out per wall second while counted, per run (below 1: it fell behind real time). */
  realTimeRatio: number[];
  ssim: Record<string, number>;
}

export interface LadderSourceResult {
  source: string;
  ours: LadderFigures;
  nginx: LadderFigures;
  ratio: number;
}

/** Publishing starts the transcoders; this much is left out before counting. */
const WARM_UP_SECONDS = 8;

/**
 * CPU seconds of the server's process tree per second of media, the input coming in real time
 * (so wall seconds are media seconds), and the pace of its output: media seconds of the
 * segments first listed in an output playlist while counted, per wall second. Counted over 2 s
 * segments the pace is coarse (about ±0.1 over 20 s); well below 1, the transcoder fell behind
 * real time and its CPU figure understates what it needs.
 */
async function liveCpuPerMediaSecond(context: BenchContext, rootPid: number, publishUrl: string, outputPlaylist: string, source: string): Promise<{ cpuPerMediaSecond: number; realTimeRatio: number }> {
  const publisher = context.track(startPublisher(context.ffmpeg, filePublisherArgs({ file: source, seconds: WARM_UP_SECONDS + context.seconds + 5, targets: [publishUrl] })));
  const poller = pollPlaylist(outputPlaylist, 100);
  try {
    await pause(WARM_UP_SECONDS * 1000, context.signal);
    const before = treeCpuSeconds(rootPid);
    const started = Date.now();
    await pause(context.seconds * 1000, context.signal);
    const cpu = treeCpuSeconds(rootPid) - before;
    const ended = Date.now();
    if (publisher.process.hasExited) throw new Error(`the publisher stopped early: ${publisher.errors.join(' / ')}`);
    const listed = poller.timeline.segments.filter((segment) => segment.firstListedAt >= started && segment.firstListedAt < ended);
    const mediaSeconds = listed.reduce((sum, segment) => sum + segment.duration, 0);
    if (mediaSeconds === 0) throw new Error(`no output segment listed while counting (${outputPlaylist})`);
    return { cpuPerMediaSecond: cpu / ((ended - started) / 1000), realTimeRatio: mediaSeconds / ((ended - started) / 1000) };
  } finally {
    await poller.stop();
    context.untrack(publisher);
    await publisher.stop();
    // Let the stream end and its transcoder go before the next measurement.
    await pause(3000, context.signal);
  }
}

async function qualityOf(context: BenchContext, source: string, height: number): Promise<{ ours: Record<string, number>; nginx: Record<string, number>; oursNames: string[] }> {
  const renditions = planOurLadder(readFileSync(source));
  const file = (who: string, name: string) => join(context.work, `${who}-${height}-${name}.mp4`);
  const log = join(context.work, 'ffmpeg.log');
  await runMeasured(context.ffmpeg, oursLadderArgs(source, height, renditions, (name) => file('ours', name)), log);
  await runMeasured(context.ffmpeg, peerLadderArgs({ input: source, sourceHeight: height, output: (rung) => ({ target: file('nginx', `${rung}p`), format: 'mp4' }) }), log);
  const ours: Record<string, number> = {};
  for (const rendition of renditions) if (rendition.kind === 'video') ours[rendition.name] = await measureSsim(context.ffmpeg, file('ours', rendition.name), source);
  const nginx: Record<string, number> = {};
  for (const rung of peerLadderHeights(height)) nginx[`${rung}p`] = await measureSsim(context.ffmpeg, file('nginx', `${rung}p`), source);
  return { ours, nginx, oursNames: renditions.map((rendition) => rendition.name) };
}

export async function runLadderStage(context: BenchContext, heights: number[]): Promise<LadderSourceResult[]> {
  const servers = await context.servers();
  // A sidecar of its own with the default ladder and no thumbnails: the shared one's thumbnail
  // ffmpegs (one keyframe every 10 s, ~0.01 CPU-s per media-s: the thumbnails stage's figure) are
  // not the ladder, and nginx's recipe makes none.
  context.status('ladder: starting a sidecar with the default ladder and --thumbnails off on the shared edge…');
  const sidecar = await startOurSidecar(servers.ours.edge, join(context.work, 'ladder-sidecar'), { extraArgs: ['--thumbnails', 'off'] });
  context.track(sidecar.process);
  try {
    return await measureLadders(context, servers, sidecar, heights);
  } finally {
    context.untrack(sidecar.process);
    await sidecar.process.stop();
  }
}

async function measureLadders(context: BenchContext, servers: ServersUnderTest, sidecar: OurSidecar, heights: number[]): Promise<LadderSourceResult[]> {
  const results: LadderSourceResult[] = [];
  for (const height of heights) {
    const source = await context.sourceFile(height);
    // The pace of what ffmpeg makes: the source is remuxed in-process beside it and keeps pace
    // whatever the encoder does, so a rung's playlist is polled (every rung comes from one ffmpeg).
    const paced = planOurLadder(readFileSync(source)).filter((rendition) => rendition.kind === 'video' && rendition.encoding === 'h264').at(-1)?.name ?? 'source';
    const oursRuns: number[] = [];
    const nginxRuns: number[] = [];
    const oursPace: number[] = [];
    const nginxPace: number[] = [];
    for (let run = 1; run <= context.runs; run++) {
      const stream = `ladder${height}r${run}${Date.now().toString(36)}`;
      context.status(`ladder ${height}p30 run ${run}/${context.runs}: ours (sidecar, default ladder), ${context.seconds} s counted`);
      const ours = await liveCpuPerMediaSecond(context, sidecar.process.pid!, sidecar.publishUrl(stream), ourUrls.mediaPlaylist(servers.ours.edge.origin, stream).replace('/source/', `/${paced}/`), source);
      oursRuns.push(ours.cpuPerMediaSecond);
      oursPace.push(ours.realTimeRatio);
      context.status(`ladder ${height}p30 run ${run}/${context.runs}: nginx (exec ffmpeg, ${peerLadderHeights(height).map((h) => `${h}p`).join(' ')})`);
      // Its rungs are separate streams: the top one (the most work) counts.
      const nginx = await liveCpuPerMediaSecond(context, servers.nginx.process.pid!, servers.nginx.publishUrl(stream, `abr${height}`), servers.nginx.rungPlaylistUrl(`${stream}_${height}p`), source);
      nginxRuns.push(nginx.cpuPerMediaSecond);
      nginxPace.push(nginx.realTimeRatio);
      context.status(`  ours ${ours.cpuPerMediaSecond.toFixed(2)} CPU-s per media-s (output at ${ours.realTimeRatio.toFixed(2)}x real time), nginx ${nginx.cpuPerMediaSecond.toFixed(2)} (${nginx.realTimeRatio.toFixed(2)}x)`);
    }
    context.status(`ladder ${height}p30: SSIM of every rendition against the source (both recipes run on the file)`);
    const quality = await qualityOf(context, source, height);
    const ours = median(oursRuns);
    const nginx = median(nginxRuns);
    results.push({
      source: `${height}p30`,
      ours: { renditions: quality.oursNames, cpuPerMediaSecond: ours, runs: oursRuns, realTimeRatio: oursPace, ssim: quality.ours },
      nginx: { renditions: peerLadderHeights(height).map((h) => `${h}p`), cpuPerMediaSecond: nginx, runs: nginxRuns, realTimeRatio: nginxPace, ssim: quality.nginx },
      ratio: ours / nginx,
    });
  }
  return results;
}
