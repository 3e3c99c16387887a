import { describe, expect, it } from 'vitest';
import { STUCK_PLAYHEAD_SECONDS, stuckPlayheadTarget, type Ranges } from '../../../edge/player/client/playhead.ts';

const ranges = (...spans: [number, number][]): Ranges => ({ length: spans.length, start: (i) => spans[i]![0], end: (i) => spans[i]![1] });
const playing = { paused: false, seeking: false, currentTime: 96.43 };
// What dash.js 5.2 left on 2026-12-07 across a Period with a new picture size: stuck 0.05 s
// before the first Period's last segment, 2 s buffered ahead, the new Period buffered after a gap.
const stuckAtPeriodEnd = ranges([88.48, 98.47], [100.76, 140.76]);

describe('the player page moves a playhead that stands still inside buffered media', () => {
  it('to the next buffered range once it stood still long enough with media ahead of it', () => {
    expect(stuckPlayheadTarget(playing, stuckAtPeriodEnd, STUCK_PLAYHEAD_SECONDS)).toBe(100.76);
  });

  it('not before it stood still long enough', () => {
    expect(stuckPlayheadTarget(playing, stuckAtPeriodEnd, STUCK_PLAYHEAD_SECONDS - 0.5)).toBeUndefined();
  });

  it('not when the player waits for data (under a second ahead), is paused or seeking', () => {
    expect(stuckPlayheadTarget({ ...playing, currentTime: 97.6 }, stuckAtPeriodEnd, 10)).toBeUndefined();
    expect(stuckPlayheadTarget({ ...playing, paused: true }, stuckAtPeriodEnd, 10)).toBeUndefined();
    expect(stuckPlayheadTarget({ ...playing, seeking: true }, stuckAtPeriodEnd, 10)).toBeUndefined();
  });

  it('not when there is nowhere to go: no later range, or the playhead outside any range', () => {
    expect(stuckPlayheadTarget(playing, ranges([88.48, 98.47]), 10)).toBeUndefined();
    expect(stuckPlayheadTarget({ ...playing, currentTime: 99 }, stuckAtPeriodEnd, 10)).toBeUndefined();
  });
});
