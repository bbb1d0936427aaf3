// The read-only panels: Cluster and Actions.
import type { ActionRunView, ConsoleEvent, MemberView } from '../logic/types.js';
import { ApiFailure, get } from './api.js';
import { clock, fill, h, relativeTime } from './dom.js';
import type { Panel } from './panel.js';
import type { ConsoleState } from './state.js';

const table = (id: string, headers: string[], rows: HTMLTableRowElement[], empty: string) =>
  h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { id },
      h('thead', {}, h('tr', {}, headers.map((label) => h('th', { scope: 'col' }, label)))),
      h('tbody', {}, rows.length > 0 ? rows : h('tr', {}, h('td', { colspan: headers.length, class: 'empty' }, empty))),
    ),
  );

/** The view's history: a Node event is a member going down (event) or up (rearm), in `attrs.state`, as its reporter saw it. */
const viewHistory = (events: ConsoleEvent[]) =>
  events.length === 0
    ? h('p', { class: 'empty' }, 'No Node or Cluster events seen yet.')
    : h(
        'ul',
        { class: 'history' },
        events.slice(0, 50).map((event) => {
          const said = typeof event.attrs['state'] === 'string' ? event.attrs['state'] : event.type === 'event' ? 'down' : 'up';
          return h(
            'li',
            {},
            h('time', { datetime: event.time }, clock(event.time)),
            ' ',
            h('span', { class: `badge ${event.type}` }, event.class === 'Node' ? said : event.type),
            ` ${event.class === 'Node' ? event.resource : `${event.class} ${event.resource}`} (reported by ${event.node})`,
          );
        }),
      );

export function clusterPanel(state: ConsoleState): Panel {
  const body = h('div', {});
  const history = h('div', {});
  const refresh = async () => {
    try {
      const { view, members } = await get<{ view: string[]; members: MemberView[] }>('/members');
      const live = members.filter((member) => member.state !== 'down').length;
      const quorum = live > members.length / 2;
      fill(
        body,
        h('p', {}, h('span', { class: `badge ${quorum ? 'armed' : 'event'}`, id: 'quorum' }, quorum ? 'quorum' : 'no quorum'), ` ${live} of ${members.length} members up; view: ${view.join(', ')}`),
        table(
          'members-table',
          ['Member', 'State', 'Address', 'Incarnation', 'RTT', 'Last heard'],
          members.map((member) =>
            h(
              'tr',
              { 'data-member': member.name },
              h('th', { scope: 'row' }, member.name),
              h('td', {}, h('span', { class: `badge ${member.state === 'down' ? 'event' : 'armed'}` }, member.state)),
              h('td', { class: 'mono' }, member.address ?? ''),
              h('td', { class: 'num' }, member.incarnation ?? ''),
              h('td', { class: 'num' }, member.rttMs === null ? '' : `${member.rttMs.toFixed(1)} ms`),
              h('td', { class: 'num' }, member.lastHeardMs === null ? '' : `${Math.round(member.lastHeardMs)} ms ago`),
            ),
          ),
          'no members',
        ),
      );
    } catch (error) {
      if (!(error instanceof ApiFailure) || error.code !== 'EVENTD_ERR_NO_CLUSTER') throw error;
      fill(body, h('p', { class: 'empty' }, 'This daemon is a single node: it has no "cluster" config.'));
    }
    fill(history, viewHistory(state.events.list().filter((event) => event.class === 'Node' || event.class === 'Cluster')));
  };
  const element = h('section', { 'aria-labelledby': 'cluster-title' }, h('h2', { id: 'cluster-title' }, 'Cluster'), body, h('h3', {}, 'View history'), history);
  return { id: 'cluster', title: 'Cluster', element, refresh, pollMs: 2_000, onEvent: (event) => void (event.class === 'Node' || event.class === 'Cluster' ? refresh() : undefined) };
}

/** What an action does, in a line: a command, a webhook or an e-mail. */
function actionText(spec: ActionRunView['spec']): string {
  if ('webhook' in spec) return `${spec.webhook.method} ${spec.webhook.url}`;
  if ('email' in spec) return `mail to ${spec.email.to.join(', ')}`;
  return [spec.run, ...(spec.args ?? [])].join(' ');
}

export function actionsPanel(state: ConsoleState): Panel {
  const body = h('div', {});
  const duration = (run: ActionRunView) =>
    run.startedAt && run.endedAt ? `${Date.parse(run.endedAt) - Date.parse(run.startedAt)} ms` : run.status === 'running' ? 'running' : '';
  const refresh = async () => {
    const { actions } = await get<{ actions: ActionRunView[] }>('/actions?limit=200');
    fill(
      body,
      table(
        'actions-table',
        ['Created', 'Condition', 'Event', 'Run', 'Status', 'Exit', 'Duration', 'Output'],
        actions.map((run) =>
          h(
            'tr',
            {},
            h('td', {}, relativeTime(run.createdAt)),
            h('td', {}, state.subscriptionName(run.subscription)),
            h('td', { class: 'mono' }, run.eventId),
            h('td', { class: 'mono' }, actionText(run.spec)),
            h(
              'td',
              { 'data-status': run.status, 'data-reason': run.reason ?? undefined },
              h('span', { class: `badge ${run.status === 'ok' ? 'armed' : run.status === 'failed' || run.status === 'timeout' ? 'event' : 'pending'}` }, run.status),
              // Why it did not run: silenced (by which silence), outside its window, inhibited, flapping.
              run.reason ? h('div', { class: 'muted' }, `${run.reason}${run.detail ? ` ${run.detail}` : ''}`) : null,
            ),
            h('td', { class: 'num' }, run.exitCode ?? run.signal ?? ''),
            h('td', { class: 'num' }, duration(run)),
            h(
              'td',
              {},
              run.stdout || run.stderr || run.error
                ? h('details', {}, h('summary', {}, 'output'), h('pre', {}, [run.error, run.stdout, run.stderr].filter(Boolean).join('\n')))
                : h('span', { class: 'muted' }, 'none'),
            ),
          ),
        ),
        'No action has run yet.',
      ),
    );
  };
  const element = h('section', { 'aria-labelledby': 'actions-title' }, h('h2', { id: 'actions-title' }, 'Actions'), body);
  return { id: 'actions', title: 'Actions', element, refresh, pollMs: 3_000 };
}
