// Three real daemons on loopback: a cluster subscription made on one fires on
// another's producer and reaches all three; kill -9 is detected; a restarted
// node rejoins and catches up with no duplicate; a node with the wrong key
// stays out; an agreed subscription yields one sequence everywhere.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from './helpers/node-test.js';
import { clusterConfig, clusterKey, events, freeUdpPorts, startCluster, view } from './helpers/cluster.js';
import { DaemonProcess } from './helpers/daemon.js';
import { setSwap } from './helpers/proc.js';
import { defer, tempDir, waitFor } from './helpers/tmp.js';

const names = ['n1', 'n2', 'n3'];
const swapHigh = { name: 'swap-high', class: 'PagingSpace', where: '$resource = "total"', expr: 'percentUsed > 75', rearm: 'percentUsed < 60', scope: 'cluster' };

test('a cluster subscription fires on a peer, reaches every node once, survives kill -9 of a node and its catch-up', async (t) => {
  const dir = tempDir(t);
  const nodes = await startCluster(dir, names);
  defer(t, () => Promise.all(nodes.map((node) => node.daemon.kill9())));
  const [n1, n2, n3] = nodes as [typeof nodes[0], typeof nodes[0], typeof nodes[0]];
  for (const node of nodes) await waitFor(`${node.name} to see a view of three`, async () => (await view(node.daemon)).length === 3);

  const created = await n1.daemon.request<{ id: string }>('POST', '/v1/subscriptions', swapHigh);
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const subscription = created.body.id;
  for (const node of nodes) {
    await waitFor(`${node.name} to know the subscription`, async () =>
      (await node.daemon.request<{ subscriptions: { id: string }[] }>('GET', '/v1/subscriptions')).body.subscriptions.some((s) => s.id === subscription));
  }

  setSwap(n2.procRoot, 90);
  const fired = await waitFor('the event on n1', async () => (await events(n1.daemon, `?subscription=${subscription}`)).find((e) => e.type === 'event'));
  assert.equal(fired.node, 'n2');
  assert.equal(fired.origin, 'n2');
  for (const node of [n2, n3]) {
    await waitFor(`the event on ${node.name}`, async () => (await events(node.daemon, `?subscription=${subscription}`)).some((e) => e.id === fired.id));
  }

  // The Node producer on n1: a local condition on how long a peer has been silent.
  const silent = await n1.daemon.request('POST', '/v1/subscriptions', { name: 'peer-silent', class: 'Node', expr: 'lastHeardMs > 600', rearm: 'lastHeardMs < 300' });
  assert.equal(silent.status, 201, JSON.stringify(silent.body));
  await waitFor('Node samples of both peers on n1', async () => {
    const { body } = await n1.daemon.request<{ resources: { resource: string; attrs: Record<string, unknown> }[] }>('GET', '/v1/resources?class=Node');
    return ['n2', 'n3'].every((name) => typeof body.resources.find((r) => r.resource === name)?.attrs['rttMs'] === 'number');
  });

  // kill -9 of n3: the others see it down.
  const killedAt = Date.now();
  await n3.daemon.kill9();
  for (const node of [n1, n2]) {
    await waitFor(`${node.name} to record n3 down`, async () =>
      (await events(node.daemon, '?class=Node')).some((e) => e.resource === 'n3' && e.attrs['state'] === 'down'));
  }
  t.diagnostic(`kill -9 of n3 to a Node down event on n1 and n2: ${Date.now() - killedAt} ms (including API polling)`);
  assert.deepEqual(await view(n1.daemon), ['n1', 'n2']);
  await waitFor('the Node producer to report n3 silent', async () => (await events(n1.daemon, '?class=Node')).some((e) => e.subscriptionName === 'peer-silent' && e.resource === 'n3'));

  // While n3 is down, n2 rearms; n3 restarts, rejoins and catches up.
  setSwap(n2.procRoot, 20);
  await waitFor('the rearm on n1', async () => (await events(n1.daemon, `?subscription=${subscription}`)).some((e) => e.type === 'rearm'));
  await n3.daemon.start();
  await waitFor('n3 back in the view of n1', async () => (await view(n1.daemon)).includes('n3'));
  const onN1 = (await events(n1.daemon, `?subscription=${subscription}`)).map((e) => e.id);
  await waitFor('n3 to catch up on the rearm', async () => (await events(n3.daemon, `?subscription=${subscription}`)).length === onN1.length);
  const onN3 = (await events(n3.daemon, `?subscription=${subscription}`)).map((e) => e.id);
  assert.deepEqual(onN3, onN1, 'same events, same per-origin order, no duplicate');
  const all = (await events(n3.daemon)).map((e) => e.id);
  assert.equal(new Set(all).size, all.length, 'no duplicate ids in n3 log');
  assert.ok((await events(n1.daemon, '?class=Node')).some((e) => e.resource === 'n3' && e.attrs['state'] === 'up' && e.time > new Date(killedAt).toISOString()));
});

test('a daemon with the wrong key stays out, and the others count its frames as unknown-key', async (t) => {
  const dir = tempDir(t);
  const nodes = await startCluster(dir, ['a1', 'a2']);
  defer(t, () => Promise.all(nodes.map((node) => node.daemon.kill9())));
  for (const node of nodes) await waitFor(`${node.name} to see a view of two`, async () => (await view(node.daemon)).length === 2);
  const [port] = await freeUdpPorts(1);
  const strangerDir = join(dir, 'stranger');
  mkdirSync(strangerDir);
  // A new node nobody can answer (wrong key): it waits identityWaitMs for an answer before it starts alone.
  const strangerConfig = clusterConfig(strangerDir, 'a3', join(strangerDir, 'proc'), port!, [...nodes.map((n) => n.udp), `127.0.0.1:${port}`], clusterKey());
  const stranger = DaemonProcess.withConfig(strangerDir, { ...strangerConfig, cluster: { ...strangerConfig.cluster, identityWaitMs: 500 } });
  defer(t, () => stranger.kill9());
  await stranger.start();
  const dropped = async () => {
    const { body } = await nodes[0]!.daemon.request<string>('GET', '/metrics');
    return Number(/eventd_cluster_frames_dropped_total\{reason="unknown-key"\} (\d+)/.exec(body)?.[1] ?? 0);
  };
  await waitFor('frames from the stranger dropped', async () => (await dropped()) >= 3);
  await waitFor('the refusal in the log', () => /sealed with a key not in cluster\.keys/.test(nodes[0]!.daemon.log));
  assert.deepEqual(await view(nodes[0]!.daemon), ['a1', 'a2']);
  assert.deepEqual(await view(stranger), ['a3']);
  const members = (await nodes[0]!.daemon.request<{ members: { name: string }[] }>('GET', '/v1/members')).body.members.map((m) => m.name);
  assert.ok(!members.includes('a3'), members.join(','));
});

test('an agreed subscription yields the same sequence on every node', async (t) => {
  const dir = tempDir(t);
  const nodes = await startCluster(dir, names);
  defer(t, () => Promise.all(nodes.map((node) => node.daemon.kill9())));
  for (const node of nodes) await waitFor(`${node.name} to see a view of three`, async () => (await view(node.daemon)).length === 3);
  const created = await nodes[0]!.daemon.request<{ id: string }>('POST', '/v1/subscriptions', { ...swapHigh, name: 'swap-agreed', order: 'agreed' });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const id = created.body.id;
  for (const node of nodes) {
    await waitFor(`${node.name} to know it`, async () =>
      (await node.daemon.request<{ subscriptions: { id: string }[] }>('GET', '/v1/subscriptions')).body.subscriptions.some((s) => s.id === id));
  }
  // Crossings on every node at about the same time, in rounds: events of the three origins interleave.
  let expected = 0;
  for (const percent of [90, 20, 90, 20]) {
    for (const node of nodes) setSwap(node.procRoot, percent);
    expected += nodes.length;
    await waitFor(`${expected} agreed events on every node`, async () => {
      const counts = await Promise.all(nodes.map(async (node) => (await events(node.daemon, `?subscription=${id}`)).length));
      return counts.every((count) => count === expected);
    });
  }
  const sequences = await Promise.all(nodes.map(async (node) => (await events(node.daemon, `?subscription=${id}`)).map((e) => e.id)));
  assert.equal(new Set(sequences[0]!.map((e) => e.split(':')[0])).size, 3, 'events from all three origins');
  assert.deepEqual(sequences[1], sequences[0]);
  assert.deepEqual(sequences[2], sequences[0]);
});
