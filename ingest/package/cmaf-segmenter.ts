/**
 * What a track's packager (CmafTrackPackager) hands on as it cuts: CMAF chunks (one moof+mdat,
 * a low-latency part), segments made of them, and where each chunk sits in its segment. Every
 * rendition, remuxed by the sidecar or encoded by ffmpeg, is cut by that one packager; whatever
 * consumes its events (the stream's output) takes these types.
 */
import { concatBytes } from './bytes.ts';
import type { CmafTrack } from './cmaf-track.ts';

export interface CmafChunk {
  bytes: Uint8Array;
  /** In track timescale units. */
  startTime: number;
  duration: number;
  sampleCount: number;
  independent: boolean;
}

export interface CmafSegment {
  /** 0 for the first segment of this packager, then 1, 2, ... */
  index: number;
  track: CmafTrack;
  /** In track timescale units. */
  startTime: number;
  duration: number;
  chunks: CmafChunk[];
  bytes: Uint8Array;
}

/**
 * The segment made of `chunks` (at least one), in the order they were cut. Its bytes are a view
 * when the chunks already lie end to end in one buffer (a SegmentArena's), else a copy.
 */
export function segmentOfChunks(index: number, track: CmafTrack, chunks: CmafChunk[]): CmafSegment {
  const first = chunks[0]!;
  const last = chunks[chunks.length - 1]!;
  return { index, track, startTime: first.startTime, duration: last.startTime + last.duration - first.startTime, chunks, bytes: adjacentView(chunks) ?? concatBytes(chunks.map((chunk) => chunk.bytes)) };
}

/** The chunks' bytes as one view, when each starts where the one before ends in the same buffer. */
function adjacentView(chunks: readonly CmafChunk[]): Uint8Array | undefined {
  const first = chunks[0]!.bytes;
  let end = first.byteOffset + first.byteLength;
  for (let i = 1; i < chunks.length; i++) {
    const bytes = chunks[i]!.bytes;
    if (bytes.buffer !== first.buffer || bytes.byteOffset !== end) return undefined;
    end += bytes.byteLength;
  }
  return new Uint8Array(first.buffer, first.byteOffset, end - first.byteOffset);
}

/** Where a chunk sits in its segment: what a low-latency part is named and hinted by. */
export interface ChunkPosition {
  /** Media time of the segment's first sample, track timescale (the segment's name). */
  segmentStartTime: number;
  /** 0 for the segment's first chunk. */
  index: number;
  /** The next chunk starts a new segment (the packager knows: it closes a part when the next frame arrives). */
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
