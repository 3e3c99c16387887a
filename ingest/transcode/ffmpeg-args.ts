/** Builds ffmpeg's command line for one live stream: FLV in on stdin, one CMAF track per pipe out. */
import { fragmentDurationFor } from '../../shared/low-latency.ts';
import type { Rendition } from './ladder.ts';

export interface FfmpegArgsOptions {
  renditions: readonly Rendition[];
  /** Seconds of media per CMAF chunk (one moof+mdat) at most: the low-latency part target. */
  chunkDuration: number;
  /** Seconds between forced keyframes of encoded renditions when no rendition passes the source through. */
  keyframeInterval: number;
}

/** The file descriptor of rendition i's output pipe: 0-2 are stdin, stdout and stderr. */
export function outputFd(index: number): number {
  return 3 + index;
}

// empty_moov+delay_moov: the init segment comes first, written once the first packets fix the
// codec configuration and the first timestamps (AAC priming, B-frames start at a nonzero dts).
// default_base_moof+cmaf: self-contained fragments as CMAF requires. frag_keyframe: every
// keyframe starts a fragment, so segments can be cut at fragment boundaries.
const CMAF_MOVFLAGS = '+frag_keyframe+empty_moov+delay_moov+default_base_moof+cmaf';

export function buildFfmpegArgs(options: FfmpegArgsOptions): string[] {
  const args = [
    '-hide_banner',
    '-nostats',
    '-loglevel', 'warning',
    // The FLV header already names the streams: no need to wait long to probe them.
    '-analyzeduration', '1000000',
    '-f', 'flv',
    '-i', 'pipe:0',
  ];
  const graph = videoFilterGraph(options.renditions);
  if (graph) args.push('-filter_complex', graph);
  // Keyframes at the same media times in every encoded rendition, so segments line up across the
  // ladder: where the source has them when it passes through (its segments are cut there),
  // else on the segment grid.
  const passesThrough = options.renditions.some((rendition) => rendition.kind === 'video' && rendition.encoding === 'copy');
  const forcedKeyframes = passesThrough ? 'source' : `expr:gte(t,n_forced*${options.keyframeInterval})`;
  options.renditions.forEach((rendition, index) => {
    args.push(...renditionArgs(rendition, index, forcedKeyframes));
    args.push(
      '-f', 'mp4',
      '-movflags', CMAF_MOVFLAGS,
      '-frag_duration', String(Math.round(fragmentDurationFor(options.chunkDuration) * 1_000_000)),
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
