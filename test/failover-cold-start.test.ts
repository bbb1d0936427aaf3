// Cold start honours `prefer` every time (Corosync's wait_for_all, Pacemaker's
// dc-deadtime): three daemons with fresh stores started together, the
// preferred node n1 last (on main, in one run of three n2 and n3 formed a
// majority first, placed the group on one of them, and stickiness kept it
// there when n1 came).
// failover.startupWaitMs holds placement until every configured node is in
// the view. Ten cold starts in a row, each on n1.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from './helpers/node-test.js';
import { clusterConfig, clusterKey, freeUdpPorts } from './helpers/cluster.js';
import { holdingsOf, loggingGroupScript, SignalledDaemon } from './helpers/failover-lab.js';
import { waitFor } from './helpers/tmp.js';

const rounds = 10;

test(`cold start: the group starts on its preferred node, ${rounds} times in a row`, { timeout: 300_000 }, async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'eventd-cold-'));
  let nodes: SignalledDaemon[] = [];
  t.after(async () => {
    try {
      await Promise.all(nodes.map((node) => node.kill9()));
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
  const placed: string[] = [];
  for (let round = 1; round <= rounds; round++) {
    const dir = join(root, `round-${round}`);
    const { script, log } = loggingGroupScript(mkdtempSync(join(root, 'scripts-')));
    const failover = { groups: [{ name: 'web', start: script, stop: script, prefer: ['n1'], timeout: '5s' }] };
    const ports = await freeUdpPorts(3);
    const peers = ports.map((port) => `127.0.0.1:${port}`);
    const key = clusterKey();
    mkdirSync(dir, { recursive: true });
    nodes = ['n1', 'n2', 'n3'].map((name, index) => {
      const config: Record<string, unknown> = { ...clusterConfig(join(dir, name), name, join(dir, name, 'proc'), ports[index]!, peers, key, { failover }) };
      delete config['procRoot'];
      delete config['producers'];
      return SignalledDaemon.withConfig(name, dir, config);
    });
    // Together, the preferred node last; a loaded machine may take long to start three daemons.
    await Promise.all([nodes[1]!, nodes[2]!, nodes[0]!].map((node) => node.start(90_000)));
    const holder = await waitFor('the group to start', () => holdingsOf(log)[0]?.node, 20_000);
    placed.push(holder);
    await Promise.all(nodes.map((node) => node.kill9()));
    nodes = [];
  }
  assert.deepEqual(placed, Array.from({ length: rounds }, () => 'n1'), `placed on ${placed.join(',')}`);
  assert.equal(readdirSync(root).filter((name) => name.startsWith('round-')).length, rounds);
});
