/**
 * Turns FLV's 32-bit millisecond timestamps into one continuous media timeline per run: zero at
 * the first frame, never going back within a track. RTMP timestamps wrap after 2^32 ms (49.7
 * days) and publishers sometimes restart or jump their clock; a decoder (and a playlist) needs
 * decode times that only move forward. Each correction is reported once, in words, for the log.
 *
 * One offset is shared by the tracks: a publisher whose clock jumps moves audio and video
 * alike, so correcting both by the same amount keeps them in sync.
 */

export type TimelineTrack = 'video' | 'audio';

/** A backward step of a track shorter than this is reordering noise: clamped, not re-anchored. */
const JUMP_BACK_MS = 100;
/** Media this far ahead of everything seen so far is a clock jump, not a pause worth keeping as a gap. */
const JUMP_FORWARD_MS = 10_000;
/** The step assumed for a track's frame before it has two (about one video frame at 30 fps). */
const DEFAULT_STEP_MS = 33;

export class FlvTimeline {
  private readonly onNotice: (message: string) => void;
  private last32: number | undefined;
  /** The previous raw timestamp, unwrapped. */
  private lastExtended = 0;
  /** Added to unwrapped timestamps: minus the first one, plus any jump corrections. */
  private offset = 0;
  private readonly lastOut = new Map<TimelineTrack, number>();
  private readonly step = new Map<TimelineTrack, number>();

  constructor(onNotice: (message: string) => void) {
    this.onNotice = onNotice;
  }

  /** Media milliseconds since the run's first frame for this frame's 32-bit FLV timestamp. */
  map(track: TimelineTrack, timestamp32: number): number {
    const extended = this.unwrap(timestamp32 >>> 0);
    let time = extended + this.offset;
    const last = this.lastOut.get(track);
    const step = this.step.get(track) ?? DEFAULT_STEP_MS;
    if (last !== undefined && time <= last) {
      if (last - time >= JUMP_BACK_MS) {
        this.onNotice(
          `${track} timestamps jumped back ${seconds(last - time)} s (publisher time ${seconds(timestamp32)} s, the track was at ${seconds(last)} s of media); ` +
            `the timeline continues from ${seconds(last + step)} s`,
        );
        this.offset += last + step - time;
        time = last + step;
      } else {
        // Out of order by a few milliseconds: the frame keeps its place, a millisecond after the previous one.
        time = last + 1;
      }
    } else {
      const furthest = Math.max(-Infinity, ...this.lastOut.values());
      if (Number.isFinite(furthest) && time - furthest > JUMP_FORWARD_MS) {
        this.onNotice(
          `${track} timestamps jumped forward ${seconds(time - furthest)} s (publisher time ${seconds(timestamp32)} s); ` +
            `the timeline continues from ${seconds(furthest + step)} s without a gap`,
        );
        this.offset -= time - furthest - step;
        time = furthest + step;
      }
    }
    // A track's first frame a little before the run's first frame (tracks interleave loosely)
    // starts the track at zero: decode times are never negative.
    if (last === undefined) time = Math.max(0, time);
    if (last !== undefined && time - last < 1000) this.step.set(track, Math.max(1, time - last));
    this.lastOut.set(track, time);
    return time;
  }

  private unwrap(timestamp32: number): number {
    if (this.last32 === undefined) {
      this.last32 = timestamp32;
      this.lastExtended = timestamp32;
      this.offset = -timestamp32;
      return timestamp32;
    }
    // The signed 32-bit difference: a step across 2^32 is a small step forward, not a jump back.
    const delta = (timestamp32 - this.last32) | 0;
    if (delta > 0 && timestamp32 < this.last32) {
      this.onNotice(`the publisher's 32-bit timestamp wrapped (${seconds(this.last32)} s to ${seconds(timestamp32)} s); the timeline continues across it`);
    }
    // A frame of the other track from just before a wrap, arriving after it, gives a small
    // negative difference: it lands just before, as it should.
    this.last32 = timestamp32;
    this.lastExtended += delta;
    return this.lastExtended;
  }
}

function seconds(milliseconds: number): string {
  return (milliseconds / 1000).toFixed(3);
}
