import { describe, expect, it } from 'vitest';
import { catchUpRate, type CatchUpState } from '../../../edge/player/client/live-catch-up.ts';

// A viewer 1 s later than its 0.6 s target with half a second buffered ahead (where hls.js's own catch-up, needing more than 1 s ahead, does nothing).
const late: CatchUpState = { latency: 1.6, targetLatency: 0.6, forwardBuffer: 0.5, maxRate: 1.5 };

describe('the player page plays faster to get back to its target latency', () => {
  it('speeds up with the distance from the target, on hls.js\'s curve, with little buffered ahead', () => {
    expect(catchUpRate(late)).toBe(1.35);
    expect(catchUpRate({ ...late, latency: 1.1 })).toBe(1.2);
    expect(catchUpRate({ ...late, latency: 0.7 })).toBe(1.05);
  });

  it('never faster than the page allows', () => {
    expect(catchUpRate({ ...late, latency: 5 })).toBe(1.5);
    expect(catchUpRate({ ...late, latency: 5, maxRate: 1.25 })).toBe(1.25);
  });

  it('plays at 1 near the target, ahead of it, or with too little buffered to play faster', () => {
    expect(catchUpRate({ ...late, latency: 0.64 })).toBe(1);
    expect(catchUpRate({ ...late, latency: 0.3 })).toBe(1);
    expect(catchUpRate({ ...late, forwardBuffer: 0.25 })).toBe(1);
  });

  it('plays at 1 until hls.js knows its target and its latency', () => {
    expect(catchUpRate({ ...late, targetLatency: null })).toBe(1);
    expect(catchUpRate({ ...late, latency: Number.NaN })).toBe(1);
  });
});
