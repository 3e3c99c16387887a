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
import { damaged, onlyFails } from '../helpers/damaged-bytes.ts';

const RUNS = 400;

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
    fc.assert(fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => onlyFails(Mp4BoxError, () => readBoxes(bytes, 0, bytes.length))), { numRuns: RUNS });
  });

  it('merging damaged init segments', () => {
    fc.assert(
      fc.property(damaged(videoInit, { sizeLies: true }), damaged(audioInit, { sizeLies: true }), (video, audio) => {
        onlyFails(Mp4BoxError, () => {
          const merged = mergeInitSegments([video, audio], { durationSeconds: 2 });
          expect(merged.tracks.map((track) => track.trackId)).toEqual([1, 2]);
        });
      }),
      { numRuns: RUNS },
    );
  });

  it('rewriting damaged media segments', () => {
    fc.assert(
      fc.property(damaged(segment, { sizeLies: true }), (bytes) => {
        const length = bytes.length;
        onlyFails(Mp4BoxError, () => rewriteSegmentInPlace(bytes, { sourceTrackId: 1, trackId: 2, firstSequenceNumber: 5, fileOffset: 1000 }));
        expect(bytes.length).toBe(length);
      }),
      { numRuns: RUNS },
    );
  });

  it('the whole file from a damaged segment whose stored size matches: an Mp4BoxError or a file of the announced length', async () => {
    await fc.assert(
      fc.asyncProperty(damaged(segment, { sizeLies: true }), async (bytes) => {
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

  it("any byte range of a real file is the whole file's bytes there", async () => {
    const remuxed = remuxFlv(await makeFlv({ seconds: 4, gopFrames: 30 }));
    const store = new Map<string, Uint8Array>();
    const tracks = [remuxed.video!, remuxed.audio!].map((track, index) => ({
      inits: [track.init],
      segments: track.segments.map((stored, at) => {
        store.set(`${index}/${at}`, stored.bytes);
        return { key: `${index}/${at}`, durationSeconds: stored.duration / stored.track.timescale, bytes: stored.bytes.length };
      }),
    }));
    const mp4 = recordingMp4({ tracks, readSegment: async (key) => store.get(key)!.slice() });
    const file = new Uint8Array(await new Response(mp4.stream()).arrayBuffer());
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: file.length - 1 }), fc.nat({ max: file.length }), async (offset, wanted) => {
        const length = Math.min(wanted, file.length - offset);
        const part = new Uint8Array(await new Response(mp4.stream({ offset, length })).arrayBuffer());
        expect(part).toEqual(file.subarray(offset, offset + length));
      }),
      { numRuns: 100 },
    );
  });
});
