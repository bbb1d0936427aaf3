// The failover consumer inside the deterministic simulator: seeded crashes,
// partitions (one-way cuts included), loss, reordering and clock skew, with
// the real FailoverRuntime on every node, leases from the core's heartbeat
// acks and a watchdog, three groups (svc, vip colocated with it, app after
// it) and an operator's move or ban. Invariants: at no moment do two nodes
// run a group; app never starts before svc runs; vip never apart from svc
// for longer than one transition; moves and bans honoured once agreed.
// Replay one seed with `node dist/test/sim/failover-replay.js SEED NODES`.
import assert from 'node:assert/strict';
import { test } from './helpers/node-test.js';
import { checkConstraints, checkControl, checkFailover, group, runFailover, failoverSchedule, staleMs, transitionMs } from './sim/failover.js';

const seeds = 1000;

test(`failover in the simulator: never two holders at once (stalls past the lease, one-way cuts), constraints and operator controls hold, over ${seeds} schedules of 3-5 nodes`, () => {
  const problems: string[] = [];
  let settled = 0;
  let withQuorumAtEnd = 0;
  let controls = 0;
  for (let seed = 1; seed <= seeds; seed++) {
    const nodes = 3 + (seed % 3);
    const run = runFailover(seed, nodes);
    problems.push(...run.problems);
    if (run.control) controls++;
    const keptDown = run.schedule.actions.flatMap((a) => (a.kind === 'heal' ? a.keepDown : []));
    if ((nodes - keptDown.length) * 2 > nodes) {
      withQuorumAtEnd++;
      if (Object.values(run.holdersAtEnd).every((holders) => holders.length === 1)) settled++;
    }
    for (const [name, holders] of Object.entries(run.holdersAtEnd)) assert.ok(holders.length <= 1, `seed ${seed}: ${holders.length} holders of ${name} at the end (${holders.join(',')})`);
  }
  assert.deepEqual(problems.slice(0, 5), [], `${problems.length} violations`);
  // Liveness, measured: once healed with a majority alive, every group runs somewhere.
  assert.ok(settled >= withQuorumAtEnd * 0.9, `settled with exactly one holder of each group: ${settled} of ${withQuorumAtEnd}`);
  assert.ok(controls > seeds / 2, `operator controls raised in ${controls} runs`);
});

test('the constraint and control checkers object to what breaks them', () => {
  const schedule = { ...failoverSchedule(1, 3), endAt: 10_000 };
  const h = (group: string, node: string, from: number, to: number, planned = true) => ({ group, node, from, runningAt: from + 10, to, planned });
  assert.equal(checkConstraints(schedule, [h('app', 'n2', 100, 900)]).length, 1, 'app with no svc at all');
  assert.equal(checkConstraints(schedule, [h('svc', 'n1', 0, 500), h('app', 'n2', 600, 900)]).length, 1, 'app after a planned stop of svc');
  assert.deepEqual(checkConstraints(schedule, [h('svc', 'n1', 0, 500, false), h('app', 'n2', 600, 900)]), [], 'app started before the crash of svc was known');
  assert.equal(checkConstraints(schedule, [h('svc', 'n1', 0, 500, false), h('app', 'n2', 600 + staleMs, 9000)]).length, 1, 'app long after svc crashed');
  assert.deepEqual(checkConstraints(schedule, [h('svc', 'n1', 0, 500), h('app', 'n2', 200, 900)]), []);
  assert.equal(checkConstraints(schedule, [h('svc', 'n1', 0, 5000), h('vip', 'n2', 100, 100 + transitionMs + 1)]).length, 1, 'vip apart for too long');
  assert.deepEqual(checkConstraints(schedule, [h('svc', 'n1', 0, 5000), h('vip', 'n1', 100, 4000)]), []);
  assert.equal(checkControl(schedule, { action: 'ban', group: 'svc', node: 'n1', t: 1, by: 'n2' }, { svc: ['n1'] }, ['n1', 'n2']).length, 1);
  assert.equal(checkControl(schedule, { action: 'move', group: 'svc', node: 'n2', t: 1, by: 'n2' }, { svc: ['n1'] }, ['n1', 'n2']).length, 1);
  assert.deepEqual(checkControl(schedule, { action: 'move', group: 'svc', node: 'n3', t: 1, by: 'n2' }, { svc: ['n1'] }, ['n1', 'n2']), [], 'moved to a dead node');
});

test('the failover checker objects to two holders at once, even across a partition, and not to one after the other', () => {
  const schedule = { ...failoverSchedule(1, 3), endAt: 5000 };
  const h = (node: string, from: number, to: number, group = 'svc') => ({ group, node, from, runningAt: from, to, planned: true });
  assert.equal(checkFailover(schedule, [h('n1', 100, 2000), h('n2', 500, 3000)]).length, 1);
  assert.equal(checkFailover(schedule, [h('n1', 100, 2000), h('n2', 1200, 3000)]).length, 1);
  assert.deepEqual(checkFailover(schedule, [h('n1', 100, 2000), h('n2', 2000, 3000), h('n1', 100, 200)]), []);
  assert.deepEqual(checkFailover(schedule, [h('n1', 100, 2000), h('n2', 500, 3000, 'app')]), [], 'two groups on two nodes at once is fine');
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

test('the failover schedules hold a node whose loop runs late for seconds: many short stalls, each under the stall rule', () => {
  for (let seed = 1; seed <= 50; seed++) {
    const schedule = failoverSchedule(seed, 3);
    const short = schedule.actions.filter((a) => a.kind === 'stall' && a.ms >= 100 && a.ms <= 240);
    const byNode = new Map<string, number>();
    for (const a of short) if (a.kind === 'stall') byNode.set(a.node, (byNode.get(a.node) ?? 0) + 1);
    assert.ok(Math.max(0, ...byNode.values()) >= 4, `seed ${seed}: a node lags again and again (${JSON.stringify([...byNode])})`);
  }
});
