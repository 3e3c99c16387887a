/**
 * Builds ffmpeg's command line for one live stream: FLV in on stdin, already on the run's
 * timeline (FlvRestamper), and one FLV per rendition it makes, each on its own pipe, read back
 * into frames for the sidecar's packager. ffmpeg only encodes: it cuts nothing.
 */
import type { Rendition } from './ladder.ts';

export interface FfmpegArgsOptions {
  /** The renditions ffmpeg makes (the sidecar remuxes the others itself). */
  renditions: readonly Rendition[];
  /** Seconds between forced keyframes of encoded renditions when the source's own are not followed. */
  keyframeInterval: number;
  /**
   * Encoded keyframes where the source has them (the source passes through, in-process or not):
   * its segments are cut there. Default: when one of `renditions` passes the source through.
   */
  keyframesFromSource?: boolean;
  /** The source's picture height, when known: a source of 1080 lines or fewer is decoded and scaled in one thread. */
  sourceHeight?: number;
}

/** The file descriptor of rendition i's output pipe: 0-2 are stdin, stdout and stderr. */
export function outputFd(index: number): number {
  return 3 + index;
}

export function buildFfmpegArgs(options: FfmpegArgsOptions): string[] {
  const args = [
    '-hide_banner',
    '-nostats',
    '-loglevel', 'warning',
    // The FLV header already names the streams: no need to wait long to probe them.
    '-analyzeduration', '1000000',
    // The input's timestamps are the run's media time, and so are the outputs': a rung's frame
    // carries the time of the source frame it was made from.
    '-copyts',
    ...decodingThreads(options.sourceHeight),
    '-f', 'flv',
    '-i', 'pipe:0',
  ];
  const graph = videoFilterGraph(options.renditions);
  if (graph) args.push('-filter_complex', graph);
  // Keyframes at the same media times in every encoded rendition, so segments line up across the
  // ladder: where the source has them when it passes through (its segments are cut there),
  // else every keyframe interval from the first frame (ffmpeg's t counts from it), on or just
  // past each line of the packager's grid, so it cuts there.
  const passesThrough = options.keyframesFromSource ?? options.renditions.some((rendition) => rendition.kind === 'video' && rendition.encoding === 'copy');
  const forcedKeyframes = passesThrough ? 'source' : `expr:gte(t,n_forced*${options.keyframeInterval})`;
  options.renditions.forEach((rendition, index) => {
    args.push(...renditionArgs(rendition, index, forcedKeyframes));
    args.push(
      '-f', 'flv',
      // A pipe cannot be rewound to fill in the duration and size at the end.
      '-flvflags', 'no_duration_filesize',
      // Every frame leaves at once: the packager closes a part when the next frame arrives.
      '-flush_packets', '1',
      `pipe:${outputFd(index)}`,
    );
  });
  return args;
}

/** The label of encoded video rendition i's output in the filter graph. */
function videoLabel(index: number): string {
  return `v${index}`;
}

/**
 * One filter graph for every encoded video rendition: the source is decoded once, split, and
 * each branch scaled to its rung's height (width follows the aspect ratio, kept even).
 */
function videoFilterGraph(renditions: readonly Rendition[]): string | undefined {
  const encoded = renditions.flatMap((rendition, index) => (rendition.kind === 'video' && rendition.encoding === 'h264' ? [{ rendition, index }] : []));
  if (encoded.length === 0) return undefined;
  const branches = encoded.map(({ index }) => `b${index}`);
  const filters = [encoded.length === 1 ? `[0:v:0]null[${branches[0]}]` : `[0:v:0]split=${encoded.length}${branches.map((b) => `[${b}]`).join('')}`];
  for (const [position, { rendition, index }] of encoded.entries()) {
    const scale = rendition.height === undefined ? 'null' : `scale=-2:${rendition.height}`;
    filters.push(`[${branches[position]}]${scale}[${videoLabel(index)}]`);
  }
  return filters.join(';');
}

function renditionArgs(rendition: Rendition, index: number, forcedKeyframes: string): string[] {
  switch (rendition.kind) {
    case 'video':
      if (rendition.encoding === 'copy') return ['-map', '0:v:0', '-c:v', 'copy'];
      return [
        '-map', `[${videoLabel(index)}]`,
        '-c:v', 'libx264',
        '-preset', rendition.preset,
        // No lookahead and no B-frames: a frame leaves the encoder as soon as it is in, which
        // live latency needs (low-latency HLS parts most), and it costs less CPU per rung.
        '-tune', 'zerolatency',
        '-profile:v', 'high',
        '-pix_fmt', 'yuv420p',
        '-b:v', String(rendition.bitrate),
        '-maxrate', String(Math.round(rendition.bitrate * 1.1)),
        '-bufsize', String(rendition.bitrate * 2),
        // Keyframes only where forced: a scene-cut keyframe in one rendition would cut its
        // segment where the others do not.
        '-sc_threshold', '0',
        '-force_key_frames', forcedKeyframes,
        // Frame for frame with the source, on its timestamps: a constant-frame-rate output would
        // drop or repeat frames of a millisecond-timestamped FLV and move the forced keyframes.
        '-fps_mode', 'passthrough',
        ...encoderThreads(rendition.height),
      ];
    case 'audio':
      return [
        '-map', '0:a:0',
        '-c:a', 'aac',
        '-b:a', String(rendition.bitrate),
        '-ar', String(rendition.sampleRate),
        '-ac', String(rendition.channels),
      ];
  }
}

/**
 * The source is decoded, and the filter graph run, in one thread each when the picture is 1080
 * lines or fewer. Live, frames come one at a time 30 times a second: the decoder's frame threads
 * and the filter graph's slice threads are woken for every frame, and the waking costs more than
 * they save (an ffmpeg making 480p and 360p from a 720p30 source live: 4.09-4.19 CPU-s per 20 s
 * against 4.28-4.51 with them, 2026-12-06 21:23 UTC). One decode thread also stops the 2-frame
 * delay frame threading adds before a rung's encoder sees a frame. A taller source keeps them: a
 * 2160p frame decoded in one thread would leave too little of a frame interval for the encoders.
 */
const SINGLE_THREAD_DECODE_MAX_HEIGHT = 1080;

function decodingThreads(sourceHeight: number | undefined): string[] {
  return sourceHeight !== undefined && sourceHeight > 0 && sourceHeight <= SINGLE_THREAD_DECODE_MAX_HEIGHT ? ['-filter_complex_threads', '1', '-threads', '1'] : [];
}

/**
 * A small rung is encoded by one x264 thread. With `-tune zerolatency` x264 otherwise splits each
 * frame into one slice per thread: for a picture of 30 macroblock rows or fewer the slices'
 * synchronisation and their lost prediction cost more than the parallelism saves (measured on a
 * 720p ladder: CPU -5 % and SSIM a hair better with one thread; BENCHMARKS.md). Taller rungs keep
 * sliced threads: ffmpeg encodes every rung of a frame one after another in one thread, so a big
 * single-threaded rung would add its whole encode time to each frame's way through.
 */
const SINGLE_THREAD_MAX_HEIGHT = 480;

function encoderThreads(height: number | undefined): string[] {
  return height !== undefined && height <= SINGLE_THREAD_MAX_HEIGHT ? ['-threads', '1'] : [];
}
