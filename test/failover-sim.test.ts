// The failover consumer inside the deterministic simulator: seeded crashes,
// partitions (one-way cuts included), loss, reordering and clock skew, with
// the real FailoverRuntime on every node, leases from the core's heartbeat
// acks and a watchdog. Invariant: at no moment do two nodes run the group. Replay one seed with
// `node dist/test/sim/failover-replay.js SEED NODES`.
import assert from 'node:assert/strict';
import { test } from './helpers/node-test.js';
import { checkFailover, group, runFailover, failoverSchedule } from './sim/failover.js';

const seeds = 1000;

test(`failover in the simulator: never two holders at once (stalls past the lease, one-way cuts), over ${seeds} schedules of 3-5 nodes`, () => {
  const problems: string[] = [];
  let settled = 0;
  let withQuorumAtEnd = 0;
  for (let seed = 1; seed <= seeds; seed++) {
    const nodes = 3 + (seed % 3);
    const run = runFailover(seed, nodes);
    problems.push(...run.problems);
    const keptDown = run.schedule.actions.flatMap((a) => (a.kind === 'heal' ? a.keepDown : []));
    if ((nodes - keptDown.length) * 2 > nodes) {
      withQuorumAtEnd++;
      if (run.holdersAtEnd.length === 1) settled++;
    }
    assert.ok(run.holdersAtEnd.length <= 1, `seed ${seed}: ${run.holdersAtEnd.length} holders at the end (${run.holdersAtEnd.join(',')})`);
  }
  assert.deepEqual(problems.slice(0, 5), [], `${problems.length} violations`);
  // Liveness, measured: once healed with a majority alive, the group runs somewhere.
  assert.ok(settled >= withQuorumAtEnd * 0.9, `settled with exactly one holder: ${settled} of ${withQuorumAtEnd}`);
});

test('the failover checker objects to two holders at once, even across a partition, and not to one after the other', () => {
  const schedule = { ...failoverSchedule(1, 3), endAt: 5000 };
  assert.equal(checkFailover(schedule, [{ node: 'n1', from: 100, to: 2000 }, { node: 'n2', from: 500, to: 3000 }]).length, 1);
  assert.equal(checkFailover(schedule, [{ node: 'n1', from: 100, to: 2000 }, { node: 'n2', from: 1200, to: 3000 }]).length, 1);
  assert.deepEqual(checkFailover(schedule, [{ node: 'n1', from: 100, to: 2000 }, { node: 'n2', from: 2000, to: 3000 }, { node: 'n1', from: 100, to: 200 }]), []);
});

test('the failover schedules hold a stall of a node longer than the lease, and one-way cuts', () => {
  let longStalls = 0;
  let oneWay = 0;
  for (let seed = 1; seed <= 50; seed++) {
    const schedule = failoverSchedule(seed, 3);
    if (schedule.actions.some((a) => a.kind === 'stall' && a.ms > group.leaseMs)) longStalls++;
    if (schedule.actions.some((a) => a.kind === 'cut' && a.links.some(([x, y]) => !a.links.some(([p, q]) => p === y && q === x)))) oneWay++;
  }
  assert.equal(longStalls, 50);
  assert.ok(oneWay > 5, `${oneWay} schedules of 50 with a one-way cut`);
});
