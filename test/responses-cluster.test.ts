// Responses in a three-daemon cluster on loopback: a response created on one
// node and a silence created on another replicate to all; a cluster
// subscription naming the response with `where: "all"` runs once per node,
// each run audited on the node that ran it, `where: "owner"` once.
import assert from 'node:assert/strict';
import { defer } from './helpers/cleanup.js';
import { test } from 'node:test';
import type { NamedResponse, Silence } from '../services/eventd/types.js';
import { events, startCluster, view } from './helpers/cluster.js';
import { setSwap } from './helpers/proc.js';
import { WebhookReceiver } from './helpers/receivers.js';
import { tempDir, waitFor } from './helpers/tmp.js';

const DEADLINE_MS = 30_000;

test('responses and silences replicate; where "all" runs once per node, "owner" once', async (t) => {
  const dir = tempDir(t);
  const everywhere = await new WebhookReceiver().start();
  const ownerOnly = await new WebhookReceiver().start();
  const nodes = await startCluster(dir, ['n1', 'n2', 'n3']);
  defer(t, async () => {
    await Promise.all(nodes.map((node) => node.daemon.kill9()));
    await everywhere.stop();
    await ownerOnly.stop();
  });
  const [n1, n2] = nodes as [typeof nodes[0], typeof nodes[0], typeof nodes[0]];
  for (const node of nodes) await waitFor(`${node.name} to see a view of three`, async () => (await view(node.daemon)).length === 3, DEADLINE_MS);

  const created = await n1.daemon.request('POST', '/v1/responses', {
    name: 'page-all', actions: [{ webhook: { url: everywhere.url }, where: 'all', on: ['event'] }, { webhook: { url: ownerOnly.url }, on: ['event'] }],
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  for (const node of nodes) {
    await waitFor(`${node.name} to know the response`, async () => (await node.daemon.request<NamedResponse>('GET', '/v1/responses/page-all')).status === 200, DEADLINE_MS);
  }
  const silence = await n2.daemon.request<Silence>('POST', '/v1/silences', { matchers: { class: 'FileSystem' }, duration: '1h', comment: 'not this class' });
  assert.equal(silence.status, 201, JSON.stringify(silence.body));
  for (const node of nodes) {
    await waitFor(`${node.name} to know the silence`, async () =>
      (await node.daemon.request<{ silences: Silence[] }>('GET', '/v1/silences')).body.silences.some((s) => s.id === silence.body.id), DEADLINE_MS);
  }

  const sub = await n1.daemon.request<{ id: string }>('POST', '/v1/subscriptions', {
    name: 'swap-high', class: 'PagingSpace', expr: 'percentUsed > 75', where: '$resource = "total"', scope: 'cluster', responses: ['page-all'],
  });
  assert.equal(sub.status, 201, JSON.stringify(sub.body));
  for (const node of nodes) {
    await waitFor(`${node.name} to know the subscription`, async () =>
      (await node.daemon.request<{ subscriptions: { id: string }[] }>('GET', '/v1/subscriptions')).body.subscriptions.some((s) => s.id === sub.body.id), DEADLINE_MS);
  }
  setSwap(n2.procRoot, 90);
  const fired = await waitFor('the event on n1', async () => (await events(n1.daemon, `?subscription=${sub.body.id}`)).find((e) => e.type === 'event'), DEADLINE_MS);
  assert.equal(fired.node, 'n2');
  await waitFor('three deliveries of the "all" action', () => everywhere.deliveries.length >= 3, DEADLINE_MS);
  await waitFor('the owner action delivered', () => ownerOnly.deliveries.length >= 1, DEADLINE_MS);

  const ran: string[] = [];
  for (const node of nodes) {
    const runs = await waitFor(`${node.name}'s audit`, async () => {
      const { body } = await node.daemon.request<{ actions: { eventId: string; status: string; node: string; actionIndex: number }[] }>('GET', `/v1/actions?event=${encodeURIComponent(fired.id)}`);
      return body.actions.every((run) => run.status === 'ok') && body.actions.length > 0 ? body.actions : undefined;
    }, DEADLINE_MS);
    for (const run of runs) {
      assert.equal(run.node, node.name, 'audited on the node that ran it');
      ran.push(`${run.node}:${run.actionIndex}`);
    }
  }
  // Action 0 (where all) on every node, action 1 (owner) on n1 only.
  assert.deepEqual(ran.sort(), ['n1:0', 'n1:1', 'n2:0', 'n3:0']);
  assert.equal(everywhere.deliveries.length, 3);
  assert.deepEqual(everywhere.deliveries.map((d) => d.key), [fired.id, fired.id, fired.id]);
  assert.equal(ownerOnly.deliveries.length, 1);
});
