// Cold start honours `prefer` every time (Corosync's wait_for_all, Pacemaker's
// dc-deadtime): three daemons with fresh stores started together, the
// preferred node n1 last (on main, in one run of three n2 and n3 formed a
// majority first, placed the group on one of them, and stickiness kept it
// there when n1 came).
// failover.startupWaitMs holds placement until every configured node is in
// the view. Ten cold starts in a row, each on n1.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startCluster, type ClusterNodeHandle } from './helpers/cluster.js';
import { loggingGroupScript, holdingsOf } from './helpers/failover-lab.js';
import { waitFor } from './helpers/tmp.js';

const rounds = 10;

test(`cold start: the group starts on its preferred node, ${rounds} times in a row`, { timeout: 300_000 }, async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'eventd-cold-'));
  let nodes: ClusterNodeHandle[] = [];
  t.after(async () => {
    try {
      await Promise.all(nodes.map((node) => node.daemon.kill9()));
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
  const placed: string[] = [];
  for (let round = 1; round <= rounds; round++) {
    const dir = join(root, `round-${round}`);
    const { script, log } = loggingGroupScript(mkdtempSync(join(root, 'scripts-')));
    const failover = { groups: [{ name: 'web', start: script, stop: script, prefer: ['n1'], timeout: '5s' }] };
    nodes = await startCluster(dir, ['n1', 'n2', 'n3'], { extra: { failover }, only: [] });
    const starts = [nodes[1]!, nodes[2]!, nodes[0]!].map((node) => node.daemon.start());
    await Promise.all(starts);
    const holder = await waitFor('the group to start', () => holdingsOf(log)[0]?.node, 20_000);
    placed.push(holder);
    await Promise.all(nodes.map((node) => node.daemon.kill9()));
    nodes = [];
  }
  assert.deepEqual(placed, Array.from({ length: rounds }, () => 'n1'), `placed on ${placed.join(',')}`);
  assert.equal(readdirSync(root).filter((name) => name.startsWith('round-')).length, rounds);
});
