// Issue 10, finding 1: one expression hung the daemon (and after a restart,
// again; with scope cluster, every node). Each jsonata-path evaluation now
// has a budget: a subscription that runs out of it is marked `error`, raises
// one `error` event and is no longer evaluated; /healthz answers throughout.
import assert from 'node:assert/strict';
import { defer } from './helpers/cleanup.js';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { packageRoot } from '../services/eventd/paths.js';
import type { EventRecord } from '../services/eventd/types.js';
import { startCluster, view } from './helpers/cluster.js';
import { DaemonProcess } from './helpers/daemon.js';
import { stopWithin, watchHealth } from './helpers/health-watch.js';
import { tempDir, waitFor } from './helpers/tmp.js';

const recursion = '($f := function($n){$f($n+1)}; $f(0))';
const hugeRange = '$count([1..100000000]) > 0';
const bigRange = '$count([1..10000000]) > 0';

interface SubscriptionView {
  id: string;
  status: string;
  error?: { field: string; code: string; message: string; node: string; event?: string };
  states: { node: string; resource: string; errors: number; lastError?: { message: string } }[];
}

function hostProcRoot(dir: string): string {
  const procRoot = join(dir, 'proc');
  cpSync(join(packageRoot, 'test', 'fixtures', 'proc-host'), procRoot, { recursive: true });
  return procRoot;
}

function config(dir: string, procRoot: string) {
  return { node: 'n1', dataDir: join(dir, 'data'), procRoot, api: { port: 0 }, producers: { Host: { periodMs: 100 } }, log: { level: 'info' } };
}

async function errorEvents(daemon: DaemonProcess, subscription: string): Promise<EventRecord[]> {
  const { body } = await daemon.request<{ events: EventRecord[] }>('GET', `/v1/events?subscription=${subscription}&limit=1000`);
  return body.events.filter((event) => event.type === 'error');
}

/** Waits until the daemon has taken `count` Host samples after this moment. */
async function freshHostSamples(daemon: DaemonProcess, node: string, count = 3): Promise<void> {
  const since = Date.now();
  const seen = new Set<string>();
  await waitFor(`${count} fresh Host samples on ${node}`, async () => {
    const { body } = await daemon.request<{ resources: { resource: string; time: string }[] }>('GET', '/v1/resources?class=Host');
    const sample = body.resources.find((r) => r.resource === node);
    if (sample && Date.parse(sample.time) > since) seen.add(sample.time);
    return seen.size >= count;
  }, 20_000);
}

async function subscription(daemon: DaemonProcess, name: string): Promise<SubscriptionView> {
  const { status, body } = await daemon.request<SubscriptionView>('GET', `/v1/subscriptions/${name}`);
  assert.equal(status, 200);
  return body;
}

test('a recursive expression and huge ranges on one daemon: each subscription in error with one error event, the daemon and the others go on, also after a restart', async (t) => {
  const dir = tempDir(t);
  const daemon = DaemonProcess.withConfig(dir, config(dir, hostProcRoot(dir)));
  defer(t, () => daemon.kill9());
  await daemon.start();
  const health = watchHealth([daemon]);
  defer(t, () => health.stop());

  // No Host sample yet: nothing to try them on at creation, so they are accepted and fail at evaluation.
  for (const [name, expr] of [['loop', recursion], ['huge', hugeRange], ['big', bigRange]]) {
    const created = await daemon.request<{ status: string }>('POST', '/v1/subscriptions', { name, class: 'Host', expr });
    assert.equal(created.status, 201, JSON.stringify(created.body));
  }
  const fine = await daemon.request<{ id: string }>('POST', '/v1/subscriptions', { name: 'fine', class: 'Host', expr: 'load1 >= 0' });
  assert.equal(fine.status, 201);

  for (const name of ['loop', 'huge', 'big']) {
    const faulted = await waitFor(`${name} in error`, async () => {
      const view = await subscription(daemon, name);
      return view.status === 'error' && view;
    }, 20_000);
    assert.equal(faulted.error?.field, 'expr');
    assert.equal(faulted.error?.node, 'n1');
    assert.ok(faulted.error?.event, 'the fault names its error event');
  }
  assert.equal((await subscription(daemon, 'loop')).error?.code, 'D1012');
  assert.equal((await subscription(daemon, 'huge')).error?.code, 'D2014');
  assert.equal((await subscription(daemon, 'big')).error?.code, 'D2015');

  // More samples: no second error event, and the other subscription fired.
  await freshHostSamples(daemon, 'n1');
  for (const name of ['loop', 'huge', 'big']) {
    const errors = await errorEvents(daemon, name);
    assert.equal(errors.length, 1, `${name}: one error event`);
    assert.equal(errors[0]?.error?.field, 'expr');
    assert.equal(errors[0]?.id, (await subscription(daemon, name)).error?.event);
  }
  const fired = await daemon.request<{ events: EventRecord[] }>('GET', '/v1/events?subscription=fine');
  assert.equal(fired.body.events.filter((event) => event.type === 'event').length, 1);

  const report = await health.stop();
  assert.deepEqual(report.failures, [], `healthz answered throughout (${report.polls} polls, slowest ${report.slowestMs} ms)`);
  assert.ok(report.polls > 5);
  assert.equal(await stopWithin(daemon), 'stopped', 'SIGTERM stops it');

  // After a restart: still in error, not evaluated again (no hang, no second event).
  await daemon.start();
  const again = watchHealth([daemon]);
  defer(t, () => again.stop());
  await freshHostSamples(daemon, 'n1');
  for (const name of ['loop', 'huge', 'big']) {
    assert.equal((await subscription(daemon, name)).status, 'error');
    assert.equal((await errorEvents(daemon, name)).length, 1, `${name}: still one error event after the restart`);
  }
  const afterRestart = await again.stop();
  assert.deepEqual(afterRestart.failures, []);
  assert.equal(await stopWithin(daemon), 'stopped');
});

test('at creation the expression is tried on the latest sample under the same budget: a 400, nothing stored', async (t) => {
  const dir = tempDir(t);
  const daemon = DaemonProcess.withConfig(dir, config(dir, hostProcRoot(dir)));
  defer(t, () => daemon.kill9());
  await daemon.start();
  assert.equal((await daemon.request('POST', '/v1/subscriptions', { name: 'fine', class: 'Host', expr: 'load1 >= 0' })).status, 201);
  await freshHostSamples(daemon, 'n1', 1);

  const health = watchHealth([daemon]);
  defer(t, () => health.stop());
  for (const [name, expr, budget] of [['loop', recursion, 'time'], ['huge', hugeRange, 'sequence']] as const) {
    const refused = await daemon.request<{ error: { code: string; details: { field: string; budget: string; resource: string } } }>('POST', '/v1/subscriptions', { name, class: 'Host', expr });
    assert.equal(refused.status, 400, JSON.stringify(refused.body));
    assert.equal(refused.body.error.code, 'EVENTD_ERR_EXPRESSION_FAILED');
    assert.equal(refused.body.error.details.field, 'expr');
    assert.equal(refused.body.error.details.budget, budget);
    assert.equal(refused.body.error.details.resource, 'n1');
  }
  // The same holds for rearm.
  const rearm = await daemon.request<{ error: { code: string; details: { field: string } } }>('POST', '/v1/subscriptions', { name: 'r', class: 'Host', expr: 'load1 > 100', rearm: recursion });
  assert.equal(rearm.status, 400);
  assert.equal(rearm.body.error.details.field, 'rearm');
  const list = await daemon.request<{ subscriptions: { name: string }[] }>('GET', '/v1/subscriptions');
  assert.deepEqual(list.body.subscriptions.map((s) => s.name), ['fine']);
  const report = await health.stop();
  assert.deepEqual(report.failures, []);
});

test('three daemons, scope cluster: every node stays healthy, the subscription is in error on each, one error event per evaluating node', async (t) => {
  const dir = tempDir(t);
  const names = ['a', 'b', 'c'];
  const nodes = await startCluster(dir, names, { extra: { producers: { PagingSpace: { periodMs: 100 }, Host: { periodMs: 100 } } } });
  defer(t, async () => { for (const node of nodes) await node.daemon.kill9(); });
  for (const node of nodes) cpSync(join(packageRoot, 'test', 'fixtures', 'proc-host'), node.procRoot, { recursive: true });
  await waitFor('the view of three', async () => {
    for (const node of nodes) if ((await view(node.daemon)).length !== 3) return false;
    return true;
  }, 30_000);
  const daemons = nodes.map((node) => node.daemon);
  const health = watchHealth(daemons);
  defer(t, () => health.stop());

  const created = await nodes[0]!.daemon.request<{ id: string }>('POST', '/v1/subscriptions', { name: 'loop', class: 'Host', expr: recursion, scope: 'cluster' });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const id = created.body.id;
  // Another cluster subscription on the same class keeps being evaluated (and keeps the producers awake).
  const fine = await nodes[1]!.daemon.request<{ id: string }>('POST', '/v1/subscriptions', { name: 'fine', class: 'Host', expr: 'load1 >= 0', scope: 'cluster' });
  assert.equal(fine.status, 201, JSON.stringify(fine.body));

  for (const node of nodes) {
    await waitFor(`loop in error on ${node.name}`, async () => (await subscription(node.daemon, id)).status === 'error', 30_000);
  }
  for (const node of nodes) await freshHostSamples(node.daemon, node.name);
  // Each node faulted it on its own sample and said so once; the cluster learns of each.
  await waitFor('every node holds the three error events', async () => {
    for (const node of nodes) if ((await errorEvents(node.daemon, id)).length !== 3) return false;
    return true;
  }, 20_000);
  for (const node of nodes) {
    const errors = await errorEvents(node.daemon, id);
    assert.deepEqual(errors.map((event) => event.node).sort(), names, `${node.name}: one error event from each node`);
    assert.equal((await subscription(node.daemon, id)).error?.node, node.name);
  }
  await waitFor('the other subscription fired on every node, seen by every node', async () => {
    for (const node of nodes) {
      const { body } = await node.daemon.request<{ events: EventRecord[] }>('GET', `/v1/events?subscription=${fine.body.id}`);
      if (body.events.filter((event) => event.type === 'event').length !== 3) return false;
    }
    return true;
  }, 20_000);
  // A fixed expression, PATCHed on another node, clears the error everywhere; no new error event.
  const fixed = await nodes[2]!.daemon.request<{ status: string }>('PATCH', `/v1/subscriptions/${id}`, { expr: 'load1 >= 0' });
  assert.equal(fixed.status, 200, JSON.stringify(fixed.body));
  for (const node of nodes) {
    await waitFor(`loop active again on ${node.name}`, async () => (await subscription(node.daemon, id)).status === 'active', 20_000);
  }
  for (const node of nodes) await freshHostSamples(node.daemon, node.name);
  for (const node of nodes) {
    assert.equal((await errorEvents(node.daemon, id)).length, 3, `${node.name}: no error event after the fix`);
    const states = (await subscription(node.daemon, id)).states;
    assert.ok(states.some((state) => state.node === node.name), `${node.name} evaluates the fixed expression`);
  }
  const report = await health.stop();
  assert.deepEqual(report.failures, [], `healthz answered on every node (${report.polls} polls, slowest ${report.slowestMs} ms)`);
  for (const node of nodes) assert.equal(await stopWithin(node.daemon), 'stopped');
});
