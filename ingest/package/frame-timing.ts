/**
 * Frames on the run's millisecond timeline -> samples in their track's timescale.
 *
 * Video: 90 kHz, so FLV's milliseconds convert exactly (x90).
 * Audio: the sample rate, and decode times counted in AAC frames (1024 samples each) from the
 * first frame, as an encoder makes them. FLV's millisecond times are only within a millisecond
 * of that (21.333 ms a frame at 48 kHz); taken literally they would make every sample's
 * duration 1023 or 1025. The count follows the timestamps again when they part by more than
 * RESYNC_SECONDS (a gap in the audio, a clock correction).
 */
import type { AacFrame, VideoAccessUnit } from '../media/flv-frames.ts';
import type { PackagerSample } from './cmaf-packager.ts';

export const VIDEO_TIMESCALE = 90_000;
const AAC_FRAME_SAMPLES = 1024;
const RESYNC_SECONDS = 0.05;

export function videoSample(frame: VideoAccessUnit): PackagerSample {
  const ticksPerMs = VIDEO_TIMESCALE / 1000;
  return {
    decodeTime: frame.decodeTime * ticksPerMs,
    compositionOffset: frame.compositionOffset * ticksPerMs,
    keyframe: frame.keyframe,
    data: frame.data,
  };
}

export class AacClock {
  private readonly sampleRate: number;
  private next: number | undefined;

  constructor(sampleRate: number) {
    this.sampleRate = sampleRate;
  }

  sample(frame: AacFrame): PackagerSample {
    const stamped = Math.round((frame.time * this.sampleRate) / 1000);
    let decodeTime = this.next ?? stamped;
    if (Math.abs(stamped - decodeTime) > RESYNC_SECONDS * this.sampleRate) decodeTime = Math.max(stamped, (this.next ?? 0) - AAC_FRAME_SAMPLES + 1);
    this.next = decodeTime + AAC_FRAME_SAMPLES;
    return { decodeTime, compositionOffset: 0, keyframe: true, data: frame.data };
  }
}
