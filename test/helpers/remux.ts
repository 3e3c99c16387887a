/** The sidecar's in-process remux of a whole FLV, collected per rendition, without a publisher. */
import { segmentChunks, type ChunkPosition, type CmafChunk, type CmafSegment } from '../../ingest/package/cmaf-segmenter.ts';
import type { CmafTrack } from '../../ingest/package/cmaf-track.ts';
import { FlvRemuxer } from '../../ingest/package/flv-remuxer.ts';
import { concatBytes } from '../../ingest/package/bytes.ts';

/** A segment as the packager cut it (its parts), with its bytes joined once for the test to read. */
export type JoinedSegment = CmafSegment & { bytes: Uint8Array };

/** The segment with its parts' bytes end to end (what a store holds under its name). */
export function joined(segment: CmafSegment): JoinedSegment {
  return { ...segment, bytes: concatBytes(segmentChunks(segment)) };
}

export interface RemuxedTrack {
  init: Uint8Array;
  track: CmafTrack;
  chunks: { chunk: CmafChunk; position: ChunkPosition }[];
  segments: JoinedSegment[];
  /** Init segment and every media segment, as a player would append them. */
  bytes(): Uint8Array;
}

export interface RemuxResult {
  video?: RemuxedTrack;
  audio?: RemuxedTrack;
  notices: string[];
  /** What stopped the remux, if anything did. */
  error?: Error;
}

export function remuxFlv(flv: Uint8Array, options: { video?: boolean; audio?: boolean; pieceSize?: number; maxVideoSegmentDuration?: number } = {}): RemuxResult {
  const result: RemuxResult = { notices: [] };
  const remuxer = new FlvRemuxer({
    videoRendition: options.video === false ? undefined : 'video',
    audioRendition: options.audio === false ? undefined : 'audio',
    targetSegmentDuration: 2,
    partTarget: 0.333,
    maxVideoSegmentDuration: options.maxVideoSegmentDuration,
    onNotice: (message) => result.notices.push(message),
    events: (name) => {
      const key = name as 'video' | 'audio';
      return {
        onInit: (init, track) => {
          const collected: RemuxedTrack = { init, track, chunks: [], segments: [], bytes: () => concatBytes([collected.init, ...collected.segments.map((segment) => segment.bytes)]) };
          result[key] = collected;
        },
        onChunk: (chunk, _track, position) => result[key]!.chunks.push({ chunk, position }),
        onSegment: (segment) => result[key]!.segments.push(joined(segment)),
      };
    },
  });
  const pieceSize = options.pieceSize ?? flv.length;
  try {
    for (let offset = 0; offset < flv.length; offset += pieceSize) remuxer.push(flv.subarray(offset, offset + pieceSize));
  } catch (error) {
    result.error = error as Error;
  }
  remuxer.end();
  return result;
}
