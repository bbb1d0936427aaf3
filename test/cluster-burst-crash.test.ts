// Issue 11, the risk of batching: a receiver steps a few thousand events in
// one transaction, and the core's meta and progress rows are written once, at
// its end (sqlite-core-store.ts deferUntilFlush). A kill -9 in the middle of
// a burst must leave each store whole: its log a prefix of the origin's
// sequence, in order, with its progress saying exactly that (a progress row
// behind the log would make the restarted node append an event twice and
// stop; one ahead would leave a hole it never pulls). Three real daemons; the
// origin is killed mid-burst and restarted (its producer then runs the burst
// again), then a receiver while it steps that second run; every node ends
// with the same events in the origin's order. Counts and order only.
import assert from 'node:assert/strict';
import type { EventRecord } from '../services/eventd/types.js';
import { eventCount, startBurst, startBurstCluster, type BurstNode } from '../bench/lib/burst-cluster.js';
import { DaemonProcess } from './helpers/daemon.js';
import { test } from './helpers/node-test.js';
import { tempDir, waitFor } from './helpers/tmp.js';

const total = 12_000;

/** A node's Burst events in its log order (pages of 5,000). */
async function burstEvents(node: BurstNode): Promise<EventRecord[]> {
  const out: EventRecord[] = [];
  for (;;) {
    const since = out.length > 0 ? `&since=${encodeURIComponent(out[out.length - 1]!.id)}` : '';
    const page = (await node.daemon.request<{ events: EventRecord[] }>('GET', `/v1/events?class=Burst&limit=5000${since}`)).body.events;
    out.push(...page);
    if (page.length < 5000) return out;
  }
}

/** The origin's sequence without a hole: the k-th Burst event is sample k, seqs rising. */
function assertPrefix(name: string, events: readonly EventRecord[]): void {
  let lastSeq = 0;
  events.forEach((event, k) => {
    assert.equal(event.origin, 'n1', `${name}: event ${k} is ${event.id}`);
    assert.ok(event.seq > lastSeq, `${name}: ${event.id} after seq ${lastSeq}`);
    lastSeq = event.seq;
    assert.equal(event.attrs['i'], k, `${name}: event ${k} is ${event.id} with sample ${String(event.attrs['i'])}`);
  });
}

function daemonOf(node: BurstNode): DaemonProcess {
  assert.ok(node.daemon instanceof DaemonProcess, `${node.name} is a daemon of this build`);
  return node.daemon;
}

test('kill -9 of the origin and of a receiver in the middle of a burst: each store holds a prefix in order, and after the restarts every node holds the same events', { timeout: 600_000 }, async (t) => {
  const dir = tempDir(t);
  const nodes = await startBurstCluster(dir, { rate: 5000, total }, t);
  const [origin, receiver, third] = nodes as [BurstNode, BurstNode, BurstNode];
  // eventCount counts every class (the nodes' Node events too): what the origin held before the burst is counted
  // off, or the kill may come a few Burst events short of 3,000 (CI run 29: 2,997 and three Node events).
  const before = await eventCount(origin);
  await startBurst(origin);

  // The origin killed mid-burst and started again: its producer starts over (sample 0 again), after the prefix it had committed.
  await waitFor('the origin in the middle of the burst', async () => (await eventCount(origin)) >= before + 3000, 120_000, 20);
  const originDaemon = daemonOf(origin);
  await originDaemon.kill9();
  await originDaemon.start();

  // A receiver killed while frames of the second run are being stepped, then started again: what it kept is a prefix of the origin's log.
  await waitFor('n2 in the middle of the second run', async () => (await eventCount(receiver)) >= 5000, 120_000, 20);
  await daemonOf(receiver).kill9();
  await daemonOf(receiver).start();
  const kept = await burstEvents(receiver);
  const originNow = await burstEvents(origin);
  t.diagnostic(`n2 held ${kept.length} Burst events after its kill -9 (the origin ${originNow.length})`);
  assert.ok(kept.length >= 4000 && kept.length <= originNow.length, `n2 kept what it had committed (${kept.length}), no more than the origin holds`);
  kept.forEach((event, k) => assert.equal(event.id, originNow[k]!.id, `n2 after kill -9: event ${k}`));

  // Samples 0..11,999 again: every resource flips 120 times, each flip a crossing but perhaps the first (its state survived the crash).
  const resources = 100;
  let recorded: EventRecord[] = [];
  let crashed = 0;
  await waitFor('the origin\'s second run of the burst', async () => {
    recorded = await burstEvents(origin);
    crashed = recorded.findIndex((event, k) => k > 0 && Number(event.attrs['i']) < Number(recorded[k - 1]!.attrs['i']));
    return crashed > 0 && recorded.length >= crashed + total - resources;
  }, 300_000, 1000);
  t.diagnostic(`n1 held ${crashed} of ${total} Burst events after its kill -9, ${recorded.length} after the second run`);
  assert.ok(crashed >= 3000 && crashed < total, `the origin kept a prefix of the burst (${crashed})`);
  assertPrefix('n1 after kill -9', recorded.slice(0, crashed));
  recorded.forEach((event, k) => assert.ok(k === 0 || event.seq > recorded[k - 1]!.seq, `n1: ${event.id} after ${recorded[k - 1]?.id ?? ''}`));

  await waitFor(`every node to hold the origin's ${recorded.length} Burst events`, async () => {
    const counts = await Promise.all(nodes.map(async (node) => (await burstEvents(node)).length));
    recorded = await burstEvents(origin);
    return counts.every((count) => count >= recorded.length);
  }, 300_000, 1000);
  for (const node of [receiver, third]) {
    const events = await burstEvents(node);
    assert.equal(events.length, recorded.length, `${node.name} holds ${events.length} Burst events, the origin ${recorded.length}`);
    assertPrefix(node.name, events.slice(0, crashed));
    events.forEach((event, k) => assert.equal(event.id, recorded[k]!.id, `${node.name}: event ${k}`));
  }
  // A receiver that stepped an event twice, or lost one, would have stopped (fail-stop) or stalled: both still run.
  for (const node of nodes) assert.equal((await node.daemon.request('GET', '/v1/status')).status, 200, `${node.name} still answers`);
});
