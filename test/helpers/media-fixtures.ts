/** Real media for tests, made by ffmpeg on the spot: an FLV as a publisher sends it, and its CMAF tracks. */
import { spawn } from 'node:child_process';
import { locateFfmpeg } from '../../ingest/transcode/ffmpeg-binary.ts';
import { PASSTHROUGH_ONLY, type Rendition, type SourceFacts } from '../../ingest/transcode/ladder.ts';
import { SourceProbe } from '../../ingest/media/source-probe.ts';
import type { JoinedSegment } from './remux.ts';
import type { CmafTrack } from '../../ingest/package/cmaf-track.ts';
import { testPatternAudioInput, testPatternVideoInput } from '../../scripts/lib/ffmpeg-args.ts';
import { runLadder } from './ladder-run.ts';

export interface FlvOptions {
  seconds: number;
  /** Keyframe interval in frames at 30 fps. */
  gopFrames: number;
  size?: string;
  /** With an AAC track (default true). */
  audio?: boolean;
  /** With an H.264 track (default true). */
  video?: boolean;
  pixelFormat?: string;
  /** libx264 preset (default veryfast). */
  preset?: string;
  /** libx264 keyframe placement instead of a fixed GOP, e.g. `expr:...` for irregular keyframes. */
  forceKeyframes?: string;
  /** B-frames between reference frames (libx264 `-bf`; its preset's own when unset). */
  bFrames?: number;
  /** The tone's sample rate (default 48000). */
  audioSampleRate?: number;
  /** Audio encoder (default aac), e.g. libmp3lame for an MP3 source. */
  audioCodec?: string;
}

/** An H.264/AAC FLV like OBS or ffmpeg publish, as bytes. */
export function makeFlv(options: FlvOptions): Promise<Buffer> {
  const args = [
    '-hide_banner', '-loglevel', 'error',
    ...(options.video === false ? [] : testPatternVideoInput({ size: options.size ?? '640x360' })),
    ...(options.audio === false ? [] : testPatternAudioInput({ sampleRate: options.audioSampleRate })),
    '-t', String(options.seconds),
    ...(options.video === false
      ? []
      : ['-c:v', 'libx264', '-preset', options.preset ?? 'veryfast', '-g', String(options.gopFrames), '-pix_fmt', options.pixelFormat ?? 'yuv420p']),
    ...(options.forceKeyframes ? ['-sc_threshold', '0', '-force_key_frames', options.forceKeyframes] : []),
    ...(options.bFrames === undefined || options.video === false ? [] : ['-bf', String(options.bFrames)]),
    ...(options.audio === false ? [] : ['-c:a', options.audioCodec ?? 'aac']),
    '-f', 'flv', 'pipe:1',
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(locateFfmpeg(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk));
    child.on('close', (code) => (code === 0 ? resolve(Buffer.concat(out)) : reject(new Error(`ffmpeg: ${err}`))));
  });
}

/**
 * Feeds FLV bytes to the sidecar's source probe in pieces, as they arrive from a publisher: the
 * facts once it settles (or all it learnt by the end), and how much it had buffered by then.
 */
export function probeFlv(flv: Buffer, pieceSize = flv.length, maxMediaSeconds = 2.2): { facts: SourceFacts; bufferedBytes: number; problem: string | undefined } {
  const source = new SourceProbe({ maxMediaSeconds, maxBytes: 64 * 1024 * 1024 });
  for (let offset = 0; offset < flv.length; offset += pieceSize) {
    const facts = source.push(flv.subarray(offset, offset + pieceSize));
    if (facts) return { facts, bufferedBytes: source.buffered.reduce((sum, chunk) => sum + chunk.length, 0), problem: source.problem };
  }
  return { facts: source.facts(), bufferedBytes: flv.length, problem: source.problem };
}

export interface SegmentedTrack {
  init: Uint8Array;
  track: CmafTrack;
  segments: JoinedSegment[];
}

/** What the sidecar cut for each byte stream transcodeToCmaf returned. */
const cut = new WeakMap<Uint8Array, SegmentedTrack>();

/**
 * Runs the sidecar's own run on an FLV (the source remuxed in-process, ffmpeg for what it
 * encodes, every rendition packaged by the sidecar): per rendition, its CMAF (init segment, then
 * every segment) as one byte stream; segmentTrack gives its segments as they were cut.
 */
export async function transcodeToCmaf(flv: Buffer, renditions: readonly Rendition[] = PASSTHROUGH_ONLY): Promise<Buffer[]> {
  const result = await runLadder(flv, renditions);
  if (result.exits.length > 0) throw new Error(`the run failed: ${result.exits.join('; ')}`);
  return renditions.map((rendition) => {
    const made = result.tracks.get(rendition.name);
    if (!made) throw new Error(`rendition ${rendition.name} made nothing`);
    const bytes = Buffer.from(made.bytes());
    cut.set(bytes, { init: made.init, track: made.track, segments: made.segments });
    return bytes;
  });
}

/** The init segment, track and segments the sidecar cut, for a byte stream transcodeToCmaf returned. */
export function segmentTrack(bytes: Uint8Array): SegmentedTrack {
  const track = cut.get(bytes);
  if (!track) throw new Error('segmentTrack reads a track transcodeToCmaf made');
  return track;
}
