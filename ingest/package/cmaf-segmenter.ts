/**
 * What a track's packager (CmafTrackPackager) hands on as it cuts: CMAF chunks (one moof+mdat,
 * a low-latency part), segments made of them, and where each chunk sits in its segment. Every
 * rendition, remuxed by the sidecar or encoded by ffmpeg, is cut by that one packager; whatever
 * consumes its events (the stream's output) takes these types.
 */
import { chunksByteLength } from '../../shared/storage/object-store.ts';
import { concatBytes } from './bytes.ts';
import type { CmafTrack } from './cmaf-track.ts';

export interface CmafChunk {
  /**
   * Its bytes end to end: its moof and mdat header, then views of its frames' bytes (the FLV tags,
   * which nothing writes into after they are made), not a chunk-sized copy
   * (writeFragmentPieces). Every consumer takes the list: the live channel sends it as fragments
   * of one message, a store writes it as chunks; chunkBytes() joins it where one buffer is needed.
   */
  pieces: readonly Uint8Array[];
  /** Bytes of all its pieces together. */
  byteLength: number;
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
  /**
   * The segment is its chunks (its low-latency parts), each a list of pieces: its bytes are
   * theirs end to end (segmentChunks), never joined into a segment-sized buffer here. Stores
   * write them as chunks (ObjectStore.putChunks), the edge assembles them from the parts it holds.
   */
  chunks: CmafChunk[];
  /** Bytes of all its chunks together. */
  byteLength: number;
}

/** The segment made of `chunks` (at least one), in the order they were cut. */
export function segmentOfChunks(index: number, track: CmafTrack, chunks: CmafChunk[]): CmafSegment {
  const first = chunks[0]!;
  const last = chunks[chunks.length - 1]!;
  let byteLength = 0;
  for (const chunk of chunks) byteLength += chunk.byteLength;
  return { index, track, startTime: first.startTime, duration: last.startTime + last.duration - first.startTime, chunks, byteLength };
}

/** A segment's bytes as the list of its chunks' pieces, in order: what a store writes end to end. */
export function segmentChunks(segment: CmafSegment): Uint8Array[] {
  return segment.chunks.flatMap((chunk) => chunk.pieces);
}

/** A chunk's pieces joined into one buffer of its own: for a consumer that needs its bytes contiguous (a copy). */
export function chunkBytes(chunk: CmafChunk): Uint8Array {
  return concatBytes(chunk.pieces);
}

/** The chunk of `pieces`, with their byte length. */
export function chunkOfPieces(pieces: readonly Uint8Array[], fields: Omit<CmafChunk, 'pieces' | 'byteLength'>): CmafChunk {
  return { pieces, byteLength: chunksByteLength(pieces), ...fields };
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
