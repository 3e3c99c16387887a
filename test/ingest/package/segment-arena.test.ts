/**
 * A segment's parts are written end to end into one buffer, and the segment is a view of them (no
 * second copy of the media); whatever the segment sizes do, a segment's bytes are still its parts'
 * bytes in order, and a part handed out is never written over.
 */
import { describe, expect, it } from 'vitest';
import { CmafTrackPackager, type PackagerSample } from '../../../ingest/package/cmaf-packager.ts';
import type { CmafChunk, CmafSegment } from '../../../ingest/package/cmaf-segmenter.ts';
import { concatBytes } from '../../../ingest/package/bytes.ts';
import { VIDEO_CONFIG } from '../../helpers/track-configs.ts';

/** 30 fps, a keyframe every 2 s; frame `i` is `sizeOf(i)` bytes of a pattern of its own. */
function video(seconds: number, sizeOf: (frame: number) => number): PackagerSample[] {
  return Array.from({ length: seconds * 30 }, (_, i) => ({
    decodeTime: Math.round((i * 1000) / 30) * 90,
    compositionOffset: 0,
    keyframe: i % 60 === 0,
    data: Uint8Array.from({ length: sizeOf(i) }, (_, at) => (i * 13 + at) & 0xff),
  }));
}

function pack(samples: PackagerSample[]): { segments: CmafSegment[]; chunks: { chunk: CmafChunk; copy: Uint8Array }[] } {
  const segments: CmafSegment[] = [];
  const chunks: { chunk: CmafChunk; copy: Uint8Array }[] = [];
  const packager = new CmafTrackPackager(VIDEO_CONFIG, { targetSegmentDuration: 2, partTarget: 0.22 }, {
    onInit: () => {},
    // What the part was when handed out: later parts must not write over it.
    onChunk: (chunk) => chunks.push({ chunk, copy: chunk.bytes.slice() }),
    onSegment: (segment) => segments.push(segment),
  });
  for (const sample of samples) packager.push(sample);
  packager.end();
  return { segments, chunks };
}

describe('segment arena', () => {
  it('makes each segment a view of its parts, which lie end to end in one buffer', () => {
    const { segments, chunks } = pack(video(8, () => 3000));
    expect(segments).toHaveLength(4);
    for (const segment of segments) {
      expect(segment.bytes).toEqual(concatBytes(segment.chunks.map((chunk) => chunk.bytes)));
      // From the second segment on the buffer is sized after the one before: no copy at all.
      if (segment.index > 0) for (const chunk of segment.chunks) expect(chunk.bytes.buffer).toBe(segment.bytes.buffer);
    }
    for (const { chunk, copy } of chunks) expect(chunk.bytes).toEqual(copy);
  });

  it('still gives a segment its parts\' bytes when it outgrows the room the previous one left (and never writes over a part)', () => {
    // Segments growing tenfold, then shrinking: parts spill into new buffers and are joined by copying.
    const sizes = [200, 2000, 20000, 500];
    const { segments, chunks } = pack(video(8, (i) => sizes[Math.floor(i / 60)]!));
    expect(segments).toHaveLength(4);
    for (const segment of segments) expect(segment.bytes).toEqual(concatBytes(segment.chunks.map((chunk) => chunk.bytes)));
    for (const { chunk, copy } of chunks) expect(chunk.bytes).toEqual(copy);
    // The segment that grew most spilled over (its parts are not all in its buffer); the last fits again.
    expect(segments[2]!.chunks.some((chunk) => chunk.bytes.buffer !== segments[2]!.bytes.buffer)).toBe(true);
    expect(segments[3]!.chunks.every((chunk) => chunk.bytes.buffer === segments[3]!.bytes.buffer)).toBe(true);
  });
});
