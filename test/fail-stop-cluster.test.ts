// Fail-stop at the cluster edge: two real daemons; n1's event log starts
// refusing its own events after the cluster core has taken them (a trigger
// in its SQLite file, as a failing disk would) while paging space keeps
// crossing on n1. n1 must stop (exit 74,
// one fatal line) without a frame for the rolled-back event: after n1
// restarts on the same folder, every n1 event its peer holds is on n1's disk,
// the same event under the same id, and n1's sequence has no hole anywhere.
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { fatalExitCode } from '../services/eventd/fatal.js';
import type { EventRecord } from '../services/eventd/types.js';
import { events, startCluster, view } from './helpers/cluster.js';
import { test } from './helpers/node-test.js';
import { setSwap } from './helpers/proc.js';
import { tempDir, waitFor } from './helpers/tmp.js';

const swapHigh = { name: 'swap-high', class: 'PagingSpace', where: '$resource = "total"', expr: 'percentUsed > 75', rearm: 'percentUsed < 60', scope: 'cluster' };

function withDb(dataDir: string, work: (db: Database.Database) => void): void {
  const db = new Database(join(dataDir, 'eventd.db'));
  try {
    db.pragma('busy_timeout = 10000');
    work(db);
  } finally {
    db.close();
  }
}

const own = (list: EventRecord[]) => list.filter((event) => event.origin === 'n1');

test('a cluster node whose event log fails stops without sending the rolled-back event; its peer holds nothing it lacks', async (t) => {
  const dir = tempDir(t);
  const nodes = await startCluster(dir, ['n1', 'n2'], { t });
  const [n1, n2] = nodes as [typeof nodes[0], typeof nodes[0]];
  for (const node of nodes) await waitFor(`${node.name} to see a view of two`, async () => (await view(node.daemon)).length === 2, 20_000);
  const created = await n1.daemon.request<{ id: string }>('POST', '/v1/subscriptions', swapHigh);
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const query = `?subscription=${created.body.id}&limit=10000`;

  let percent = 10;
  const cross = () => setSwap(n1.procRoot, (percent = percent === 90 ? 20 : 90));
  for (let crossing = 1; crossing <= 2; crossing++) {
    cross();
    await waitFor(`crossing ${crossing} on n2`, async () => own(await events(n2.daemon, query)).length === crossing, 20_000);
  }

  // The fault: n1's log refuses n1's own events from now on (the core's step, and its frames, come first).
  const n1Data = join(dir, 'n1', 'data');
  withDb(n1Data, (db) => db.exec("CREATE TRIGGER refuse_own BEFORE INSERT ON events WHEN NEW.origin = 'n1' BEGIN SELECT RAISE(ABORT, 'injected: disk I/O error'); END"));
  cross();
  const exit = await n1.daemon.exit(30_000);
  assert.deepEqual(exit, { code: fatalExitCode, signal: null }, `n1 exits ${fatalExitCode}:\n${n1.daemon.log.split('\n').slice(-8).join('\n')}`);
  const fatals = n1.daemon.log.split('\n').filter((line) => line.includes('"level":60'));
  assert.equal(fatals.length, 1, fatals.join('\n'));
  assert.match(fatals[0]!, /"msg":"stopping: .+ failed to commit \(injected: disk I\/O error\); nothing of it was announced"/);
  t.diagnostic(`n1: ${(JSON.parse(fatals[0]!) as { msg: string }).msg}`);

  // What n2 got from n1 before the stop (frames still in flight can only be of committed events: read now or later, the same holds).
  const onPeer = own(await events(n2.daemon, '?limit=10000'));

  // The disk heals; n1 restarts on the same folder.
  withDb(n1Data, (db) => db.exec('DROP TRIGGER refuse_own'));
  await n1.daemon.start();
  const onN1 = own(await events(n1.daemon, '?limit=10000'));
  const byId = new Map(onN1.map((event) => [event.id, event]));
  for (const event of onPeer) assert.deepEqual(byId.get(event.id), event, `${event.id}, held by n2, is on n1's disk as the same event`);
  assert.deepEqual(onN1.map((event) => event.seq).sort((a, b) => a - b), onN1.map((_, index) => index + 1), 'n1 seqs on its disk have no hole');

  // n1 goes on: the cut-off crossing is decided again, and n2 gets it under a fresh seq with no hole.
  await waitFor('n1 back in the view of n2', async () => (await view(n2.daemon)).length === 2, 20_000);
  const settled = await waitFor(`the cut-off crossing (${percent}%) on n2`, async () => {
    const list = own(await events(n2.daemon, query));
    return list.at(-1)?.attrs['percentUsed'] === percent ? list : undefined;
  }, 20_000);
  // Node events are n1's alone (local reach), so n2 holds the replicated part of n1's sequence: the same, in the same order.
  assert.deepEqual(settled.map((event) => event.id), own(await events(n1.daemon, query)).map((event) => event.id), 'n2 holds every swap-high event of n1, and only those');
  assert.equal(settled.length, 3);
  const onN1Now = own(await events(n1.daemon, '?limit=10000')).map((event) => event.seq).sort((a, b) => a - b);
  assert.deepEqual(onN1Now, onN1Now.map((_, index) => index + 1), 'n1 seqs on its disk still have no hole');
});
