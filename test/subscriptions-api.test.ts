// Issue 10: the subscription API's status and friction. A subscription out of
// its budget is `error` (persisted) until changed; runtime errors are shown
// per resource; PATCH enables, disables and fixes; a name may not be another
// subscription's id; a zero action timeout is refused; type errors are 400s.
import assert from 'node:assert/strict';
import { defer } from './helpers/cleanup.js';
import { test } from 'node:test';
import type { EventRecord, Sample } from '../services/eventd/types.js';
import { apiUnderTest } from './helpers/api-context.js';
import { tempDir } from './helpers/tmp.js';

type ErrorBody = { error: { code: string; message: string; details?: Record<string, unknown> } };
interface View {
  id: string;
  status: string;
  enabled?: boolean;
  error?: { field: string; code: string; message: string; event?: string };
  errors: number;
  states: { resource: string; state: string; errors: number; failing: boolean; lastError?: { field: string; code?: string; message: string } }[];
  warnings?: { field: string; position: number; message: string }[];
}

let clock = 1_700_000_000_000;
function sample(resource: string, percentUsed: number): Sample {
  clock += 1000;
  return { class: 'PagingSpace', resource, node: 'n1', time: clock, attrs: { totalKiB: 100, usedKiB: percentUsed, freeKiB: 100 - percentUsed, percentUsed, configured: true } };
}

const loop = '($f := function($n){$f($n+1)}; $f(0))';

test('out of budget: status error with the reason, one error event, persisted across a restart; PATCH with a fixed expr clears it', async (t) => {
  const dir = tempDir(t);
  let api = await apiUnderTest(dir);
  defer(t, () => api.close());
  const created = await api.app.inject({ method: 'POST', url: '/v1/subscriptions', payload: { name: 'loop', class: 'PagingSpace', expr: loop } });
  assert.equal(created.statusCode, 201, created.body);
  assert.equal(created.json().status, 'active');
  assert.equal(api.awake.has('PagingSpace'), true);

  await api.context.evaluator.submit('PagingSpace', [sample('/dev/sda2', 10), sample('/dev/sdb1', 10)]);
  await api.context.evaluator.submit('PagingSpace', [sample('/dev/sda2', 10)]);
  let view = (await api.app.inject({ url: '/v1/subscriptions/loop' })).json() as View;
  assert.equal(view.status, 'error');
  assert.equal(view.error?.field, 'expr');
  assert.equal(view.error?.code, 'D1012');
  assert.match(view.error?.message ?? '', /^expr: Evaluation timeout after 250 milliseconds/);
  // The producer sleeps: no other subscription needs the class.
  assert.equal(api.awake.has('PagingSpace'), false);
  const errors = api.context.store.events.listAfter(0, { limit: 100 }).map((item) => item.event).filter((event: EventRecord) => event.type === 'error');
  assert.equal(errors.length, 1);
  assert.equal(errors[0]?.id, view.error?.event);
  assert.deepEqual(errors[0]?.error, { field: 'expr', code: 'D1012', message: view.error?.message });
  const listed = (await api.app.inject({ url: '/v1/subscriptions' })).json() as { subscriptions: View[] };
  assert.equal(listed.subscriptions[0]?.status, 'error');

  // A restart over the same store: still in error, still not evaluated.
  await api.close();
  api = await apiUnderTest(dir);
  api.context.subscriptions.restore();
  assert.equal(((await api.app.inject({ url: '/v1/subscriptions/loop' })).json() as View).status, 'error');
  assert.equal(api.awake.has('PagingSpace'), false);

  const fixed = await api.app.inject({ method: 'PATCH', url: '/v1/subscriptions/loop', payload: { expr: 'percentUsed > 50' } });
  assert.equal(fixed.statusCode, 200, fixed.body);
  assert.equal(fixed.json().status, 'active');
  assert.equal(fixed.json().expr, 'percentUsed > 50');
  assert.equal(api.awake.has('PagingSpace'), true);
  await api.context.evaluator.submit('PagingSpace', [sample('/dev/sda2', 60)]);
  view = (await api.app.inject({ url: '/v1/subscriptions/loop' })).json() as View;
  assert.equal(view.error, undefined);
  assert.deepEqual(view.states.map((s) => [s.resource, s.state]), [['/dev/sda2', 'fired']]);
  // Persisted: after another restart it is still the fixed one, active.
  await api.close();
  api = await apiUnderTest(dir);
  api.context.subscriptions.restore();
  const again = (await api.app.inject({ url: '/v1/subscriptions/loop' })).json() as View;
  assert.equal(again.status, 'active');
  assert.equal((again as View & { expr: string }).expr, 'percentUsed > 50');
});

test('runtime errors are shown per resource: count, last error, failing until it evaluates again', async (t) => {
  const api = await apiUnderTest(tempDir(t));
  defer(t, () => api.close());
  const created = await api.app.inject({ method: 'POST', url: '/v1/subscriptions', payload: { name: 'num', class: 'PagingSpace', expr: '$number($resource) > 1' } });
  assert.equal(created.statusCode, 201, created.body);
  await api.context.evaluator.submit('PagingSpace', [sample('/dev/sda2', 10), sample('7', 10)]);
  await api.context.evaluator.submit('PagingSpace', [sample('/dev/sda2', 10), sample('7', 10)]);
  const view = (await api.app.inject({ url: '/v1/subscriptions/num' })).json() as View;
  assert.equal(view.status, 'active', 'a data-dependent error does not stop the subscription');
  assert.equal(view.errors, 2);
  const bad = view.states.find((s) => s.resource === '/dev/sda2');
  assert.equal(bad?.errors, 2);
  assert.equal(bad?.failing, true);
  assert.equal(bad?.lastError?.code, 'D3030');
  assert.match(bad?.lastError?.message ?? '', /^expr: /);
  const good = view.states.find((s) => s.resource === '7');
  assert.equal(good?.errors, 0);
  assert.equal(good?.state, 'fired');
});

test('PATCH enabled: a disabled subscription is kept but not evaluated, and its producer sleeps; bad PATCH bodies are 400s', async (t) => {
  const api = await apiUnderTest(tempDir(t));
  defer(t, () => api.close());
  const created = await api.app.inject({ method: 'POST', url: '/v1/subscriptions', payload: { name: 'high', class: 'PagingSpace', expr: 'percentUsed > 50' } });
  assert.equal(created.statusCode, 201);
  const off = await api.app.inject({ method: 'PATCH', url: '/v1/subscriptions/high', payload: { enabled: false } });
  assert.equal(off.statusCode, 200, off.body);
  assert.equal(off.json().status, 'disabled');
  assert.equal(off.json().enabled, false);
  assert.equal(api.awake.has('PagingSpace'), false);
  await api.context.evaluator.submit('PagingSpace', [sample('/dev/sda2', 60)]);
  assert.deepEqual(((await api.app.inject({ url: '/v1/subscriptions/high' })).json() as View).states, []);

  const on = await api.app.inject({ method: 'PATCH', url: `/v1/subscriptions/${created.json().id}`, payload: { enabled: true } });
  assert.equal(on.json().status, 'active');
  assert.equal(on.json().enabled, undefined);
  assert.equal(api.awake.has('PagingSpace'), true);
  await api.context.evaluator.submit('PagingSpace', [sample('/dev/sda2', 60)]);
  assert.equal(((await api.app.inject({ url: '/v1/subscriptions/high' })).json() as View).states[0]?.state, 'fired');

  for (const [payload, code] of [[{}, 'EVENTD_ERR_BAD_REQUEST'], [{ colour: 'red' }, 'EVENTD_ERR_BAD_REQUEST'], [{ name: 'x' }, 'EVENTD_ERR_BAD_REQUEST'], [{ expr: 'percentUsed >' }, 'EVENTD_ERR_BAD_EXPRESSION'], [{ expr: 'percentUsed > "a"' }, 'EVENTD_ERR_EXPRESSION_TYPE']] as const) {
    const response = await api.app.inject({ method: 'PATCH', url: '/v1/subscriptions/high', payload });
    assert.equal(response.statusCode, 400, JSON.stringify(payload));
    assert.equal((response.json() as ErrorBody).error.code, code, JSON.stringify(payload));
  }
  assert.equal((await api.app.inject({ method: 'PATCH', url: '/v1/subscriptions/nope', payload: { enabled: true } })).statusCode, 404);
  // Created disabled, like mkcondition without startcondition.
  const dormant = await api.app.inject({ method: 'POST', url: '/v1/subscriptions', payload: { name: 'dormant', class: 'PagingSpace', expr: 'percentUsed > 90', enabled: false } });
  assert.equal(dormant.json().status, 'disabled');
});

test('a name may not be another subscription\'s id; a zero action timeout is refused; type errors are 400s and warnings come back with the 201', async (t) => {
  const api = await apiUnderTest(tempDir(t));
  defer(t, () => api.close());
  const first = await api.app.inject({ method: 'POST', url: '/v1/subscriptions', payload: { name: 'first', class: 'PagingSpace', expr: 'percentUsed > 50' } });
  const id = first.json().id as string;
  const clash = await api.app.inject({ method: 'POST', url: '/v1/subscriptions', payload: { name: id, class: 'PagingSpace', expr: 'percentUsed > 50' } });
  assert.equal(clash.statusCode, 409);
  assert.equal((clash.json() as ErrorBody).error.code, 'EVENTD_ERR_SUBSCRIPTION_EXISTS');
  assert.equal((clash.json() as ErrorBody).error.details?.['field'], 'name');

  const zero = await api.app.inject({ method: 'POST', url: '/v1/subscriptions', payload: { name: 'z', class: 'PagingSpace', expr: 'percentUsed > 50', actions: [{ run: '/bin/true', timeout: '0s' }] } });
  assert.equal(zero.statusCode, 400);
  assert.equal((zero.json() as ErrorBody).error.code, 'EVENTD_ERR_BAD_DURATION');
  assert.equal((zero.json() as ErrorBody).error.details?.['field'], 'actions[0].timeout');

  const typed = await api.app.inject({ method: 'POST', url: '/v1/subscriptions', payload: { name: 't', class: 'PagingSpace', expr: 'percentUsed > "a"' } });
  assert.equal(typed.statusCode, 400);
  assert.equal((typed.json() as ErrorBody).error.code, 'EVENTD_ERR_EXPRESSION_TYPE');
  assert.equal((typed.json() as ErrorBody).error.details?.['position'], 17);

  const warned = await api.app.inject({ method: 'POST', url: '/v1/subscriptions', payload: { name: 'w', class: 'PagingSpace', expr: 'percentUsed' } });
  assert.equal(warned.statusCode, 201);
  const warnings = (warned.json() as View).warnings ?? [];
  assert.equal(warnings.length, 1);
  assert.equal(warnings[0]?.field, 'expr');
  assert.match(warnings[0]?.message ?? '', /number, used as a condition/);
  assert.equal(((await api.app.inject({ method: 'POST', url: '/v1/subscriptions', payload: { name: 'nw', class: 'PagingSpace', expr: 'percentUsed > 1' } })).json() as View).warnings, undefined);
  const names = ((await api.app.inject({ url: '/v1/subscriptions' })).json() as { subscriptions: { name: string }[] }).subscriptions.map((s) => s.name);
  assert.deepEqual(names.sort(), ['first', 'nw', 'w']);
});
