/** The benchmark's SVG charts, written next to its JSON: latency distributions and the capacity curve. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { capacityOfAnyVersion, type CapacityResult } from './capacity-stage.ts';
import type { LatencyResult } from './latency-stage.ts';
import { cumulativeDistribution, renderLineChart, type Series } from './svg-chart.ts';

const COLORS = { ours: '#1f77b4', nginx: '#ff7f0e' } as const;

function isResult<T>(value: unknown): value is T {
  return typeof value === 'object' && value !== null && !('error' in value);
}

export function latencyChart(latency: LatencyResult): string {
  const series: Series[] = Object.entries(latency).flatMap(([mode, servers], index) =>
    (['ours', 'nginx'] as const).map((server) => ({
      name: `${server === 'ours' ? 'ours' : 'nginx-rtmp'}, hls.js ${mode}`,
      color: COLORS[server],
      dashed: index > 0,
      points: cumulativeDistribution(servers[server].samples),
    })),
  );
  return renderLineChart({ title: 'Glass-to-glass latency in hls.js (Chromium): share of frames at or below', xLabel: 'latency, seconds', yLabel: 'share of frames', series });
}

export function capacityChart(stored: CapacityResult): string {
  const capacity = capacityOfAnyVersion(stored);
  const runs = [
    { name: 'nginx-rtmp (hls on)', color: COLORS.nginx, dashed: false, figures: capacity.nginx },
    ...(capacity.ours.node ? [{ name: 'ours, Node edge (--ladder none)', color: COLORS.ours, dashed: false, figures: capacity.ours.node }] : []),
    ...(capacity.ours.wrangler ? [{ name: 'ours, wrangler dev (--ladder none)', color: COLORS.ours, dashed: true, figures: capacity.ours.wrangler }] : []),
  ];
  const steps = [...new Set(runs.flatMap((run) => run.figures.steps.map((step) => step.publishers)))].sort((a, b) => a - b);
  const series: Series[] = runs.map((run) => ({
    name: run.name,
    color: run.color,
    dashed: run.dashed,
    markers: true,
    points: run.figures.steps.map((step) => [step.publishers, step.p95] as const),
  }));
  return renderLineChart({
    title: 'Capacity: p95 segment availability delay by concurrent publishers',
    xLabel: 'concurrent publishers (720p30 passthrough)',
    yLabel: 'p95 availability delay, seconds',
    series,
    xTicks: steps.length > 1 ? steps : undefined,
    reference: { y: 2, label: 'limit 2 s' },
  });
}

/** Writes the charts the results allow; returns their paths. */
export function writeCharts(results: Record<string, unknown>, dir: string): string[] {
  const written: string[] = [];
  if (isResult<LatencyResult>(results.latency)) {
    writeFileSync(join(dir, 'latency.svg'), latencyChart(results.latency));
    written.push(join(dir, 'latency.svg'));
  }
  if (isResult<CapacityResult>(results.capacity)) {
    writeFileSync(join(dir, 'capacity.svg'), capacityChart(results.capacity));
    written.push(join(dir, 'capacity.svg'));
  }
  return written;
}
