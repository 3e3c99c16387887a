/** Re-homing one track's stored segment in the file: what changes (ids, numbers, times, a size-0 box) and what never does (sizes, samples). */
import { beforeAll, describe, expect, it } from 'vitest';
import { Mp4BoxError } from '../../../shared/mp4/box-reader.ts';
import { firstDecodeTime, rewriteSegmentInPlace } from '../../../shared/mp4/fragment-rewrite.ts';
import { findBox, findBoxes, view } from '../../../ingest/package/mp4-boxes.ts';
import { readChunkSamples } from '../../helpers/fragment-samples.ts';
import { makeFlv } from '../../helpers/media-fixtures.ts';
import { remuxFlv } from '../../helpers/remux.ts';

describe('rewriting a stored segment for its place in the file', () => {
  let segment: Uint8Array;

  beforeAll(async () => {
    segment = remuxFlv(await makeFlv({ seconds: 5, gopFrames: 60 })).video!.segments[1]!.bytes;
  });

  /** Each moof+mdat pair of a segment, as separate chunks. */
  function chunks(bytes: Uint8Array): Uint8Array[] {
    const moofs = findBoxes(bytes, 'moof', 0, bytes.length);
    return moofs.map((moof, index) => bytes.subarray(moof.start, moofs[index + 1]?.start ?? bytes.length));
  }

  it('sets the track id and sequence numbers, moves decode times, and leaves every sample and size as it was', () => {
    const before = chunks(segment).map((chunk) => readChunkSamples(chunk));
    const bytes = segment.slice();
    const start = firstDecodeTime(bytes)!;
    const result = rewriteSegmentInPlace(bytes, { sourceTrackId: 1, trackId: 2, firstSequenceNumber: 3073, fileOffset: 5000, decodeTimeShift: 90_000 });
    expect(bytes.length).toBe(segment.length);
    expect(result.fragments.map((fragment) => fragment.fileOffset)).toEqual(findBoxes(segment, 'moof', 0, segment.length).map((moof) => 5000 + moof.start));
    expect(result.fragments[0]!.decodeTime).toBe(start + 90_000);
    expect(result.nextSequenceNumber).toBe(3073 + before.length);
    const after = chunks(bytes).map((chunk) => readChunkSamples(chunk));
    after.forEach((chunk, index) => {
      expect(chunk.sequenceNumber).toBe(3073 + index);
      expect(chunk.samples.map((sample) => sample.data)).toEqual(before[index]!.samples.map((sample) => sample.data));
      expect(chunk.samples.map((sample) => sample.decodeTime)).toEqual(before[index]!.samples.map((sample) => sample.decodeTime + 90_000));
    });
    for (const moof of findBoxes(bytes, 'moof', 0, bytes.length)) expect(view(bytes).getUint32(findBox(bytes, ['traf', 'tfhd'], moof.payload, moof.end)!.payload + 4)).toBe(2);
  });

  it("gives a last box of size 0 (to the end) its real size, since other segments follow it in the file", () => {
    const bytes = segment.slice();
    const mdats = findBoxes(bytes, 'mdat', 0, bytes.length);
    const last = mdats[mdats.length - 1]!;
    view(bytes).setUint32(last.start, 0);
    rewriteSegmentInPlace(bytes, { sourceTrackId: 1, trackId: 1, firstSequenceNumber: 1, fileOffset: 0 });
    expect(view(bytes).getUint32(last.start)).toBe(last.end - last.start);
  });

  it('refuses fragments of another track, and a decode time its tfdt cannot hold', () => {
    expect(() => rewriteSegmentInPlace(segment.slice(), { sourceTrackId: 2, trackId: 1, firstSequenceNumber: 1, fileOffset: 0 })).toThrow(/is for track 1, not the init segment's 2/);
    expect(() => rewriteSegmentInPlace(segment.slice(), { sourceTrackId: 1, trackId: 1, firstSequenceNumber: 1, fileOffset: 0, decodeTimeShift: -1e12 })).toThrow(Mp4BoxError);
  });
});
