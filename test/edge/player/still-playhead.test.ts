import { describe, expect, it } from 'vitest';
import { NUDGE_SECONDS, STILL_PLAYHEAD_SECONDS, stillPlayheadMove, type PeriodView, type Ranges } from '../../../edge/player/client/playhead.ts';

const ranges = (...spans: [number, number][]): Ranges => ({ length: spans.length, start: (i) => spans[i]![0], end: (i) => spans[i]![1] });
// What dash.js 5.2 left on 2026-12-07: a 12 s publish, then the publisher away for 2.3 s. The first
// Period's media runs 655.11-667.09; the second Period starts at 669.35.
const buffered = ranges([655.11, 667.09]);
const firstPeriod: PeriodView = { end: 669.35, finishedBuffering: true, last: false };
// Run dry at the live edge, the last segment landed, and the video stood still in front of it.
const inFrontOfLastSegment = { paused: false, seeking: false, currentTime: 665.05 };
const playedOut = { paused: false, seeking: false, currentTime: 667.09 };

describe('the player page moves a dash.js playhead that stands still', () => {
  it('nudges it on inside the buffered media it stands in front of', () => {
    const move = stillPlayheadMove(inFrontOfLastSegment, buffered, STILL_PLAYHEAD_SECONDS, firstPeriod);
    expect(move?.kind).toBe('nudge');
    expect(move?.to).toBeCloseTo(665.05 + NUDGE_SECONDS, 6);
  });

  it("moves it from the end of a played-out Period to the next Period's start", () => {
    expect(stillPlayheadMove(playedOut, buffered, STILL_PLAYHEAD_SECONDS, firstPeriod)).toEqual({ kind: 'next-period', to: 669.35 });
  });

  it('not before it stood still long enough, nor when paused or seeking', () => {
    expect(stillPlayheadMove(inFrontOfLastSegment, buffered, STILL_PLAYHEAD_SECONDS - 0.5, firstPeriod)).toBeUndefined();
    expect(stillPlayheadMove(playedOut, buffered, STILL_PLAYHEAD_SECONDS - 0.5, firstPeriod)).toBeUndefined();
    expect(stillPlayheadMove({ ...inFrontOfLastSegment, paused: true }, buffered, 10, firstPeriod)).toBeUndefined();
    expect(stillPlayheadMove({ ...playedOut, seeking: true }, buffered, 10, firstPeriod)).toBeUndefined();
  });

  it('leaves a player waiting for data: under a second ahead, or a Period still loading', () => {
    expect(stillPlayheadMove({ ...playedOut, currentTime: 666.4 }, buffered, 10, firstPeriod)).toBeUndefined();
    expect(stillPlayheadMove(playedOut, buffered, 10, { ...firstPeriod, finishedBuffering: false })).toBeUndefined();
  });

  it('leaves the live edge (the last Period), and a playhead already past the Period', () => {
    expect(stillPlayheadMove(playedOut, buffered, 10, { ...firstPeriod, last: true })).toBeUndefined();
    expect(stillPlayheadMove(playedOut, buffered, 10, undefined)).toBeUndefined();
    expect(stillPlayheadMove({ ...playedOut, currentTime: 669.4 }, ranges(), 10, firstPeriod)).toBeUndefined();
  });
});
