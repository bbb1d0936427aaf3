import { formErrors } from '../logic/field-errors.js';
import type { PresetView, SubscriptionView } from '../logic/types.js';
import { ApiFailure, get, request } from './api.js';
import { fill, h } from './dom.js';
import type { ConsoleState } from './state.js';

const fields = ['name', 'class', 'expr', 'rearm', 'for', 'where', 'scope', 'order'] as const;
type Field = (typeof fields)[number];

/** Create a condition: class picker from /v1/classes, attribute hints from its manifest, the server's 400 at the field it names. */
export function conditionForm(state: ConsoleState, created: (subscription: SubscriptionView) => void): HTMLFormElement & { setClasses(): void } {
  const inputs = new Map<Field, HTMLInputElement | HTMLSelectElement>();
  const errors = new Map<Field, HTMLElement>();
  const general = h('div', { class: 'form-error', role: 'alert', id: 'form-error' });
  const hints = h('div', { class: 'hints', id: 'attribute-hints', 'aria-live': 'polite' });
  const presets = h('select', { id: 'preset-picker', 'aria-label': 'preset' }, h('option', { value: '' }, 'choose a preset'));
  let presetList: PresetView[] = [];

  const field = (name: Field, label: string, control: HTMLInputElement | HTMLSelectElement, help?: string) => {
    control.id = `field-${name}`;
    control.name = name;
    const error = h('p', { class: 'field-error', id: `error-${name}` });
    control.setAttribute('aria-describedby', `error-${name}${help ? ` help-${name}` : ''}`);
    inputs.set(name, control);
    errors.set(name, error);
    return h('div', { class: `field field-${name}` }, h('label', { for: control.id }, label), control, help ? h('small', { id: `help-${name}`, class: 'muted' }, help) : null, error);
  };
  const classPicker = h('select', { required: true });
  const text = (placeholder: string, required = false) => h('input', { type: 'text', placeholder, required, autocomplete: 'off', spellcheck: 'false' });

  const showHints = () => {
    const cls = state.classes.find((candidate) => candidate.class === classPicker.value);
    if (!cls) return fill(hints);
    fill(
      hints,
      h('span', { class: 'muted' }, 'attributes: '),
      Object.entries(cls.attributes).map(([name, spec]) =>
        h(
          'button',
          {
            type: 'button',
            class: 'chip',
            title: `${spec.type}${spec.unit ? `, ${spec.unit}` : ''}${spec.description ? `: ${spec.description}` : ''}`,
            onclick: () => insert(name),
          },
          name,
          spec.unit ? h('span', { class: 'muted' }, ` ${spec.unit}`) : null,
        ),
      ),
    );
  };
  const insert = (name: string) => {
    const expr = inputs.get('expr');
    if (!(expr instanceof HTMLInputElement)) return;
    const at = expr.selectionStart ?? expr.value.length;
    expr.value = `${expr.value.slice(0, at)}${name}${expr.value.slice(expr.selectionEnd ?? at)}`;
    expr.focus();
    expr.setSelectionRange(at + name.length, at + name.length);
  };
  classPicker.addEventListener('change', showHints);

  const clearErrors = () => {
    for (const error of errors.values()) error.textContent = '';
    for (const input of inputs.values()) input.removeAttribute('aria-invalid');
    general.textContent = '';
  };

  const form = h(
    'form',
    { id: 'condition-form', class: 'condition-form', 'aria-labelledby': 'form-title', novalidate: true },
    h('h3', { id: 'form-title' }, 'New condition'),
    h('div', { class: 'toolbar' }, h('label', { for: 'preset-picker' }, 'From a preset '), presets),
    general,
    h(
      'div',
      { class: 'fields' },
      field('name', 'Name', text('swap-high', true)),
      field('class', 'Class', classPicker),
      field('expr', 'Expression', text('percentUsed > 90', true), 'JSONata over the sample’s attributes; $prev is the previous sample'),
      hints,
      field('rearm', 'Rearm', text('percentUsed < 85 (optional)')),
      field('for', 'For', text('3, "2 of 3" or 30s (optional)')),
      field('where', 'Where', text('$resource = "total" (optional)')),
      field('scope', 'Scope', h('select', {}, h('option', { value: 'local' }, 'local'), h('option', { value: 'cluster' }, 'cluster'))),
      field('order', 'Order', h('select', {}, h('option', { value: 'fifo' }, 'fifo'), h('option', { value: 'agreed' }, 'agreed'))),
    ),
    h('button', { type: 'submit', id: 'condition-create' }, 'Create condition'),
  );

  presets.addEventListener('change', () => {
    const preset = presetList.find((candidate) => candidate.name === presets.value);
    if (!preset) return;
    const { subscription } = preset;
    const set = (name: Field, value: string | number | undefined) => {
      const input = inputs.get(name);
      if (input) input.value = value === undefined ? '' : String(value);
    };
    set('name', subscription.name);
    set('class', subscription.class);
    set('expr', subscription.expr);
    set('rearm', subscription.rearm);
    set('for', subscription.for);
    set('where', subscription.where);
    showHints();
    clearErrors();
  });

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void submit();
  });
  const submit = async () => {
    clearErrors();
    const value = (name: Field) => inputs.get(name)?.value.trim() ?? '';
    const body: Record<string, unknown> = { name: value('name'), class: value('class'), expr: value('expr'), scope: value('scope'), order: value('order') };
    for (const optional of ['rearm', 'where'] as const) if (value(optional) !== '') body[optional] = value(optional);
    const forValue = value('for');
    if (forValue !== '') body['for'] = /^\d+$/.test(forValue) ? Number(forValue) : forValue;
    try {
      const subscription = await request<SubscriptionView>('POST', '/subscriptions', body);
      form.reset();
      showHints();
      created(subscription);
    } catch (error) {
      if (!(error instanceof ApiFailure)) throw error;
      const placed = formErrors(error.body, fields);
      let first: HTMLElement | undefined;
      for (const [name, message] of placed.byField) {
        const key = name as Field;
        const target = errors.get(key);
        if (target) target.textContent = message;
        inputs.get(key)?.setAttribute('aria-invalid', 'true');
        first ??= inputs.get(key);
      }
      general.textContent = placed.general.join('\n');
      first?.focus();
    }
  };

  void (async () => {
    presetList = (await get<{ presets: PresetView[] }>('/presets')).presets;
    fill(presets, h('option', { value: '' }, 'choose a preset'), presetList.map((preset) => h('option', { value: preset.name, title: preset.description }, preset.name)));
  })().catch(() => undefined);

  return Object.assign(form, {
    /** Called when the classes are known or change. */
    setClasses() {
      const current = classPicker.value;
      fill(classPicker, state.classes.map((cls) => h('option', { value: cls.class, selected: cls.class === current }, cls.class)));
      if (current === '' && state.classes.some((cls) => cls.class === 'PagingSpace')) classPicker.value = 'PagingSpace';
      showHints();
    },
  });
}
