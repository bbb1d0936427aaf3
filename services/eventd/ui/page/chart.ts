import uPlot from 'uplot';
import type { ThresholdLine } from '../logic/thresholds.js';

const lineColors: Record<ThresholdLine['kind'], string> = { threshold: '#c0392b', rearm: '#2c7a3f' };

/**
 * A uPlot chart of one attribute over time, with each condition's threshold
 * and rearm drawn as flat dashed series (so they scale with the data and
 * show in the legend).
 */
export function drawChart(target: HTMLElement, label: string, times: number[], values: number[], lines: ThresholdLine[]): uPlot {
  const width = Math.max(280, Math.min(target.clientWidth || 800, 1100));
  const data: uPlot.AlignedData = [times.map((ms) => ms / 1000), values, ...lines.map((line) => times.map(() => line.value))];
  return new uPlot(
    {
      width,
      height: 260,
      series: [
        {},
        { label, stroke: '#2b6cb0', width: 2, points: { show: times.length < 60 } },
        ...lines.map((line) => ({ label: `${line.condition ? `${line.condition} ` : ''}${line.kind} ${line.value}`, stroke: lineColors[line.kind], dash: [6, 4], width: 1.5, points: { show: false } })),
      ],
      axes: [{}, { label }],
      scales: { x: { time: true } },
    },
    data,
    target,
  );
}
