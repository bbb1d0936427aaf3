import type { SubscriptionView } from '../logic/types.js';
import { ApiFailure, request } from './api.js';
import { conditionForm } from './condition-form.js';
import { fill, h, relativeTime } from './dom.js';
import type { Panel } from './panel.js';
import type { ConsoleState } from './state.js';

/** Every subscription with its expression, rearm, scope, order and per-resource state; create and delete. */
export function conditionsPanel(state: ConsoleState): Panel {
  const body = h('tbody', { id: 'conditions-body' });
  const filterInput = h('input', { type: 'search', id: 'conditions-filter', placeholder: 'name, class or expression' });
  const message = h('p', { class: 'muted', 'aria-live': 'polite', id: 'conditions-message' });
  const form = conditionForm(state, (subscription) => {
    message.textContent = `created ${subscription.name}`;
    void refresh();
  });

  const stateCell = (subscription: SubscriptionView) => {
    const states = state.conditions.states(subscription.id);
    // The daemon records a resource's state from its first crossing on; before that every resource is armed.
    if (states.length === 0) return h('span', { class: 'muted', 'data-state': 'armed' }, 'armed: nothing has crossed yet');
    return h(
      'ul',
      { class: 'states' },
      states.map((resource) =>
        h(
          'li',
          { 'data-resource': resource.resource, 'data-state': resource.state },
          h('span', { class: `badge ${resource.state === 'fired' ? 'event' : 'armed'}` }, resource.state),
          ` ${resource.resource}`,
          resource.node !== subscription.node ? h('span', { class: 'muted' }, ` on ${resource.node}`) : null,
          resource.since ? h('span', { class: 'muted' }, ` since ${relativeTime(resource.since)}`) : null,
          resource.lastEvent ? h('span', { class: 'muted mono' }, ` (${resource.lastEvent})`) : null,
        ),
      ),
    );
  };

  const remove = (subscription: SubscriptionView, button: HTMLButtonElement) => {
    // Two presses: the first arms the button, so a stray Enter deletes nothing.
    if (button.dataset['armed'] !== 'true') {
      button.dataset['armed'] = 'true';
      button.textContent = 'Confirm delete';
      return;
    }
    void request('DELETE', `/subscriptions/${encodeURIComponent(subscription.id)}`).then(
      () => {
        state.conditions.forget(subscription.id);
        message.textContent = `deleted ${subscription.name}`;
        return refresh();
      },
      (error: unknown) => (message.textContent = error instanceof ApiFailure ? error.message : String(error)),
    );
  };

  const render = () => {
    const needle = filterInput.value.trim().toLowerCase();
    const rows = state.subscriptions.filter((subscription) =>
      needle === '' || [subscription.name, subscription.class, subscription.expr, subscription.rearm ?? ''].some((text) => text.toLowerCase().includes(needle)),
    );
    fill(
      body,
      rows.length === 0
        ? h('tr', {}, h('td', { colspan: 7, class: 'empty' }, state.subscriptions.length === 0 ? 'No conditions yet: create one below.' : 'No condition matches the filter.'))
        : rows.map((subscription) => {
            const button = h('button', { type: 'button', class: 'danger', 'aria-label': `delete ${subscription.name}` }, 'Delete');
            button.addEventListener('click', () => remove(subscription, button));
            button.addEventListener('blur', () => {
              button.dataset['armed'] = 'false';
              button.textContent = 'Delete';
            });
            return h(
              'tr',
              { 'data-subscription': subscription.name },
              h('th', { scope: 'row' }, subscription.name, h('div', { class: 'muted' }, subscription.class)),
              h('td', { class: 'mono' }, subscription.expr, subscription.where ? h('div', { class: 'muted' }, `where ${subscription.where}`) : null),
              h('td', { class: 'mono' }, subscription.rearm ?? h('span', { class: 'muted' }, `not (${subscription.expr})`)),
              h('td', {}, Array.isArray(subscription.scope) ? subscription.scope.join(', ') : typeof subscription.scope === 'string' ? subscription.scope : Object.entries(subscription.scope.tags).map(([name, tag]) => `${name}=${tag}`).join(', ')),
              h('td', {}, subscription.order),
              h('td', {}, stateCell(subscription)),
              h('td', {}, button),
            );
          }),
    );
  };
  filterInput.addEventListener('input', render);

  const refresh = async () => {
    await Promise.all([state.loadSubscriptions(), state.loadClasses()]);
    form.setClasses();
    render();
  };

  const element = h(
    'section',
    { 'aria-labelledby': 'conditions-title' },
    h('h2', { id: 'conditions-title' }, 'Conditions'),
    h('div', { class: 'toolbar' }, h('label', { for: 'conditions-filter' }, 'Filter '), filterInput, message),
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { id: 'conditions-table' },
        h('thead', {}, h('tr', {}, ['Condition', 'Expression', 'Rearm', 'Scope', 'Order', 'State', ''].map((label) => h('th', { scope: 'col' }, label)))),
        body,
      ),
    ),
    form,
  );
  return {
    id: 'conditions',
    title: 'Conditions',
    element,
    refresh,
    // Events move fired/armed at once; the poll picks up resources first seen armed (no event announces those).
    pollMs: 5_000,
    onEvent: (event) => {
      // One made elsewhere (eventctl, a peer): fetch the list; else the state moved, which render shows.
      if (!state.subscriptions.some((subscription) => subscription.id === event.subscription)) void refresh().catch(() => undefined);
      else render();
    },
  };
}
