// The cluster core under 1,000 seeded fault schedules (3 to 7 nodes), in two
// files so `node --test --test-concurrency=2` runs both halves at once. A
// failure names its seed and the command that replays it with a full trace.

import assert from 'node:assert/strict';
import { test } from './helpers/node-test.js';
import { describeFailures, runSeeds } from './sim/suite.js';

test('seeds 501-1000: every invariant holds on every schedule', (t) => {
  const { failures, ms } = runSeeds(501, 1000);
  t.diagnostic(`500 schedules in ${(ms / 1000).toFixed(1)} s`);
  assert.equal(failures.length, 0, describeFailures(failures));
});
