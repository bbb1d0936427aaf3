import { thresholdLines } from '../logic/thresholds.js';
import type { Attrs, SampleView } from '../logic/types.js';
import { get } from './api.js';
import { drawChart } from './chart.js';
import { fill, h, relativeTime } from './dom.js';
import type { Panel } from './panel.js';
import type { ConsoleState } from './state.js';

interface Chosen { class: string; node: string; resource: string; attribute: string }

/** Per class the latest samples; a chart of one resource's recent samples with its conditions' lines. */
export function resourcesPanel(state: ConsoleState): Panel {
  const tables = h('div', { id: 'resource-tables' });
  const chartArea = h('div', { class: 'chart', id: 'resource-chart', 'aria-live': 'polite' });
  const chartTitle = h('h3', { id: 'chart-title' }, 'Chart');
  const attributePicker = h('select', { id: 'chart-attribute', 'aria-label': 'attribute to chart' });
  let chosen: Chosen | undefined;
  let chart: { destroy(): void } | undefined;

  const numericAttributes = (className: string, attrs: Attrs) => {
    const spec = state.classes.find((cls) => cls.class === className)?.attributes ?? {};
    return Object.keys(attrs).filter((name) => typeof attrs[name] === 'number' && (spec[name]?.type ?? 'number') === 'number');
  };

  const choose = (sample: SampleView, attribute?: string) => {
    const numeric = numericAttributes(sample.class, sample.attrs);
    const conditionAttribute = state.subscriptions
      .filter((subscription) => subscription.class === sample.class)
      .flatMap((subscription) => numeric.filter((name) => thresholdLines(subscription, name).length > 0))[0];
    const pick = attribute ?? conditionAttribute ?? numeric[0];
    if (pick === undefined) return;
    chosen = { class: sample.class, node: sample.node, resource: sample.resource, attribute: pick };
    fill(attributePicker, numeric.map((name) => h('option', { value: name, selected: name === pick }, name)));
    void drawChosen();
  };
  attributePicker.addEventListener('change', () => {
    if (chosen) {
      chosen = { ...chosen, attribute: attributePicker.value };
      void drawChosen();
    }
  });

  const drawChosen = async () => {
    if (!chosen) return;
    const { class: className, node, resource, attribute } = chosen;
    const history = await get<{ samples: { time: string; attrs: Attrs }[] }>(
      `/resources/${encodeURIComponent(className)}/${encodeURIComponent(resource)}/history?node=${encodeURIComponent(node)}`,
    );
    const points = history.samples.filter((sample) => typeof sample.attrs[attribute] === 'number');
    const lines = state.subscriptions.filter((subscription) => subscription.class === className).flatMap((subscription) => thresholdLines(subscription, attribute));
    chartTitle.textContent = `${className} ${resource} on ${node}: ${attribute}`;
    chart?.destroy();
    chartArea.replaceChildren();
    if (points.length === 0) {
      chartArea.append(h('p', { class: 'empty' }, 'No recent samples held for this resource yet.'));
      return;
    }
    chart = drawChart(chartArea, attribute, points.map((point) => Date.parse(point.time)), points.map((point) => Number(point.attrs[attribute])), lines);
    chartArea.dataset['lines'] = lines.map((line) => `${line.kind}:${line.value}`).join(',');
    chartArea.dataset['points'] = String(points.length);
  };

  const render = (samples: SampleView[]) => {
    const byClass = new Map<string, SampleView[]>();
    for (const sample of samples) byClass.set(sample.class, [...(byClass.get(sample.class) ?? []), sample]);
    if (byClass.size === 0) return fill(tables, h('p', { class: 'empty' }, 'No samples yet: producers wake when a condition names their class.'));
    fill(
      tables,
      [...byClass].map(([className, rows]) => {
        const names = [...new Set(rows.flatMap((row) => Object.keys(row.attrs)))];
        return h(
          'div',
          { class: 'table-wrap' },
          h(
            'table',
            { 'data-class': className },
            h('caption', {}, className),
            h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Resource'), h('th', { scope: 'col' }, 'Node'), h('th', { scope: 'col' }, 'Sampled'), names.map((name) => h('th', { scope: 'col' }, name)), h('th', {}))),
            h(
              'tbody',
              {},
              rows.map((row) =>
                h(
                  'tr',
                  {},
                  h('th', { scope: 'row', class: 'mono' }, row.resource),
                  h('td', {}, row.node),
                  h('td', {}, relativeTime(row.time)),
                  names.map((name) => h('td', { class: 'num' }, row.attrs[name] === undefined ? '' : String(row.attrs[name]))),
                  h('td', {}, numericAttributes(row.class, row.attrs).length > 0 ? h('button', { type: 'button', onclick: () => choose(row), 'aria-label': `chart ${row.class} ${row.resource}` }, 'Chart') : null),
                ),
              ),
            ),
          ),
        );
      }),
    );
    if (!chosen) {
      // Open on what a condition watches, so the threshold line shows without a click.
      const watched = samples.find((sample) => state.subscriptions.some((subscription) => subscription.class === sample.class) && sample.resource === 'total')
        ?? samples.find((sample) => state.subscriptions.some((subscription) => subscription.class === sample.class));
      if (watched) choose(watched);
    }
  };

  const refresh = async () => {
    if (state.classes.length === 0) await state.loadClasses();
    const { resources } = await get<{ resources: SampleView[] }>('/resources');
    render(resources);
    await drawChosen();
  };

  const element = h(
    'section',
    { 'aria-labelledby': 'resources-title' },
    h('h2', { id: 'resources-title' }, 'Resources'),
    tables,
    h('div', { class: 'chart-box' }, h('div', { class: 'toolbar' }, chartTitle, h('label', {}, 'attribute ', attributePicker)), chartArea),
  );
  return { id: 'resources', title: 'Resources', element, refresh, pollMs: 5_000 };
}
