// One insert per event (issue 11): an event this node's log keeps is the
// cluster core's copy too, so the edge writes it once; the core's reads give
// back the very event it put, through a reopen and after the log's retention
// pruned the row (a peer that is behind still pulls it); events the log does
// not keep (a peer's local event, a payload the row would not give back whole)
// stay in the core's own table.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ClusterEvent, Json } from '../services/eventd/cluster/core/frames.js';
import { SqliteCoreStore } from '../services/eventd/cluster/edge/sqlite-core-store.js';
import { replicatedAs, toPayload, toRecord } from '../services/eventd/cluster/edge/payload.js';
import { Store } from '../services/eventd/store/index.js';
import { defer } from './helpers/cleanup.js';
import { tempDir } from './helpers/tmp.js';

const self = 'n2';

function clusterEvent(origin: string, seq: number, reach: 'cluster' | 'local', order: 'fifo' | 'agreed' = 'fifo'): ClusterEvent {
  const payload = toPayload({
    type: 'event', subscription: 's1', subscriptionName: 'high', class: 'PagingSpace', resource: `r${seq}`, node: origin,
    expr: 'percentUsed > 1', attrs: { percentUsed: seq, note: 'a "quoted" \u00e9 value' }, prev: { percentUsed: seq - 1 },
    time: new Date(1_700_000_000_000 + seq).toISOString(), flapping: true,
  }, reach);
  return { origin, seq, hlc: `${1_700_000_000_000 + seq}.${seq % 3}`, order, payload };
}

/** What the edge does in one step's transaction (cluster-node.ts): the core puts, the log appends what it keeps, the core's rows are written before the commit. */
function step(store: Store, core: SqliteCoreStore, events: readonly ClusterEvent[], position?: number): void {
  store.transaction(() => {
    core.deferUntilFlush();
    for (const event of events) core.putEvent(event);
    for (const event of events) {
      const record = toRecord(event, self);
      if (record === undefined) continue;
      const replicated = replicatedAs(event);
      store.events.append(position === undefined ? record : { ...record, position }, replicated);
      if (replicated !== undefined) core.keptInLog(event.origin, event.seq);
    }
    core.flush();
  });
}

const count = (store: Store, table: 'events' | 'cluster_events') => (store.db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;

function open(t: { after: (fn: () => void) => void }): { dir: string; store: Store; core: SqliteCoreStore } {
  const dir = tempDir(t);
  const store = Store.open(dir);
  defer(t, () => store.close());
  return { dir, store, core: new SqliteCoreStore(store.db) };
}

test('an event the log keeps is written once, and the core reads back exactly the event it put, by id and by range, after a reopen', (t) => {
  const { dir, store, core } = open(t);
  const events = [1, 2, 3, 4, 5].map((seq) => clusterEvent('n1', seq, 'cluster'));
  step(store, core, events);
  assert.equal(count(store, 'events'), 5);
  assert.equal(count(store, 'cluster_events'), 0, 'the log row is the core\'s copy: no second insert');
  assert.deepEqual(core.event('n1', 3), events[2]);
  assert.deepEqual(core.events('n1', 2, 4), events.slice(1, 4));
  // The payload as it travels (a pull answer) is the one the origin sealed, key for key.
  assert.equal(JSON.stringify(core.events('n1', 1, 5)), JSON.stringify(events));
  store.close();
  const again = Store.open(dir);
  defer(t, () => again.close());
  assert.deepEqual(new SqliteCoreStore(again.db).events('n1', 1, 5), events);
});

test('own local events are the log\'s rows too; a peer\'s local event, which the log leaves out, stays in the core\'s table; a range gives both in seq order', (t) => {
  const { store, core } = open(t);
  const own = [clusterEvent(self, 1, 'local'), clusterEvent(self, 2, 'cluster')];
  step(store, core, own);
  assert.equal(count(store, 'cluster_events'), 0);
  assert.deepEqual(core.events(self, 1, 2), own);
  const peers = [clusterEvent('n3', 1, 'cluster'), clusterEvent('n3', 2, 'local'), clusterEvent('n3', 3, 'cluster')];
  step(store, core, peers);
  assert.equal(count(store, 'cluster_events'), 1, 'n3\'s local event only');
  assert.deepEqual(core.events('n3', 1, 3), peers);
  assert.deepEqual(core.event('n3', 2), peers[1]);
  assert.deepEqual(core.events('n3', 2, 2), [peers[1]]);
});

test('a payload the log row would not give back whole (a field beside reach and draft) is kept in the core\'s table, unchanged', (t) => {
  const { store, core } = open(t);
  const plain = clusterEvent('n1', 1, 'cluster');
  const payload = plain.payload as { [key: string]: Json };
  const newer: ClusterEvent = { ...plain, payload: { ...payload, addedByNewerVersion: 7 } };
  step(store, core, [newer]);
  assert.equal(count(store, 'events'), 1);
  assert.equal(count(store, 'cluster_events'), 1);
  assert.deepEqual(core.event('n1', 1), newer);
});

test('agreed events put before their position and delivered later, and reads inside the open transaction, give each event once', (t) => {
  const { store, core } = open(t);
  const agreed = [clusterEvent('n1', 1, 'cluster', 'agreed'), clusterEvent('n1', 2, 'cluster', 'agreed')];
  // Held without a position: the core's table.
  store.transaction(() => {
    core.deferUntilFlush();
    for (const event of agreed) core.putEvent(event);
    assert.deepEqual(core.events('n1', 1, 2), agreed, 'pending events are read inside their transaction');
    core.flush();
  });
  assert.equal(count(store, 'cluster_events'), 2);
  // Placed later: appended with positions, in both tables now; a range still gives each once.
  step(store, core, [agreed[0]!], 1);
  step(store, core, [agreed[1]!], 2);
  assert.deepEqual(core.events('n1', 1, 2), agreed);
  assert.equal(core.events('n1', 1, 2).length, 2);
});

test('the log\'s retention prunes rows, but a peer that is behind still pulls those events from the core, unchanged', (t) => {
  const { store, core } = open(t);
  const events = Array.from({ length: 10 }, (_, i) => clusterEvent('n1', i + 1, 'cluster'));
  step(store, core, events);
  const agreed = clusterEvent('n4', 1, 'cluster', 'agreed');
  step(store, core, [agreed], 1);
  // Keep the last 3 rows of the log (no age bound): 8 pruned by count; then by age (every sample is older than now): the rest.
  assert.equal(store.events.prune(3, Number.MAX_SAFE_INTEGER, Date.now()), 8);
  assert.equal(count(store, 'events'), 3);
  assert.deepEqual(core.events('n1', 1, 10), events);
  assert.equal(store.events.prune(1_000_000, 0, Date.now()), 3);
  assert.equal(count(store, 'events'), 0);
  assert.equal(JSON.stringify(core.events('n1', 1, 10)), JSON.stringify(events));
  assert.deepEqual(core.event('n4', 1), agreed);
});

test('a row the core does not own (a Cluster view record, an event of a node without a cluster) is never read as a cluster event', (t) => {
  const { store, core } = open(t);
  const record = toRecord(clusterEvent('n1', 1, 'cluster'), self)!;
  store.transaction(() => store.events.append(record));
  assert.equal(core.event('n1', 1), undefined);
  assert.deepEqual(core.events('n1', 1, 1), []);
  store.events.prune(0, 0, Date.now() + 1);
  assert.equal(count(store, 'cluster_events'), 0);
});
