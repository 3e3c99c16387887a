/**
 * The two ladders the benchmarks compare, as ffmpeg arguments (pure): the sidecar's own command
 * for the default ladder, and the blog's nginx-rtmp `exec ffmpeg` recipe (one scale and one
 * libx264 veryfast encode per rendition, audio encoded per rendition). Each takes its input and
 * outputs as parameters, so the same recipe runs offline on files (quality, CPU) and live inside
 * nginx's `exec` (pushing every rung back over RTMP).
 */
import { SourceProbe } from '../../ingest/media/source-probe.ts';
import { buildFfmpegArgs, outputFd } from '../../ingest/transcode/ffmpeg-args.ts';
import { DEFAULT_LADDER_CONFIG, planLadder, type Rendition } from '../../ingest/transcode/ladder.ts';

/** The heights the blog's recipe encodes below its top rung (the top one is the source's height). */
const PEER_HEIGHTS = [1080, 720, 480, 360, 240, 144];
const PEER_BITRATE: Record<number, number> = { 1080: 5_000_000, 720: 2_800_000, 480: 1_400_000, 360: 800_000, 240: 400_000, 144: 200_000 };

/** Five rungs: the source's height and the four below it. */
export function peerLadderHeights(sourceHeight: number): number[] {
  return [sourceHeight, ...PEER_HEIGHTS.filter((height) => height < sourceHeight).slice(0, 4)];
}

export interface PeerLadderOptions {
  input: string;
  sourceHeight: number;
  /** Where a rung goes, and in which container (`mp4` for a file, `flv` for RTMP). */
  output: (height: number) => { target: string; format: 'mp4' | 'flv' };
}

/** The blog's recipe: one output per rung, each scaled and encoded on its own. */
export function peerLadderArgs(options: PeerLadderOptions): string[] {
  const args = ['-y', '-hide_banner', '-loglevel', 'error', '-nostats', '-i', options.input];
  for (const height of peerLadderHeights(options.sourceHeight)) {
    const { target, format } = options.output(height);
    args.push(
      '-map', '0:v:0', '-map', '0:a:0',
      // Frame for frame with the source, like ours, so that quality compares the same pictures.
      '-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-b:v', String(PEER_BITRATE[height]), '-vf', `scale=-2:${height}`, '-fps_mode', 'passthrough',
      '-c:a', 'aac', '-b:a', '128k', '-f', format, target,
    );
  }
  return args;
}

/** The renditions the sidecar plans for this FLV source with its default ladder (as it decides from a live publisher's first seconds). */
export function planOurLadder(flv: Buffer): Rendition[] {
  const probe = new SourceProbe({ maxMediaSeconds: 2.2, maxBytes: 64 * 1024 * 1024 });
  for (let offset = 0; offset < flv.length; offset += 65536) {
    const facts = probe.push(flv.subarray(offset, offset + 65536));
    if (facts) return planLadder(facts, DEFAULT_LADDER_CONFIG, 2).renditions;
  }
  throw new Error('the source probe never decided');
}

/** The sidecar's own command for `renditions`, reading a file instead of the publisher's pipe and writing files instead of pipes. */
export function oursLadderArgs(source: string, sourceHeight: number, renditions: readonly Rendition[], outputFile: (rendition: string) => string): string[] {
  const args = buildFfmpegArgs({ renditions: [...renditions], keyframeInterval: 2, sourceHeight }).map((arg) => {
    if (arg === 'pipe:0') return source;
    const index = renditions.findIndex((_, i) => arg === `pipe:${outputFd(i)}`);
    return index >= 0 ? outputFile(renditions[index]!.name) : arg;
  });
  return ['-y', ...args];
}

const SOURCE_BITRATE: Record<number, string> = { 360: '1000k', 480: '1800k', 720: '4000k', 1080: '7000k' };

/**
 * A test source as OBS sends it (H.264 with 2 s keyframes, AAC), 16:9 at `height`p30, as an FLV
 * file: what every benchmark publishes, copied in real time.
 */
export function sourceFileArgs(height: number, seconds: number, file: string): string[] {
  const width = Math.round((height * 16) / 9 / 2) * 2;
  return [
    '-y', '-hide_banner', '-loglevel', 'error',
    '-f', 'lavfi', '-i', `testsrc2=size=${width}x${height}:rate=30`,
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-t', String(seconds),
    '-c:v', 'libx264', '-preset', 'superfast', '-g', '60', '-b:v', SOURCE_BITRATE[height] ?? '4000k', '-pix_fmt', 'yuv420p',
    '-c:a', 'aac', '-b:a', '128k', '-f', 'flv', file,
  ];
}
