/**
 * Property-based fuzzing (fast-check) of the recording MP4 muxer's box rewriting: damaged init
 * segments and media segments (flipped bytes, cuts, spliced runs, box sizes that lie) must end
 * in an Mp4BoxError or a result, never another exception (a RangeError from a DataView) and
 * never a hang; a result keeps the segment's length (nothing inserted or removed).
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { Mp4BoxError, readBoxes } from '../../shared/mp4/box-reader.ts';
import { rewriteSegmentInPlace } from '../../shared/mp4/fragment-rewrite.ts';
import { mergeInitSegments } from '../../shared/mp4/merge-init.ts';
import { recordingMp4 } from '../../shared/mp4/recording-mp4.ts';
import { makeFlv } from '../helpers/media-fixtures.ts';
import { remuxFlv } from '../helpers/remux.ts';

const RUNS = 400;

function onlyMp4Errors(run: () => unknown): void {
  try {
    run();
  } catch (error) {
    if (!(error instanceof Mp4BoxError)) throw error;
  }
}

/** Real bytes with random damage; `sizeLies` overwrite 32-bit words with sizes that are wrong in telling ways. */
function mutated(original: Uint8Array) {
  return fc
    .record({
      flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 12 }),
      sizeLies: fc.array(fc.tuple(fc.nat(), fc.constantFrom(0, 1, 7, 8, 9, 16, 0x7fffffff, 0xffffffff)), { maxLength: 3 }),
      cut: fc.option(fc.nat(), { nil: undefined }),
      splice: fc.option(fc.tuple(fc.nat(), fc.uint8Array({ maxLength: 64 })), { nil: undefined }),
    })
    .map(({ flips, sizeLies, cut, splice }) => {
      let bytes = new Uint8Array(original);
      for (const [position, value] of flips) bytes[position % bytes.length] = value;
      for (const [position, size] of sizeLies) {
        const at = position % Math.max(1, bytes.length - 4);
        new DataView(bytes.buffer, bytes.byteOffset).setUint32(at, size);
      }
      if (splice) {
        const at = splice[0] % bytes.length;
        bytes = Uint8Array.from([...bytes.subarray(0, at), ...splice[1], ...bytes.subarray(at)]);
      }
      if (cut !== undefined) bytes = bytes.subarray(0, cut % (bytes.length + 1));
      return bytes;
    });
}

describe('fuzzing the recording MP4 muxer', () => {
  let videoInit: Uint8Array;
  let audioInit: Uint8Array;
  let segment: Uint8Array;

  beforeAll(async () => {
    const remuxed = remuxFlv(await makeFlv({ seconds: 2, gopFrames: 30 }));
    videoInit = remuxed.video!.init;
    audioInit = remuxed.audio!.init;
    // A short segment keeps every run fast; it is several moof+mdat (parts) like any.
    segment = remuxed.audio!.segments[0]!.bytes;
  });

  it('box reader: random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => onlyMp4Errors(() => readBoxes(bytes, 0, bytes.length))), { numRuns: RUNS });
  });

  it('merging damaged init segments', () => {
    fc.assert(
      fc.property(mutated(videoInit), mutated(audioInit), (video, audio) => {
        onlyMp4Errors(() => {
          const merged = mergeInitSegments([video, audio], { durationSeconds: 2 });
          expect(merged.tracks.map((track) => track.trackId)).toEqual([1, 2]);
        });
      }),
      { numRuns: RUNS },
    );
  });

  it('rewriting damaged media segments', () => {
    fc.assert(
      fc.property(mutated(segment), (bytes) => {
        const length = bytes.length;
        onlyMp4Errors(() => rewriteSegmentInPlace(bytes, { sourceTrackId: 1, trackId: 2, firstSequenceNumber: 5, fileOffset: 1000 }));
        expect(bytes.length).toBe(length);
      }),
      { numRuns: RUNS },
    );
  });

  it('the whole file from a damaged segment whose stored size matches: an Mp4BoxError or a file of the announced length', async () => {
    await fc.assert(
      fc.asyncProperty(mutated(segment), async (bytes) => {
        const tracks = [{ inits: [videoInit], segments: [] }, { inits: [audioInit], segments: [{ key: 'k', durationSeconds: 1, bytes: bytes.length }] }];
        const mp4 = recordingMp4({ tracks, readSegment: async () => bytes.slice() });
        try {
          const file = new Uint8Array(await new Response(mp4.stream()).arrayBuffer());
          expect(file.length).toBe(mp4.contentLength);
        } catch (error) {
          if (!(error instanceof Mp4BoxError)) throw error;
        }
      }),
      { numRuns: 100 },
    );
  });
});
