import { describe, expect, it } from 'vitest';
import type { FragmentLoad } from '../../../scripts/bench/latency-page.ts';
import { startupBreakdown, startupText } from '../../../scripts/bench/latency-startup.ts';

const load = (type: string, sn: number | 'initSegment', part: number | null, requestedAt: number | null, sent: number | null, done: number | null, firstByte?: number | null): FragmentLoad => ({ type, sn, part, requestedAt, sent, done, ...(firstByte === undefined ? {} : { firstByte }) });

// The shape of a real start-up (latency-budget, 2026-12-06 15:05 UTC, trimmed): the video's init,
// then sn 4's parts 0-2 one after another; the audio's init once the video gave it a timeline, its parts; the seek.
const loads: FragmentLoad[] = [
  load('main', 'initSegment', null, 317, null, null),
  load('main', 4, 0, 322, 675, 866, 170),
  load('main', 4, 1, null, 867, 948, 60),
  load('main', 4, 2, null, 949, 998, null),
  load('audio', 'initSegment', null, 1105, null, null),
  load('audio', 5, 0, 1109, 1211, 1320),
  load('audio', 5, 1, null, 1322, 1935),
  // After the seek: not start-up.
  load('main', 5, 0, 1406, 2000, 2100),
];

describe("hls.js's start-up breakdown", () => {
  const breakdown = startupBreakdown({ loads, firstLevelAt: 324, seekAt: 1950, startup: { playingAfterMs: 1990, latency: 2, targetLatency: 1 } });

  it('counts each track\'s requests sent before the seek, their span and time each, and the init segment before them', () => {
    expect(breakdown.main).toEqual({ initMs: 675 - 317, requests: 3, firstSent: 675, lastDone: 998, requestMs: { median: 81, max: 191 }, firstByteMs: { median: 115, max: 170 } });
    // Records without the network's timing (older runs, or no Resource Timing entry) have none.
    expect(breakdown.audio).toEqual({ initMs: 1211 - 1105, requests: 2, firstSent: 1211, lastDone: 1935, requestMs: { median: (109 + 613) / 2, max: 613 }, firstByteMs: null });
    expect(breakdown).toMatchObject({ firstLevelAt: 324, seekAt: 1950, playingAt: 1990 });
  });

  it('says it in one line, with the time from the first media playlist to the first frame (what hls.js keeps at 1x)', () => {
    const text = startupText(breakdown);
    expect(text).toContain('video: init 358 ms, then 3 requests one after another from 675 to 998 ms, each 81 ms (median; max 191), first byte 115 ms on the network (max 170)');
    expect(text).toContain('audio: init 106 ms, then 2 requests one after another from 1211 to 1935 ms, each 361 ms (median; max 613); seek');
    expect(text).toContain('1666 ms from the first media playlist to the first frame');
  });

  it('says so when a page never started', () => {
    const never = startupBreakdown({ loads: [], firstLevelAt: null, seekAt: null, startup: null });
    expect(startupText(never)).toBe('first media playlist at ? ms; video: nothing loaded before the seek; audio: nothing loaded before the seek; seek at ? ms, first frame at ? ms');
  });
});
