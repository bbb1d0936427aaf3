// Failover on real daemons: one group on three nodes runs on exactly one;
// kill -9 of its holder moves it; a lone node without quorum never starts
// it; with quorum back there is exactly one holder.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from './helpers/node-test.js';
import { events, startCluster, view } from './helpers/cluster.js';
import { defer, tempDir, waitFor } from './helpers/tmp.js';

/** A group script that marks which node runs it: a file per node in `holders`. */
function groupScript(dir: string): { script: string; holders: string } {
  const holders = join(dir, 'holders');
  mkdirSync(holders, { recursive: true });
  const script = join(dir, 'group.sh');
  writeFileSync(script, `#!/bin/sh\ncase "$EVENTD_ACTION" in\n  start) touch "${holders}/$EVENTD_NODE" ;;\n  stop) rm -f "${holders}/$EVENTD_NODE" ;;\nesac\n`);
  chmodSync(script, 0o755);
  return { script, holders };
}

const failover = (script: string) => ({ failover: { groups: [{ name: 'svc', start: script, stop: script, timeout: '5s' }] } });

test('one group: exactly one holder; kill -9 of the holder moves it to a survivor', async (t) => {
  const dir = tempDir(t);
  const { script, holders } = groupScript(dir);
  const nodes = await startCluster(dir, ['f1', 'f2', 'f3'], { extra: failover(script) });
  defer(t, () => Promise.all(nodes.map((node) => node.daemon.kill9())));
  const holderOf = () => readdirSync(holders);
  const first = await waitFor('one holder', () => (holderOf().length === 1 ? holderOf()[0] : undefined), 15_000).catch(async (error: unknown) => {
    const states = await Promise.all(nodes.map(async (node) => `${node.name}: ${JSON.stringify((await node.daemon.request('GET', '/v1/groups')).body)} view ${(await view(node.daemon)).join(',')}`));
    throw new Error(`${String(error)}; holders ${holderOf().join(',')}\n${states.join('\n')}`);
  });
  for (const node of nodes) await waitFor(`${node.name} to see a view of three`, async () => (await view(node.daemon)).length === 3);
  if (holderOf().join() !== first) {
    const history = (await events(nodes[0]!.daemon, '?class=FailoverGroup')).map((e) => `${e.id} ${JSON.stringify(e.attrs)}`);
    assert.fail(`${first} held the group, now ${holderOf().join(',') || 'nobody'} does:\n${history.join('\n')}`);
  }
  for (const node of nodes) {
    await waitFor(`${node.name} to know the owner`, async () => (await node.daemon.request<{ groups: { owner: string }[] }>('GET', '/v1/groups')).body.groups[0]?.owner === first);
  }
  // A freshly started holder keeps its lease: nothing stopped before the kill (a holder whose loop stalls at
  // start on a loaded machine fences itself, "lease lapsing", when that stall eats the lease's slack).
  const stops = (await events(nodes[0]!.daemon, '?class=FailoverGroup')).filter((e) => e.attrs['state'] === 'stopping' || e.attrs['state'] === 'stopped');
  assert.deepEqual(stops.map((e) => `${String(e.attrs['node'])} ${String(e.attrs['state'])}: ${String(e.attrs['reason'])}`), [], 'no stop before the kill');

  const holder = nodes.find((node) => node.name === first)!;
  const survivors = nodes.filter((node) => node !== holder);
  const killedAt = Date.now();
  await holder.daemon.kill9();
  const next = await waitFor('a survivor to hold the group', () => holderOf().find((name) => name !== first), 10_000);
  const movedMs = Date.now() - killedAt;
  t.diagnostic(`kill -9 of the holder to the group started on ${next}: ${movedMs} ms`);
  assert.ok(survivors.some((node) => node.name === next));
  // The killed node's marker stays (it was killed, not stopped); among the live nodes exactly one holds it.
  assert.deepEqual(holderOf().filter((name) => name !== first), [next]);
  await waitFor('the running report on a survivor', async () =>
    (await events(survivors[0]!.daemon, '?class=FailoverGroup')).some((e) => e.resource === 'svc' && e.attrs['node'] === next && e.attrs['state'] === 'running'));
});

test('a lone node without quorum never starts the group; with quorum back exactly one holds it', async (t) => {
  const dir = tempDir(t);
  const { script, holders } = groupScript(dir);
  const nodes = await startCluster(dir, ['q1', 'q2', 'q3'], { extra: failover(script), only: ['q1'] });
  defer(t, () => Promise.all(nodes.map((node) => node.daemon.kill9())));
  const [q1, q2] = nodes as [typeof nodes[0], typeof nodes[0]];
  // Observe the lone node over a window of several suspect and fence periods, by its own clock.
  await waitFor('q1 up for 3 s', async () => (await q1.daemon.request<{ uptimeS: number }>('GET', '/v1/status')).body.uptimeS >= 3, 15_000);
  const groups = (await q1.daemon.request<{ groups: { owner: string | null; local: string }[] }>('GET', '/v1/groups')).body.groups;
  assert.deepEqual(groups.map((g) => [g.owner, g.local]), [[null, 'stopped']]);
  assert.deepEqual(readdirSync(holders), [], 'no quorum (1 of 3): never started');
  assert.equal((await events(q1.daemon, '?class=FailoverGroup')).length, 0);

  await q2.daemon.start();
  await waitFor('exactly one holder once two of three are up', () => readdirSync(holders).length === 1, 15_000);
  const holder = readdirSync(holders)[0]!;
  assert.ok(['q1', 'q2'].includes(holder));
  assert.ok(!existsSync(join(holders, 'q3')));
});
