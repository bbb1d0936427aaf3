// Flap detection (Nagios' percent state change) on a recorded flapping
// series, through the real evaluator and event log over a SQLite store: one
// `flapping` event whose responses run, crossings meanwhile logged and muted,
// `flapping-end` once the resource settles; the state survives a restart.
import assert from 'node:assert/strict';
import { defer } from './helpers/cleanup.js';
import { describe, test } from 'node:test';
import { Evaluator } from '../services/eventd/evaluation/evaluator.js';
import { silentLogger } from '../services/eventd/logger.js';
import { createMetrics } from '../services/eventd/metrics.js';
import { defaultFlap, flapStep, initialFlapState, percentStateChange, type FlapState } from '../services/eventd/responses/flap.js';
import type { EventRecord, Sample } from '../services/eventd/types.js';
import { apiUnderTest } from './helpers/api-context.js';
import { localEventLog } from './helpers/event-log.js';
import { tempDir } from './helpers/tmp.js';

describe('percent state change', () => {
  test('steady is 0%, alternating every sample is 100%, recent changes weigh more than old ones', () => {
    const steady = Array<boolean>(21).fill(false);
    assert.equal(percentStateChange(steady, 21), 0);
    const alternating = Array.from({ length: 21 }, (_, i) => i % 2 === 0);
    assert.equal(Math.round(percentStateChange(alternating, 21)), 100);
    const oldChange = [true, ...Array<boolean>(20).fill(false)];
    const newChange = [...Array<boolean>(20).fill(false), true];
    assert.equal(percentStateChange(oldChange, 21).toFixed(2), '4.00'); // 0.8 / 20
    assert.equal(percentStateChange(newChange, 21).toFixed(2), '6.00'); // 1.2 / 20
  });

  test('starts above high, ends below low, not in between (hysteresis)', () => {
    let state: FlapState = initialFlapState;
    const changes: { change: string; percent: number }[] = [];
    const series = [...Array.from({ length: 30 }, (_, i) => i % 2 === 0), ...Array<boolean>(30).fill(true)];
    for (const fired of series) {
      const step = flapStep(state, fired, defaultFlap);
      if (step.change) changes.push({ change: step.change, percent: step.percent });
      state = step.state;
    }
    assert.deepEqual(changes.map((c) => c.change), ['start', 'end'], JSON.stringify(changes));
    assert.ok((changes[0]?.percent ?? 0) > 50 && (changes[0]?.percent ?? 100) < 60, JSON.stringify(changes));
    assert.ok((changes[1]?.percent ?? 100) < 25, JSON.stringify(changes));
  });
});

/** A recorded series of PagingSpace percentUsed: quiet, flapping around 75, then steady high. */
const recorded = [40, 40, 40, 80, 40, 80, 40, 80, 40, 80, 40, 80, 40, 80, 40, 80, 40, 80, 40, 80, 40, 80, ...Array<number>(25).fill(85)];

function samples(values: number[], from = 0): Sample[][] {
  return values.map((percentUsed, i) => [{
    class: 'PagingSpace', resource: 'total', node: 'n1', time: 1_700_000_000_000 + (from + i) * 1000,
    attrs: { totalKiB: 1000, usedKiB: percentUsed * 10, freeKiB: 1000 - percentUsed * 10, percentUsed, configured: true },
  }]);
}

test('a flapping series raises one flapping event whose responses run, mutes the crossings meanwhile, and ends with flapping-end', async (t) => {
  const dir = tempDir(t);
  const api = await apiUnderTest(dir);
  defer(t, () => api.close());
  const { context, evaluator } = api;
  context.responses.create({ name: 'page-oncall', actions: [{ webhook: { url: 'http://127.0.0.1:9/hook' } }] });
  const sub = context.subscriptions.create({ name: 'swap', class: 'PagingSpace', expr: 'percentUsed > 75', rearm: 'percentUsed < 60', flap: {}, responses: ['page-oncall'] });
  assert.deepEqual(sub.flap, { window: 21, low: 25, high: 50 });
  for (const batch of samples(recorded)) await evaluator.submit('PagingSpace', batch);

  const events = context.store.events.listAfter(0, { limit: 1000 }).map(({ event }) => event);
  const types = events.map((e) => `${e.type}${e.flapping ? '*' : ''}`);
  const flapping = types.indexOf('flapping');
  assert.ok(flapping > 0, types.join(' '));
  assert.equal(types.filter((type) => type === 'flapping').length, 1, types.join(' '));
  assert.equal(types.filter((type) => type === 'flapping-end').length, 1, types.join(' '));
  assert.equal(types.at(-1), 'flapping-end');
  // Before it: plain crossings; from the one that tipped it to the end: muted crossings.
  assert.ok(types.slice(0, flapping - 1).every((type) => type === 'event' || type === 'rearm'), types.join(' '));
  assert.ok(types.slice(flapping - 1, -1).every((type) => type === 'flapping' || type.endsWith('*')), types.join(' '));
  const flap = events[flapping] as EventRecord;
  assert.ok(Number(flap.attrs.percentStateChange) > 50);
  assert.match(flap.expr, /^percent state change \d+\.\d% > high 50$/);

  const runs = context.store.actionRuns.list({ limit: 1000 }).reverse();
  const byEvent = new Map(runs.map((run) => [run.eventId, run]));
  assert.equal(byEvent.get(flap.id)?.status, 'pending'); // the flapping event's response runs
  for (const event of events.filter((e) => e.flapping)) assert.deepEqual([byEvent.get(event.id)?.status, byEvent.get(event.id)?.reason], ['skipped', 'flapping']);
  for (const event of events.slice(0, flapping - 1)) assert.equal(byEvent.get(event.id)?.status, 'pending');
  assert.equal(byEvent.get(events.at(-1)!.id)?.status, 'pending'); // flapping-end runs what a rearm runs
});

test('the flap history is persisted: a new evaluator on the same store goes on where it was', async (t) => {
  const dir = tempDir(t);
  const api = await apiUnderTest(dir);
  defer(t, () => api.close());
  const { context, evaluator, registry } = api;
  context.subscriptions.create({ name: 'swap', class: 'PagingSpace', expr: 'percentUsed > 75', rearm: 'percentUsed < 60', flap: {} });
  const tipping = recorded.slice(0, 16);
  for (const batch of samples(tipping)) await evaluator.submit('PagingSpace', batch);
  const before = context.store.events.listAfter(0, { limit: 1000 }).map(({ event }) => event.type);
  assert.ok(before.includes('flapping'), before.join(' '));

  // A second evaluator over the same store (a restart): still flapping, so the next crossing is muted, and no second flapping event.
  const { log, recorder } = localEventLog(context.store, createMetrics());
  const again = new Evaluator({ node: 'n1', store: context.store, registry, metrics: createMetrics(), logger: silentLogger(), log, recorder });
  for (const batch of samples([80, 40], tipping.length)) await again.submit('PagingSpace', batch);
  const after = context.store.events.listAfter(0, { limit: 1000 }).map(({ event }) => event);
  assert.equal(after.filter((e) => e.type === 'flapping').length, 1);
  assert.ok(after.slice(before.length).every((e) => e.flapping === true), JSON.stringify(after.slice(before.length)));
});
