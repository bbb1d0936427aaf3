// Gratuitous ARP after a heal (keepalived issue 166: after a split brain
// healed, the VIP stayed unreachable because no new GARP went out). Three
// daemons in network namespaces, a client (cl) on the same bridge; the test
// creates and deletes every namespace itself. The client's neighbour entry
// for the address is made stale by hand, pointing at a non-holder's MAC, as a
// split brain leaves it; the client sends nothing to the address, so nothing
// but an announcement can correct it. While the view holds still the wrong
// entry stays (garpRefreshMs is off here); the partition heals (a view
// change) and the holder announces again: the client's entry shows its MAC.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from './helpers/node-test.js';
import { has, NetnsDaemon, NetnsLab, netnsClusterConfigs, netnsUnavailable, sleep } from './helpers/netns.js';
import { defer, waitFor } from './helpers/tmp.js';

const hosts = ['h1', 'h2', 'h3'] as const;
type Host = (typeof hosts)[number];

test('after a partition heals, the holder re-sends gratuitous ARP: the client\'s neighbour entry shows the holder\'s MAC', { timeout: 120_000 }, async (t: TestContext) => {
  const unavailable = netnsUnavailable();
  if (unavailable) return t.skip(unavailable);
  if (!has('arping')) return t.skip('arping is not installed (apt-get install iputils-arping)');
  if (!has('ping')) return t.skip('ping is not installed (apt-get install iputils-ping)');
  const dir = mkdtempSync(join(tmpdir(), 'eventd-garp-'));
  const daemons = new Map<Host, NetnsDaemon>();
  // eslint-disable-next-line prefer-const
  let lab: NetnsLab | undefined;
  defer(t, async () => {
    try {
      await Promise.all([...daemons.values()].map((daemon) => daemon.kill9()));
    } finally {
      lab?.destroy();
      rmSync(dir, { recursive: true, force: true });
    }
  });
  lab = new NetnsLab({ h1: 11, h2: 12, h3: 13, cl: 2 });
  const vip = `${lab.subnet}.100`;
  // Announcements on view changes only, so the heal is what corrects the entry.
  const configs = netnsClusterConfigs(lab, dir, hosts, { vip, failover: { garpRefreshMs: 0 } });
  for (const host of hosts) daemons.set(host, NetnsDaemon.withConfig(host, lab.ns(host), dir, configs.get(host)!));
  for (const host of hosts) assert.ok(await lab.pingUntil('cl', lab.addresses[host]!), `the client reaches ${host} on the bridge`);
  await Promise.all([...daemons.values()].map((daemon) => daemon.start()));
  const holder = await waitFor(`one holder of ${vip}`, () => {
    const holders = lab!.holders(vip, hosts);
    return holders.length === 1 ? (holders[0] as Host) : undefined;
  }, 60_000);
  assert.ok(await lab.pingUntil('cl', vip, 10_000), `the client reaches ${vip}`);
  assert.equal(lab.neighbour('cl', vip), lab.mac(holder));
  const [other, cut] = hosts.filter((host) => host !== holder) as [Host, Host];
  const views = (size: number, among: readonly Host[]) =>
    Promise.all(among.map((host) => waitFor(`${host} to see a view of ${size}`, async () => (await daemons.get(host)!.view()).length === size, 30_000, 100)));

  // A partition: `cut` leaves the bridge; the holder keeps the majority (and the address).
  lab.linkDown(cut);
  await views(2, [holder, other]);
  await sleep(2_500); // the announcement of that view change (arping -c 2) is over
  // The split brain's leftover: the client's entry points at another node's MAC.
  const poison = () => lab!.ip('-n', lab!.ns('cl'), 'neigh', 'replace', vip, 'lladdr', lab!.mac(other), 'dev', 'eth0', 'nud', 'stale');
  poison();
  await sleep(3_000);
  assert.equal(lab.neighbour('cl', vip), lab.mac(other), 'nothing corrects the stale entry while the view holds still');

  // The partition heals: a view change, and the holder announces its address again.
  lab.linkUp(cut);
  const healedAt = Date.now();
  await waitFor(`the client's entry for ${vip} to show ${holder}'s MAC`, () => lab!.neighbour('cl', vip) === lab!.mac(holder), 20_000, 50);
  t.diagnostic(`heal -> the client's entry corrected: ${Date.now() - healedAt} ms`);
  assert.deepEqual(lab.holders(vip, hosts), [holder], 'the address did not move');
});
