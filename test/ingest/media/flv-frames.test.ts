import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parsePassableAacConfig, UnsupportedAudioError, UnsupportedSourceError } from '../../../ingest/media/aac-config.ts';
import { FlvFrameReader, UnsupportedVideoError, type MediaEvent } from '../../../ingest/media/flv-frames.ts';
import { FlvTimeline, type TimelineTrack } from '../../../ingest/media/flv-timeline.ts';
import { aacTag, avcTag, readTags } from '../../helpers/flv-synth.ts';
import { makeFlv } from '../../helpers/media-fixtures.ts';

describe('AudioSpecificConfig: what passes through', () => {
  it.each([
    { what: 'AAC-LC 48 kHz stereo', bytes: [0x11, 0x90], expected: { objectType: 2, sampleRate: 48000, channels: 2 } },
    { what: 'AAC-LC 44.1 kHz stereo', bytes: [0x12, 0x10], expected: { objectType: 2, sampleRate: 44100, channels: 2 } },
    { what: 'AAC-LC 44.1 kHz mono', bytes: [0x12, 0x08], expected: { objectType: 2, sampleRate: 44100, channels: 1 } },
    { what: 'AAC-LC with a sync extension saying no SBR', bytes: [0x11, 0x90, 0x56, 0xe5, 0x00], expected: { objectType: 2, sampleRate: 48000, channels: 2 } },
  ])('$what', ({ bytes, expected }) => {
    expect(parsePassableAacConfig(new Uint8Array(bytes))).toMatchObject(expected);
  });

  it.each([
    { what: 'HE-AAC (object type 5)', bytes: [0x2b, 0x10, 0x88, 0x00], error: /HE-AAC/ },
    { what: 'HE-AAC v2 (object type 29)', bytes: [0xeb, 0x10, 0x88, 0x00], error: /HE-AAC v2/ },
    { what: 'SBR signalled in a sync extension', bytes: [0x11, 0x90, 0x56, 0xe5, 0x80], error: /SBR in a sync extension/ },
    { what: 'AAC Main', bytes: [0x09, 0x90], error: /object type 1 is not AAC-LC/ },
    { what: '22.05 kHz', bytes: [0x13, 0x90], error: /22050 Hz/ },
    { what: '5.1 channels', bytes: [0x11, 0xb0], error: /channel configuration 6/ },
    { what: '960-sample frames', bytes: [0x11, 0x94], error: /960-sample/ },
    { what: 'one byte', bytes: [0x11], error: /1 byte/ },
  ])('refuses $what with an UnsupportedAudioError', ({ bytes, error }) => {
    const attempt = () => parsePassableAacConfig(new Uint8Array(bytes));
    expect(attempt).toThrow(UnsupportedAudioError);
    expect(attempt).toThrow(error);
  });
});

describe('FLV timeline', () => {
  type Step = [TimelineTrack, number];
  it.each<{ what: string; steps: Step[]; expected: number[]; notice?: RegExp }>([
    { what: 'starts at zero and follows the publisher', steps: [['video', 5000], ['audio', 5010], ['video', 5033]], expected: [0, 10, 33] },
    {
      what: 'continues across the 32-bit wrap (both tracks, interleaved around it)',
      steps: [['video', 2 ** 32 - 40], ['video', 2 ** 32 - 7], ['audio', 2 ** 32 - 5], ['video', 26], ['audio', 18], ['video', 59]],
      expected: [0, 33, 35, 66, 58, 99],
      notice: /32-bit timestamp wrapped \(4294967\.291 s to 0\.026 s\)/,
    },
    {
      what: 'keeps going forward when the clock jumps back, both tracks by the same correction',
      steps: [['video', 1000], ['audio', 1010], ['video', 1033], ['video', 1066], ['video', 500], ['audio', 520], ['video', 533]],
      expected: [0, 10, 33, 66, 99, 119, 132],
      notice: /video timestamps jumped back 0\.566 s \(publisher time 0\.500 s, the track was at 0\.066 s of media\); the timeline continues from 0\.099 s/,
    },
    {
      what: 'closes a forward jump of the whole stream instead of making a segment of it',
      steps: [['video', 0], ['video', 33], ['video', 60_033], ['video', 60_066]],
      expected: [0, 33, 66, 99],
      notice: /video timestamps jumped forward 60\.000 s/,
    },
    { what: 'keeps a track that paused alone (its gap is real)', steps: [['audio', 0], ['video', 0], ['video', 6000], ['video', 12_000], ['audio', 15_000]], expected: [0, 0, 6000, 12_000, 15_000] },
    { what: 'clamps a millisecond of disorder', steps: [['video', 0], ['video', 33], ['video', 30]], expected: [0, 33, 34] },
  ])('$what', ({ steps, expected, notice }) => {
    const notices: string[] = [];
    const timeline = new FlvTimeline((message) => notices.push(message));
    expect(steps.map(([track, time]) => timeline.map(track, time))).toEqual(expected);
    if (notice) expect(notices.join('\n')).toMatch(notice);
    else expect(notices).toEqual([]);
  });
});

describe('FLV tags to frames', () => {
  it('reads access units as views into the tag, with keyframe flag and signed composition time', async () => {
    const flv = await makeFlv({ seconds: 1, gopFrames: 30 });
    const reader = new FlvFrameReader(() => {});
    const tags = readTags(flv);
    const events = tags.map((tag) => ({ tag, event: reader.take(tag) }));
    const configs = events.flatMap(({ event }) => (event?.type === 'video-config' || event?.type === 'audio-config' ? [event] : []));
    expect(configs.map((event) => event.type)).toEqual(['video-config', 'audio-config']);
    expect(configs[0]).toMatchObject({ config: { parameters: { width: 640, height: 360 } } });
    expect(configs[1]).toMatchObject({ config: { objectType: 2, sampleRate: 48000, channels: 1 } }); // lavfi sine is mono
    const video = events.filter((item): item is { tag: (typeof events)[number]['tag']; event: Extract<MediaEvent, { type: 'video' }> } => item.event?.type === 'video');
    expect(video.length).toBe(30);
    expect(video[0]!.event.frame.keyframe).toBe(true);
    expect(video.filter((item) => item.event.frame.keyframe)).toHaveLength(1);
    for (const { tag, event } of video) {
      expect(event.frame.data.buffer).toBe(tag.data.buffer);
      expect(event.frame.data.byteOffset).toBe(tag.data.byteOffset + 5);
    }
    // x264 veryfast makes B-frames: some frames are shown after later-decoded ones.
    expect(video.some((item) => item.event.frame.compositionOffset > 34)).toBe(true);

    const negative = new FlvFrameReader(() => {});
    negative.take(readTags(flv).find((tag) => tag.type === 9)!);
    expect(negative.take(avcTag(40, { compositionTime: -34 }))).toMatchObject({ type: 'video', frame: { compositionOffset: -34, keyframe: false } });
  });

  it('reports a configuration once while it stays the same, and again when it changes', () => {
    const reader = new FlvFrameReader(() => {});
    const header = (bytes: number[]) => aacTag(0, { sequenceHeader: true, payload: new Uint8Array(bytes) });
    expect(reader.take(header([0x11, 0x90]))?.type).toBe('audio-config');
    expect(reader.take(header([0x11, 0x90]))).toBeUndefined();
    expect(reader.take(header([0x12, 0x10]))).toMatchObject({ type: 'audio-config', config: { sampleRate: 44100 } });
    expect(reader.take(aacTag(23, {}))).toMatchObject({ type: 'audio', frame: { time: 0 } });
  });

  it('skips frames that come before their configuration', () => {
    const reader = new FlvFrameReader(() => {});
    expect(reader.take(avcTag(0, { keyframe: true }))).toBeUndefined();
    expect(reader.take(aacTag(0, {}))).toBeUndefined();
  });

  it.each([
    { what: 'MP3 audio', tag: aacTag(0, { soundFormat: 2 }), error: UnsupportedAudioError, message: /MP3 audio is not AAC/ },
    { what: 'HE-AAC audio', tag: aacTag(0, { sequenceHeader: true, payload: new Uint8Array([0x2b, 0x10, 0x88, 0x00]) }), error: UnsupportedAudioError, message: /HE-AAC/ },
    { what: 'legacy HEVC (codec 12)', tag: avcTag(0, { codec: 12 }), error: UnsupportedVideoError, message: /codec 12 is not H.264/ },
    { what: 'enhanced-RTMP HEVC', tag: { type: 9, timestamp: 0, data: new Uint8Array([0x90, 0x68, 0x76, 0x63, 0x31, 0]) }, error: UnsupportedVideoError, message: /enhanced-RTMP video \(hvc1\)/ },
    { what: 'an unreadable AVC configuration', tag: avcTag(0, { keyframe: true, packetType: 0, payload: new Uint8Array([1, 2, 3]) }), error: UnsupportedVideoError, message: /unreadable AVC configuration/ },
  ])('refuses $what with a named error the caller can fall back on', ({ tag, error, message }) => {
    const attempt = () => new FlvFrameReader(() => {}).take(tag);
    expect(attempt).toThrow(error);
    expect(attempt).toThrow(UnsupportedSourceError);
    expect(attempt).toThrow(message);
  });

  it('takes any tag bytes without failing other than with a named refusal (fuzzed)', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ type: fc.constantFrom(8, 9, 18), timestamp: fc.nat(), data: fc.uint8Array({ maxLength: 48 }) }), { maxLength: 30 }), (tags) => {
        const reader = new FlvFrameReader(() => {});
        for (const tag of tags) {
          try {
            const event = reader.take(tag);
            if (event?.type === 'video') expect(event.frame.decodeTime).toBeGreaterThanOrEqual(0);
          } catch (error) {
            expect(error).toBeInstanceOf(UnsupportedSourceError);
          }
        }
      }),
      { numRuns: 500 },
    );
  });
});
