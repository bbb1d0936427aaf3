// Silences (Alertmanager's): list, create, expire. A silenced event is still
// logged and shown; its responses do not run (the Actions panel says
// "skipped: silenced"). Each silence shows how many of the events this page
// holds it muted, so its effect is visible where it is made.
import { fromNow, matchersText, silenceDraft, type SilenceFormValues } from '../logic/operator.js';
import { formErrors } from '../logic/field-errors.js';
import type { ConsoleEvent, SilenceView } from '../logic/types.js';
import { ApiFailure, get, request } from './api.js';
import { confirmControl } from './confirm.js';
import { clock, fill, h, KeyedRows } from './dom.js';
import type { Panel } from './panel.js';
import type { ConsoleState } from './state.js';

const fields = ['subscription', 'class', 'node', 'resource', 'duration', 'comment'] as const;
type Field = (typeof fields)[number];
const isPlace = (name: string): name is Field | 'matchers' => name === 'matchers' || (fields as readonly string[]).includes(name);
/** What one row shows: a row is made again only when this changes. */
interface SilenceItem {
  silence: SilenceView;
  muted: number;
}
const labels: Record<Field, string> = { subscription: 'Condition', class: 'Class', node: 'Node', resource: 'Resource', duration: 'Duration', comment: 'Comment' };

export function silencesPanel(state: ConsoleState): Panel {
  const body = h('tbody', { id: 'silences-body' });
  const showExpired = h('input', { type: 'checkbox', id: 'silences-expired' });
  const message = h('p', { class: 'muted', id: 'silences-message', 'aria-live': 'polite' });
  const failure = h('p', { class: 'form-error', id: 'silences-error', role: 'alert' });
  const inputs = new Map<Field, HTMLInputElement>();
  const errors = new Map<Field | 'matchers', HTMLElement>();
  const suggestions = new Map<Field, HTMLDataListElement>();
  let silences: SilenceView[] = [];
  let focusComment = false;

  const field = (name: Field, placeholder: string, help?: string) => {
    const list = h('datalist', { id: `silence-${name}-options` });
    const input = h('input', { type: 'text', id: `silence-${name}`, name, placeholder, autocomplete: 'off', spellcheck: 'false', list: list.id, 'aria-describedby': `silence-error-${name}` });
    const error = h('p', { class: 'field-error', id: `silence-error-${name}` });
    inputs.set(name, input);
    errors.set(name, error);
    suggestions.set(name, list);
    return h('div', { class: `field field-${name}` }, h('label', { for: input.id }, labels[name]), input, list, help ? h('small', { class: 'muted' }, help) : null, error);
  };
  const matchersError = h('p', { class: 'field-error', id: 'silence-error-matchers' });
  errors.set('matchers', matchersError);

  const clearErrors = () => {
    for (const error of errors.values()) error.textContent = '';
    for (const input of inputs.values()) input.removeAttribute('aria-invalid');
    failure.textContent = '';
  };
  const showError = (name: Field | 'matchers', text: string) => {
    const target = errors.get(name);
    if (target) target.textContent = target.textContent ? `${target.textContent}; ${text}` : text;
    const marked = name === 'matchers' ? (['subscription', 'class', 'node', 'resource'] as const) : [name];
    for (const key of marked) inputs.get(key)?.setAttribute('aria-invalid', 'true');
  };

  const form = h(
    'form',
    { id: 'silence-form', class: 'condition-form', 'aria-labelledby': 'silence-form-title', novalidate: true },
    h('h3', { id: 'silence-form-title' }, 'New silence'),
    h(
      'fieldset',
      { class: 'matchers', 'aria-describedby': 'silence-error-matchers' },
      h('legend', {}, 'Mutes events matching every field given'),
      h('div', { class: 'fields' }, field('subscription', 'swap-high'), field('class', 'PagingSpace'), field('node', 'n1'), field('resource', 'total')),
      matchersError,
    ),
    h('div', { class: 'fields' }, field('duration', '2h', 'e.g. 30m, 2h, 1d'), field('comment', 'disk swap, replacing the disk')),
    h('button', { type: 'submit', id: 'silence-create' }, 'Create silence'),
  );
  inputs.get('duration')!.value = '2h';

  /** Fills the form from an event ("silence like this", from the Events panel) and shows it. */
  state.silenceLike = (event: ConsoleEvent) => {
    clearErrors();
    inputs.get('subscription')!.value = event.subscriptionName;
    inputs.get('class')!.value = '';
    inputs.get('node')!.value = event.node;
    inputs.get('resource')!.value = event.resource;
    // Focused once the panel is shown (a hidden input takes no focus).
    focusComment = true;
  };

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void submit();
  });
  const submit = async () => {
    clearErrors();
    const value = (name: Field) => inputs.get(name)?.value ?? '';
    const values: SilenceFormValues = { subscription: value('subscription'), class: value('class'), node: value('node'), resource: value('resource'), duration: value('duration'), comment: value('comment') };
    const draft = silenceDraft(values);
    if ('errors' in draft) {
      for (const [name, text] of draft.errors) showError(name, text);
      return;
    }
    try {
      const created = await request<SilenceView>('POST', '/silences', draft.body);
      message.textContent = `silence ${created.id} created: ${matchersText(created.matchers)} until ${clock(created.endsAt)}`;
      for (const name of ['subscription', 'class', 'node', 'resource', 'comment'] as const) inputs.get(name)!.value = '';
      await refresh();
    } catch (error) {
      if (!(error instanceof ApiFailure)) throw error;
      const placed = formErrors(error.body, [...fields, 'matchers', 'endsAt']);
      // endsAt has no field of its own here: the duration sets it.
      for (const [name, text] of placed.byField) showError(name === 'endsAt' ? 'duration' : isPlace(name) ? name : 'matchers', text);
      failure.textContent = placed.general.join('\n');
    }
  };

  const expire = async (silence: SilenceView) => {
    failure.textContent = '';
    const control = {
      title: `Expire silence ${silence.id}`,
      consequence: `Events matching ${matchersText(silence.matchers)} run their responses again from now on (what was muted stays muted).`,
    };
    if (!(await confirmControl(control, 'Expire'))) {
      message.textContent = `${control.title}: cancelled, nothing was sent`;
      return;
    }
    try {
      await request('DELETE', `/silences/${encodeURIComponent(silence.id)}`);
      message.textContent = `silence ${silence.id} expired`;
    } catch (error) {
      failure.textContent = error instanceof ApiFailure ? `${control.title}: ${error.message}${error.code ? ` (${error.code})` : ''}` : String(error);
    }
    await refresh();
  };

  const silenceRow = ({ silence, muted: count }: SilenceItem) =>
    h(
      'tr',
      { 'data-silence': silence.id, 'data-state': silence.state },
      h('td', {}, h('span', { class: `badge ${silence.state === 'active' ? 'pending' : silence.state === 'expired' ? '' : 'armed'}` }, silence.state)),
      h('td', {}, matchersText(silence.matchers), h('div', { class: 'muted mono' }, silence.id)),
      h('td', {}, h('time', { datetime: silence.startsAt }, clock(silence.startsAt)), h('div', { class: 'muted', 'data-from': silence.startsAt })),
      h('td', {}, h('time', { datetime: silence.endsAt }, clock(silence.endsAt)), h('div', { class: 'muted', 'data-from': silence.endsAt })),
      h('td', {}, silence.comment),
      h('td', {}, silence.createdBy, h('div', { class: 'muted' }, `on ${silence.node}`)),
      h('td', { class: 'num', 'data-muted': String(count) }, String(count)),
      h('td', {}, silence.state === 'expired' ? null : h('button', { type: 'button', class: 'danger', 'aria-label': `expire silence ${silence.id}`, onclick: () => void expire(silence) }, 'Expire')),
    );
  const rows = new KeyedRows<SilenceItem>(body, silenceRow, 8);

  const muted = (id: string) => state.events.list().filter((event) => event.silenced === id).length;

  const render = () => {
    rows.update(
      silences.map((silence) => ({ silence, muted: muted(silence.id) })),
      (item) => item.silence.id,
      (item) => JSON.stringify(item),
      showExpired.checked ? 'No silences.' : 'No active or pending silence.',
    );
    // "in 1h 59m", "5s ago": moved on in place, so the rows stay.
    const now = Date.now();
    for (const element of body.querySelectorAll<HTMLElement>('[data-from]')) element.textContent = fromNow(element.dataset['from'] ?? '', now);
  };

  const suggest = (name: Field, values: string[]) => fill(suggestions.get(name)!, [...new Set(values)].sort().map((value) => h('option', { value })));
  const refresh = async () => {
    silences = (await get<{ silences: SilenceView[] }>(`/silences${showExpired.checked ? '?expired=true' : ''}`)).silences;
    render();
    const events = state.events.list();
    suggest('subscription', state.subscriptions.map((subscription) => subscription.name));
    suggest('class', state.classes.map((cls) => cls.class));
    suggest('node', events.map((event) => event.node));
    suggest('resource', events.map((event) => event.resource));
  };
  showExpired.addEventListener('change', () => void refresh());

  const element = h(
    'section',
    { 'aria-labelledby': 'silences-title' },
    h('h2', { id: 'silences-title' }, 'Silences'),
    h('p', { class: 'muted' }, 'A silenced event is still logged and streamed; its responses do not run.'),
    h('div', { class: 'toolbar' }, h('label', {}, showExpired, ' show expired'), message),
    failure,
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { id: 'silences-table' },
        h('thead', {}, h('tr', {}, ['State', 'Matches', 'Starts', 'Ends', 'Comment', 'By', 'Muted', ''].map((label) => h('th', { scope: 'col' }, label)))),
        body,
      ),
    ),
    form,
  );
  return {
    id: 'silences',
    title: 'Silences',
    element,
    refresh: async () => {
      if (state.subscriptions.length === 0) await state.loadSubscriptions();
      if (state.classes.length === 0) await state.loadClasses();
      if (focusComment) {
        focusComment = false;
        inputs.get('comment')!.focus();
      }
      await refresh();
    },
    // Silences end on their own: the poll moves them to expired.
    pollMs: 5_000,
    onEvent: (event) => void (event.silenced !== undefined ? render() : undefined),
  };
}
