// An eventd.db written before subscription faults and evaluation errors were
// kept (the schema version before) opens, gains the new tables, and keeps what it held.
import assert from 'node:assert/strict';
import { defer } from './helpers/cleanup.js';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { Store } from '../services/eventd/store/index.js';
import type { Subscription } from '../services/eventd/types.js';
import { tempDir } from './helpers/tmp.js';

test('an eventd.db of the previous schema version survives the migration that adds subscription_faults and evaluation_errors', (t) => {
  const dir = tempDir(t);
  const subscription: Subscription = { id: 'abc', name: 'high', class: 'PagingSpace', expr: 'percentUsed > 1', scope: 'local', order: 'fifo', actions: [], node: 'n1', createdAt: new Date().toISOString() };
  const first = Store.open(dir);
  first.subscriptions.insert(subscription);
  const latest = first.db.pragma('user_version', { simple: true }) as number;
  first.close();
  // Back to what that release wrote (inhibit_rules came one migration later).
  const old = new Database(join(dir, 'eventd.db'));
  old.exec('DROP TABLE subscription_faults; DROP TABLE evaluation_errors; DROP TABLE inhibit_rules;');
  old.pragma(`user_version = ${latest - 2}`);
  old.close();

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
  const first = Store.open(dir);
  first.subscriptions.insert(subscription);
  const latest = first.db.pragma('user_version', { simple: true }) as number;
  first.close();
  const old = new Database(join(dir, 'eventd.db'));
  old.exec('DROP TABLE inhibit_rules;');
  old.pragma(`user_version = ${latest - 1}`);
  old.close();

  const store = Store.open(dir);
  defer(t, () => store.close());
  assert.equal(store.db.pragma('user_version', { simple: true }), latest);
  assert.deepEqual(store.subscriptions.all(), [subscription]);
  const rule = { id: 'r1', when: { class: 'Node', state: 'down' }, mute: { sameNode: true }, comment: 'c', createdBy: 'ana', createdAt: new Date().toISOString(), node: 'n1' };
  store.inhibitRules.put(rule);
  assert.deepEqual(store.inhibitRules.all(), [rule]);
});
