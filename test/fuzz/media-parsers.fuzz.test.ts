/**
 * Property-based fuzzing (fast-check) of the parsers that read what publishers and ffmpeg send:
 * FLV tags (and the run's restamped FLV), the H.264 SPS, CMAF init segments and fragments. Arbitrary and mutated
 * real input must end in the parser's own format error or a result, never another exception
 * (a RangeError from a DataView, a TypeError from a missing box) and never a hang.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { AvcFormatError, parseAvcDecoderConfiguration, parseSequenceParameterSet } from '../../ingest/media/avc-parameters.ts';
import { avcDecoderConfiguration, FlvFormatError, FlvTagReader, readVideoInfo } from '../../ingest/media/flv-tag-reader.ts';
import { concatBytes } from '../../ingest/package/bytes.ts';
import { chunkBytes } from '../../ingest/package/cmaf-segmenter.ts';
import { parseCmafInitSegment, parseFragmentTiming } from '../../ingest/package/cmaf-track.ts';
import { findBox, Mp4FormatError } from '../../ingest/package/mp4-boxes.ts';
import { FlvRestamper } from '../../ingest/transcode/flv-restamper.ts';
import { flvFileHeader, flvTagPieces } from '../../ingest/transcode/flv-tag-writer.ts';
import { makeFlv, segmentTrack, transcodeToCmaf, type SegmentedTrack } from '../helpers/media-fixtures.ts';

const RUNS = 400;

/** Runs `parse` and accepts a result or an error of the expected class only. */
function onlyFails<E extends Error>(errorClass: new (...args: never[]) => E, parse: () => unknown): void {
  try {
    parse();
  } catch (error) {
    if (!(error instanceof errorClass)) throw error;
  }
}

/** Real bytes with random damage: flipped bytes, a cut, a spliced run of random bytes. */
function mutated(original: Uint8Array) {
  return fc
    .record({
      flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 12 }),
      cut: fc.option(fc.nat(), { nil: undefined }),
      splice: fc.option(fc.tuple(fc.nat(), fc.uint8Array({ maxLength: 64 })), { nil: undefined }),
    })
    .map(({ flips, cut, splice }) => {
      // A copy: Buffer.prototype.slice would be a view, and the damage would stay.
      let bytes = new Uint8Array(original);
      for (const [position, value] of flips) bytes[position % bytes.length] = value;
      if (splice) {
        const at = splice[0] % bytes.length;
        bytes = Uint8Array.from([...bytes.subarray(0, at), ...splice[1], ...bytes.subarray(at)]);
      }
      if (cut !== undefined) bytes = bytes.subarray(0, cut % (bytes.length + 1));
      return bytes;
    });
}

describe('fuzzing the media parsers', () => {
  let flv: Buffer;
  let video: SegmentedTrack;

  beforeAll(async () => {
    flv = await makeFlv({ seconds: 2, gopFrames: 30 });
    const [v] = (await transcodeToCmaf(flv)) as [Buffer, Buffer];
    video = segmentTrack(v);
  });

  it('FLV tag reader: random and damaged streams, in random pieces', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 2048 }), mutated(flv.subarray(0, 20_000))), fc.array(fc.integer({ min: 1, max: 4096 }), { minLength: 1, maxLength: 8 }), (bytes, pieces) => {
        const reader = new FlvTagReader();
        onlyFails(FlvFormatError, () => {
          let offset = 0;
          for (let i = 0; offset < bytes.length; i++) {
            const size = pieces[i % pieces.length]!;
            for (const tag of reader.push(bytes.subarray(offset, offset + size))) {
              readVideoInfo(tag.data);
              onlyFails(AvcFormatError, () => parseAvcDecoderConfiguration(avcDecoderConfiguration(tag.data)));
            }
            offset += size;
          }
        });
      }),
      { numRuns: RUNS },
    );
  });

  it('H.264 parameter sets: random NAL units and decoder configuration records', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), (bytes) => {
        onlyFails(AvcFormatError, () => parseSequenceParameterSet(bytes));
        onlyFails(AvcFormatError, () => parseAvcDecoderConfiguration(bytes));
      }),
      { numRuns: RUNS * 5 },
    );
  });

  it("FLV restamper (the run's timeline, ffmpeg's input): random and damaged streams; what it writes reads back as it stamped", () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 2048 }), mutated(flv.subarray(0, 20_000))), (bytes) => {
        const restamper = new FlvRestamper(() => undefined);
        onlyFails(FlvFormatError, () => {
          const tags = restamper.push(bytes);
          for (const tag of tags) expect(tag.timestamp).toBeGreaterThanOrEqual(0);
          const written = concatBytes([flvFileHeader(), ...tags.flatMap((tag) => flvTagPieces(tag))]);
          expect(new FlvTagReader().push(written).map((tag) => [tag.type, tag.timestamp, tag.data.length])).toEqual(tags.map((tag) => [tag.type, tag.timestamp, tag.data.length]));
        });
      }),
      { numRuns: RUNS },
    );
  });

  it('CMAF init segments and fragment timing: damaged real boxes', () => {
    const moof = chunkBytes(video.segments[0]!.chunks[0]!);
    fc.assert(
      fc.property(mutated(video.init), mutated(moof), (init, fragment) => {
        onlyFails(Mp4FormatError, () => parseCmafInitSegment(init));
        onlyFails(Mp4FormatError, () => parseFragmentTiming(fragment, video.track));
      }),
      { numRuns: RUNS },
    );
  });

  it('refuses a trun whose sample count runs past its box as a format error (found by the property above)', () => {
    const moof = chunkBytes(video.segments[0]!.chunks[0]!);
    const trun = findBox(moof, ['moof', 'traf', 'trun'])!;
    const claimsMore = moof.slice();
    new DataView(claimsMore.buffer).setUint32(trun.payload + 4, 0xffff);
    expect(() => parseFragmentTiming(claimsMore, video.track)).toThrow(Mp4FormatError);
  });

  it('still reads the undamaged input (the properties are not vacuous)', () => {
    expect(new FlvTagReader().push(flv).length).toBeGreaterThan(10);
    expect(parseCmafInitSegment(video.init).kind).toBe('video');
  });
});
