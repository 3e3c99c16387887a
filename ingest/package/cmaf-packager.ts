/**
 * Frames -> CMAF for one track, with the boundaries decided here rather than by an encoder's
 * fragmenter:
 *
 * - A part (chunk) closes when the next frame would take it past the part target. A frame's
 *   duration is known only when the frame after it arrives, so each frame waits for the next;
 *   the decision to close is taken when that next frame arrives, with the previous frame's
 *   duration as its estimate (one frame of latency, ~33 ms at 30 fps).
 * - A segment closes on the keyframe that starts the next one, the moment it arrives: the first
 *   keyframe presented at or past each multiple of the target duration from the grid's origin
 *   (the run's media time zero when given, else the track's first keyframe), with a little
 *   tolerance. Presentation time, not decode time: an encoded rung (no B-frames) and the source
 *   it was made from (B-frames) show the same keyframe at the same instant, and so cut alike.
 *   Every frame of an audio track is a sync sample, so audio is cut on the same grid, and media
 *   sequence numbers stay aligned.
 * - So when a part closes it is known what comes next: the next part of the same segment, or
 *   the first part of the next segment starting where this part ends (`reachesBoundary`).
 * - Audio parts are a whole number of AAC frames chosen per segment, between the spec's floor
 *   (85 % of the part target) and the target, so that the segment's last part is as long as it
 *   can be (audioPartFrames): at 48 kHz, 15 frames a part left a 3-4 frame (64-85 ms) last part,
 *   the size and place of the hole hls.js in low-latency mode stalled on (a 64 ms hole before a
 *   segment boundary, then one 15-frame part buffered: the segment's last audio part skipped).
 *
 * Its events (cmaf-segmenter.ts's types) go to the stream's output, whoever made the frames: the
 * source remuxed in-process, or a rung ffmpeg encoded and wrote back as FLV.
 */
import { chunkOfPieces, segmentOfChunks, type CmafSegmenterEvents, type CmafChunk } from './cmaf-segmenter.ts';
import { writeFragmentPieces, type FragmentSample } from './cmaf-fragment-writer.ts';
import { writeInitSegment, type TrackConfig } from './cmaf-init-writer.ts';
import { parseCmafInitSegment, type CmafTrack } from './cmaf-track.ts';

export interface PackagerSample {
  /** Track timescale units, increasing. */
  decodeTime: number;
  /** Presentation minus decode time, track timescale units. */
  compositionOffset: number;
  keyframe: boolean;
  data: Uint8Array;
}

export interface CmafPackagerOptions {
  /** Seconds: the segment grid. */
  targetSegmentDuration: number;
  /** Seconds: no part lasts longer (the low-latency part target, `--chunk-duration`). */
  partTarget: number;
  /** Seconds a segment may last before it is cut even without a keyframe (default: no limit). */
  maxSegmentDuration?: number;
  /**
   * Media time, seconds, the segment grid counts from: every track of a run given the same origin
   * is cut on the same lines. Unset: the track's first keyframe.
   */
  gridOrigin?: number;
  /** Where this track (a run's video) cuts is written here, for `followCuts` of its audio. */
  recordCuts?: SegmentCuts;
  /**
   * This track (a run's audio) cuts where the video did, on its first frame from there, rather
   * than on its own grid: one audio segment for each video segment, and none after the video's
   * last (a publisher that stops just past a grid line leaves no audio segment of a few frames,
   * which dash.js does not play past at a Period's end). Its own grid stands in once the video is
   * a whole segment late (video that stopped coming).
   */
  followCuts?: SegmentCuts;
  /**
   * Keep the samples of the segment being cut, so that `end(cutAt)` can end it earlier than its
   * last frame (a run whose tracks must end at one media time). Costs the open segment's samples.
   */
  trimmable?: boolean;
}

/** The presentation time (seconds) at which a run's video last started a segment after its first. */
export interface SegmentCuts {
  latest?: number;
}

// A keyframe a little before the grid line (millisecond FLV timestamps, rounding) still starts the next segment.
const BOUNDARY_TOLERANCE_SECONDS = 0.05;
// FLV times are whole milliseconds: a frame may last a millisecond longer than the one before.
const PART_JITTER_SECONDS = 0.001;
// Every part but a segment's last lasts at least this share of the part target (rfc8216bis §4.4.4.9).
const PART_FLOOR = 0.85;
// Samples in an AAC frame: an audio track's frame duration before its first one is known.
const AAC_FRAME_SAMPLES = 1024;

interface OpenPart {
  startTime: number;
  duration: number;
  samples: FragmentSample[];
}

export class CmafTrackPackager {
  readonly track: CmafTrack;
  readonly init: Uint8Array;
  private readonly kind: 'video' | 'audio';
  private readonly options: CmafPackagerOptions;
  private readonly events: CmafSegmenterEvents;
  private initSent = false;
  private pending: PackagerSample | undefined;
  private part: OpenPart | undefined;
  private chunks: CmafChunk[] = [];
  /** With `trimmable`: each chunk of the open segment's fragment sequence number and samples. */
  private chunkSamples: { sequenceNumber: number; samples: FragmentSample[] }[] = [];
  /** Decode time at which the last appended sample ends, track timescale. */
  private appendedEnd: number | undefined;
  /** The open segment's keyframe's composition offset: how much later than decoded frames are shown. */
  private reorderDelay = 0;
  private segmentIndex = 0;
  private sequenceNumber = 0;
  private nextBoundary: number | undefined;
  /** Presentation time of the current segment's first sample, track timescale. */
  private segmentStart = 0;
  /** Audio: frames in each part of the open segment (audioPartFrames). */
  private partFrames: number | undefined;
  /** Duration of the latest frame whose duration is known: the estimate for the next one. */
  private lastDuration: number | undefined;
  /** Frames are dropped until a keyframe: at the start, and after a segment cut for want of one. */
  private waitingForKeyframe = true;
  private overdueReported = false;
  /** Frames dropped while waiting for a keyframe. */
  droppedFrames = 0;

  constructor(config: TrackConfig, options: CmafPackagerOptions, events: CmafSegmenterEvents) {
    this.kind = config.kind;
    this.options = options;
    this.events = events;
    this.init = writeInitSegment(config);
    // Read back by the parser every consumer uses: what is announced is what was written.
    this.track = parseCmafInitSegment(this.init);
  }

  push(sample: PackagerSample): void {
    if (!this.initSent) {
      this.initSent = true;
      this.events.onInit(this.init, this.track);
    }
    const previous = this.pending;
    this.pending = undefined;
    if (previous) this.append(previous, Math.max(1, sample.decodeTime - previous.decodeTime));
    if (this.waitingForKeyframe) {
      if (!sample.keyframe) {
        this.droppedFrames += 1;
        return;
      }
      this.waitingForKeyframe = false;
      this.startSegmentAt(sample);
      this.pending = sample;
      return;
    }
    const part = this.part!;
    const timescale = this.track.timescale;
    const estimate = this.lastDuration ?? 0;
    const segmentStart = this.chunks[0]?.startTime ?? part.startTime;
    if (sample.keyframe && this.startsSegment(presentationTime(sample))) {
      this.closePart(true);
      this.closeSegment();
      this.startSegmentAt(sample);
    } else if (this.options.maxSegmentDuration !== undefined && sample.decodeTime + estimate - segmentStart > this.options.maxSegmentDuration * timescale) {
      this.closePart(true);
      this.closeSegment();
      this.waitingForKeyframe = true;
      this.droppedFrames += 1;
      if (!this.overdueReported) {
        this.overdueReported = true;
        this.events.onKeyframeOverdue?.(this.track);
      }
      return;
    } else if (part.samples.length > 0 && (sample.decodeTime - part.startTime + estimate > (this.options.partTarget - PART_JITTER_SECONDS) * timescale || part.samples.length === this.partFrames)) {
      this.closePart(false);
      this.part = { startTime: sample.decodeTime, duration: 0, samples: [] };
    }
    this.pending = sample;
  }

  /**
   * Seconds: where what this track holds ends when shown (its last frame's duration estimated):
   * decode time plus the segment's reordering delay (its keyframe's composition offset), so that
   * a source with B-frames and a rung made from it without any end alike. Undefined before any frame.
   */
  get mediaEnd(): number | undefined {
    const end = this.pending ? this.pending.decodeTime + this.estimatedDuration() : this.appendedEnd;
    return end === undefined ? undefined : (end + this.reorderDelay) / this.track.timescale;
  }

  /**
   * The input ended: the last frame (its duration estimated), its part and its segment are
   * complete. `cutAt` (seconds, with `trimmable`): frames from there on are left out, a video
   * frame across it shortened to end there, so that the tracks of a run end together.
   */
  end(cutAt?: number): void {
    const last = this.pending;
    this.pending = undefined;
    if (last) this.append(last, this.estimatedDuration());
    if (cutAt !== undefined && this.options.trimmable) this.trimTo(Math.round(cutAt * this.track.timescale) - this.reorderDelay);
    this.closePart(true);
    this.closeSegment();
  }

  private estimatedDuration(): number {
    return this.lastDuration ?? Math.round(this.track.timescale / 30);
  }

  /** Ends the open segment at decode time `end` (track timescale): its open part trimmed, chunks past it dropped, the one across it rewritten. */
  private trimTo(end: number): void {
    const clip = this.kind === 'video';
    if (this.part && trimSamples(this.part, end, clip).samples.length === 0) this.part = undefined;
    for (let i = this.chunks.length - 1; i >= 0; i--) {
      const chunk = this.chunks[i]!;
      if (chunk.startTime + chunk.duration <= end) break;
      // Nothing after a chunk that is cut.
      this.part = undefined;
      const { sequenceNumber, samples } = this.chunkSamples[i]!;
      const kept = trimSamples({ startTime: chunk.startTime, duration: chunk.duration, samples }, end, clip);
      if (kept.samples.length === 0) {
        this.chunks.pop();
        this.chunkSamples.pop();
        continue;
      }
      this.chunks[i] = chunkOfPieces(writeFragmentPieces(this.kind, sequenceNumber, chunk.startTime, kept.samples), { startTime: chunk.startTime, independent: chunk.independent, duration: kept.duration, sampleCount: kept.samples.length });
      this.chunkSamples[i] = { sequenceNumber, samples: kept.samples };
    }
  }

  private append(sample: PackagerSample, duration: number): void {
    this.lastDuration = duration;
    this.appendedEnd = sample.decodeTime + duration;
    const part = this.part!;
    part.samples.push({ duration, compositionOffset: sample.compositionOffset, keyframe: sample.keyframe, data: sample.data });
    part.duration += duration;
  }

  /** Whether a keyframe presented at `time` (track timescale) starts the next segment. */
  private startsSegment(time: number): boolean {
    const timescale = this.track.timescale;
    const tolerance = BOUNDARY_TOLERANCE_SECONDS * timescale;
    const follow = this.options.followCuts;
    if (!follow) return time >= this.nextBoundary! - tolerance;
    const cut = follow.latest === undefined ? undefined : follow.latest * timescale;
    if (cut !== undefined && cut > this.segmentStart + tolerance && time >= cut - tolerance) return true;
    return time >= this.nextBoundary! - tolerance + this.options.targetSegmentDuration * timescale;
  }

  /** A segment starts with this keyframe: the next grid line is the first one past its presentation. */
  private startSegmentAt(keyframe: PackagerSample): void {
    const timescale = this.track.timescale;
    const step = this.options.targetSegmentDuration * timescale;
    const tolerance = BOUNDARY_TOLERANCE_SECONDS * timescale;
    const time = presentationTime(keyframe);
    const origin = this.options.gridOrigin;
    // Not the track's first segment: a cut the audio follows.
    if (this.nextBoundary !== undefined && this.options.recordCuts) this.options.recordCuts.latest = time / timescale;
    this.segmentStart = time;
    this.reorderDelay = keyframe.compositionOffset;
    this.nextBoundary ??= (origin === undefined ? time : Math.round(origin * timescale)) + step;
    // Past every grid line the previous segment covered (a long GOP covers several).
    while (this.nextBoundary - tolerance <= time) this.nextBoundary += step;
    if (this.kind === 'audio') this.partFrames = this.audioPartFrames(this.nextBoundary - time);
    this.part = { startTime: keyframe.decodeTime, duration: 0, samples: [] };
  }

  /**
   * Frames in each audio part of a segment starting `ticks` before the next grid line: of the
   * counts the spec allows (at most the part target, at least 85 % of it), the one that leaves
   * the longest last part, the most frames when they tie. The segment ends on the first frame
   * past the line less its tolerance (audio alone), or following the run's video on the first at
   * or after the line, or the one after (audio that came in before the video's keyframe). At
   * 48 kHz and 2 s: 14 frames (0.299 s) and a last part of 9-11 (0.19-0.23 s, like 30 fps
   * video's 6 frames), where 15 frames left 3-4 (0.064-0.085 s).
   */
  private audioPartFrames(ticks: number): number {
    const timescale = this.track.timescale;
    const frameTicks = this.lastDuration ?? AAC_FRAME_SAMPLES;
    const target = this.options.partTarget * timescale;
    const most = Math.max(1, Math.floor((target - PART_JITTER_SECONDS * timescale) / frameTicks));
    const least = Math.min(most, Math.max(1, Math.ceil((PART_FLOOR * target) / frameTicks)));
    const follows = this.options.followCuts !== undefined;
    const first = Math.ceil((ticks - (follows ? 0 : BOUNDARY_TOLERANCE_SECONDS * timescale)) / frameTicks - 1e-6);
    const segmentFrames = follows ? [first, first + 1] : [first];
    let best = most;
    let longestLast = 0;
    for (let count = most; count >= least; count--) {
      const last = Math.min(...segmentFrames.map((frames) => frames - count * (Math.ceil(frames / count) - 1)));
      if (last > longestLast) [best, longestLast] = [count, last];
    }
    return best;
  }

  /** `nextStartsSegment`: the part after this one is the first of a new segment. */
  private closePart(nextStartsSegment: boolean): void {
    const part = this.part;
    if (!part || part.samples.length === 0) return;
    this.part = undefined;
    // Its header and views of its frames' bytes: no part-sized copy of the media (a second
    // allocation of every media byte set off most of a busy sidecar's collections), nor a
    // segment-sized one (a segment is the list of its parts).
    const pieces = writeFragmentPieces(this.kind, ++this.sequenceNumber, part.startTime, part.samples);
    const chunk: CmafChunk = chunkOfPieces(pieces, {
      startTime: part.startTime,
      duration: part.duration,
      sampleCount: part.samples.length,
      independent: part.samples[0]!.keyframe,
    });
    this.chunks.push(chunk);
    if (this.options.trimmable) this.chunkSamples.push({ sequenceNumber: this.sequenceNumber, samples: part.samples });
    this.events.onChunk?.(chunk, this.track, {
      segmentStartTime: this.chunks[0]!.startTime,
      index: this.chunks.length - 1,
      reachesBoundary: nextStartsSegment,
    });
  }

  private closeSegment(): void {
    const chunks = this.chunks;
    if (chunks.length === 0) return;
    this.chunks = [];
    this.chunkSamples = [];
    this.events.onSegment(segmentOfChunks(this.segmentIndex++, this.track, chunks));
  }
}

/** The samples of a part that start before `end`; with `clip`, the last one shortened to end there. */
function trimSamples(part: OpenPart, end: number, clip: boolean): OpenPart {
  const samples: FragmentSample[] = [];
  let time = part.startTime;
  for (const sample of part.samples) {
    if (time >= end) break;
    samples.push(sample);
    time += sample.duration;
  }
  const last = samples.at(-1);
  if (clip && last && time > end) {
    samples[samples.length - 1] = { ...last, duration: last.duration - (time - end) };
    time = end;
  }
  part.samples = samples;
  part.duration = time - part.startTime;
  return part;
}

/** When a sample is shown, track timescale. */
function presentationTime(sample: PackagerSample): number {
  return sample.decodeTime + sample.compositionOffset;
}
