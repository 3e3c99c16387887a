import { describe, expect, it } from 'vitest';
import { FlvFormatError, FlvTagReader } from '../../../ingest/media/flv-tag-reader.ts';
import { AvcFormatError, parseSequenceParameterSet } from '../../../ingest/media/avc-parameters.ts';
import { SourceProbe } from '../../../ingest/media/source-probe.ts';
import { makeFlv, probeFlv } from '../../helpers/media-fixtures.ts';

describe('source probe on FLV made by ffmpeg', () => {
  it('dates the first media by its arrival: real-time arrival keeps the first tag\'s time, a burst at most a second back', async () => {
    const flv = await makeFlv({ seconds: 2, gopFrames: 30 });
    const options = { maxMediaSeconds: 10, maxBytes: 10_000_000 };
    const tags = new FlvTagReader().push(flv).filter((tag) => tag.type === 8 || tag.type === 9);
    const span = tags.at(-1)!.timestamp - tags[0]!.timestamp;
    // Everything at once at T: no tag more than a second ahead of the wall clock dates it, so
    // the first second's tags do, and the newest of them says the first came about 1 s earlier.
    const burst = new SourceProbe(options);
    burst.push(flv, 100_000);
    expect(span).toBeGreaterThan(1500);
    expect(Math.abs(burst.mediaZeroAt! - (100_000 - 1000))).toBeLessThan(100);
    // The first half at T, the rest much later (a stalled network): the first half dates it.
    const half = Math.floor(flv.length / 2);
    const delayed = new SourceProbe(options);
    delayed.push(flv.subarray(0, half), 100_000);
    const dated = delayed.mediaZeroAt!;
    delayed.push(flv.subarray(half), 160_000);
    expect(delayed.mediaZeroAt).toBe(dated);
    expect(dated).toBeGreaterThanOrEqual(100_000 - 1000);
    expect(dated).toBeLessThanOrEqual(100_000);
    // A stale tag far ahead of the wall clock (a previous publisher's, replayed at a reconnect) does not date the stream.
    const stale = new SourceProbe(options);
    stale.push(flv.subarray(0, 2000), 200_000);
    const early = stale.mediaZeroAt;
    stale.push(flv.subarray(2000), 200_000);
    expect(stale.mediaZeroAt! >= 200_000 - 1000 && (early === undefined || stale.mediaZeroAt! <= early)).toBe(true);
  });

  it('reads picture size, codec, audio and keyframe interval, and keeps every byte', async () => {
    const flv = await makeFlv({ seconds: 5, gopFrames: 60, size: '1280x720' });
    const { facts, bufferedBytes } = probeFlv(flv, 4096);
    expect(facts).toEqual({ video: { playableH264: true, width: 1280, height: 720, keyframeInterval: 2, probedSeconds: expect.closeTo(2, 1) }, audio: true });
    expect(bufferedBytes).toBeLessThan(flv.length); // it decided at the second keyframe, not at the end
  });

  it('applies the SPS cropping (1080 lines coded as 1088) whatever the byte boundaries', async () => {
    const flv = await makeFlv({ seconds: 3, gopFrames: 30, size: '1920x1080' });
    for (const pieceSize of [1, 7, 4096]) {
      expect(probeFlv(flv, pieceSize).facts).toMatchObject({ video: { width: 1920, height: 1080, keyframeInterval: 1 } });
    }
  });

  it('decides without a keyframe interval when the GOP outlasts the probe (a 6 s GOP)', async () => {
    const flv = await makeFlv({ seconds: 8, gopFrames: 180, size: '640x360' });
    const { facts } = probeFlv(flv, 4096);
    expect(facts.video).toMatchObject({ width: 640, height: 360, keyframeInterval: undefined });
  });

  it('says how much media it saw when its time runs out first (a publisher slower than real time)', async () => {
    const flv = await makeFlv({ seconds: 5, gopFrames: 60, size: '640x360' });
    const probe = new SourceProbe({ maxMediaSeconds: 2.2, maxBytes: 64 * 1024 * 1024 });
    let facts;
    for (let offset = 0; offset < flv.length && !facts; offset += 512) {
      facts = probe.push(flv.subarray(offset, offset + 512));
      if (probe.facts().video && probe.facts().video!.probedSeconds >= 1.3) break;
    }
    expect(facts).toBeUndefined();
    // The caller's wall-clock limit takes the facts as they are.
    expect(probe.facts().video).toMatchObject({ keyframeInterval: undefined, probedSeconds: expect.closeTo(1.3, 1) });
  });

  it('tells video-only sources and 10-bit H.264 apart', async () => {
    const silent = await makeFlv({ seconds: 3, gopFrames: 30, audio: false });
    expect(probeFlv(silent).facts).toMatchObject({ audio: false, video: { playableH264: true } });
    const tenBit = await makeFlv({ seconds: 3, gopFrames: 30, pixelFormat: 'yuv420p10le' });
    expect(probeFlv(tenBit).facts.video).toMatchObject({ playableH264: false, width: 640, height: 360 });
  });

  it('reports a stream that is not FLV instead of throwing', () => {
    const { problem } = probeFlv(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    expect(problem).toBe('not an FLV stream');
  });
});

describe('FLV tag reader and SPS parser on hostile bytes', () => {
  it('refuses a tag that claims more than the cap', () => {
    const header = Buffer.from([0x46, 0x4c, 0x56, 1, 5, 0, 0, 0, 9, 0, 0, 0, 0]);
    const tag = Buffer.from([9, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0]);
    expect(() => new FlvTagReader().push(Buffer.concat([header, tag]))).toThrow(FlvFormatError);
  });

  it('refuses truncated and malformed parameter sets', () => {
    expect(() => parseSequenceParameterSet(Uint8Array.from([0x67, 100, 0, 31]))).toThrow(AvcFormatError);
    expect(() => parseSequenceParameterSet(Uint8Array.from([0x68, 1, 2, 3]))).toThrow(AvcFormatError);
    expect(() => parseSequenceParameterSet(Uint8Array.from([0x67, 66, 0, 31, 0, 0, 0, 0, 0, 0]))).toThrow(AvcFormatError);
  });
});
