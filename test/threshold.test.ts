import assert from 'node:assert/strict';
import { test } from './helpers/node-test.js';
import { deciding, initialState, step, type ForClause, type ThresholdState } from '../services/eventd/evaluation/threshold.js';
import { parseFor } from '../services/eventd/subscriptions/for-clause.js';

/** Feeds a series of (holds-of-expr, holds-of-rearm) samples and returns what was emitted, one letter per sample. */
function run(series: { expr: boolean; rearm?: boolean; time?: number }[], forClause?: ForClause, hasRearm = true, start: ThresholdState = initialState) {
  let state = start;
  const out: string[] = [];
  series.forEach((sample, index) => {
    const which = deciding(state, hasRearm);
    const holds = which === 'expr' ? sample.expr : which === 'rearm' ? Boolean(sample.rearm) : !sample.expr;
    const result = step(state, holds, sample.time ?? index * 1000, forClause);
    state = result.state;
    out.push(result.emit === 'event' ? 'E' : result.emit === 'rearm' ? 'R' : '.');
  });
  return { out: out.join(''), state };
}

// percentUsed series against expr > 75, rearm < 60.
const usage = (values: number[]) => values.map((v) => ({ expr: v > 75, rearm: v < 60 }));

test('hysteresis: one event per crossing, one rearm on the way back, never one per sample', () => {
  assert.equal(run(usage([50, 80, 90, 85, 70, 76, 65, 59, 50, 80])).out, '.E.....R.E');
});

test('without rearm, the expression turning false rearms', () => {
  assert.equal(run(usage([50, 80, 90, 70, 80]), undefined, false).out, '.E.RE');
});

test('for N consecutive samples: a dip resets the count', () => {
  const clause = parseFor(3);
  assert.deepEqual(clause, { kind: 'count', n: 3 });
  assert.equal(run(usage([80, 80, 50, 80, 80, 80, 80]), clause).out, '.....E.');
});

test('for "M of N" samples (RSCT __QUAL_COUNT): fires on the M-th hit within the last N', () => {
  const clause = parseFor('2 of 3');
  assert.deepEqual(clause, { kind: 'window', m: 2, n: 3 });
  assert.equal(run(usage([80, 50, 50, 80, 50, 80]), clause).out, '.....E');
  assert.equal(run(usage([80, 50, 80]), clause).out, '..E');
});

test('for a duration: the expression must hold continuously that long', () => {
  const clause = parseFor('30s');
  assert.deepEqual(clause, { kind: 'duration', ms: 30_000 });
  const series = [
    { expr: true, time: 0 }, { expr: true, time: 20_000 }, { expr: false, time: 25_000 },
    { expr: true, time: 30_000 }, { expr: true, time: 50_000 }, { expr: true, time: 60_000 },
  ];
  assert.equal(run(series, clause).out, '.....E');
});

test('restart in the middle: persisted progress carries on, a fired state does not fire again', () => {
  const clause = parseFor(3);
  const first = run(usage([80, 80]), clause);
  assert.equal(first.out, '..');
  // What the store keeps is JSON; a restart reads it back.
  const restored = JSON.parse(JSON.stringify(first.state)) as ThresholdState;
  assert.equal(run(usage([80]), clause, true, restored).out, 'E');

  const fired = run(usage([80])).state;
  const afterRestart = JSON.parse(JSON.stringify(fired)) as ThresholdState;
  assert.equal(run(usage([90, 95, 50]), undefined, true, afterRestart).out, '..R');
});

test('unchanged states are reported unchanged, so nothing is written per sample', () => {
  assert.equal(step(initialState, false, 0).changed, false);
  const fired = step(initialState, true, 0);
  assert.equal(fired.changed, true);
  assert.equal(step(fired.state, false, 1).changed, false);
});

test('bad for clauses are rejected with the field named', () => {
  for (const bad of [0, '0', '3 of 2', 'soon', '5 parsecs', 1.5]) {
    assert.throws(() => parseFor(bad), (error: { code?: string; message?: string }) => error.code === 'EVENTD_ERR_BAD_FOR' && /^for: /.test(error.message ?? ''), String(bad));
  }
});
