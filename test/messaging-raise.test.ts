// Raising events (issue 16, "Raise an event") on three real daemons: a FIFO
// raise with a key recorded once (also after a restart), a subscription on a
// raised class fires with $prev, agreed raises from every node in one order
// everywhere, bad input a 400 naming the field, and the CLI of the issue.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from './helpers/node-test.js';
import { events, view } from './helpers/cluster.js';
import { runEventctl, startMessagingCluster } from './helpers/messaging.js';
import { defer, tempDir, waitFor } from './helpers/tmp.js';
import type { EventRecord } from '../services/eventd/types.js';

const names = ['n1', 'n2', 'n3'];

interface Raised { id: string; duplicate: boolean; delivered: boolean; position?: number }
interface ApiError { error: { code: string; details?: { field?: string } } }

test('raised events: a key records once, a subscription on the class fires, agreed raises are one order everywhere, bad input names its field', { timeout: 240_000 }, async (t) => {
  const dir = tempDir(t);
  const nodes = await startMessagingCluster(dir, names, () => ({}), t);
  defer(t, () => Promise.all(nodes.map((node) => node.daemon.kill9())));
  const [n1, n2, n3] = nodes as [typeof nodes[0], typeof nodes[0], typeof nodes[0]];
  for (const node of nodes) await waitFor(`${node.name} to see a view of three`, async () => (await view(node.daemon)).length === 3, 30_000);

  // A FIFO raise with a key, twice: one event, on every node.
  const body = { class: 'Deploy', resource: 'web', attrs: { version: 41, by: 'ci' }, key: 'deploy-41' };
  const first = await n1.daemon.request<Raised>('POST', '/v1/events', body);
  assert.equal(first.status, 201, JSON.stringify(first.body));
  assert.equal(first.body.duplicate, false);
  const again = await n1.daemon.request<Raised>('POST', '/v1/events', body);
  assert.equal(again.status, 200, JSON.stringify(again.body));
  assert.deepEqual([again.body.id, again.body.duplicate], [first.body.id, true]);
  for (const node of nodes) {
    await waitFor(`the raised event on ${node.name}`, async () => (await events(node.daemon, '?class=Deploy')).some((e) => e.id === first.body.id), 20_000);
  }
  // The key outlives a restart: the retry after it records nothing either.
  await n1.daemon.stop();
  await n1.daemon.start();
  const afterRestart = await n1.daemon.request<Raised>('POST', '/v1/events', body);
  assert.deepEqual([afterRestart.status, afterRestart.body.id, afterRestart.body.duplicate], [200, first.body.id, true]);
  await waitFor('n1 back in the view of n2', async () => (await view(n2.daemon)).length === 3, 30_000);
  for (const node of nodes) {
    assert.equal((await events(node.daemon, '?class=Deploy')).filter((e) => e.attrs['version'] === 41).length, 1, `one event with the key on ${node.name}`);
  }
  const audit = await n1.daemon.request<{ entries: { path: string; subject: string | null; status: number }[] }>('GET', '/v1/audit');
  assert.ok(audit.body.entries.some((entry) => entry.path === '/v1/events' && entry.subject === first.body.id && entry.status === 201), 'the raise is audited with its event id');

  // A cluster subscription made on n2 fires on raises at n1 whose version changed.
  const created = await n2.daemon.request<{ id: string }>('POST', '/v1/subscriptions', { name: 'new-version', class: 'Deploy', expr: 'version != $prev.version', scope: 'cluster' });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  await waitFor('n1 to know the subscription', async () =>
    (await n1.daemon.request<{ subscriptions: { id: string }[] }>('GET', '/v1/subscriptions')).body.subscriptions.some((s) => s.id === created.body.id), 20_000);
  // $prev is the class's previous raise of the resource here (41, the keyed one): 42 fires, 42 again rearms, 43 fires.
  for (const version of [42, 42, 43]) {
    const raised = await n1.daemon.request<Raised>('POST', '/v1/events', { class: 'Deploy', resource: 'web', attrs: { version } });
    assert.equal(raised.status, 201, JSON.stringify(raised.body));
  }
  const fired = await waitFor('the subscription to fire twice, seen on n3', async () => {
    const found = (await events(n3.daemon, `?subscription=${created.body.id}`)).filter((e) => e.type === 'event');
    return found.length === 2 && found;
  }, 20_000);
  assert.deepEqual(fired.map((e) => [e.class, e.node, e.prev?.['version'], e.attrs['version']]), [['Deploy', 'n1', 41, 42], ['Deploy', 'n1', 42, 43]]);

  // Agreed raises from every node at once: every node delivers them in one order.
  const agreed = await Promise.all(nodes.map((node, index) => node.daemon.request<Raised>('POST', '/v1/events?wait=delivered', { class: 'Deploy', resource: `agreed-${index}`, attrs: { version: 100 + index }, order: 'agreed' })));
  for (const answer of agreed) assert.equal(answer.status, 201, JSON.stringify(answer.body));
  const ids = new Set(agreed.map((answer) => answer.body.id));
  const orderOn = async (node: typeof n1): Promise<string[]> => (await events(node.daemon, '?class=Deploy&limit=1000')).filter((e) => ids.has(e.id)).map((e) => e.id);
  for (const node of nodes) await waitFor(`all agreed raises on ${node.name}`, async () => (await orderOn(node)).length === ids.size, 20_000);
  const order = await orderOn(n1);
  for (const node of [n2, n3]) assert.deepEqual(await orderOn(node), order, `${node.name} delivers the agreed raises in n1's order`);
  const positioned = agreed.filter((answer) => answer.body.position !== undefined);
  if (positioned.length > 0) {
    // Once agreed events carry positions (issue 12), the answers agree with the delivery order.
    const byPosition = [...agreed].sort((a, b) => (a.body.position ?? 0) - (b.body.position ?? 0)).map((answer) => answer.body.id);
    assert.deepEqual(byPosition, order);
  }

  // Bad input: a 400 naming the field.
  const bad: [Record<string, unknown>, string, string][] = [
    [{ class: 'Deplyo', resource: 'web', attrs: {} }, 'class', 'EVENTD_ERR_UNDECLARED_CLASS'],
    [{ class: 'Deploy', resource: 'web', attrs: { version: '44' } }, 'attrs.version', 'EVENTD_ERR_ATTRIBUTE_TYPE'],
    [{ class: 'Deploy', resource: 'web', attrs: { colour: 'red' } }, 'attrs.colour', 'EVENTD_ERR_UNKNOWN_ATTRIBUTE'],
    [{ class: 'Deploy', attrs: {} }, 'resource', 'EVENTD_ERR_BAD_REQUEST'],
    [{ class: 'Deploy', resource: 'web', order: 'total' }, 'order', 'EVENTD_ERR_BAD_REQUEST'],
    [{ class: 'Deploy', resource: 'web', scope: 'everywhere' }, 'scope', 'EVENTD_ERR_BAD_REQUEST'],
    [{ class: 'Deploy', resource: 'web', colour: 'red' }, 'colour', 'EVENTD_ERR_BAD_REQUEST'],
  ];
  const before = (await events(n1.daemon, '?class=Deploy&limit=1000')).length;
  for (const [input, field, code] of bad) {
    const answer = await n1.daemon.request<ApiError>('POST', '/v1/events', input);
    assert.equal(answer.status, 400, `${JSON.stringify(input)}: ${JSON.stringify(answer.body)}`);
    assert.equal(answer.body.error.code, code, JSON.stringify(answer.body));
    assert.equal(answer.body.error.details?.field, field, JSON.stringify(answer.body));
  }
  assert.equal((await events(n1.daemon, '?class=Deploy&limit=1000')).length, before, 'a refused raise records nothing');

  // The command, as a new user types it.
  const cli = await runEventctl(join(n2.daemon.configFile, '..', 'data'), ['event', 'raise', 'Deploy', 'web', '--attr', 'version=44', '--order', 'agreed', '--scope', 'cluster', '--wait']);
  assert.equal(cli.code, 0, cli.stderr);
  const cliId = /^(n2:\d+) delivered/.exec(cli.stdout)?.[1];
  assert.ok(cliId !== undefined, cli.stdout);
  for (const node of nodes) {
    const found: EventRecord = await waitFor(`the CLI's raise on ${node.name}`, async () => (await events(node.daemon, '?class=Deploy&limit=1000')).find((e: EventRecord) => e.id === cliId), 20_000);
    assert.equal(found.attrs['version'], 44);
  }
  const typo = await runEventctl(join(n2.daemon.configFile, '..', 'data'), ['event', 'raise', 'Deploy', 'web', '--attr', 'version=forty']);
  assert.equal(typo.code, 2);
  assert.match(typo.stderr, /--attr version: expected a number/);
});
