/** Real media for tests, made by ffmpeg on the spot: an FLV as a publisher sends it, and its CMAF tracks. */
import { spawn } from 'node:child_process';
import { buildFfmpegArgs } from '../../ingest/transcode/ffmpeg-args.ts';
import { locateFfmpeg } from '../../ingest/transcode/ffmpeg-binary.ts';
import { FfmpegProcess } from '../../ingest/transcode/ffmpeg-process.ts';
import { PASSTHROUGH_ONLY, type Rendition, type SourceFacts } from '../../ingest/transcode/ladder.ts';
import { SourceProbe } from '../../ingest/media/source-probe.ts';
import { CmafSegmenter, type CmafSegment } from '../../ingest/package/cmaf-segmenter.ts';
import type { CmafTrack } from '../../ingest/package/cmaf-track.ts';
import { testPatternAudioInput, testPatternVideoInput } from '../../scripts/lib/ffmpeg-args.ts';

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

/** Runs the sidecar's own ffmpeg command on an FLV: one CMAF byte stream per rendition. */
export async function transcodeToCmaf(flv: Buffer, renditions: readonly Rendition[] = PASSTHROUGH_ONLY): Promise<Buffer[]> {
  const ffmpeg = new FfmpegProcess({
    binary: locateFfmpeg(),
    args: buildFfmpegArgs({ renditions, chunkDuration: 0.333, keyframeInterval: 2 }),
    outputCount: renditions.length,
  });
  const collected = ffmpeg.outputs.map(
    (output) =>
      new Promise<Buffer>((resolve) => {
        const parts: Buffer[] = [];
        output.on('data', (chunk: Buffer) => parts.push(chunk));
        output.on('close', () => resolve(Buffer.concat(parts)));
      }),
  );
  ffmpeg.input.end(flv);
  const [outputs, exit] = await Promise.all([Promise.all(collected), ffmpeg.exited]);
  if (exit.code !== 0) throw new Error(`ffmpeg failed: ${exit.stderrTail.join('\n')}`);
  return outputs;
}

export interface SegmentedTrack {
  init: Uint8Array;
  track: CmafTrack;
  segments: CmafSegment[];
}

/** Feeds a CMAF byte stream to the segmenter in pieces of the given sizes (cycled). */
export function segmentTrack(bytes: Uint8Array, pieceSizes: readonly number[] = [bytes.length], targetSegmentDuration = 2): SegmentedTrack {
  let init: Uint8Array | undefined;
  let track: CmafTrack | undefined;
  const segments: CmafSegment[] = [];
  const segmenter = new CmafSegmenter(
    { targetSegmentDuration },
    {
      onInit: (bytes, parsed) => {
        init = bytes;
        track = parsed;
      },
      onSegment: (segment) => segments.push(segment),
    },
  );
  let offset = 0;
  for (let i = 0; offset < bytes.length; i++) {
    const size = pieceSizes[i % pieceSizes.length]!;
    segmenter.push(bytes.subarray(offset, offset + size));
    offset += size;
  }
  segmenter.end();
  if (!init || !track) throw new Error('no init segment in the stream');
  return { init, track, segments };
}
