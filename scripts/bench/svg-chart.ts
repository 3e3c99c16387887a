/** A line chart as an SVG document (pure): enough for the benchmarks' figures, no dependency. */

export interface Series {
  name: string;
  color: string;
  dashed?: boolean;
  /** [x, y] in data units. */
  points: readonly (readonly [number, number])[];
  /** Draw the points as dots as well (few points). */
  markers?: boolean;
}

export interface LineChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly Series[];
  /** A horizontal reference line (a limit), in data units. */
  reference?: { y: number; label: string };
  /** Categorical x axis: ticks at these values, spaced evenly (e.g. 1, 5, 10, 25, 50 publishers). */
  xTicks?: readonly number[];
  width?: number;
  height?: number;
}

function escapeXml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');
}

/** A round step for about `count` ticks over `span`. */
function niceStep(span: number, count: number): number {
  const raw = span / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((step) => step >= raw) ?? 10 * magnitude;
}

function ticks(max: number, count: number): number[] {
  const step = niceStep(max, count);
  const result: number[] = [];
  // Up to the first tick at or above max, so that nothing is drawn above the plot.
  for (let value = 0; result.length === 0 || result.at(-1)! < max - step / 1e6; value += step) result.push(Number(value.toFixed(6)));
  return result;
}

const fmt = (value: number) => String(Number(value.toFixed(2)));

export function renderLineChart(options: LineChartOptions): string {
  const width = options.width ?? 640;
  const height = options.height ?? 360;
  const margin = { left: 56, right: 16, top: 36, bottom: 48 };
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = height - margin.top - margin.bottom;
  const allPoints = options.series.flatMap((series) => series.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const yMaxData = Math.max(0, ...allPoints.map(([, y]) => y), options.reference?.y ?? 0);
  const yTicks = ticks(yMaxData > 0 ? yMaxData * 1.05 : 1, 5);
  const yMax = yTicks.at(-1)!;
  const categorical = options.xTicks;
  const xTickValues = categorical ?? ticks(Math.max(0, ...allPoints.map(([x]) => x)) || 1, 6);
  const xMax = xTickValues.at(-1)!;
  const xPixel = (x: number) => {
    if (!categorical) return margin.left + (x / xMax) * plotWidth;
    // Between categories: linear within the interval.
    const index = categorical.findIndex((tick) => tick >= x);
    if (index <= 0) return margin.left;
    const [a, b] = [categorical[index - 1]!, categorical[index]!];
    return margin.left + ((index - 1 + (x - a) / (b - a)) / (categorical.length - 1)) * plotWidth;
  };
  const yPixel = (y: number) => margin.top + plotHeight - (y / yMax) * plotHeight;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="14">${escapeXml(options.title)}</text>`,
  ];
  for (const tick of yTicks) {
    parts.push(`<line x1="${margin.left}" x2="${margin.left + plotWidth}" y1="${yPixel(tick).toFixed(1)}" y2="${yPixel(tick).toFixed(1)}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${margin.left - 6}" y="${(yPixel(tick) + 4).toFixed(1)}" text-anchor="end">${fmt(tick)}</text>`);
  }
  for (const tick of xTickValues) {
    parts.push(`<text x="${xPixel(tick).toFixed(1)}" y="${margin.top + plotHeight + 16}" text-anchor="middle">${fmt(tick)}</text>`);
  }
  parts.push(`<line x1="${margin.left}" x2="${margin.left + plotWidth}" y1="${margin.top + plotHeight}" y2="${margin.top + plotHeight}" stroke="black"/>`);
  parts.push(`<line x1="${margin.left}" x2="${margin.left}" y1="${margin.top}" y2="${margin.top + plotHeight}" stroke="black"/>`);
  parts.push(`<text x="${margin.left + plotWidth / 2}" y="${height - 10}" text-anchor="middle">${escapeXml(options.xLabel)}</text>`);
  parts.push(`<text transform="translate(14 ${margin.top + plotHeight / 2}) rotate(-90)" text-anchor="middle">${escapeXml(options.yLabel)}</text>`);
  if (options.reference) {
    const y = yPixel(options.reference.y).toFixed(1);
    parts.push(`<line x1="${margin.left}" x2="${margin.left + plotWidth}" y1="${y}" y2="${y}" stroke="#c00" stroke-dasharray="2 3"/>`);
    parts.push(`<text x="${margin.left + plotWidth - 4}" y="${Number(y) - 4}" text-anchor="end" fill="#c00">${escapeXml(options.reference.label)}</text>`);
  }
  options.series.forEach((series, index) => {
    const points = series.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    const path = points.map(([x, y]) => `${xPixel(x).toFixed(1)},${yPixel(y).toFixed(1)}`).join(' ');
    parts.push(`<polyline fill="none" stroke="${series.color}" stroke-width="2"${series.dashed ? ' stroke-dasharray="6 4"' : ''} points="${path}"/>`);
    if (series.markers) for (const [x, y] of points) parts.push(`<circle cx="${xPixel(x).toFixed(1)}" cy="${yPixel(y).toFixed(1)}" r="3" fill="${series.color}"/>`);
    const legendY = margin.top + 8 + index * 16;
    parts.push(`<line x1="${margin.left + 10}" x2="${margin.left + 34}" y1="${legendY}" y2="${legendY}" stroke="${series.color}" stroke-width="2"${series.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
    parts.push(`<text x="${margin.left + 40}" y="${legendY + 4}">${escapeXml(series.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

/** The empirical cumulative distribution of `values`: [value, fraction at or below it]. */
export function cumulativeDistribution(values: readonly number[]): [number, number][] {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.map((value, index) => [value, (index + 1) / sorted.length]);
}
