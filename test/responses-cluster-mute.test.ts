// Silences and inhibition in a three-daemon cluster on loopback. A silence
// made on n3 mutes the events of n2 it matches (audited silenced on n1, the
// owner), not those of n3, until it is expired from n1. An inhibit rule made
// on n2 (eventctl inhibit add) takes effect on n1: when n3 is killed, n1's
// "node-down" page for n3 goes out once, and the "peer-slow" events n1 and n2
// raise about n3 meanwhile are logged and audited inhibited, naming the
// Node down event. n3 back, events about it page again.
import assert from 'node:assert/strict';
import { defer } from './helpers/cleanup.js';
import { test } from './helpers/node-test.js';
import type { InhibitRuleList } from '../services/eventd/api/responses.js';
import type { EventRecord, Silence } from '../services/eventd/types.js';
import { events, startCluster, view, type ClusterNodeHandle } from './helpers/cluster.js';
import { eventctl } from './helpers/eventctl.js';
import { setSwap } from './helpers/proc.js';
import { WebhookReceiver } from './helpers/receivers.js';
import { tempDir, waitFor } from './helpers/tmp.js';

const DEADLINE_MS = 45_000;

interface AuditRun { eventId: string; status: string; reason: string | null; detail: string | null; node: string | null }

async function audit(node: ClusterNodeHandle, eventId: string): Promise<AuditRun | undefined> {
  const { body } = await node.daemon.request<{ actions: AuditRun[] }>('GET', `/v1/actions?event=${encodeURIComponent(eventId)}`);
  return body.actions[0];
}

async function ok(node: ClusterNodeHandle, args: string[]): Promise<string> {
  const result = await eventctl(node.daemon, args);
  assert.equal(result.code, 0, `eventctl ${args.join(' ')} on ${node.name}: ${result.stderr}`);
  return result.stdout;
}

test('three daemons: a silence made on n3 mutes n2 only until expired; an inhibit rule made on n2 makes a dead n3 page once', { timeout: 300_000 }, async (t) => {
  const dir = tempDir(t);
  const hook = await new WebhookReceiver().start();
  defer(t, () => hook.stop());
  const atOrigin = await new WebhookReceiver().start();
  defer(t, () => atOrigin.stop());
  const nodes = await startCluster(dir, ['n1', 'n2', 'n3'], { t, extra: { producers: { PagingSpace: { periodMs: 100 }, Node: { periodMs: 200 } } } });
  const [n1, n2, n3] = nodes as [ClusterNodeHandle, ClusterNodeHandle, ClusterNodeHandle];
  for (const node of nodes) await waitFor(`${node.name} to see a view of three`, async () => (await view(node.daemon)).length === 3, DEADLINE_MS);
  const find = (what: string, match: (e: EventRecord) => boolean) => waitFor(what, async () => (await events(n1.daemon, '?limit=1000')).find(match), DEADLINE_MS);

  // Made on three different nodes, known on all.
  await ok(n1, ['responses', 'create', 'page', '--webhook', hook.url, '--on', 'event']);
  await ok(n1, ['responses', 'create', 'page-origin', '--webhook', atOrigin.url, '--on', 'event', '--where', 'origin']);
  const rule = /^inhibit rule ([0-9a-f]+):/m.exec(await ok(n2, ['inhibit', 'add', '--when-class', 'Node', '--when-state', 'down', '--when-subscription', 'node-down', '--comment', 'a dead node pages once']))?.[1];
  assert.ok(rule);
  const silence = /^silence ([0-9a-f]+) until /m.exec(await ok(n3, ['silence', 'add', '--class', 'PagingSpace', '--node', 'n2', '--for', '1h', '--comment', 'n2 swap work']))?.[1];
  assert.ok(silence);
  for (const node of nodes) {
    await waitFor(`${node.name} to know the response, the rule and the silence`, async () =>
      (await node.daemon.request('GET', '/v1/responses/page')).status === 200
      && (await node.daemon.request('GET', '/v1/responses/page-origin')).status === 200
      && (await node.daemon.request<InhibitRuleList>('GET', '/v1/inhibit')).body.rules.some((r) => r.id === rule)
      && (await node.daemon.request<{ silences: Silence[] }>('GET', '/v1/silences')).body.silences.some((s) => s.id === silence), DEADLINE_MS);
  }
  await ok(n1, ['subscribe', '--name', 'swap-high', '--class', 'PagingSpace', '--expr', 'percentUsed > 75', '--where', '$resource = "total"', '--scope', 'cluster', '--response', 'page', '--response', 'page-origin']);
  // The source, on n1 only; the probe on every node (each raises its own events about n3).
  await ok(n1, ['subscribe', '--name', 'node-down', '--class', 'Node', '--expr', 'state = "down"', '--response', 'page']);
  await ok(n1, ['subscribe', '--name', 'peer-slow', '--class', 'Node', '--expr', 'lastHeardMs > 4000', '--scope', 'cluster', '--response', 'page']);
  for (const node of nodes) {
    await waitFor(`${node.name} to know the cluster subscriptions`, async () =>
      (await node.daemon.request<{ subscriptions: { name: string }[] }>('GET', '/v1/subscriptions')).body.subscriptions.filter((s) => ['swap-high', 'peer-slow'].includes(s.name)).length === 2, DEADLINE_MS);
  }

  // The silence matches n2's event (raised and silenced on n2, audited skipped on n1), not n3's.
  setSwap(n2.procRoot, 90);
  setSwap(n3.procRoot, 90);
  const onN2 = await find('the event of n2', (e) => e.subscriptionName === 'swap-high' && e.node === 'n2' && e.type === 'event');
  const onN3 = await find('the event of n3', (e) => e.subscriptionName === 'swap-high' && e.node === 'n3' && e.type === 'event');
  assert.equal(onN2.silenced, silence);
  assert.equal(onN3.silenced, undefined);
  const silenced = await waitFor('the silenced run on n1', () => audit(n1, onN2.id), DEADLINE_MS);
  assert.deepEqual([silenced.status, silenced.reason, silenced.detail, silenced.node], ['skipped', 'silenced', silence, 'n1']);
  await waitFor('n3\'s event paged', () => hook.accepted.includes(onN3.id), DEADLINE_MS);
  // where "origin": run (and audited) on the node the resource lives on; silenced there too.
  await waitFor('n3\'s event posted from n3', () => atOrigin.accepted.includes(onN3.id), DEADLINE_MS);
  const fromN3 = await waitFor('the origin run on n3', async () => { const run = await audit(n3, onN3.id); return run?.status === 'ok' ? run : undefined; }, DEADLINE_MS);
  assert.equal(fromN3.node, 'n3');
  const skippedOnN2 = await waitFor('the origin run on n2', () => audit(n2, onN2.id), DEADLINE_MS);
  assert.deepEqual([skippedOnN2.status, skippedOnN2.reason, skippedOnN2.node], ['skipped', 'silenced', 'n2']);
  assert.ok(!atOrigin.accepted.includes(onN2.id));
  // Expired from n1, the silence ends on n2 too: n2's next crossing pages.
  await ok(n1, ['silence', 'expire', silence]);
  await waitFor('n2 to see the silence expired', async () =>
    !(await n2.daemon.request<{ silences: Silence[] }>('GET', '/v1/silences')).body.silences.some((s) => s.id === silence), DEADLINE_MS);
  setSwap(n2.procRoot, 50);
  await find('n2 rearmed', (e) => e.subscriptionName === 'swap-high' && e.node === 'n2' && e.type === 'rearm');
  setSwap(n2.procRoot, 90);
  const unsilenced = await find('n2\'s next event', (e) => e.subscriptionName === 'swap-high' && e.node === 'n2' && e.type === 'event' && e.id !== onN2.id);
  assert.equal(unsilenced.silenced, undefined);
  await waitFor('n2\'s next event paged', () => hook.accepted.includes(unsilenced.id), DEADLINE_MS);

  // n3 dies: one page for it; what n1 and n2 then raise about n3 is logged and inhibited.
  await n3.daemon.kill9();
  const down = await find('node-down for n3', (e) => e.subscriptionName === 'node-down' && e.resource === 'n3' && e.type === 'event');
  await waitFor('the node-down page', () => hook.accepted.includes(down.id), DEADLINE_MS);
  for (const observer of ['n1', 'n2']) {
    const slow = await find(`peer-slow about n3 from ${observer}`, (e) => e.subscriptionName === 'peer-slow' && e.resource === 'n3' && e.node === observer && e.type === 'event');
    const run = await waitFor('its run audited on n1', () => audit(n1, slow.id), DEADLINE_MS);
    assert.deepEqual([run.status, run.reason, run.detail, run.node], ['skipped', 'inhibited', `Node down n3 (event ${down.id})`, 'n1']);
    assert.ok(!hook.accepted.includes(slow.id), `peer-slow from ${observer} did not page`);
  }
  assert.match(await ok(n1, ['actions']), /skipped .* inhibited: Node down n3/);
  const holds = (await n1.daemon.request<InhibitRuleList>('GET', '/v1/inhibit')).body.rules.find((r) => r.id === rule);
  assert.deepEqual(holds?.sources, [{ node: 'n3', event: down.id }]);

  // n3 back: node-down rearms on n1, the rule no longer holds, events about n3 page again.
  await n3.daemon.start();
  await find('node-down rearmed for n3', (e) => e.subscriptionName === 'node-down' && e.resource === 'n3' && e.type === 'rearm');
  setSwap(n3.procRoot, 50);
  await find('n3 rearmed', (e) => e.subscriptionName === 'swap-high' && e.node === 'n3' && e.type === 'rearm');
  setSwap(n3.procRoot, 95);
  const back = await find('n3\'s next event', (e) => e.subscriptionName === 'swap-high' && e.node === 'n3' && e.type === 'event' && e.id !== onN3.id);
  await waitFor('n3\'s next event paged', () => hook.accepted.includes(back.id), DEADLINE_MS);
  assert.equal(hook.duplicates, 0);
});
