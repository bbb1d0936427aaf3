// Failover: groups with owner, placement, constraints, fail counts and each
// node's report; the nodes with standby; maintenance; and the operator's
// controls (consumers/failover/routes.ts), each confirmed before it is sent,
// the daemon's refusal shown as it said it.
import { constraintText, failoverEventText, groupControl, knownNodes, maintenanceControl, nodeControl, type ControlRequest } from '../logic/operator.js';
import type { FailoverStatus, GroupView, MemberView } from '../logic/types.js';
import { ApiFailure, get, request } from './api.js';
import { confirmControl } from './confirm.js';
import { clock, fill, h, KeyedRows } from './dom.js';
import type { Panel } from './panel.js';
import type { ConsoleState } from './state.js';

const epochClock = (ms: number) => clock(new Date(ms).toISOString());

/** What one row shows: a row is made again only when this changes. */
interface GroupItem {
  group: GroupView;
  maintenance: boolean;
}
interface NodeItem {
  node: string;
  standby: boolean;
  member: MemberView['state'] | undefined;
  runs: string[];
}

/** Replaces a select's options when they changed (an open list is left alone), keeping what was chosen while it still exists. */
function options(select: HTMLSelectElement, values: string[], empty: string): void {
  const list = JSON.stringify(values);
  if (select.dataset['values'] === list) return;
  select.dataset['values'] = list;
  const chosen = select.value;
  fill(select, h('option', { value: '' }, empty), values.map((value) => h('option', { value, selected: value === chosen }, value)));
}

export function failoverPanel(state: ConsoleState): Panel {
  const message = h('p', { class: 'muted', id: 'failover-message', 'aria-live': 'polite' });
  const failure = h('p', { class: 'form-error', id: 'failover-error', role: 'alert' });
  const maintenance = h('div', { id: 'failover-maintenance', class: 'toolbar' });
  const history = h('div', { id: 'failover-history' });
  const groupPicker = h('select', { id: 'control-group', name: 'group' });
  const nodePicker = h('select', { id: 'control-node', name: 'node' });
  const lifetime = h('input', { type: 'text', id: 'control-lifetime', name: 'lifetime', placeholder: '30m (optional)', autocomplete: 'off', spellcheck: 'false' });
  let configured = true;
  let queued: ReturnType<typeof setTimeout> | undefined;

  /** Asks, sends, says what happened; a refusal is shown with the daemon's own words and code. */
  const act = async (control: ControlRequest) => {
    failure.textContent = '';
    message.textContent = '';
    if (!(await confirmControl(control))) {
      message.textContent = `${control.title}: cancelled, nothing was sent`;
      return;
    }
    try {
      const answer = await request<{ id: string }>('POST', control.path, control.body);
      message.textContent = `${control.title}: done (agreed event ${answer.id})`;
    } catch (error) {
      failure.textContent = error instanceof ApiFailure ? `${control.title}: ${error.message}${error.code ? ` (${error.code})` : ''}` : `${control.title}: ${String(error)}`;
    }
    await refresh().catch((error: unknown) => (failure.textContent ||= String(error)));
  };

  const placeOrBan = (action: 'move' | 'ban') => {
    const group = groupPicker.value;
    const node = nodePicker.value;
    failure.textContent = '';
    if (group === '' || node === '') {
      failure.textContent = `${action}: choose ${group === '' ? 'a group' : 'a node'} first`;
      (group === '' ? groupPicker : nodePicker).focus();
      return;
    }
    void act(groupControl(action, group, { node, lifetime: lifetime.value.trim() }));
  };
  const moveForm = h(
    'form',
    { id: 'control-form', class: 'toolbar', 'aria-label': 'move or ban a group' },
    h('label', { for: 'control-group' }, 'Group '),
    groupPicker,
    h('label', { for: 'control-node' }, 'node '),
    nodePicker,
    h('label', { for: 'control-lifetime' }, 'for '),
    lifetime,
    h('button', { type: 'submit', id: 'control-move' }, 'Move'),
    h('button', { type: 'button', id: 'control-ban', class: 'danger', onclick: () => placeOrBan('ban') }, 'Ban'),
  );
  moveForm.addEventListener('submit', (event) => {
    event.preventDefault();
    placeOrBan('move');
  });

  /** The row's "Move…": the form below takes the group; the node is what is left to choose. */
  const chooseGroup = (name: string) => {
    groupPicker.value = name;
    nodePicker.focus();
  };

  const groupRow = ({ group, maintenance: inMaintenance }: GroupItem) => {
    const button = (label: string, control: ControlRequest, danger = false) =>
      h('button', { type: 'button', class: danger ? 'danger' : '', 'aria-label': `${label} ${group.name}`, onclick: () => void act(control) }, label);
    const failures = Object.entries(group.failures);
    return h(
      'tr',
      { 'data-group': group.name },
      h('th', { scope: 'row' }, group.name, group.managed ? null : h('div', { class: 'muted' }, inMaintenance ? 'maintenance' : 'unmanaged')),
      h('td', { 'data-owner': group.owner ?? '' }, group.owner ?? h('span', { class: 'muted' }, 'none')),
      h('td', {}, group.target ?? ''),
      h('td', {}, group.local),
      h('td', { class: 'constraints' }, group.constraints.length === 0 ? h('span', { class: 'muted' }, 'none') : group.constraints.map((constraint) => h('div', {}, constraintText(constraint, epochClock)))),
      h('td', {}, failures.length === 0 ? h('span', { class: 'muted' }, 'none') : failures.map(([node, count]) => h('div', {}, `${node}: ${count}`))),
      h(
        'td',
        {},
        group.reports.map((report) =>
          h('div', { title: report.reason ?? '' }, `${report.node}: ${report.state}${report.inView ? '' : '?(down)'}`),
        ),
      ),
      h(
        'td',
        { class: 'row-actions' },
        h('button', { type: 'button', 'aria-label': `move ${group.name}`, onclick: () => chooseGroup(group.name) }, 'Move…'),
        group.constraints.length > 0 ? button('Clear', groupControl('clear', group.name)) : null,
        button('Cleanup', groupControl('cleanup', group.name)),
        group.managed || inMaintenance ? button('Unmanage', groupControl('unmanage', group.name), true) : null,
        group.managed ? null : button('Manage', groupControl('manage', group.name)),
      ),
    );
  };

  const nodeRow = ({ node, standby, member, runs }: NodeItem) => {
    const control = nodeControl(standby ? 'unstandby' : 'standby', node);
    return h(
      'tr',
      { 'data-node': node },
      h('th', { scope: 'row' }, node),
      h('td', {}, member ? h('span', { class: `badge ${member === 'down' ? 'event' : 'armed'}` }, member) : h('span', { class: 'muted' }, 'unknown')),
      h('td', { 'data-standby': String(standby) }, standby ? h('span', { class: 'badge pending' }, 'standby') : 'online'),
      h('td', {}, runs.join(', ')),
      h('td', {}, h('button', { type: 'button', class: standby ? '' : 'danger', 'aria-label': `${standby ? 'unstandby' : 'standby'} ${node}`, onclick: () => void act(control) }, standby ? 'Unstandby' : 'Standby')),
    );
  };

  const table = (id: string, caption: string, headers: string[]) => {
    const body = h('tbody', {});
    const element = h(
      'div',
      { class: 'table-wrap' },
      h('table', { id }, h('caption', {}, caption), h('thead', {}, h('tr', {}, headers.map((label) => h('th', { scope: 'col' }, label)))), body),
    );
    return { element, body, columns: headers.length };
  };
  const groupsTable = table('groups-table', 'Groups', ['Group', 'Owner', 'Placement', 'Here', 'Moves and bans', 'Fail counts', 'Reports', '']);
  const nodesTable = table('failover-nodes', 'Nodes', ['Node', 'Member', 'Standby', 'Runs', '']);
  const groupRows = new KeyedRows<GroupItem>(groupsTable.body, groupRow, groupsTable.columns);
  const nodeRows = new KeyedRows<NodeItem>(nodesTable.body, nodeRow, nodesTable.columns);
  const notConfigured = h('p', { class: 'empty', hidden: true }, 'Failover is not configured on this daemon (no "failover" section in its config).');
  const maintenanceState = h('span', { id: 'maintenance-state' });
  const maintenanceToggle = h('button', { type: 'button', id: 'maintenance-toggle' });
  let maintenanceOn = false;
  maintenanceToggle.addEventListener('click', () => void act(maintenanceControl(!maintenanceOn)));
  fill(maintenance, maintenanceState, maintenanceToggle);

  const refresh = async () => {
    let status: FailoverStatus;
    try {
      status = await get<FailoverStatus>('/groups');
    } catch (error) {
      if (!(error instanceof ApiFailure) || error.status !== 404) throw error;
      configured = false;
      for (const part of [groupsTable.element, nodesTable.element, moveForm, maintenance]) part.hidden = true;
      notConfigured.hidden = false;
      return;
    }
    configured = true;
    let members: MemberView[] = [];
    try {
      members = (await get<{ members: MemberView[] }>('/members')).members;
    } catch (error) {
      if (!(error instanceof ApiFailure) || error.code !== 'EVENTD_ERR_NO_CLUSTER') throw error;
    }
    for (const part of [groupsTable.element, nodesTable.element, moveForm, maintenance]) part.hidden = false;
    notConfigured.hidden = true;
    const nodes = knownNodes(members.map((member) => member.name), status.groups, status.standby);
    options(groupPicker, status.groups.map((group) => group.name), 'choose a group');
    options(nodePicker, nodes, 'choose a node');
    maintenanceOn = status.maintenance;
    maintenanceState.dataset['on'] = String(status.maintenance);
    maintenanceState.className = `badge ${status.maintenance ? 'pending' : 'armed'}`;
    maintenanceState.textContent = status.maintenance ? 'maintenance: no failover script runs' : 'managed';
    maintenanceToggle.className = status.maintenance ? '' : 'danger';
    maintenanceToggle.textContent = maintenanceControl(!status.maintenance).title;
    groupRows.update(status.groups.map((group) => ({ group, maintenance: status.maintenance })), (item) => item.group.name, (item) => JSON.stringify(item), 'No groups configured.');
    nodeRows.update(
      nodes.map((node) => ({
        node,
        standby: status.standby.includes(node),
        member: members.find((candidate) => candidate.name === node)?.state,
        runs: status.groups.filter((group) => group.owner === node).map((group) => group.name),
      })),
      (item) => item.node,
      (item) => JSON.stringify(item),
      'No node known yet.',
    );
  };

  const renderHistory = () =>
    fill(
      history,
      ((events) =>
        events.length === 0
          ? h('p', { class: 'empty' }, 'No failover events seen yet.')
          : h('ul', { class: 'history' }, events.slice(0, 50).map((event) => h('li', {}, h('time', { datetime: event.time }, clock(event.time)), ' ', h('span', { class: 'muted' }, event.class.replace(/^Failover/, '')), ' ', failoverEventText(event)))))(
        state.events.list().filter((event) => event.class.startsWith('Failover')),
      ),
    );

  const element = h(
    'section',
    { 'aria-labelledby': 'failover-title' },
    h('h2', { id: 'failover-title' }, 'Failover'),
    notConfigured,
    maintenance,
    failure,
    message,
    groupsTable.element,
    moveForm,
    nodesTable.element,
    h('h3', {}, 'History'),
    history,
  );
  renderHistory();
  return {
    id: 'failover',
    title: 'Failover',
    element,
    refresh: async () => {
      renderHistory();
      await refresh();
    },
    pollMs: 3_000,
    onEvent: (event) => {
      if (!event.class.startsWith('Failover')) return;
      renderHistory();
      // A burst of failover events (a takeover, the stream's tail at start) makes one fetch.
      if (!configured || queued !== undefined) return;
      queued = setTimeout(() => {
        queued = undefined;
        refresh().catch(() => undefined);
      }, 200);
    },
  };
}
