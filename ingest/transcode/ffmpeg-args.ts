/** Builds ffmpeg's command line for one live stream: FLV in on stdin, one CMAF track per pipe out. */
import type { Rendition } from './ladder.ts';

export interface FfmpegArgsOptions {
  renditions: readonly Rendition[];
  /** Seconds of media per CMAF chunk (one moof+mdat); the unit low-latency parts are made of. */
  chunkDuration: number;
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
  options.renditions.forEach((rendition, index) => {
    args.push(...renditionArgs(rendition));
    args.push(
      '-f', 'mp4',
      '-movflags', CMAF_MOVFLAGS,
      '-frag_duration', String(Math.round(options.chunkDuration * 1_000_000)),
      `pipe:${outputFd(index)}`,
    );
  });
  return args;
}

function renditionArgs(rendition: Rendition): string[] {
  switch (rendition.kind) {
    case 'video':
      return ['-map', '0:v:0', '-c:v', 'copy'];
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
