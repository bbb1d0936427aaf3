// An eventd.db written by an earlier release (an earlier schema version)
// opens, gains what the later migrations add, and keeps what it held. Each
// test rolls a fresh store back to the version before the migration it is
// about, undoing every later one (so a new migration does not break the old tests).
import assert from 'node:assert/strict';
import { defer } from './helpers/cleanup.js';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { Store } from '../services/eventd/store/index.js';
import { SqliteCoreStore } from '../services/eventd/cluster/edge/sqlite-core-store.js';
import type { Subscription } from '../services/eventd/types.js';
import { tempDir } from './helpers/tmp.js';

/** How to take each migration back out of a store, by the version it brings the store to. */
const undo: Record<number, string> = {
  6: 'DROP TABLE subscription_faults; DROP TABLE evaluation_errors;',
  7: 'DROP TABLE inhibit_rules;',
  8: 'DROP INDEX events_subscription_position; DROP TABLE cluster_decisions; ALTER TABLE events DROP COLUMN position;',
  9: 'CREATE INDEX events_subscription_position ON events (subscription, position);',
  10: 'ALTER TABLE events DROP COLUMN cluster_reach; ALTER TABLE events DROP COLUMN cluster_order;',
};

/** Writes a store holding `subscription`, then rolls it back to schema `version` (what that release wrote); returns the latest version. */
function storeOfVersion(dir: string, version: number, subscription: Subscription): number {
  const first = Store.open(dir);
  first.subscriptions.insert(subscription);
  const latest = first.db.pragma('user_version', { simple: true }) as number;
  first.close();
  const old = new Database(join(dir, 'eventd.db'));
  for (let v = latest; v > version; v--) {
    assert.ok(undo[v] !== undefined, `no undo for migration ${v}: add it to this test`);
    old.exec(undo[v]!);
  }
  old.pragma(`user_version = ${version}`);
  old.close();
  return latest;
}

test('an eventd.db of the previous schema version survives the migration that adds subscription_faults and evaluation_errors', (t) => {
  const dir = tempDir(t);
  const subscription: Subscription = { id: 'abc', name: 'high', class: 'PagingSpace', expr: 'percentUsed > 1', scope: 'local', order: 'fifo', actions: [], node: 'n1', createdAt: new Date().toISOString() };
  const latest = storeOfVersion(dir, 5, subscription);

  const store = Store.open(dir);
  defer(t, () => store.close());
  assert.equal(store.db.pragma('user_version', { simple: true }), latest);
  assert.deepEqual(store.subscriptions.all(), [subscription]);
  store.health.saveFault({ subscription: 'abc', field: 'expr', code: 'D1012', message: 'expr: timeout', node: 'n1', resource: 'total', at: 1 });
  store.health.saveErrors({ key: { subscription: 'abc', node: 'n1', resource: 'total' }, errors: 2, failing: true, lastError: { field: 'expr', message: 'expr: bad', at: 2 } });
  assert.equal(store.health.faults()[0]?.code, 'D1012');
  assert.equal(store.health.errors()[0]?.errors, 2);
  // Deleting the subscription takes its fault and errors with it.
  store.subscriptions.delete('abc');
  assert.deepEqual(store.health.faults(), []);
  assert.deepEqual(store.health.errors(), []);
});

test('an eventd.db of the schema version before inhibit_rules opens, gains the table, keeps its subscriptions', (t) => {
  const dir = tempDir(t);
  const subscription: Subscription = { id: 'abc', name: 'high', class: 'PagingSpace', expr: 'percentUsed > 1', scope: 'local', order: 'fifo', actions: [], node: 'n1', createdAt: new Date().toISOString() };
  const latest = storeOfVersion(dir, 6, subscription);

  const store = Store.open(dir);
  defer(t, () => store.close());
  assert.equal(store.db.pragma('user_version', { simple: true }), latest);
  assert.deepEqual(store.subscriptions.all(), [subscription]);
  const rule = { id: 'r1', when: { class: 'Node', state: 'down' }, mute: { sameNode: true }, comment: 'c', createdBy: 'ana', createdAt: new Date().toISOString(), node: 'n1' };
  store.inhibitRules.put(rule);
  assert.deepEqual(store.inhibitRules.all(), [rule]);
});

test('an eventd.db of the schema version before positions opens, gains cluster_decisions and events.position, keeps its subscriptions', (t) => {
  const dir = tempDir(t);
  const subscription: Subscription = { id: 'abc', name: 'high', class: 'PagingSpace', expr: 'percentUsed > 1', scope: 'cluster', order: 'agreed', actions: [], node: 'n1', createdAt: new Date().toISOString() };
  const latest = storeOfVersion(dir, 7, subscription);
  const store = Store.open(dir);
  defer(t, () => store.close());
  assert.equal(store.db.pragma('user_version', { simple: true }), latest);
  assert.deepEqual(store.subscriptions.all(), [subscription]);
  const columns = (store.db.prepare('PRAGMA table_info(events)').all() as Array<{ name: string }>).map((column) => column.name);
  assert.ok(columns.includes('position'), `events columns: ${columns.join(', ')}`);
  assert.equal((store.db.prepare('SELECT count(*) AS n FROM cluster_decisions').get() as { n: number }).n, 0);
});

test('an eventd.db of the schema version before migration 9 opens without the unused events_subscription_position index, keeps its events', (t) => {
  const dir = tempDir(t);
  const subscription: Subscription = { id: 'abc', name: 'high', class: 'PagingSpace', expr: 'percentUsed > 1', scope: 'cluster', order: 'agreed', actions: [], node: 'n1', createdAt: new Date().toISOString() };
  const latest = storeOfVersion(dir, 8, subscription);
  const event = { id: 'n1:1', origin: 'n1', seq: 1, hlc: '1:0', position: 1, type: 'event' as const, subscription: 'abc', subscriptionName: 'high', class: 'PagingSpace', resource: 'total', node: 'n1', expr: 'percentUsed > 1', attrs: { percentUsed: 5 }, time: new Date().toISOString() };
  // An event written at version 8, with the index, then the store opened by this build.
  const raw = new Database(join(dir, 'eventd.db'));
  raw.prepare('INSERT INTO events (id, origin, seq, type, subscription, class, time, body, position) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
    .run(event.id, event.origin, event.seq, event.type, event.subscription, event.class, Date.parse(event.time), JSON.stringify(event), 1);
  raw.close();
  const store = Store.open(dir);
  defer(t, () => store.close());
  assert.equal(store.db.pragma('user_version', { simple: true }), latest);
  const indexes = (store.db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events'").all() as Array<{ name: string }>).map((row) => row.name);
  assert.ok(!indexes.includes('events_subscription_position'), `events indexes: ${indexes.join(', ')}`);
  assert.deepEqual(store.events.get('n1:1'), event);
});

test('an eventd.db of the schema version before one insert per event (migration 10) opens; the core still reads the events it wrote to cluster_events, and prunes keep them', (t) => {
  const dir = tempDir(t);
  const subscription: Subscription = { id: 'abc', name: 'high', class: 'PagingSpace', expr: 'percentUsed > 1', scope: 'cluster', order: 'fifo', actions: [], node: 'n1', createdAt: new Date().toISOString() };
  const latest = storeOfVersion(dir, 9, subscription);
  const draft = { type: 'event' as const, subscription: 'abc', subscriptionName: 'high', class: 'PagingSpace', resource: 'total', node: 'n1', expr: 'percentUsed > 1', attrs: { percentUsed: 5 }, time: new Date().toISOString() };
  const clusterEvent = { origin: 'n1', seq: 1, hlc: '1:0', order: 'fifo' as const, payload: { reach: 'cluster', draft } };
  const event = { ...draft, id: 'n1:1', origin: 'n1', seq: 1, hlc: '1:0' };
  // As version 9 wrote a cluster event: a log row and the core's own copy.
  const raw = new Database(join(dir, 'eventd.db'));
  raw.prepare('INSERT INTO events (id, origin, seq, type, subscription, class, time, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
    .run(event.id, event.origin, event.seq, event.type, event.subscription, event.class, Date.parse(event.time), JSON.stringify(event));
  raw.prepare('INSERT INTO cluster_events (origin, seq, body) VALUES (?, ?, ?)').run('n1', 1, JSON.stringify(clusterEvent));
  raw.close();
  const store = Store.open(dir);
  defer(t, () => store.close());
  assert.equal(store.db.pragma('user_version', { simple: true }), latest);
  const columns = (store.db.prepare('PRAGMA table_info(events)').all() as Array<{ name: string }>).map((column) => column.name);
  assert.ok(columns.includes('cluster_order') && columns.includes('cluster_reach'), `events columns: ${columns.join(', ')}`);
  const core = new SqliteCoreStore(store.db);
  assert.deepEqual(core.events('n1', 1, 1), [clusterEvent]);
  assert.deepEqual(store.events.get('n1:1'), event);
  store.events.prune(0, 0, Date.now() + 1);
  assert.deepEqual(store.events.get('n1:1'), undefined);
  assert.deepEqual(core.event('n1', 1), clusterEvent);
});
