/**
 * Stage "thumbnails": what a live stream's thumbnails cost (issue 17's goal: under 0.5 % of a
 * core per stream at one every 10 s), with the sidecar's own code on the bench's 720p30 source:
 * the keyframe tap reading every tag of the stream (in this process, CPU per media second), and
 * one thumbnail (a keyframe to Annex-B, a short-lived ffmpeg decoding it into the full size and
 * the fixed widths, the JPEGs read back) repeated: ffmpeg's CPU from this process's waited-for
 * children (/proc/self/stat cutime+cstime), the Node side from process.cpuUsage. Also how much of
 * ffmpeg's share is only its start (`ffmpeg -version`): the dynamic linking of its libraries.
 * The thumbnails are made as the sidecar makes them (with WebPs when this ffmpeg has libwebp), and
 * as many again JPEG-only in the same run, interleaved: what the WebPs add.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { KeyframeTap } from '../../ingest/thumbnails/keyframe-tap.ts';
import { encodeThumbnail, ffmpegHasEncoder } from '../../ingest/thumbnails/thumbnail-encoder.ts';
import { THUMBNAIL_INTERVAL_MS, thumbnailWidthsFor } from '../../shared/thumbnail/thumbnail-sizes.ts';
import type { BenchContext } from './bench-context.ts';

export const THUMBNAIL_GOAL_PERCENT_PER_STREAM = 0.5;

export interface ThumbnailCostResult {
  ffmpeg: string;
  source: string;
  thumbnails: number;
  widths: number[];
  /** Whether the thumbnails include WebPs (the sidecar makes them when its ffmpeg has libwebp). */
  webp: boolean;
  /** CPU seconds per thumbnail: ffmpeg (children) and the sidecar's Node side (spawn, pipes). */
  ffmpegCpuSecondsPerThumbnail: number;
  nodeCpuSecondsPerThumbnail: number;
  /** The same, JPEG only (no WebP), measured interleaved with the above. */
  jpegOnlyFfmpegCpuSecondsPerThumbnail: number;
  jpegOnlyNodeCpuSecondsPerThumbnail: number;
  /** CPU seconds of `ffmpeg -version` alone: what starting the binary costs. */
  ffmpegStartCpuSeconds: number;
  /** The keyframe tap reading the stream's FLV, CPU seconds per media second. */
  tapCpuSecondsPerMediaSecond: number;
  intervalSeconds: number;
  cpuPercentPerStream: number;
  goalPercentPerStream: number;
  load1: number;
}

const CLOCK_TICKS_PER_SECOND = 100;

/** CPU seconds of this process's children that have exited and been waited for. */
function waitedChildrenCpuSeconds(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[13]) + Number(fields[14])) / CLOCK_TICKS_PER_SECOND;
}

function ownCpuSeconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}

/** The FLV in tag-sized pieces, as node-media-server hands a stream to the sidecar. */
function tagPieces(flv: Buffer): { pieces: Buffer[]; mediaSeconds: number } {
  const pieces = [flv.subarray(0, 13)];
  let last = 0;
  for (let offset = 13; offset + 11 <= flv.length; ) {
    const size = flv.readUIntBE(offset + 1, 3);
    last = Math.max(last, flv.readUIntBE(offset + 4, 3) | (flv[offset + 7]! << 24));
    pieces.push(flv.subarray(offset, offset + 11 + size + 4));
    offset += 11 + size + 4;
  }
  return { pieces, mediaSeconds: last / 1000 };
}

export async function runThumbnailCostStage(context: BenchContext): Promise<ThumbnailCostResult> {
  const source = await context.sourceFile(720);
  const { pieces, mediaSeconds } = tagPieces(readFileSync(source));

  // The tap as every stream runs it between thumbnails: each tag's header looked at, nothing taken.
  const passes = Math.max(3, Math.ceil(60 / mediaSeconds));
  const tapStart = ownCpuSeconds();
  for (let pass = 0; pass < passes; pass++) {
    const tap = new KeyframeTap({ wanted: () => false, onKeyframe: () => {}, onProblem: () => {} });
    for (const piece of pieces) tap.write(piece);
  }
  const tapCpuSecondsPerMediaSecond = (ownCpuSeconds() - tapStart) / (passes * mediaSeconds);

  const keyframes: Uint8Array[] = [];
  let width = 0;
  const collect = new KeyframeTap({ wanted: () => true, onKeyframe: (annexB, picture) => (keyframes.push(annexB), (width = picture.width)), onProblem: () => {} });
  for (const piece of pieces) collect.write(piece);
  if (keyframes.length === 0) throw new Error(`no H.264 keyframe in ${source}`);
  const widths = thumbnailWidthsFor(width);

  const thumbnails = Math.max(20, context.runs * 10);
  const webp = await ffmpegHasEncoder(context.ffmpeg, 'libwebp');
  context.status(`thumbnails: ${thumbnails} thumbnails from ${keyframes.length} keyframes of ${source} (${width} wide; widths ${widths.join(', ')}${webp ? '; JPEG + WebP, and JPEG only' : ''})…`);
  // Interleaved (one of each in turn), so a change of the machine's load falls on both alike.
  const spent = { webp: { ffmpeg: 0, node: 0 }, jpeg: { ffmpeg: 0, node: 0 } };
  for (let i = 0; i < thumbnails; i++) {
    for (const withWebp of webp ? [true, false] : [false]) {
      if (context.signal.aborted) throw context.signal.reason;
      const childrenStart = waitedChildrenCpuSeconds();
      const nodeStart = ownCpuSeconds();
      await encodeThumbnail({ ffmpegPath: context.ffmpeg, keyframe: keyframes[i % keyframes.length]!, widths, webp: withWebp, timeoutMs: 10_000 });
      const into = withWebp ? spent.webp : spent.jpeg;
      into.ffmpeg += waitedChildrenCpuSeconds() - childrenStart;
      into.node += ownCpuSeconds() - nodeStart;
    }
  }
  // What the sidecar spends: with WebPs when its ffmpeg can.
  const made = webp ? spent.webp : spent.jpeg;
  const ffmpegCpuSecondsPerThumbnail = made.ffmpeg / thumbnails;
  const nodeCpuSecondsPerThumbnail = made.node / thumbnails;

  const starts = 20;
  const startBefore = waitedChildrenCpuSeconds();
  for (let i = 0; i < starts; i++) spawnSync(context.ffmpeg, ['-version'], { stdio: 'ignore' });
  const ffmpegStartCpuSeconds = (waitedChildrenCpuSeconds() - startBefore) / starts;

  const intervalSeconds = THUMBNAIL_INTERVAL_MS / 1000;
  const cpuPercentPerStream = ((ffmpegCpuSecondsPerThumbnail + nodeCpuSecondsPerThumbnail) / intervalSeconds + tapCpuSecondsPerMediaSecond) * 100;
  return {
    ffmpeg: context.ffmpeg,
    source,
    thumbnails,
    widths,
    webp,
    ffmpegCpuSecondsPerThumbnail,
    nodeCpuSecondsPerThumbnail,
    jpegOnlyFfmpegCpuSecondsPerThumbnail: spent.jpeg.ffmpeg / thumbnails,
    jpegOnlyNodeCpuSecondsPerThumbnail: spent.jpeg.node / thumbnails,
    ffmpegStartCpuSeconds,
    tapCpuSecondsPerMediaSecond,
    intervalSeconds,
    cpuPercentPerStream,
    goalPercentPerStream: THUMBNAIL_GOAL_PERCENT_PER_STREAM,
    load1: loadavg()[0]!,
  };
}

export function thumbnailCostLines(cost: ThumbnailCostResult): string[] {
  const ms = (seconds: number) => (seconds * 1000).toFixed(1);
  return [
    `Thumbnail cost: ${cost.thumbnails} thumbnails of the 720p30 source (full size + ${cost.widths.join('/')} wide, ${cost.webp ? 'JPEG + WebP' : 'JPEG'}), ffmpeg ${cost.ffmpeg}, load ${cost.load1.toFixed(1)}`,
    `  per thumbnail: ffmpeg ${ms(cost.ffmpegCpuSecondsPerThumbnail)} ms CPU (of which starting the binary ${ms(cost.ffmpegStartCpuSeconds)} ms), sidecar ${ms(cost.nodeCpuSecondsPerThumbnail)} ms; keyframe tap ${ms(cost.tapCpuSecondsPerMediaSecond)} ms per media second`,
    ...(cost.webp ? [`  JPEG only (same run, interleaved): ffmpeg ${ms(cost.jpegOnlyFfmpegCpuSecondsPerThumbnail)} ms, sidecar ${ms(cost.jpegOnlyNodeCpuSecondsPerThumbnail)} ms per thumbnail: the WebPs add ${ms(cost.ffmpegCpuSecondsPerThumbnail + cost.nodeCpuSecondsPerThumbnail - cost.jpegOnlyFfmpegCpuSecondsPerThumbnail - cost.jpegOnlyNodeCpuSecondsPerThumbnail)} ms`] : []),
    `  ${cost.cpuPercentPerStream.toFixed(2)} % of a core per stream at one every ${cost.intervalSeconds} s: goal < ${cost.goalPercentPerStream} % ${cost.cpuPercentPerStream < cost.goalPercentPerStream ? 'met' : 'NOT met'}`,
    '',
  ];
}
