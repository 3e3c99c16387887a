/**
 * Cuts one track's fragmented MP4 stream into CMAF segments made of CMAF chunks.
 *
 * ffmpeg writes the init segment (ftyp+moov) and then one chunk (moof+mdat) every fraction of
 * a second. Segment boundaries follow a fixed grid of target durations from the track's first
 * media time: a segment starts at the first chunk past a grid line whose first sample is a sync
 * sample. Every segment starts on a keyframe, and since audio and video share the grid, their
 * segments (and so their media sequence numbers) stay in step instead of drifting apart (2.048 s
 * AAC segments against 2 s video ones would drift a whole segment in 80 s). Chunks are reported
 * as they complete, which is what low-latency HLS parts will publish.
 */
import { concatBytes } from './bytes.ts';
import { Fmp4StreamSplitter } from './fmp4-stream-splitter.ts';
import { parseCmafInitSegment, parseFragmentTiming, type CmafTrack } from './cmaf-track.ts';
import { Mp4FormatError } from './mp4-boxes.ts';

export interface CmafChunk {
  bytes: Uint8Array;
  /** In track timescale units. */
  startTime: number;
  duration: number;
  sampleCount: number;
  independent: boolean;
}

export interface CmafSegment {
  /** 0 for the first segment of this segmenter, then 1, 2, ... */
  index: number;
  track: CmafTrack;
  /** In track timescale units. */
  startTime: number;
  duration: number;
  chunks: CmafChunk[];
  bytes: Uint8Array;
}

/** The segment made of `chunks` (at least one), in the order they were cut. */
export function segmentOfChunks(index: number, track: CmafTrack, chunks: CmafChunk[]): CmafSegment {
  const first = chunks[0]!;
  const last = chunks[chunks.length - 1]!;
  return { index, track, startTime: first.startTime, duration: last.startTime + last.duration - first.startTime, chunks, bytes: concatBytes(chunks.map((chunk) => chunk.bytes)) };
}

/** Where a chunk sits in its segment: what a low-latency part is named and hinted by. */
export interface ChunkPosition {
  /** Media time of the segment's first sample, track timescale (the segment's name). */
  segmentStartTime: number;
  /** 0 for the segment's first chunk. */
  index: number;
  /**
   * The chunk reaches the segment's grid line: the next chunk starts a new segment if it starts
   * with a keyframe (always so for encoded renditions, whose keyframes are forced on the grid).
   */
  reachesBoundary: boolean;
}

export interface CmafSegmenterEvents {
  onInit(init: Uint8Array, track: CmafTrack): void;
  onChunk?(chunk: CmafChunk, track: CmafTrack, position: ChunkPosition): void;
  onSegment(segment: CmafSegment): void;
  /**
   * A segment reached `maxSegmentDuration` without a keyframe to start the next one: it was cut
   * there, and chunks are dropped until the next keyframe. Reported once.
   */
  onKeyframeOverdue?(track: CmafTrack): void;
}

export interface CmafSegmenterOptions {
  /** Seconds. */
  targetSegmentDuration: number;
  /** Seconds a segment may last before it is cut even without a keyframe (default: no limit). */
  maxSegmentDuration?: number;
}

// A keyframe a little before the nominal boundary (millisecond FLV timestamps, rounding)
// still starts the next segment, instead of making this one a whole GOP longer.
const BOUNDARY_TOLERANCE_SECONDS = 0.05;

export class CmafSegmenter {
  private readonly splitter = new Fmp4StreamSplitter();
  private headerBoxes: Uint8Array[] = [];
  private track: CmafTrack | undefined;
  private pendingMoof: Uint8Array | undefined;
  private current: CmafChunk[] = [];
  private segmentIndex = 0;
  /** Media time of the next grid line, track timescale. */
  private nextBoundary: number | undefined;
  private overdueReported = false;
  private readonly options: CmafSegmenterOptions;
  private readonly events: CmafSegmenterEvents;

  constructor(options: CmafSegmenterOptions, events: CmafSegmenterEvents) {
    this.options = options;
    this.events = events;
  }

  push(bytes: Uint8Array): void {
    for (const box of this.splitter.push(bytes)) this.takeBox(box.type, box.bytes);
  }

  /** The input ended: the segment in progress is complete. */
  end(): void {
    this.flushSegment();
  }

  private takeBox(type: string, bytes: Uint8Array): void {
    if (!this.track) {
      if (type === 'moof') throw new Mp4FormatError('media fragment before the init segment');
      this.headerBoxes.push(bytes.slice());
      if (type === 'moov') {
        const init = concatBytes(this.headerBoxes);
        this.headerBoxes = [];
        this.track = parseCmafInitSegment(init);
        this.events.onInit(init, this.track);
      }
      return;
    }
    if (type === 'moof') {
      this.pendingMoof = bytes.slice();
    } else if (type === 'mdat') {
      if (!this.pendingMoof) throw new Mp4FormatError('mdat without a preceding moof');
      this.takeChunk(this.pendingMoof, bytes);
      this.pendingMoof = undefined;
    }
    // Other top-level boxes between fragments (styp, sidx, prft, free) carry nothing a
    // CMAF segment of ours needs.
  }

  private takeChunk(moof: Uint8Array, mdat: Uint8Array): void {
    const track = this.track!;
    const timing = parseFragmentTiming(moof, track);
    const chunk: CmafChunk = {
      bytes: concatBytes([moof, mdat]),
      startTime: timing.baseMediaDecodeTime,
      duration: timing.duration,
      sampleCount: timing.sampleCount,
      independent: timing.startsWithSyncSample,
    };
    if (this.current.length === 0 && !chunk.independent) {
      // A segment must start with a sync sample: drop leading chunks until one arrives.
      return;
    }
    const step = this.options.targetSegmentDuration * track.timescale;
    const tolerance = BOUNDARY_TOLERANCE_SECONDS * track.timescale;
    this.nextBoundary ??= chunk.startTime + step;
    if (this.current.length > 0 && chunk.independent && chunk.startTime >= this.nextBoundary - tolerance) {
      this.flushSegment();
      // Past every grid line this segment covered (a long GOP covers several).
      while (this.nextBoundary - tolerance <= chunk.startTime) this.nextBoundary += step;
    }
    const limit = this.options.maxSegmentDuration;
    if (limit !== undefined && this.current.length > 0 && !chunk.independent) {
      const segmentStart = this.current[0]!.startTime;
      if (chunk.startTime + chunk.duration - segmentStart > limit * track.timescale) {
        this.flushSegment();
        if (!this.overdueReported) {
          this.overdueReported = true;
          this.events.onKeyframeOverdue?.(track);
        }
        return;
      }
    }
    this.current.push(chunk);
    this.events.onChunk?.(chunk, track, {
      segmentStartTime: this.current[0]!.startTime,
      index: this.current.length - 1,
      reachesBoundary: chunk.startTime + chunk.duration >= this.nextBoundary - tolerance,
    });
  }

  private flushSegment(): void {
    if (this.current.length === 0 || !this.track) return;
    const chunks = this.current;
    this.current = [];
    this.events.onSegment(segmentOfChunks(this.segmentIndex++, this.track, chunks));
  }
}
