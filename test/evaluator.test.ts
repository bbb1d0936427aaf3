import assert from 'node:assert/strict';
import { test } from './helpers/node-test.js';
import { Evaluator } from '../services/eventd/evaluation/evaluator.js';
import { silentLogger } from '../services/eventd/logger.js';
import { createMetrics } from '../services/eventd/metrics.js';
import { Store } from '../services/eventd/store/index.js';
import { compileSubscription } from '../services/eventd/subscriptions/compiled.js';
import { SubscriptionRegistry } from '../services/eventd/subscriptions/registry.js';
import type { EventRecord, Sample, Subscription } from '../services/eventd/types.js';
import { tempDir } from './helpers/tmp.js';
import { localEventLog } from './helpers/event-log.js';

const attributes = new Set(['totalKiB', 'usedKiB', 'freeKiB', 'percentUsed', 'configured']);

/** A subscription; an override of `undefined` removes the field. */
function subscription(overrides: { [K in keyof Subscription]?: Subscription[K] | undefined }): Subscription {
  const result: Partial<Subscription> = {
    id: 'sub1', name: 'swap-high', class: 'PagingSpace', expr: 'percentUsed > 75', rearm: 'percentUsed < 60',
    scope: 'local', order: 'fifo', actions: [], node: 'n1', createdAt: new Date(0).toISOString(),
  };
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) delete result[key as keyof Subscription];
    else Object.assign(result, { [key]: value });
  }
  return result as Subscription;
}

/** A daemon's evaluation half over a real SQLite file; `open` again on the same dir is a restart. */
function open(dir: string, subs: Subscription[]) {
  const store = Store.open(dir);
  const registry = new SubscriptionRegistry({ onClassNeeded: () => {}, onClassIdle: () => {} });
  for (const sub of subs) {
    if (!store.subscriptions.all().some((s) => s.id === sub.id)) store.subscriptions.insert(sub);
    registry.add(compileSubscription(sub, attributes));
  }
  const delivered: EventRecord[] = [];
  const metrics = createMetrics();
  const { log, recorder, feed: announced } = localEventLog(store, metrics);
  announced.on('events', (items) => delivered.push(...items.map((i) => i.event)));
  const evaluator = new Evaluator({ node: 'n1', store, registry, metrics, logger: silentLogger(), log, recorder });
  let time = 1_700_000_000_000;
  const feed = async (resource: string, percents: number[]) => {
    for (const percentUsed of percents) {
      time += 1000;
      const sample: Sample = { class: 'PagingSpace', resource, node: 'n1', time, attrs: { percentUsed, totalKiB: 100, usedKiB: percentUsed, freeKiB: 100 - percentUsed, configured: true } };
      await evaluator.submit('PagingSpace', [sample]);
    }
  };
  const events = () => store.events.listAfter(0, { limit: 1000 }).map((item) => item.event);
  return { store, evaluator, delivered, feed, events, metrics };
}

test('a crossing becomes one event, the way back one rearm, with ids origin:seq in delivery order', async (t) => {
  const dir = tempDir(t);
  const node = open(dir, [subscription({})]);
  await node.feed('total', [50, 80, 90, 85, 59, 40, 76]);
  const events = node.events();
  assert.deepEqual(events.map((e) => [e.id, e.type, e.attrs.percentUsed]), [['n1:1', 'event', 80], ['n1:2', 'rearm', 59], ['n1:3', 'event', 76]]);
  assert.deepEqual(node.delivered.map((e) => e.id), ['n1:1', 'n1:2', 'n1:3']);
  assert.equal(events[0]?.expr, 'percentUsed > 75');
  assert.equal(events[1]?.expr, 'percentUsed < 60');
  assert.equal(events[0]?.prev?.percentUsed, 50);
  node.store.close();
});

test('threshold state and $prev survive a restart: no repeat, no loss', async (t) => {
  const dir = tempDir(t);
  const rate = subscription({ id: 'rate', name: 'swap-rising', expr: '(percentUsed - $prev.percentUsed) > 10', rearm: undefined, for: 2 });
  const first = open(dir, [subscription({}), rate]);
  await first.feed('total', [50, 80, 95]); // swap-high fires at 80; swap-rising: +30 then +15 -> fires on 2nd
  assert.deepEqual(first.events().map((e) => `${e.subscriptionName}:${e.type}`), ['swap-high:event', 'swap-rising:event']);
  await first.feed('total', [100]); // +5: swap-rising rearms (no rearm expr: expr false)
  first.store.close();

  const second = open(dir, [subscription({}), rate]);
  await second.feed('total', [99, 115]); // swap-high still fired: nothing; rising: +16 is 1 of 2
  assert.equal(second.events().length, 3);
  await second.feed('total', [130]); // +15: 2 consecutive -> fires
  await second.feed('total', [50]); // swap-high rearms; swap-rising too (-80 is not a rise)
  assert.deepEqual(second.events().map((e) => `${e.id}:${e.subscriptionName}:${e.type}`), [
    'n1:1:swap-high:event', 'n1:2:swap-rising:event', 'n1:3:swap-rising:rearm', 'n1:4:swap-rising:event', 'n1:5:swap-high:rearm', 'n1:6:swap-rising:rearm',
  ]);
  second.store.close();
});

test('where filters resources; each resource has its own state', async (t) => {
  const dir = tempDir(t);
  const node = open(dir, [subscription({ where: '$resource != "total"' })]);
  await node.feed('total', [90]);
  await node.feed('/dev/sda2', [90]);
  await node.feed('/dev/sdb1', [90]);
  assert.deepEqual(node.events().map((e) => e.resource), ['/dev/sda2', '/dev/sdb1']);
  node.store.close();
});

test('an expression that fails on a sample is counted and skipped; others go on', async (t) => {
  const dir = tempDir(t);
  const node = open(dir, [subscription({ id: 'bad', name: 'bad', expr: '$node > 1' }), subscription({})]);
  await node.feed('total', [90]);
  assert.deepEqual(node.events().map((e) => e.subscriptionName), ['swap-high']);
  const errors = await node.metrics.evaluationErrors.get();
  assert.equal(errors.values[0]?.value, 1);
  node.store.close();
});

test('events owe action runs, written in the same transaction', async (t) => {
  const dir = tempDir(t);
  const actions = [{ run: '/bin/true', timeout: '5s', on: ['event' as const] }, { run: '/bin/echo', timeout: '5s', on: ['event' as const, 'rearm' as const] }];
  const node = open(dir, [subscription({ actions })]);
  await node.feed('total', [80, 50]);
  const runs = node.store.actionRuns.list({ limit: 10 }).reverse();
  assert.deepEqual(runs.map((r) => [r.eventId, r.actionIndex, r.status]), [['n1:1', 0, 'pending'], ['n1:1', 1, 'pending'], ['n1:2', 1, 'pending']]);
  node.store.close();
});
