// Fail-stop through the one append path, in process: a real SQLite error in
// the middle of an evaluation's transaction (a trigger that aborts one
// table's writes, as a full disk would: after the event row, or after the
// event and its action run were appended). The transaction rolls back whole, fatal is
// called once naming the work, nothing is announced (no feed item, no action
// kick), and the evaluator's memory (threshold states, the latest sample
// behind $prev) stays with what is on disk, so the crossing is decided again
// on the next sample instead of being lost.
import assert from 'node:assert/strict';
import { Evaluator } from '../services/eventd/evaluation/evaluator.js';
import { silentLogger } from '../services/eventd/logger.js';
import { createMetrics } from '../services/eventd/metrics.js';
import { Store } from '../services/eventd/store/index.js';
import { compileSubscription } from '../services/eventd/subscriptions/compiled.js';
import { SubscriptionRegistry } from '../services/eventd/subscriptions/registry.js';
import type { EventRecord, Sample, Subscription } from '../services/eventd/types.js';
import { localEventLog } from './helpers/event-log.js';
import { test } from './helpers/node-test.js';
import { defer, tempDir } from './helpers/tmp.js';

const attributes = new Set(['totalKiB', 'usedKiB', 'freeKiB', 'percentUsed', 'configured']);

const subscription: Subscription = {
  id: 'sub1', name: 'swap-high', class: 'PagingSpace', expr: 'percentUsed > 75', rearm: 'percentUsed < 60',
  scope: 'local', order: 'fifo', actions: [{ run: '/bin/true', timeout: '5s', on: ['event', 'rearm'] }], node: 'n1', createdAt: new Date(0).toISOString(),
};

/**
 * From now on, `table`'s writes fail inside their transaction: a real SQLite
 * abort, as a full disk would give, at a chosen point of the work.
 */
function failWrites(store: Store, table: 'action_runs' | 'threshold_states'): () => void {
  for (const op of ['insert', 'update']) {
    store.db.exec(`CREATE TEMP TRIGGER fail_${table}_${op} BEFORE ${op.toUpperCase()} ON main.${table} BEGIN SELECT RAISE(ABORT, 'injected: database or disk is full'); END`);
  }
  return () => { for (const op of ['insert', 'update']) store.db.exec(`DROP TRIGGER temp.fail_${table}_${op}`); };
}

for (const [table, where] of [
  ['action_runs', 'the action run write, after the event row'],
  ['threshold_states', 'the threshold state write, after the event and its action run were appended'],
] as const) test(`a write failing inside an evaluation (${where}): rolled back whole, fatal once, nothing announced, memory stays with the disk`, async (t) => {
  const store = Store.open(tempDir(t));
  defer(t, () => store.close());
  store.subscriptions.insert(subscription);
  const registry = new SubscriptionRegistry({ onClassNeeded: () => {}, onClassIdle: () => {} });
  registry.add(compileSubscription(subscription, attributes));
  const metrics = createMetrics();
  let kicks = 0;
  const { log, recorder, feed, fatal } = localEventLog(store, metrics, 'n1', { onActionsQueued: () => void kicks++ });
  const announced: EventRecord[] = [];
  feed.on('events', (items) => announced.push(...items.map((item) => item.event)));
  const evaluator = new Evaluator({ node: 'n1', store, registry, metrics, logger: silentLogger(), log, recorder });
  let time = 1_700_000_000_000;
  const submit = (percentUsed: number) => {
    const sample: Sample = { class: 'PagingSpace', resource: 'total', node: 'n1', time: (time += 1000), attrs: { percentUsed, totalKiB: 100, usedKiB: percentUsed, freeKiB: 100 - percentUsed, configured: true } };
    return evaluator.submit('PagingSpace', [sample]);
  };
  const onDisk = () => store.events.listAfter(0, { limit: 100 }).map((item) => item.event);
  const runsOnDisk = () => store.actionRuns.list({ limit: 100 }).length;

  await submit(50);
  await submit(80); // event n1:1, one action run
  assert.deepEqual(onDisk().map((e) => e.id), ['n1:1']);
  assert.equal(kicks, 1);

  const heal = failWrites(store, table);
  await assert.rejects(submit(50), /injected: database or disk is full/);
  assert.equal(fatal.length, 1, 'fatal called once');
  assert.equal(fatal[0]?.what, 'evaluation of PagingSpace samples', 'fatal names the work that failed');
  assert.deepEqual(onDisk().map((e) => e.id), ['n1:1'], 'the rearm row was rolled back with the rest');
  assert.equal(runsOnDisk(), 1, 'no action run enqueued');
  assert.deepEqual(announced.map((e) => e.id), ['n1:1'], 'nothing of the failed transaction reached the feed');
  assert.equal(kicks, 1, 'the action dispatcher was not kicked');
  assert.equal(store.samples.list('PagingSpace')[0]?.attrs['percentUsed'], 80, 'the sample of the failed batch was rolled back too');

  // The daemon would have stopped here; in process, the disk heals and the next sample comes.
  heal();
  await submit(50);
  const [, rearm] = onDisk();
  assert.equal(rearm?.id, 'n1:2', 'the crossing is decided again (the threshold state in memory did not move ahead of the disk)');
  assert.equal(rearm?.type, 'rearm');
  assert.equal(rearm?.prev?.['percentUsed'], 80, '$prev is the last committed sample, not the one rolled back');
  assert.deepEqual(announced.map((e) => e.id), ['n1:1', 'n1:2']);
  assert.equal(runsOnDisk(), 2);
  assert.equal(fatal.length, 1);
});
