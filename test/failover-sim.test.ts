// The failover consumer inside the deterministic simulator: seeded crashes,
// partitions (one-way cuts included), loss, reordering and clock skew, with
// the real FailoverRuntime on every node. Invariant: at no moment do two
// nodes of a partition with quorum run the group. Replay one seed with
// `node dist/test/sim/failover-replay.js SEED NODES`.
import assert from 'node:assert/strict';
import { test } from './helpers/node-test.js';
import { checkFailover, runFailover, failoverSchedule, type Holding } from './sim/failover.js';

const seeds = 1000;

test(`failover in the simulator: never two holders in a partition with quorum, over ${seeds} schedules of 3-5 nodes`, () => {
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

test('the failover checker objects to two holders in one partition with quorum, and not across a partition', () => {
  const schedule = { ...failoverSchedule(1, 3), actions: [
    { t: 0, kind: 'start' as const, node: 'n1' }, { t: 0, kind: 'start' as const, node: 'n2' }, { t: 0, kind: 'start' as const, node: 'n3' },
    { t: 1000, kind: 'cut' as const, id: 1, links: [['n1', 'n2'], ['n2', 'n1'], ['n1', 'n3'], ['n3', 'n1']] as [string, string][] },
  ], endAt: 5000 };
  const alive = () => true;
  const overlapping: Holding[] = [{ node: 'n1', from: 100, to: 2000 }, { node: 'n2', from: 500, to: 3000 }];
  assert.equal(checkFailover(schedule, overlapping, alive).length, 1);
  const acrossPartition: Holding[] = [{ node: 'n1', from: 100, to: 2000 }, { node: 'n2', from: 1200, to: 3000 }];
  assert.deepEqual(checkFailover(schedule, acrossPartition, alive), []);
});
