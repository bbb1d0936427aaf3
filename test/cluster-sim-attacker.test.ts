// The simulator's attacker (issue 11): frames replayed to any node, at any
// time, including past the 30 s window; the edge's replay protection (the
// real ReplayGuard, high-water kept across crashes) lets none reach a core
// twice, and the checker's invariants hold (cluster-sim*.test.ts run all 1,000).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkTrace } from './sim/checker.js';
import { nodesForSeed } from './sim/replay.js';
import { generateSchedule } from './sim/schedules.js';
import { runSchedule } from './sim/simulator.js';

test('the attacker replays frames in every schedule, none is admitted twice, the invariants hold', () => {
  let sent = 0;
  for (let seed = 1; seed <= 40; seed += 1) {
    const trace = runSchedule(generateSchedule(seed, nodesForSeed(seed)));
    assert.deepEqual(checkTrace(trace), [], `seed ${seed}`);
    assert.equal(trace.replays?.admitted, 0, `seed ${seed}`);
    sent += trace.replays?.sent ?? 0;
  }
  assert.ok(sent > 400, `the attacker replayed ${sent} frames over 40 schedules`);
});

test('the checker objects to a frame admitted twice', () => {
  const trace = runSchedule(generateSchedule(3, nodesForSeed(3)));
  trace.replays = { sent: 10, admitted: 1 };
  assert.match(checkTrace(trace).join('\n'), /1 frames admitted a second time/);
});
