import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { FlvFrameReader, type AvcConfig } from '../../../ingest/media/flv-frames.ts';
import { writeFragment, type FragmentSample } from '../../../ingest/package/cmaf-fragment-writer.ts';
import { writeInitSegment } from '../../../ingest/package/cmaf-init-writer.ts';
import { parseCmafInitSegment, parseFragmentTiming } from '../../../ingest/package/cmaf-track.ts';
import { readChunkSamples } from '../../helpers/fragment-samples.ts';
import { readTags } from '../../helpers/flv-synth.ts';
import { makeFlv } from '../../helpers/media-fixtures.ts';

describe('CMAF box writer, read back by the project\'s own parser', () => {
  let avc: AvcConfig;

  beforeAll(async () => {
    const reader = new FlvFrameReader(() => {});
    for (const tag of readTags(await makeFlv({ seconds: 0.5, gopFrames: 30, size: '1280x720', audio: false }))) {
      const event = reader.take(tag);
      if (event?.type === 'video-config') avc = event.config;
    }
  });

  it('writes a video init segment: avc1/avcC, picture size, 90 kHz, trex', () => {
    const init = writeInitSegment({ kind: 'video', avcC: avc.record, width: 1280, height: 720, timescale: 90_000 });
    const track = parseCmafInitSegment(init);
    expect(track).toMatchObject({ trackId: 1, kind: 'video', timescale: 90_000, width: 1280, height: 720, defaultSampleDuration: 0, defaultSampleFlags: 0 });
    expect(track.codec).toBe(`avc1.${[...avc.record.subarray(1, 4)].map((byte) => byte.toString(16).padStart(2, '0')).join('')}`);
    expect(Buffer.from(init.subarray(4, 8)).toString()).toBe('ftyp');
  });

  it.each([
    { asc: [0x11, 0x90], sampleRate: 48000, channels: 2 },
    { asc: [0x12, 0x08], sampleRate: 44100, channels: 1 },
  ])('writes an audio init segment: mp4a/esds at $sampleRate Hz x$channels', ({ asc, sampleRate, channels }) => {
    const init = writeInitSegment({ kind: 'audio', audioSpecificConfig: new Uint8Array(asc), sampleRate, channels, timescale: sampleRate });
    expect(parseCmafInitSegment(init)).toMatchObject({ kind: 'audio', codec: 'mp4a.40.2', timescale: sampleRate, sampleRate, channels });
  });

  const sample = (duration: number, compositionOffset: number, keyframe: boolean, size: number, fill = size): FragmentSample => ({
    duration,
    compositionOffset,
    keyframe,
    data: new Uint8Array(size).fill(fill & 0xff),
  });

  it.each([
    { what: 'video with B-frames (positive offsets, version 0)', kind: 'video' as const, samples: [sample(3000, 6000, true, 50), sample(3000, 0, false, 7), sample(3060, 3000, false, 9)], version: 0, firstOffset: 6000 },
    { what: 'video with a negative offset (version 1)', kind: 'video' as const, samples: [sample(3000, 0, true, 5), sample(3000, -3000, false, 6)], version: 1, firstOffset: 0 },
    { what: 'video starting between keyframes', kind: 'video' as const, samples: [sample(3000, 0, false, 5)], version: 0, firstOffset: 0 },
    { what: 'audio (no flags, no offsets)', kind: 'audio' as const, samples: [sample(1024, 0, true, 300), sample(1024, 0, true, 301)], version: 0, firstOffset: 0 },
  ])('writes a chunk of $what', ({ kind, samples, version, firstOffset }) => {
    const chunk = writeFragment(kind, 7, 123_456_789_012, samples);
    const read = readChunkSamples(chunk);
    expect(read.sequenceNumber).toBe(7);
    expect(read.trunVersion).toBe(version);
    let time = 123_456_789_012;
    read.samples.forEach((got, i) => {
      expect(got).toMatchObject({ decodeTime: time, duration: samples[i]!.duration, compositionOffset: kind === 'video' ? samples[i]!.compositionOffset : 0, sync: samples[i]!.keyframe });
      expect(Buffer.compare(got.data, samples[i]!.data)).toBe(0);
      time += samples[i]!.duration;
    });
    const track = parseCmafInitSegment(kind === 'video'
      ? writeInitSegment({ kind, avcC: avc.record, width: 1280, height: 720, timescale: 90_000 })
      : writeInitSegment({ kind, audioSpecificConfig: new Uint8Array([0x11, 0x90]), sampleRate: 48000, channels: 2, timescale: 48000 }));
    expect(parseFragmentTiming(chunk, track)).toEqual({
      baseMediaDecodeTime: 123_456_789_012,
      duration: samples.reduce((sum, s) => sum + s.duration, 0),
      sampleCount: samples.length,
      startsWithSyncSample: samples[0]!.keyframe,
      firstCompositionOffset: firstOffset,
    });
  });

  it('round-trips any samples (fuzzed)', () => {
    const arbitrarySample = fc.record({
      duration: fc.integer({ min: 1, max: 2 ** 31 }),
      compositionOffset: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
      keyframe: fc.boolean(),
      data: fc.uint8Array({ minLength: 0, maxLength: 64 }),
    });
    fc.assert(
      fc.property(fc.constantFrom<'video' | 'audio'>('video', 'audio'), fc.integer({ min: 1, max: 2 ** 32 - 1 }), fc.integer({ min: 0, max: 2 ** 52 }), fc.array(arbitrarySample, { minLength: 1, maxLength: 40 }), (kind, sequence, base, samples) => {
        const read = readChunkSamples(writeFragment(kind, sequence, base, samples));
        expect(read.sequenceNumber).toBe(sequence);
        expect(read.samples.map((s) => [s.duration, s.compositionOffset, s.sync, Buffer.from(s.data).toString('hex')])).toEqual(
          samples.map((s) => [s.duration, kind === 'video' ? s.compositionOffset : 0, kind === 'video' ? s.keyframe : true, Buffer.from(s.data).toString('hex')]),
        );
        expect(read.samples[0]!.decodeTime).toBe(base);
      }),
      { numRuns: 300 },
    );
  });
});
