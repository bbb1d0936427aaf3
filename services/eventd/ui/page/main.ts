// The console's entry: a session check, then either the token prompt or the
// panels, all driven by one event stream.
import { EventStream, type StreamState } from '../logic/event-stream.js';
import { whenUnauthorized } from './api.js';
import { conditionsPanel } from './conditions-panel.js';
import { fill, h } from './dom.js';
import { eventsPanel } from './events-panel.js';
import type { Panel } from './panel.js';
import { resourcesPanel } from './resources-panel.js';
import { failoverPanel } from './failover-panel.js';
import { silencesPanel } from './silences-panel.js';
import { actionsPanel, clusterPanel } from './small-panels.js';
import { ConsoleState } from './state.js';

const root = document.getElementById('app') ?? document.body;
const tailEvents = 500;

async function boot(): Promise<void> {
  const response = await fetch('/ui/session', { credentials: 'same-origin', cache: 'no-store' });
  const session = (await response.json()) as { authenticated: boolean };
  if (!session.authenticated) return prompt(new URLSearchParams(location.search).get('login') === 'expired');
  history.replaceState(null, '', `/ui/${location.hash}`);
  start();
}

/** No session: ask for the token (or a login code); shows nothing of the daemon. */
function prompt(expired: boolean): void {
  const input = h('input', { type: 'password', id: 'login-secret', name: 'secret', autocomplete: 'current-password', required: true });
  const error = h('p', { class: 'field-error', id: 'login-error', role: 'alert' }, expired ? 'That login link has expired or was used already: run eventctl ui again.' : '');
  input.setAttribute('aria-describedby', 'login-error login-help');
  const form = h(
    'form',
    { id: 'login-form', class: 'login' },
    h('h1', {}, 'eventd console'),
    h('label', { for: 'login-secret' }, 'API token or login code'),
    input,
    h('small', { id: 'login-help', class: 'muted' }, 'Run ', h('code', {}, 'eventctl ui'), ' on the daemon’s machine for a login link.'),
    error,
    h('button', { type: 'submit' }, 'Sign in'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void fetch('/ui/login', { method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ secret: input.value }) }).then(async (answer) => {
      if (answer.ok) return location.replace('/ui/');
      const body = (await answer.json().catch(() => ({}))) as { error?: { message?: string } };
      error.textContent = body.error?.message ?? `the daemon answered ${answer.status}`;
      input.focus();
    });
  });
  fill(root, h('main', { class: 'login-page' }, form));
  input.focus();
}

function start(): void {
  const state = new ConsoleState();
  const panels: Panel[] = [clusterPanel(state), conditionsPanel(state), eventsPanel(state), resourcesPanel(state), actionsPanel(state), failoverPanel(state), silencesPanel(state)];
  const streamBadge = h('span', { id: 'stream-state', class: 'badge pending', role: 'status', 'aria-live': 'polite' }, 'connecting');
  const failure = h('p', { class: 'form-error', role: 'alert', id: 'panel-error' });
  const tabs = h('nav', { class: 'tabs', role: 'tablist', 'aria-label': 'panels' });
  const main = h('main', { id: 'panels' });
  let current: Panel | undefined;
  let poll: ReturnType<typeof setInterval> | undefined;

  const report = (error: unknown) => void (failure.textContent = error instanceof Error ? error.message : String(error));
  const refresh = (panel: Panel) => panel.refresh().then(() => void (failure.textContent = ''), report);

  const show = (id: string, focus = false) => {
    const panel = panels.find((candidate) => candidate.id === id) ?? panels[1]!;
    current = panel;
    for (const tab of tabs.querySelectorAll<HTMLButtonElement>('[role=tab]')) {
      const selected = tab.dataset['panel'] === panel.id;
      tab.setAttribute('aria-selected', String(selected));
      tab.tabIndex = selected ? 0 : -1;
      if (selected && focus) tab.focus();
    }
    for (const candidate of panels) candidate.element.hidden = candidate !== panel;
    if (location.hash !== `#${panel.id}`) history.replaceState(null, '', `#${panel.id}`);
    clearInterval(poll);
    void refresh(panel);
    if (panel.pollMs !== undefined) poll = setInterval(() => void refresh(panel), panel.pollMs);
  };

  for (const panel of panels) {
    panel.element.id = `panel-${panel.id}`;
    panel.element.setAttribute('role', 'tabpanel');
    panel.element.classList.add('panel');
    tabs.append(h('button', { type: 'button', role: 'tab', id: `tab-${panel.id}`, 'aria-controls': `panel-${panel.id}`, 'data-panel': panel.id, onclick: () => show(panel.id) }, panel.title));
    main.append(panel.element);
  }
  // Arrow keys move between tabs (the WAI-ARIA tabs pattern); Tab goes into the panel.
  tabs.addEventListener('keydown', (event) => {
    const index = panels.findIndex((panel) => panel === current);
    const step = event.key === 'ArrowRight' ? 1 : event.key === 'ArrowLeft' ? -1 : 0;
    if (step === 0) return;
    event.preventDefault();
    show(panels[(index + step + panels.length) % panels.length]!.id, true);
  });
  window.addEventListener('hashchange', () => show(location.hash.slice(1)));

  const logout = h('button', { type: 'button', class: 'link', onclick: () => void fetch('/ui/logout', { method: 'POST' }).then(() => location.replace('/ui/')) }, 'Sign out');
  fill(root, h('header', { class: 'top' }, h('h1', {}, 'eventd'), h('span', { id: 'node-name', class: 'muted' }), streamBadge, logout), tabs, failure, main);
  void fetch('/ui/v1/status', { credentials: 'same-origin' }).then(async (answer) => {
    if (answer.ok) document.getElementById('node-name')!.textContent = `node ${((await answer.json()) as { node: string }).node}`;
  });

  const labels: Record<StreamState, string> = { connecting: 'connecting', live: 'live', reconnecting: 'reconnecting…', unauthorized: 'signed out', stopped: 'stopped' };
  const stream = new EventStream({
    url: `/ui/v1/events/stream?tail=${tailEvents}`,
    onState: (streamState, detail) => {
      streamBadge.textContent = labels[streamState];
      streamBadge.className = `badge ${streamState === 'live' ? 'armed' : streamState === 'reconnecting' || streamState === 'unauthorized' ? 'event' : 'pending'}`;
      streamBadge.dataset['state'] = streamState;
      streamBadge.title = detail ?? '';
      if (streamState === 'unauthorized') location.replace('/ui/');
    },
    // After a reconnect the daemon may have changed (a restart): the shown panel refetches; events resume after the last id.
    onOpen: () => void (current ? refresh(current) : undefined),
    onEvent: (event) => {
      if (!state.accept(event)) return;
      for (const panel of panels) panel.onEvent?.(event);
    },
  });
  whenUnauthorized(() => {
    stream.stop();
    location.replace('/ui/');
  });
  show(location.hash.slice(1) || 'conditions');
  stream.start();
}

void boot();
