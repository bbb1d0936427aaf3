// Never two holders, on real daemons: the three ways main used to run a group
// on two nodes at once (issue 13), each asserted from a start/stop script that
// logs timestamps. A holder frozen by kill -STOP for 2 s and 5 s (with a fake
// watchdog: the holder counts as reset once it stops petting for the
// watchdog's timeout), and a holder stopped with SIGTERM (onShutdown "stop").
// One-way loss of the holder's egress is in failover-oneway-netns.test.ts.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from './helpers/node-test.js';
import { clusterConfig, clusterKey, freeUdpPorts } from './helpers/cluster.js';
import { FakeWatchdog, holdingsOf, loggingGroupScript, overlaps, SignalledDaemon, type GroupsBody, type Holding } from './helpers/failover-lab.js';
import { sleep } from './helpers/netns.js';
import { waitFor } from './helpers/tmp.js';

const names = ['n1', 'n2', 'n3'] as const;
const watchdogTimeoutMs = 500;

interface Trio {
  daemons: Map<string, SignalledDaemon>;
  watchdogs: Map<string, FakeWatchdog>;
  log: string;
}

async function startTrio(t: TestContext, withWatchdog: boolean): Promise<Trio> {
  const dir = mkdtempSync(join(tmpdir(), 'eventd-holders-'));
  const { script, log } = loggingGroupScript(dir);
  const ports = await freeUdpPorts(names.length);
  const peers = ports.map((port) => `127.0.0.1:${port}`);
  const key = clusterKey();
  const daemons = new Map<string, SignalledDaemon>();
  const watchdogs = new Map<string, FakeWatchdog>();
  // One hook: processes stop before their folder goes.
  t.after(async () => {
    try {
      for (const daemon of daemons.values()) daemon.signal('SIGCONT');
      await Promise.all([...daemons.values()].map((daemon) => daemon.kill9()));
      for (const watchdog of watchdogs.values()) watchdog.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  names.forEach((name, index) => {
    const nodeDir = join(dir, name);
    const watchdog = withWatchdog ? new FakeWatchdog(join(dir, `${name}.watchdog`), watchdogTimeoutMs) : undefined;
    if (watchdog) watchdogs.set(name, watchdog);
    const failover = {
      groups: [{ name: 'svc', start: script, stop: script, prefer: ['n1'], timeout: '5s' }],
      ...(watchdog ? { watchdog: { device: watchdog.path, timeoutMs: watchdogTimeoutMs } } : {}),
    };
    const config = clusterConfig(nodeDir, name, join(nodeDir, 'proc'), ports[index]!, peers, key, { failover });
    delete (config as { procRoot?: string }).procRoot;
    delete (config as { producers?: unknown }).producers;
    daemons.set(name, SignalledDaemon.withConfig(name, dir, { ...config }));
  });
  await Promise.all([...daemons.values()].map((daemon) => daemon.start()));
  return { daemons, watchdogs, log };
}

const open = (log: string): Holding[] => holdingsOf(log).filter((holding) => holding.to === Infinity);

async function firstHolder(trio: Trio): Promise<string> {
  const holder = await waitFor('one node to run the group', () => (open(trio.log).length === 1 ? open(trio.log)[0]!.node : undefined), 20_000);
  for (const daemon of trio.daemons.values()) {
    await waitFor(`${daemon.name} to see ${holder} running it`, async () =>
      (await daemon.get<GroupsBody>('/v1/groups')).groups[0]?.reports.some((r) => r.node === holder && r.state === 'running'), 10_000);
  }
  return holder;
}

for (const stallMs of [2000, 5000]) {
  test(`kill -STOP of the holder for ${stallMs / 1000} s: the peers take over only after its watchdog would have reset it; it stops on waking`, { timeout: 90_000 }, async (t) => {
    const trio = await startTrio(t, true);
    const holder = await firstHolder(trio);
    const daemon = trio.daemons.get(holder)!;
    const watchdog = trio.watchdogs.get(holder)!;
    await waitFor('the holder to pet its watchdog', () => watchdog.pets.length > 5, 5_000);
    const stalledAt = Date.now();
    daemon.signal('SIGSTOP');
    await waitFor(`the stall of ${stallMs} ms`, () => Date.now() - stalledAt >= stallMs, stallMs + 1000, 20);
    daemon.signal('SIGCONT');
    const next = await waitFor('a peer to run the group', () => holdingsOf(trio.log).find((h) => h.node !== holder), 20_000);
    await waitFor(`${holder} to stop the group after waking`, () => holdingsOf(trio.log).find((h) => h.node === holder)!.to !== Infinity, 10_000);
    const holdings = holdingsOf(trio.log);
    const resetAt = watchdog.resetAt(stalledAt);
    assert.ok(resetAt !== undefined && resetAt < stalledAt + stallMs, `the frozen holder stopped petting (last pets ${watchdog.pets.slice(-3).map((p) => p - stalledAt).join(',')} ms after the stop)`);
    // The machine counts as reset then: what it ran ended at the latest there.
    const asRun = holdings.map((h) => (h.node === holder && h.from < stalledAt ? { ...h, to: Math.min(h.to, resetAt) } : h));
    assert.deepEqual(overlaps(asRun), [], `holdings: ${JSON.stringify(holdings.map((h) => [h.node, h.from - stalledAt, h.to - stalledAt]))}`);
    assert.equal(next.startReason, `taking over from ${holder}`);
    t.diagnostic(`stall ${stallMs} ms: watchdog reset at +${resetAt - stalledAt} ms, ${next.node} started at +${next.from - stalledAt} ms`);
    // Woken, the old holder's lease had lapsed: it stopped (fenced), and never started it again.
    const old = holdings.filter((h) => h.node === holder);
    assert.equal(old.length, 1);
    assert.match(old[0]!.stopReason ?? '', /^fenced: /);
    await waitFor('exactly one holder', () => open(trio.log).length === 1 && open(trio.log)[0]!.node === next.node, 10_000);
    await waitFor(`${holder} to report the group stopped`, async () =>
      (await trio.daemons.get(next.node)!.get<GroupsBody>('/v1/groups')).groups[0]?.reports.find((r) => r.node === holder)?.state === 'stopped', 10_000);
  });
}

test('SIGTERM of the holder stops the group before it exits; the peers start it after that stop, and never show two running', { timeout: 90_000 }, async (t) => {
  const trio = await startTrio(t, false);
  const holder = await firstHolder(trio);
  const peers = [...trio.daemons.values()].filter((d) => d.name !== holder);
  let watching = true;
  const shown: string[] = [];
  // What `eventctl groups` would print on the peers, sampled all along the move.
  const watcher = (async () => {
    while (watching) {
      for (const peer of peers) {
        const group = (await peer.get<GroupsBody>('/v1/groups')).groups[0]!;
        const running = group.reports.filter((r) => r.state === 'running').map((r) => r.node);
        if (running.length > 1) shown.push(`${peer.name}: ${running.join(' ')} running`);
      }
      await sleep(50);
    }
  })();
  const termAt = Date.now();
  await trio.daemons.get(holder)!.terminate();
  const next = await waitFor('a peer to run the group', () => holdingsOf(trio.log).find((h) => h.node !== holder), 20_000);
  await waitFor('the peers to see it running there', async () =>
    (await Promise.all(peers.map(async (p) => (await p.get<GroupsBody>('/v1/groups')).groups[0]!.reports.find((r) => r.node === next.node)?.state === 'running'))).every(Boolean), 10_000);
  watching = false;
  await watcher;
  const holdings = holdingsOf(trio.log);
  const old = holdings.find((h) => h.node === holder)!;
  assert.equal(old.stopReason, 'eventd stopping', 'the holder ran its stop script on SIGTERM');
  assert.ok(old.to <= next.from, `${next.node} started ${old.to - next.from} ms before ${holder}'s stop ended`);
  assert.deepEqual(overlaps(holdings), []);
  assert.deepEqual(shown, [], 'eventctl groups showed two running');
  const reports = (await peers[0]!.get<GroupsBody>('/v1/groups')).groups[0]!.reports;
  assert.equal(reports.find((r) => r.node === holder)?.state, 'stopped');
  t.diagnostic(`SIGTERM to ${next.node} starting: ${next.from - termAt} ms (stop ended at +${old.to - termAt} ms)`);
});
