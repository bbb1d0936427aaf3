// One-way loss of the holder's egress, on real interfaces: three daemons in
// their own network namespaces on a bridge; the holder's packets to its peers
// are dropped (blackhole routes in its namespace: this kernel has no netem,
// no tc classifiers and no nftables), while it still hears them. On main the
// holder kept quorum (it hears a majority) and stopped only when it saw a
// peer own the group: both ran it for as long as its stop took. Now the
// holder's heartbeats go unacknowledged, its lease lapses and it stops within
// it; the peers start only after that stop is over.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from './helpers/node-test.js';
import { holdingsOf, loggingGroupScript, overlaps } from './helpers/failover-lab.js';
import { NetnsDaemon, NetnsLab, netnsClusterConfigs, netnsUnavailable } from './helpers/netns.js';
import { waitFor } from './helpers/tmp.js';

const hosts = ['h1', 'h2', 'h3'] as const;

test('one-way loss of the holder egress: it stops within its lease, and the peers start only after that stop', { timeout: 90_000 }, async (t: TestContext) => {
  const unavailable = netnsUnavailable();
  if (unavailable) return t.skip(unavailable);
  const dir = mkdtempSync(join(tmpdir(), 'eventd-oneway-'));
  const daemons = new Map<string, NetnsDaemon>();
  const lab = new NetnsLab({ h1: 11, h2: 12, h3: 13 });
  let failed = true;
  t.after(async () => {
    try {
      if (failed) for (const daemon of daemons.values()) for (const line of daemon.tail(15).split('\n')) t.diagnostic(`${daemon.name}: ${line}`);
      await Promise.all([...daemons.values()].map((daemon) => daemon.kill9()));
    } finally {
      lab.destroy();
      rmSync(dir, { recursive: true, force: true });
    }
  });
  // A service that takes 300 ms to stop: on main that was 300 ms of two holders.
  const { script, log } = loggingGroupScript(dir, 300);
  const configs = netnsClusterConfigs(lab, dir, hosts, {
    vip: `${lab.subnet}.100`,
    failover: { groups: [{ name: 'svc', start: script, stop: script, prefer: ['h1'], timeout: '5s', stopBudgetMs: 400 }], leaseMs: 1200 },
  });
  for (const host of hosts) daemons.set(host, NetnsDaemon.withConfig(host, lab.ns(host), dir, configs.get(host)!));
  await Promise.all([...daemons.values()].map((daemon) => daemon.start()));
  const holder = await waitFor('one node to run the group', () => {
    const open = holdingsOf(log).filter((h) => h.to === Infinity);
    return open.length === 1 ? open[0]!.node : undefined;
  }, 20_000);
  for (const daemon of daemons.values()) await waitFor(`${daemon.name} to see a view of three`, async () => (await daemon.view()).length === 3, 10_000, 100);

  const cutAt = Date.now();
  for (const peer of hosts.filter((h) => h !== holder)) lab.ip('-n', lab.ns(holder), 'route', 'add', 'blackhole', `${lab.addresses[peer]}/32`);
  const next = await waitFor('a peer to run the group', () => holdingsOf(log).find((h) => h.node !== holder), 20_000);
  const holdings = holdingsOf(log);
  const old = holdings.find((h) => h.node === holder)!;
  t.diagnostic(`egress of ${holder} cut: its stop began ${old.stopReason ?? '?'}, ended +${old.to - cutAt} ms; ${next.node} started +${next.from - cutAt} ms`);
  assert.ok(old.to !== Infinity, `${holder} still runs the group`);
  assert.match(old.stopReason ?? '', /^fenced: lease lapsing/, 'the holder saw its lease lapse, though it still heard a majority');
  assert.deepEqual(overlaps(holdings), []);
  assert.equal(next.startReason, `taking over from ${holder}`);
  failed = false;
});
