/**
 * The capacity stage's per-stream figures from its steps (pure, unit-tested): what one more
 * passthrough stream costs the sidecar, as issue 21 states its goals (CPU per stream, % of one
 * core; RSS per added stream, MB).
 */

export interface StepLoad {
  publishers: number;
  /** The server's own process tree (ours: the sidecar, without the edge), % of one core. */
  cpuPercent: number;
  rssMegabytes: number;
  /** Steps with errors or p95 over the limit measure a server falling behind, not its cost. */
  good: boolean;
}

export interface PerStreamFigures {
  /** The largest good step: where the per-stream figures are read. */
  atPublishers: number;
  /**
   * CPU % at that step divided by its publishers: idle work included, so it is the figure a
   * stream "costs" on a loaded sidecar, never flattered by a fixed overhead.
   */
  cpuPercentPerStream: number;
  /** Least-squares slope of CPU % over good steps: the marginal cost of one more stream. */
  cpuPercentPerAddedStream: number;
  /**
   * Least-squares slope of RSS over the idle sidecar and the good steps. A slope, not RSS / n:
   * the idle process (V8, code) is ~100 MB that no stream adds.
   */
  rssMegabytesPerAddedStream: number;
}

/** Least-squares slope of y over x; NaN with fewer than two distinct x. */
export function leastSquaresSlope(points: ReadonlyArray<readonly [number, number]>): number {
  if (points.length < 2) return Number.NaN;
  const meanX = points.reduce((sum, [x]) => sum + x, 0) / points.length;
  const meanY = points.reduce((sum, [, y]) => sum + y, 0) / points.length;
  const covariance = points.reduce((sum, [x, y]) => sum + (x - meanX) * (y - meanY), 0);
  const variance = points.reduce((sum, [x]) => sum + (x - meanX) ** 2, 0);
  return variance === 0 ? Number.NaN : covariance / variance;
}

export function perStreamFigures(steps: readonly StepLoad[], idleRssMegabytes: number | undefined): PerStreamFigures {
  const good = steps.filter((step) => step.good && step.publishers > 0);
  const top = good.at(-1);
  const rssPoints: [number, number][] = good.map((step) => [step.publishers, step.rssMegabytes]);
  if (idleRssMegabytes !== undefined && Number.isFinite(idleRssMegabytes)) rssPoints.unshift([0, idleRssMegabytes]);
  return {
    atPublishers: top?.publishers ?? 0,
    cpuPercentPerStream: top ? top.cpuPercent / top.publishers : Number.NaN,
    cpuPercentPerAddedStream: leastSquaresSlope(good.map((step) => [step.publishers, step.cpuPercent])),
    rssMegabytesPerAddedStream: leastSquaresSlope(rssPoints),
  };
}

/**
 * The sidecar's connection limits for a ramp to `maxPublishers`: ffmpeg's RTMP client cannot
 * pick its source address, so every publisher comes from 127.0.0.1, and the 10-per-address
 * default would be what is measured. Never below the sidecar's defaults (200 in all).
 */
export function sidecarConnectionLimits(maxPublishers: number): { perAddress: number; total: number } {
  // A few spare: the step's playlist checks do not use RTMP, but a publisher that reconnects
  // does hold its old connection until the sidecar notices it gone.
  const needed = maxPublishers + 10;
  return { perAddress: Math.max(10, needed), total: Math.max(200, needed) };
}
