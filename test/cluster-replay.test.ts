// Replay protection between real daemons (issue 11, finding 1): a relay
// between n2 and n3 captures what n2 sends n3. Replayed to n1, every frame is
// refused and counted, and n1 keeps n2's real address; replayed to n3 after
// n3 restarted, every frame is refused too (n3 persisted its high-water).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Member } from '../services/eventd/cluster/edge/cluster-node.js';
import { open } from '../services/eventd/cluster/edge/frame-seal.js';
import { Keyring } from '../services/eventd/cluster/edge/keyring.js';
import { streamOf, type HighWater } from '../services/eventd/cluster/edge/replay-guard.js';
import { ReplayHighWaterStore } from '../services/eventd/cluster/edge/replay-high-water.js';
import { clusterKey, events, view } from './helpers/cluster.js';
import type { DaemonProcess } from './helpers/daemon.js';
import { defer, tempDir, waitFor } from './helpers/tmp.js';
import { dropsByReason, relayedCluster, replayRefusals, UdpRelay } from './helpers/udp-relay.js';

/** The replay high-water a node persisted per stream ("n2>n3"), read from its store as the node reads it at start. */
function persistedHighWater(daemon: DaemonProcess): Map<string, HighWater> {
  const db = new Database(join(daemon.configFile, '..', 'data', 'eventd.db'), { readonly: true });
  try {
    return new ReplayHighWaterStore(db).load();
  } finally {
    db.close();
  }
}

/** Whether a persisted high-water covers a frame's (boot, counter): after a restart the frame counts as seen. */
function covers(high: HighWater | undefined, frame: HighWater): boolean {
  return high !== undefined && (high.boot > frame.boot || (high.boot === frame.boot && high.counter >= frame.counter));
}

async function members(daemon: { request: <T>(method: string, path: string) => Promise<{ body: T }> }): Promise<Member[]> {
  return (await daemon.request<{ members: Member[] }>('GET', '/v1/members')).body.members;
}

test('frames n2 sent to n3, replayed to n1 from another address: refused and counted, n1 keeps n2 at its own address', async (t) => {
  const dir = tempDir(t);
  const relay = await UdpRelay.start();
  const nodes = await relayedCluster(dir, relay);
  relay.capturing = false;
  defer(t, async () => {
    await Promise.all(nodes.map((node) => node.daemon.kill9()));
    await relay.close();
  });
  await Promise.all(nodes.map((node) => node.daemon.start()));
  const [n1, n2, n3] = nodes as [typeof nodes[0], typeof nodes[0], typeof nodes[0]];
  for (const node of nodes) await waitFor(`${node.name} to see a view of three`, async () => (await view(node.daemon)).length === 3, 20_000);
  // The relay is on the path: n3 hears n2 at the relay, n1 hears n2 at n2's own socket.
  assert.equal((await members(n3.daemon)).find((m) => m.name === 'n2')?.address, relay.addressForB);
  assert.equal((await members(n1.daemon)).find((m) => m.name === 'n2')?.address, n2.udp);
  relay.capturing = true;

  // Captured once the cluster formed: n2's periodic joins (sealed once for every node) then reach n1 directly too.
  await waitFor('the relay to capture 20 frames of n2 to n3', () => relay.captured.length >= 20, 20_000);
  relay.capturing = false;
  const captured = relay.captured.slice();
  const before = replayRefusals(await dropsByReason(n1.daemon));
  await relay.replay(captured, n1.udp);
  const refused = await waitFor(`n1 to refuse the ${captured.length} replayed frames`, async () => {
    const drops = await dropsByReason(n1.daemon);
    return replayRefusals(drops) - before >= captured.length ? drops : undefined;
  });
  assert.ok((refused['wrong-recipient'] ?? 0) > 0, `frames sealed for n3 are refused as wrong-recipient: ${JSON.stringify(refused)}`);
  // A few samples over a second: never the relay's address.
  for (let i = 0; i < 5; i += 1) {
    await relay.replay(captured.slice(0, 5), n1.udp);
    const n2OnN1 = (await members(n1.daemon)).find((m) => m.name === 'n2');
    assert.equal(n2OnN1?.address, n2.udp, 'n1 still sends to n2 at its own address');
    assert.equal(n2OnN1?.state, 'up');
  }
  assert.deepEqual(await view(n1.daemon), ['n1', 'n2', 'n3']);
  const ids = (await events(n1.daemon)).map((e) => e.id);
  assert.equal(new Set(ids).size, ids.length, 'no event twice on n1');
});

test('frames captured before n3 restarted, replayed to n3 after: refused (n3 persisted each sender\'s high-water)', async (t) => {
  const dir = tempDir(t);
  const relay = await UdpRelay.start();
  const key = clusterKey();
  const nodes = await relayedCluster(dir, relay, key);
  defer(t, async () => {
    await Promise.all(nodes.map((node) => node.daemon.kill9()));
    await relay.close();
  });
  await Promise.all(nodes.map((node) => node.daemon.start()));
  const n3 = nodes[2]!;
  for (const node of nodes) await waitFor(`${node.name} to see a view of three`, async () => (await view(node.daemon)).length === 3, 20_000);
  await waitFor('the relay to capture 20 frames of n2 to n3', () => relay.captured.length >= 20, 20_000);
  relay.capturing = false;
  const captured = relay.captured.slice();
  // The promise is about frames n3 accepted: a frame still in flight (or in n3's queue) when it stopped was
  // never accepted, and may be once after the restart (CI run 20: 22 of 24 refused). So n3 stops only once
  // its persisted high-water covers every captured frame (the test holds the key and reads the counters).
  // n2's frames to n3, and its joins sealed for every node: two streams.
  const envelopes = captured.map((frame) => {
    const opened = open(new Keyring([key]), frame);
    assert.ok(opened.ok && opened.envelope.from === 'n2' && (opened.envelope.to === 'n3' || opened.envelope.to === '*'), 'the relay captured frames n2 sealed for n3 (or for every node)');
    return opened.envelope;
  });
  await waitFor('n3 to persist the high-water of every captured frame', () => {
    const persisted = persistedHighWater(n3.daemon);
    return envelopes.every((e) => covers(persisted.get(streamOf(e.from, e.to)), e));
  }, 20_000);

  await n3.daemon.stop();
  await n3.daemon.start();
  await waitFor('n3 back in a view of three', async () => (await view(n3.daemon)).length === 3, 20_000);
  const before = replayRefusals(await dropsByReason(n3.daemon));
  await relay.replay(captured, n3.udp);
  // A hang guard, not a speed claim (a loaded machine is slow): on failure, say how n3 did count them.
  await waitFor(`n3 to refuse the ${captured.length} frames captured before its restart`, async () =>
    replayRefusals(await dropsByReason(n3.daemon)) - before >= captured.length, 30_000).catch(async (error: unknown) => {
    throw new Error(`${(error as Error).message}; n3 drops by reason now ${JSON.stringify(await dropsByReason(n3.daemon))} (before: ${before} replay refusals)`);
  });
  const drops = await dropsByReason(n3.daemon);
  assert.equal(drops['wrong-recipient'] ?? 0, 0, 'these frames were sealed for n3');
  assert.deepEqual(await view(n3.daemon), ['n1', 'n2', 'n3']);
});
