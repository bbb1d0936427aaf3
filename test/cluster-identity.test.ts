// A node that lost its store (issue 11, finding 2): n3's eventd.db truncated
// to 0 bytes while it was stopped, then removed outright. Each time it starts,
// learns from its peers its last incarnation and seq, pulls its own events
// back, and its new events continue above the old ids; the peers drop none.
import assert from 'node:assert/strict';
import { rmSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { EventRecord } from '../services/eventd/types.js';
import type { Member } from '../services/eventd/cluster/edge/cluster-node.js';
import { events, startCluster, view, type ClusterNodeHandle } from './helpers/cluster.js';
import { setSwap } from './helpers/proc.js';
import { defer, tempDir, waitFor } from './helpers/tmp.js';

const swapHigh = { name: 'swap-high', class: 'PagingSpace', where: '$resource = "total"', expr: 'percentUsed > 75', rearm: 'percentUsed < 60', scope: 'cluster' };

/** Flips n3's swap `times` times, waiting for each crossing on n3: events of origin n3. */
async function crossings(node: ClusterNodeHandle, subscription: string, times: number): Promise<void> {
  for (let i = 0; i < times; i += 1) {
    const before = (await events(node.daemon, `?subscription=${subscription}`)).filter((e) => e.origin === node.name).length;
    const high = (await events(node.daemon, `?subscription=${subscription}`)).filter((e) => e.origin === node.name).at(-1)?.type !== 'event';
    setSwap(node.procRoot, high ? 90 : 20);
    await waitFor(`crossing ${i + 1} on ${node.name}`, async () => (await events(node.daemon, `?subscription=${subscription}`)).filter((e) => e.origin === node.name).length > before);
  }
}

const own = (list: EventRecord[], origin: string): EventRecord[] => list.filter((e) => e.origin === origin).sort((a, b) => a.seq - b.seq);
const summary = (e: EventRecord) => ({ id: e.id, type: e.type, subscription: e.subscription, resource: e.resource, hlc: e.hlc });

async function selfIncarnation(node: ClusterNodeHandle): Promise<number> {
  const { body } = await node.daemon.request<{ members: Member[] }>('GET', '/v1/members');
  return body.members.find((m) => m.state === 'self')?.incarnation ?? -1;
}

test('a node whose store was truncated, then removed, resumes above its old ids, gets its old events back, and its peers drop nothing', async (t) => {
  const dir = tempDir(t);
  const nodes = await startCluster(dir, ['n1', 'n2', 'n3']);
  defer(t, () => Promise.all(nodes.map((node) => node.daemon.kill9())));
  const [n1, n2, n3] = nodes as [ClusterNodeHandle, ClusterNodeHandle, ClusterNodeHandle];
  for (const node of nodes) await waitFor(`${node.name} to see a view of three`, async () => (await view(node.daemon)).length === 3, 20_000);
  const created = await n1.daemon.request<{ id: string }>('POST', '/v1/subscriptions', swapHigh);
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const subscription = created.body.id;
  await waitFor('n3 to know the subscription', async () =>
    (await n3.daemon.request<{ subscriptions: { id: string }[] }>('GET', '/v1/subscriptions')).body.subscriptions.some((s) => s.id === subscription));

  const db = join(n3.daemon.configFile, '..', 'data', 'eventd.db');
  const wipes: Array<[string, () => void]> = [
    ['truncated to 0 bytes', () => {
      truncateSync(db, 0);
      rmSync(db + '-wal', { force: true });
      rmSync(db + '-shm', { force: true });
    }],
    ['removed', () => {
      for (const file of [db, db + '-wal', db + '-shm']) rmSync(file, { force: true });
    }],
  ];
  for (const [how, wipe] of wipes) {
    await crossings(n3, subscription, 4);
    const before = own(await events(n3.daemon), 'n3');
    const lastSeq = before.at(-1)!.seq;
    const incarnation = await selfIncarnation(n3);
    for (const peer of [n1, n2]) {
      await waitFor(`${peer.name} to hold n3's events up to its last cluster one`, async () =>
        own(await events(peer.daemon, `?subscription=${subscription}`), 'n3').length === own(before, 'n3').filter((e) => e.subscription === subscription).length);
    }
    await n3.daemon.stop();
    wipe();
    await n3.daemon.start();
    // Its own events are back in its log, unchanged.
    await waitFor(`n3's own events back in its log (store ${how})`, async () => own(await events(n3.daemon), 'n3').length >= before.length);
    const back = own(await events(n3.daemon), 'n3').filter((e) => e.seq <= lastSeq);
    assert.deepEqual(back.map(summary), before.map(summary), `n3's old events back, same ids and content (store ${how})`);
    assert.ok(await selfIncarnation(n3) > incarnation, `n3 (store ${how}) resumes at an incarnation above ${incarnation}`);
    assert.match(n3.daemon.log, /identity recovered from peers/, `n3 (store ${how}) says it recovered its identity`);

    // New crossings: ids above the old ones, held by both peers, none dropped.
    for (const node of nodes) await waitFor(`${node.name} to see a view of three`, async () => (await view(node.daemon)).length === 3, 20_000);
    await crossings(n3, subscription, 2);
    const fresh = own(await events(n3.daemon, `?subscription=${subscription}`), 'n3').filter((e) => e.seq > lastSeq);
    assert.ok(fresh.length >= 2, `n3 raised new events after its restart (store ${how})`);
    for (const peer of [n1, n2]) {
      await waitFor(`${peer.name} to hold n3's new events (store ${how})`, async () => {
        const held = new Map(own(await events(peer.daemon, `?subscription=${subscription}`), 'n3').map((e) => [e.id, e]));
        return fresh.every((e) => held.get(e.id)?.hlc === e.hlc);
      });
    }
  }
});
