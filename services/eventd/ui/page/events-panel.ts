import type { EventFilter } from '../logic/event-list.js';
import { matches } from '../logic/event-list.js';
import type { ConsoleEvent } from '../logic/types.js';
import { clock, fill, h } from './dom.js';
import type { Panel } from './panel.js';
import type { ConsoleState } from './state.js';

const shown = 300;

/** The live stream: filters, a row per event that opens its JSON, pause and resume. */
export function eventsPanel(state: ConsoleState): Panel {
  const filter: EventFilter = {};
  let paused = false;
  let held = 0;
  const list = h('div', { class: 'event-list', role: 'list', 'aria-label': 'events, newest first', id: 'event-list' });
  const status = h('span', { class: 'muted', 'aria-live': 'polite', id: 'events-status' });
  const pause = h('button', { type: 'button', id: 'events-pause', 'aria-pressed': 'false' }, 'Pause');
  const select = (name: keyof EventFilter, label: string, values: () => string[]) => {
    const element = h('select', { id: `events-filter-${name}`, name });
    const options = () => fill(element, h('option', { value: '' }, `any ${label}`), values().map((value) => h('option', { value, selected: filter[name] === value }, value)));
    element.addEventListener('focus', options);
    element.addEventListener('change', () => {
      const value = element.value;
      if (value === '') delete filter[name];
      else if (name === 'type') filter.type = value === 'rearm' ? 'rearm' : 'event';
      else filter[name] = value;
      render();
    });
    options();
    return h('label', {}, `${label} `, element);
  };
  const controls = h(
    'div',
    { class: 'toolbar', role: 'group', 'aria-label': 'event filters' },
    select('class', 'class', () => state.events.values('class')),
    select('node', 'node', () => state.events.values('node')),
    select('subscription', 'subscription', () => state.events.values('subscriptionName')),
    select('type', 'type', () => ['event', 'rearm']),
    pause,
    status,
  );
  pause.addEventListener('click', () => {
    paused = !paused;
    pause.textContent = paused ? 'Resume' : 'Pause';
    pause.setAttribute('aria-pressed', String(paused));
    if (!paused) render();
    else updateStatus();
  });

  const row = (event: ConsoleEvent) =>
    h(
      'details',
      { class: `event-row ${event.type}`, role: 'listitem', 'data-event-id': event.id, 'data-silenced': event.silenced },
      h(
        'summary',
        {},
        h('time', { datetime: event.time }, clock(event.time)),
        h('span', {}, h('span', { class: `badge ${event.type}` }, event.type), event.silenced ? h('span', { class: 'badge silenced', title: `silence ${event.silenced}: its responses did not run` }, 'silenced') : null),
        h('span', { class: 'name' }, event.subscriptionName),
        h('span', {}, event.class),
        h('span', { class: 'mono' }, event.resource),
        h('span', {}, event.node),
      ),
      h('div', { class: 'toolbar row-actions' }, h('button', { type: 'button', class: 'silence-like', onclick: () => silenceLike(event) }, 'Silence like this')),
      h('pre', { class: 'json' }, JSON.stringify(event, null, 2)),
    );
  const silenceLike = (event: ConsoleEvent) => {
    state.silenceLike?.(event);
    location.hash = '#silences';
  };

  const updateStatus = () => {
    status.textContent = paused ? `paused: ${held} new event${held === 1 ? '' : 's'} held` : `${state.events.size} events`;
  };
  const render = () => {
    held = 0;
    const events = state.events.list(filter).slice(0, shown);
    fill(list, events.length === 0 ? h('p', { class: 'empty' }, 'No events yet. They appear here as they happen.') : events.map(row));
    updateStatus();
  };

  const element = h('section', { 'aria-labelledby': 'events-title' }, h('h2', { id: 'events-title' }, 'Events'), controls, list);
  render();
  return {
    id: 'events',
    title: 'Events',
    element,
    refresh: async () => (paused ? undefined : render()),
    onEvent(event) {
      if (paused) {
        if (matches(event, filter)) held++;
        updateStatus();
        return;
      }
      if (!matches(event, filter)) return updateStatus();
      list.querySelector('.empty')?.remove();
      list.prepend(row(event));
      while (list.children.length > shown) list.lastElementChild?.remove();
      updateStatus();
    },
  };
}
