import assert from 'node:assert/strict';
import { test } from './helpers/node-test.js';
import { apiUnderTest } from './helpers/api-context.js';
import { defer, tempDir } from './helpers/tmp.js';

type ErrorBody = { error: { code: string; message: string; details?: Record<string, unknown> } };

const valid = { name: 'swap-high', class: 'PagingSpace', expr: 'percentUsed > 75', rearm: 'percentUsed < 60' };

test('subscriptions: create, list, get by id or name, delete; producers wake and sleep with them', async (t) => {
  const api = await apiUnderTest(tempDir(t));
  defer(t, api.close);
  const created = await api.app.inject({ method: 'POST', url: '/v1/subscriptions', payload: { ...valid, for: '2 of 3' } });
  assert.equal(created.statusCode, 201, created.body);
  const body = created.json() as { id: string; scope: string; order: string; actions: unknown[]; node: string };
  assert.equal(body.scope, 'local');
  assert.equal(body.order, 'fifo');
  assert.deepEqual(body.actions, []);
  assert.equal(body.node, 'n1');
  assert.deepEqual(api.awake.has('PagingSpace'), true);

  const list = (await api.app.inject({ url: '/v1/subscriptions' })).json() as { subscriptions: { id: string }[] };
  assert.deepEqual(list.subscriptions.map((s) => s.id), [body.id]);
  assert.equal((await api.app.inject({ url: '/v1/subscriptions/swap-high' })).json().id, body.id);
  assert.equal((await api.app.inject({ url: `/v1/subscriptions/${body.id}` })).statusCode, 200);

  const duplicate = await api.app.inject({ method: 'POST', url: '/v1/subscriptions', payload: valid });
  assert.equal(duplicate.statusCode, 409);
  assert.equal((duplicate.json() as ErrorBody).error.code, 'EVENTD_ERR_SUBSCRIPTION_EXISTS');

  assert.equal((await api.app.inject({ method: 'DELETE', url: '/v1/subscriptions/swap-high' })).statusCode, 200);
  assert.equal(api.awake.has('PagingSpace'), false);
  const gone = await api.app.inject({ method: 'DELETE', url: '/v1/subscriptions/swap-high' });
  assert.equal(gone.statusCode, 404);
  assert.equal((gone.json() as ErrorBody).error.code, 'EVENTD_ERR_SUBSCRIPTION_NOT_FOUND');
});

test('validation: each kind of bad input is a clear error with a stable code, and nothing accepted is lost', async (t) => {
  const api = await apiUnderTest(tempDir(t), { api: { bodyLimitBytes: 4096 } });
  defer(t, api.close);
  assert.equal((await api.app.inject({ method: 'POST', url: '/v1/subscriptions', payload: valid })).statusCode, 201);

  const cases: { payload: unknown; raw?: string; status: number; code: string; mentions: RegExp }[] = [
    { payload: undefined, raw: '{"name": "x", ', status: 400, code: 'EVENTD_ERR_BAD_JSON', mentions: /JSON/ },
    { payload: { ...valid, name: 'b1', expr: 'percentUsed > > 75' }, status: 400, code: 'EVENTD_ERR_BAD_EXPRESSION', mentions: /^expr: .*position/ },
    { payload: { ...valid, name: 'b2', rearm: 'percentUsed <' }, status: 400, code: 'EVENTD_ERR_BAD_EXPRESSION', mentions: /^rearm: / },
    { payload: { ...valid, name: 'b3', expr: 'percentUsd > 75' }, status: 400, code: 'EVENTD_ERR_UNKNOWN_ATTRIBUTE', mentions: /percentUsd/ },
    { payload: { ...valid, name: 'b4', class: 'PagingSpaces' }, status: 422, code: 'EVENTD_ERR_UNKNOWN_CLASS', mentions: /PagingSpaces.*known classes: PagingSpace/ },
    { payload: { ...valid, name: 'b5', for: '3 of 2' }, status: 400, code: 'EVENTD_ERR_BAD_FOR', mentions: /^for: / },
    { payload: { ...valid, name: 'b6', actions: [{ run: 'notify.sh' }] }, status: 400, code: 'EVENTD_ERR_BAD_ACTION', mentions: /actions\[0\]\.run.*absolute/ },
    { payload: { ...valid, name: 'b7', actions: [{ run: '/no/such/script' }] }, status: 400, code: 'EVENTD_ERR_BAD_ACTION', mentions: /actions\[0\]\.run/ },
    { payload: { ...valid, name: 'b8', actions: [{ run: '/bin/true', timeout: 'ten' }] }, status: 400, code: 'EVENTD_ERR_BAD_DURATION', mentions: /actions\[0\]\.timeout/ },
    { payload: { ...valid, name: 'b9', colour: 'red' }, status: 400, code: 'EVENTD_ERR_BAD_REQUEST', mentions: /colour: unknown key/ },
    { payload: { class: 'PagingSpace', expr: 'percentUsed > 1' }, status: 400, code: 'EVENTD_ERR_BAD_REQUEST', mentions: /name/ },
    { payload: { ...valid, name: 'b10', scope: 'cluster' }, status: 422, code: 'EVENTD_ERR_NO_CLUSTER', mentions: /^scope: / },
    { payload: { ...valid, name: 'b11', expr: 'x'.repeat(5000) }, status: 413, code: 'EVENTD_ERR_BODY_TOO_LARGE', mentions: /api\.bodyLimitBytes/ },
  ];
  for (const item of cases) {
    const response = await api.app.inject({
      method: 'POST', url: '/v1/subscriptions',
      headers: { 'content-type': 'application/json' },
      payload: item.raw ?? JSON.stringify(item.payload),
    });
    const body = response.json() as ErrorBody;
    assert.equal(response.statusCode, item.status, `${JSON.stringify(item.payload)} -> ${response.body}`);
    assert.equal(body.error.code, item.code, response.body);
    assert.match(body.error.message, item.mentions, response.body);
  }
  const list = (await api.app.inject({ url: '/v1/subscriptions' })).json() as { subscriptions: { name: string }[] };
  assert.deepEqual(list.subscriptions.map((s) => s.name), ['swap-high']);
});

test('unknown routes and bad query parameters are errors in the same shape', async (t) => {
  const api = await apiUnderTest(tempDir(t));
  defer(t, api.close);
  const missing = await api.app.inject({ url: '/v1/nothing' });
  assert.equal(missing.statusCode, 404);
  assert.equal((missing.json() as ErrorBody).error.code, 'EVENTD_ERR_NOT_FOUND');
  const badLimit = await api.app.inject({ url: '/v1/events?limit=0' });
  assert.equal(badLimit.statusCode, 400);
  assert.equal((badLimit.json() as ErrorBody).error.code, 'EVENTD_ERR_BAD_REQUEST');
  const badSince = await api.app.inject({ url: '/v1/events?since=n1:99' });
  assert.equal(badSince.statusCode, 404);
  assert.equal((badSince.json() as ErrorBody).error.code, 'EVENTD_ERR_EVENT_NOT_FOUND');
});

test('a configured token is required on every route but /healthz', async (t) => {
  const token = 'a-very-secret-token-123';
  const api = await apiUnderTest(tempDir(t), { api: { token } });
  defer(t, api.close);
  assert.equal((await api.app.inject({ url: '/healthz' })).statusCode, 200);
  const denied = await api.app.inject({ url: '/v1/subscriptions' });
  assert.equal(denied.statusCode, 401);
  assert.equal((denied.json() as ErrorBody).error.code, 'EVENTD_ERR_UNAUTHORIZED');
  assert.equal((await api.app.inject({ url: '/v1/subscriptions', headers: { authorization: 'Bearer wrong' } })).statusCode, 401);
  assert.equal((await api.app.inject({ url: '/metrics', headers: { authorization: `Bearer ${token}` } })).statusCode, 200);
});

test('metrics speak Prometheus text with the daemon counters', async (t) => {
  const api = await apiUnderTest(tempDir(t));
  defer(t, api.close);
  const response = await api.app.inject({ url: '/metrics' });
  assert.equal(response.statusCode, 200);
  assert.match(String(response.headers['content-type']), /text\/plain/);
  for (const name of ['eventd_samples_total', 'eventd_evaluations_total', 'eventd_events_total', 'eventd_action_runs_total', 'eventd_action_failures_total', 'eventd_producer_errors_total']) {
    assert.match(response.body, new RegExp(`# TYPE ${name} counter`));
  }
});

test('consumer routes: added once the API is ready, they are served with their parameters, query and body; other paths keep their routes and the 404', async (t) => {
  const api = await apiUnderTest(tempDir(t));
  defer(t, api.close);
  await api.app.ready();
  // A consumer starts after the API is built (the daemon builds it before the cluster starts).
  api.context.consumerRoutes.add({ method: 'POST', url: '/v1/things/:name/poke', handler: (request) => ({ ...request }) });
  api.context.consumerRoutes.add({ method: 'GET', url: '/v1/things', handler: () => ({ things: [] }) });

  const poked = await api.app.inject({ method: 'POST', url: '/v1/things/web/poke?hard=1', payload: { by: 'me' } });
  assert.equal(poked.statusCode, 200, poked.body);
  assert.deepEqual(poked.json(), { params: { name: 'web' }, query: { hard: '1' }, body: { by: 'me' } });
  assert.deepEqual((await api.app.inject({ url: '/v1/things' })).json(), { things: [] });
  // Through the console's prefix too (rewritten to /v1/...): refused without a session, served with one.
  assert.equal((await api.app.inject({ url: '/ui/v1/things' })).statusCode, 401);
  const { path } = (await api.app.inject({ method: 'POST', url: '/v1/ui/login-codes' })).json<{ path: string }>();
  const cookie = String((await api.app.inject({ url: path })).headers['set-cookie']).split(';')[0]!;
  assert.deepEqual((await api.app.inject({ url: '/ui/v1/things', headers: { cookie } })).json(), { things: [] });

  for (const [method, url] of [['GET', '/v1/things/web/poke'], ['GET', '/v1/nothing-here'], ['DELETE', '/v1/things']] as const) {
    const missing = await api.app.inject({ method, url });
    assert.equal(missing.statusCode, 404, `${method} ${url}`);
    assert.equal((missing.json() as ErrorBody).error.code, 'EVENTD_ERR_NOT_FOUND');
    assert.match((missing.json() as ErrorBody).error.message, new RegExp(`no route ${method} ${url}`));
  }
  assert.equal((await api.app.inject({ url: '/v1/subscriptions' })).statusCode, 200);
});
