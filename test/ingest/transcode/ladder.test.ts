import { describe, expect, it } from 'vitest';
import { bitrateForHeight, DEFAULT_LADDER_CONFIG, parseRungs, passthroughFits, planLadder, withEncodedTop, type SourceFacts } from '../../../ingest/transcode/ladder.ts';

// probedSeconds: a probe that saw its whole window (a segment and a bit) unless said otherwise.
const h264 = (height: number, keyframeInterval: number | undefined, probedSeconds = 2.2): SourceFacts => ({
  video: { playableH264: true, width: Math.round((height * 16) / 9 / 2) * 2, height, keyframeInterval, probedSeconds },
  audio: true,
});

describe('ladder plan', () => {
  it('passes a 1080p source with 2 s keyframes through and encodes 720/480/360 below it, one audio', () => {
    const plan = planLadder(h264(1080, 2), DEFAULT_LADDER_CONFIG, 2);
    expect(plan.encodeReason).toBeUndefined();
    expect(plan.renditions.map((r) => `${r.name}:${r.encoding}`)).toEqual(['source:copy', '720p:h264', '480p:h264', '360p:h264', 'audio:aac']);
  });

  it('never upscales, and skips a rung too close to the source', () => {
    expect(planLadder(h264(720, 2), DEFAULT_LADDER_CONFIG, 2).renditions.map((r) => r.name)).toEqual(['source', '480p', '360p', 'audio']);
    expect(planLadder(h264(768, 2), DEFAULT_LADDER_CONFIG, 2).renditions.map((r) => r.name)).toEqual(['source', '480p', '360p', 'audio']);
    expect(planLadder(h264(360, 2), DEFAULT_LADDER_CONFIG, 2).renditions.map((r) => r.name)).toEqual(['source', 'audio']);
    expect(planLadder(h264(240, 2), DEFAULT_LADDER_CONFIG, 2).renditions.map((r) => r.name)).toEqual(['source', 'audio']);
  });

  it('encodes the top rendition when the keyframes do not fit the segments, the codec does not play, or passthrough is off', () => {
    for (const [facts, reason] of [
      [h264(1080, 6), /keyframe interval \(6.00 s\)/],
      [h264(1080, 1.5), /does not divide/],
      [h264(1080, undefined), /no second keyframe/],
      [{ video: { playableH264: false, width: 1920, height: 1080, keyframeInterval: 2, probedSeconds: 2 }, audio: true }, /not 8-bit 4:2:0 H.264/],
    ] as const) {
      const plan = planLadder(facts, DEFAULT_LADDER_CONFIG, 2);
      expect(plan.encodeReason).toMatch(reason);
      expect(plan.renditions[0]).toMatchObject({ name: 'source', encoding: 'h264', bitrate: 5_000_000 });
      expect(plan.renditions[0]).not.toHaveProperty('height');
    }
    expect(planLadder(h264(1080, 2), { ...DEFAULT_LADDER_CONFIG, passthrough: 'never' }, 2).encodeReason).toBe('passthrough is off');
  });

  it('passes through a source whose probe ran out of time before a segment of media came (a publisher slower than real time): its GOP is unknown, not long', () => {
    const slow = planLadder(h264(720, undefined, 1.4), { ...DEFAULT_LADDER_CONFIG, rungs: [] }, 2);
    expect(slow.encodeReason).toBeUndefined();
    expect(slow.renditions.map((r) => `${r.name}:${r.encoding}`)).toEqual(['source:copy', 'audio:aac']);
    // A whole segment of media with one keyframe is a GOP too long for the segments.
    expect(planLadder(h264(720, undefined, 2.0), DEFAULT_LADDER_CONFIG, 2).encodeReason).toMatch(/no second keyframe/);
  });

  it('leaves out what the source lacks', () => {
    expect(planLadder({ audio: true }, DEFAULT_LADDER_CONFIG, 2).renditions.map((r) => r.name)).toEqual(['audio']);
    expect(planLadder({ ...h264(720, 2), audio: false }, DEFAULT_LADDER_CONFIG, 2).renditions.map((r) => r.name)).toEqual(['source', '480p', '360p']);
  });

  it('turns a passthrough top into an encoded one and keeps the rest', () => {
    const plan = planLadder(h264(720, 2), DEFAULT_LADDER_CONFIG, 2);
    const encoded = withEncodedTop(plan.renditions, DEFAULT_LADDER_CONFIG, 720);
    expect(encoded[0]).toMatchObject({ name: 'source', encoding: 'h264', bitrate: 2_800_000 });
    expect(encoded.slice(1)).toEqual(plan.renditions.slice(1));
  });
});

describe('passthrough keyframe rule', () => {
  it('accepts intervals that divide the segment duration, with millisecond slack', () => {
    for (const interval of [2, 1, 0.5, 1.999, 2.033, 2 / 3]) expect(passthroughFits(interval, 2)).toBe(true);
    for (const interval of [1.5, 3, 6, 2.2, 0, 0.9]) expect(passthroughFits(interval, 2)).toBe(false);
  });
});

describe('rung configuration', () => {
  it('parses HEIGHT:BITRATE lists, tallest first', () => {
    expect(parseRungs('360:800k,720:2.8M')).toEqual([{ height: 720, bitrate: 2_800_000 }, { height: 360, bitrate: 800_000 }]);
    expect(parseRungs('none')).toEqual([]);
  });

  it('refuses what it cannot encode, saying why', () => {
    expect(() => parseRungs('720p')).toThrow(/HEIGHT:BITRATE/);
    expect(() => parseRungs('721:1M')).toThrow(/even/);
    expect(() => parseRungs('720:10')).toThrow(/between 64k/);
    expect(() => parseRungs('720:1M,720:2M')).toThrow(/once/);
  });

  it('picks an encoded top bitrate from the rung at or above the source height', () => {
    expect(bitrateForHeight(1080, DEFAULT_LADDER_CONFIG.rungs)).toBe(5_000_000);
    expect(bitrateForHeight(600, DEFAULT_LADDER_CONFIG.rungs)).toBe(2_800_000);
    expect(bitrateForHeight(2160, DEFAULT_LADDER_CONFIG.rungs)).toBe(20_000_000);
  });
});
