import { describe, expect, it } from 'vitest';
import { RateWindow } from '../../../ingest/pipeline/rate-window.ts';

/** The definition: values added at or after now - window, per second over the window (or the time since start). */
function expected(samples: readonly { at: number; value: number }[], now: number, startedAt: number, windowMs: number): number {
  const span = Math.min(windowMs, now - startedAt);
  if (span <= 0) return 0;
  const sum = samples.filter((sample) => sample.at >= now - windowMs && sample.at <= now).reduce((total, sample) => total + sample.value, 0);
  return (sum * 1000) / span;
}

describe('RateWindow', () => {
  it('agrees with the definition over a long irregular run (bursts, silences, fractional values)', () => {
    const windowMs = 5000;
    const window = new RateWindow(windowMs);
    const samples: { at: number; value: number }[] = [];
    let state = 7;
    const next = () => ((state = (state * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    let now = 1_000_000;
    const startedAt = now;
    for (let step = 0; step < 20_000; step++) {
      // Mostly ~12 ms apart (80 tags a second), now and then a silence longer than the window.
      now += next() < 0.001 ? 7000 : Math.floor(next() * 25);
      const value = next() < 0.5 ? Math.floor(next() * 20_000) : next() * 0.04;
      window.add(value, now);
      samples.push({ at: now, value });
      if (step % 97 === 0) expect(window.perSecond(now, startedAt)).toBeCloseTo(expected(samples, now, startedAt, windowMs), 6);
    }
    // Read later than the last sample: the window empties.
    expect(window.perSecond(now + windowMs / 2, startedAt)).toBeCloseTo(expected(samples, now + windowMs / 2, startedAt, windowMs), 6);
    expect(window.perSecond(now + windowMs + 1, startedAt)).toBe(0);
  });

  it('counts over the time since the start while that is shorter than the window', () => {
    const window = new RateWindow(10_000);
    window.add(1000, 500);
    window.add(1000, 1000);
    expect(window.perSecond(2000, 0)).toBe(1000);
    expect(window.perSecond(0, 0)).toBe(0);
  });
});
