import { describe, expect, it } from 'vitest';
import { leastSquaresSlope, perStreamFigures, sidecarConnectionLimits } from '../../../scripts/bench/capacity-figures.ts';

describe('capacity per-stream figures', () => {
  it('fits a slope, and has none without two distinct x', () => {
    expect(leastSquaresSlope([[0, 100], [10, 120], [20, 140]])).toBeCloseTo(2);
    expect(leastSquaresSlope([[1, 5]])).toBeNaN();
    expect(leastSquaresSlope([[3, 1], [3, 2]])).toBeNaN();
  });

  it('reads CPU per stream at the largest good step, RSS per added stream from idle on, ignoring failed steps', () => {
    const figures = perStreamFigures(
      [
        { publishers: 1, cpuPercent: 2, rssMegabytes: 102, good: true },
        { publishers: 10, cpuPercent: 8, rssMegabytes: 120, good: true },
        { publishers: 25, cpuPercent: 20, rssMegabytes: 150, good: true },
        { publishers: 50, cpuPercent: 90, rssMegabytes: 400, good: false },
      ],
      100,
    );
    expect(figures.atPublishers).toBe(25);
    expect(figures.cpuPercentPerStream).toBeCloseTo(0.8);
    expect(figures.cpuPercentPerAddedStream).toBeCloseTo(0.75, 1);
    expect(figures.rssMegabytesPerAddedStream).toBeCloseTo(2, 1);
  });

  it('has no figures when no step was good', () => {
    const figures = perStreamFigures([{ publishers: 1, cpuPercent: 5, rssMegabytes: 110, good: false }], 100);
    expect(figures.atPublishers).toBe(0);
    expect(figures.cpuPercentPerStream).toBeNaN();
    expect(figures.rssMegabytesPerAddedStream).toBeNaN();
  });

  it('raises the sidecar connection limits above the ramp, never below its defaults', () => {
    expect(sidecarConnectionLimits(100)).toEqual({ perAddress: 110, total: 200 });
    expect(sidecarConnectionLimits(1)).toEqual({ perAddress: 11, total: 200 });
    expect(sidecarConnectionLimits(400)).toEqual({ perAddress: 410, total: 410 });
  });
});
