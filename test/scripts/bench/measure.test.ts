import { describe, expect, it } from 'vitest';
import { processAnonymousRssBytes, processRssBytes, slopePerMinute } from '../../../scripts/bench/measure.ts';

describe('memory figures of the load scripts', () => {
  it('fits the slope per minute of a growing series, and has none for one point', () => {
    expect(slopePerMinute([[0, 100], [60_000, 102], [120_000, 104]])).toBeCloseTo(2);
    expect(slopePerMinute([[0, 100], [30_000, 90], [60_000, 100], [90_000, 90]])).toBeCloseTo(-4);
    expect(slopePerMinute([[0, 1]])).toBeNaN();
    expect(slopePerMinute([[5, 1], [5, 2]])).toBeNaN();
  });

  it.runIf(process.platform === 'linux')('reads resident memory, of which the anonymous part is less', () => {
    const [all, anonymous] = [processRssBytes(process.pid), processAnonymousRssBytes(process.pid)];
    expect(anonymous).toBeGreaterThan(10e6);
    expect(anonymous).toBeLessThan(all);
  });
});
