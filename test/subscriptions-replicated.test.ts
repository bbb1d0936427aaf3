// A replicated subscription is validated, not cast: a bad one from a peer is
// refused and counted, and one that fits is known here.
import assert from 'node:assert/strict';
import { defer } from './helpers/cleanup.js';
import { test } from 'node:test';
import { apiUnderTest } from './helpers/api-context.js';
import { tempDir } from './helpers/tmp.js';

const good = {
  id: 'abc', name: 'swap-high', class: 'PagingSpace', expr: 'percentUsed > 75', scope: 'cluster', order: 'agreed',
  actions: [], node: 'n2', createdAt: new Date(0).toISOString(),
};

test('replicated subscriptions: one that fits the schema is known; a bad one is refused, counted, and changes nothing', async (t) => {
  const { context, close, refused } = await apiUnderTest(tempDir(t));
  defer(t, close);
  const { subscriptions } = context;
  subscriptions.applyReplicated('abc', good);
  assert.deepEqual(subscriptions.list().map((s) => s.id), ['abc']);

  const bad: [string, unknown][] = [
    ['x1', { ...good, id: 'x1', expr: 42 }],                       // wrong type
    ['x2', { ...good, id: 'x2', scope: undefined }],               // no scope: never guessed
    ['x3', { ...good, id: 'x3', actions: [{ run: 7 }] }],          // a bad action
    ['x4', { ...good, id: 'other' }],                              // id not the map key
    ['x5', { ...good, id: 'x5', extra: true }],                    // unknown field
    ['x6', 'not an object'],
    ['abc', { ...good, order: 'random' }],                         // a bad update of a known one
  ];
  for (const [id, value] of bad) subscriptions.applyReplicated(id, value);
  assert.equal(refused(), bad.length);
  assert.deepEqual(subscriptions.list().map((s) => [s.id, s.order]), [['abc', 'agreed']]);
});
