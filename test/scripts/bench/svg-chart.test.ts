import { describe, expect, it } from 'vitest';
import { cumulativeDistribution, renderLineChart } from '../../../scripts/bench/svg-chart.ts';

describe('svg chart', () => {
  it('draws one line and one legend entry per series, escaping text, skipping non-finite points', () => {
    const svg = renderLineChart({
      title: 'a <title> & more',
      xLabel: 'x',
      yLabel: 'y',
      series: [
        { name: 'ours', color: '#00f', points: [[1, 1], [5, 2], [10, Number.NaN]] },
        { name: 'nginx', color: '#f80', dashed: true, points: [[1, 0.5], [5, 3]] },
      ],
      reference: { y: 2, label: 'limit' },
      xTicks: [1, 5, 10],
    });
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg).toContain('a &lt;title&gt; &amp; more');
    expect(svg.match(/<polyline /g)).toHaveLength(2);
    expect(svg).toContain('stroke-dasharray="6 4"');
    expect(svg).not.toContain('NaN');
    // Categorical x axis: 1, 5 and 10 evenly spaced over the plot (56 to 624 px).
    expect(svg).toMatch(/points="56\.0,[\d.]+ 340\.0,[\d.]+"/);
  });

  it('computes a cumulative distribution', () => {
    expect(cumulativeDistribution([3, 1, 2, 4])).toEqual([[1, 0.25], [2, 0.5], [3, 0.75], [4, 1]]);
  });
});

describe('svg chart axes', () => {
  it('extends the y axis to the first round tick above the data', () => {
    const svg = renderLineChart({ title: 't', xLabel: 'x', yLabel: 'y', series: [{ name: 's', color: '#000', points: [[0, 0], [1, 5.66]] }] });
    expect(svg).toContain('>6</text>');
  });
});
