/**
 * The publishers every benchmark feeds the servers with: ffmpeg over RTMP in real time, one
 * process sending the same bytes to every server under test (the tee muxer), and each reporting
 * its progress so that the wall-clock time of its first frame is known.
 */
import { ManagedProcess } from '../lib/managed-process.ts';
import { CLOCK_LAYOUT, clockFilter } from './clock-pattern.ts';

/** Outputs of one ffmpeg publisher: the tee muxer's list, each FLV over RTMP; a failing server does not stop the others. */
function rtmpOutputs(targets: readonly string[]): string[] {
  if (targets.length === 1) return ['-f', 'flv', targets[0]!];
  return ['-f', 'tee', targets.map((target) => `[f=flv:onfail=ignore]${target}`).join('|')];
}

const CLOCK_FRAME_RATE = 30;
/** The clock publisher's keyframe interval unless told otherwise: what the latency goals are measured with. */
export const DEFAULT_KEYFRAME_SECONDS = 2;

/** ffmpeg reports progress on stdout every 0.1 s: how the first frame's wall-clock time is found. */
const PROGRESS = ['-progress', 'pipe:1', '-stats_period', '0.1', '-nostats'];

/**
 * A camera-like 720p30 source: a test picture with the capture wall clock burnt in
 * (`clock-pattern.ts`), encoded as OBS would (x264 veryfast, zerolatency, AAC) with a keyframe
 * every `keyframeSeconds` (default 2, what streaming services ask OBS for), sent in real time.
 */
export function clockPublisherArgs(options: { epochMs: number; size: string; seconds: number; targets: readonly string[]; keyframeSeconds?: number }): string[] {
  const keyframeFrames = String(Math.round(CLOCK_FRAME_RATE * (options.keyframeSeconds ?? DEFAULT_KEYFRAME_SECONDS)));
  return [
    '-hide_banner', '-loglevel', 'error', ...PROGRESS,
    '-re', '-f', 'lavfi', '-i', `testsrc2=size=${options.size}:rate=${CLOCK_FRAME_RATE}`,
    '-re', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-t', String(options.seconds),
    '-vf', clockFilter({ layout: CLOCK_LAYOUT, epochMs: options.epochMs, captureTimeMicros: 'RTCTIME', frameRate: CLOCK_FRAME_RATE }),
    '-map', '0:v', '-map', '1:a',
    '-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p',
    '-g', keyframeFrames, '-keyint_min', keyframeFrames, '-sc_threshold', '0', '-b:v', '2500k', '-maxrate', '2500k', '-bufsize', '5000k',
    '-c:a', 'aac', '-b:a', '128k',
    // FLV needs the codecs' headers up front; through tee the encoders are not told so.
    '-flags', '+global_header',
    ...rtmpOutputs(options.targets),
  ];
}

/** A pre-encoded FLV file copied in real time, looped: a publisher that costs almost no CPU. */
export function filePublisherArgs(options: { file: string; seconds: number; targets: readonly string[] }): string[] {
  return [
    '-hide_banner', '-loglevel', 'error', ...PROGRESS,
    '-re', '-stream_loop', '-1', '-i', options.file,
    '-t', String(options.seconds),
    '-map', '0', '-c', 'copy',
    ...rtmpOutputs(options.targets),
  ];
}

export interface Publisher {
  process: ManagedProcess;
  /**
   * Wall-clock time (epoch ms) at which media time 0 was sent, once known: the earliest
   * (report time - media time written) over its progress reports; in real time the output
   * never runs ahead of the clock, so this is at most a report interval late.
   */
  firstFrameAt(): number | undefined;
  /** Error lines ffmpeg printed. */
  errors: string[];
  stop(): Promise<void>;
}

export function startPublisher(ffmpeg: string, args: string[], name = 'publisher'): Publisher {
  let firstFrameAt: number | undefined;
  const errors: string[] = [];
  const process = new ManagedProcess({
    name,
    command: ffmpeg,
    args,
    onLine: (line) => {
      const progress = /^out_time_us=(\d+)$/.exec(line);
      if (progress) {
        const mediaMicros = Number(progress[1]);
        if (mediaMicros > 0) firstFrameAt = Math.min(firstFrameAt ?? Infinity, Date.now() - mediaMicros / 1000);
      } else if (!/^\w+=/.test(line)) errors.push(line);
    },
  });
  return { process, firstFrameAt: () => firstFrameAt, errors, stop: () => process.stop(3000) };
}
