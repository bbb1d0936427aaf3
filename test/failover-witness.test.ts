// Two nodes and a witness (eventd --witness, Corosync's qdevice): the witness
// votes, so the pair keeps a majority (2 of 3) through the loss of either
// node; it runs no producer and no group, and is never placed one. Real
// daemons on loopback; the group's script marks which node runs it.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from './helpers/node-test.js';
import { clusterConfig, clusterKey, events, freeUdpPorts, view } from './helpers/cluster.js';
import { DaemonProcess } from './helpers/daemon.js';
import { holdingsOf, loggingGroupScript } from './helpers/failover-lab.js';
import { defer, tempDir, waitFor } from './helpers/tmp.js';

/** Who runs the group now, by the script's log: started and not stopped since. */
function running(log: string): string[] {
  return holdingsOf(log).filter((holding) => holding.to === Infinity).map((holding) => holding.node);
}

test('two nodes and a witness keep the group through the loss of either node; the witness runs nothing', { timeout: 240_000 }, async (t) => {
  const dir = tempDir(t);
  const { script, log } = loggingGroupScript(dir, 50);
  const ports = await freeUdpPorts(3);
  const peers = ports.map((port) => `127.0.0.1:${port}`);
  const key = clusterKey();
  const failover = { failover: { groups: [{ name: 'web', start: script, stop: script, prefer: ['a1'], timeout: '5s' }] } };
  const make = (name: string, index: number, extra: Record<string, unknown>) => {
    const config: Record<string, unknown> = clusterConfig(join(dir, name), name, join(dir, name, 'proc'), ports[index]!, peers, key, extra);
    delete config['procRoot'];
    delete config['producers'];
    mkdirSync(join(dir, name), { recursive: true });
    return DaemonProcess.withConfig(join(dir, name), config, t);
  };
  const a1 = make('a1', 0, failover);
  const a2 = make('a2', 1, failover);
  // The witness names no group: it learns each claim's lease from the claim.
  const w = make('w', 2, { witness: true });
  const nodes = new Map([['a1', a1], ['a2', a2], ['w', w]]);
  defer(t, () => Promise.all([...nodes.values()].map((daemon) => daemon.kill9())));
  await Promise.all([a1.start(), a2.start(), w.start()]);
  for (const [name, daemon] of nodes) await waitFor(`${name} to see a view of three`, async () => (await view(daemon)).length === 3, 30_000);
  /** What each node says of the group, for a failure's message. */
  const states = async () => (await Promise.all([...nodes].map(async ([name, daemon]) => `${name}: ${JSON.stringify((await daemon.request('GET', '/v1/groups').catch(() => ({ body: 'down' }))).body)}`))).join('\n');
  await waitFor('web to run on a1 (prefer)', () => running(log).join() === 'a1', 60_000).catch(async (error: unknown) => {
    throw new Error(`${String(error)}\n${await states()}\nlog:\n${readFileSync(log, 'utf8')}`);
  });

  // The witness: no producer loaded, no group of its own, announced as a witness, never a placement target.
  assert.deepEqual((await w.request<{ classes: unknown[] }>('GET', '/v1/classes')).body.classes, []);
  assert.deepEqual((await w.request<{ groups: unknown[] }>('GET', '/v1/groups')).body.groups, []);
  const announced = (await events(w, '?class=FailoverNode&internal=true')).find((event) => event.resource === 'w');
  assert.equal(announced?.attrs['witness'], true);
  const moveToWitness = await a2.request<{ error: { code: string; message: string } }>('POST', '/v1/groups/web/move', { node: 'w' });
  assert.equal(moveToWitness.status, 409, JSON.stringify(moveToWitness.body));
  assert.match(moveToWitness.body.error.message, /w is a witness/);

  // Loss of a1 (kill -9): a2 takes over with the witness's vote.
  await a1.kill9();
  await waitFor('a2 to take web over', () => running(log).includes('a2'), 30_000);
  assert.ok(!running(log).includes('w'));
  const claim = (await events(a2, '?class=FailoverGroup')).filter((event) => event.attrs['node'] === 'a2' && event.attrs['state'] === 'starting').at(-1);
  assert.match(String(claim?.attrs['reason']), /taking over from a1/);
  const votes = (await events(a2, '?class=FailoverVote&internal=true')).filter((event) => event.resource === claim?.id);
  assert.deepEqual(votes.map((event) => event.attrs['node']).sort(), ['a2', 'w'], 'the witness voted for the takeover');

  // a1 comes back (it takes nothing back: stickiness), then a2 is lost: a1 takes over.
  await a1.start();
  for (const [name, daemon] of nodes) await waitFor(`${name} to see a view of three again`, async () => (await view(daemon)).length === 3, 30_000);
  await waitFor('a1 to know a2 owns web', async () => (await a1.request<{ groups: { owner: string | null }[] }>('GET', '/v1/groups')).body.groups[0]?.owner === 'a2', 30_000);
  await a2.kill9();
  // a2 was killed, not stopped: its line stays open in the log; a1 starts it.
  await waitFor('a1 to take web over', () => holdingsOf(log).some((holding) => holding.node === 'a1' && holding.to === Infinity), 30_000);
  assert.deepEqual(holdingsOf(log).map((holding) => holding.node).filter((node) => node === 'w'), []);
});
