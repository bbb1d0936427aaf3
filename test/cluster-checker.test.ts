// The checker must be able to fail: hand-made traces break one invariant
// each, and sabotaged runs (a node's outputs rewritten between core and
// network) are caught end to end.

import assert from 'node:assert/strict';
import { test } from './helpers/node-test.js';
import type { ClusterEvent, CoreOutput } from '../services/eventd/cluster/core/index.js';
import { format } from '../services/eventd/hlc.js';
import { checkTrace } from './sim/checker.js';
import { scriptedSchedule, type ScheduleAction } from './sim/schedules.js';
import { runSchedule } from './sim/simulator.js';
import type { NodeLogEntry, Trace } from './sim/trace.js';

const ev = (origin: string, seq: number, wall: number, order: 'fifo' | 'agreed'): ClusterEvent => ({ origin, seq, hlc: format({ wall, logical: 0 }), order, payload: { n: `${origin}${seq}` } });
const a1 = ev('a', 1, 10, 'agreed');
const b1 = ev('b', 1, 20, 'agreed');
const a2 = ev('a', 2, 30, 'fifo');
const a3 = ev('a', 3, 40, 'fifo');
const d = (event: ClusterEvent, position?: number, t = 100, extra: { cutOffSince?: number; persistedBy?: number } = {}): NodeLogEntry =>
  ({ kind: 'deliver', t, event, ...(position === undefined ? {} : { position }), ...extra });
const view = (position: number, members = ['a', 'b'], t = 90): NodeLogEntry => ({ kind: 'cluster', t, position, epoch: '1.a', members });
const start: NodeLogEntry = { kind: 'start', t: 0, view: ['a', 'b'] };
const sub = { id: 's1', version: { hlc: format({ wall: 5, logical: 0 }), node: 'a' }, value: { name: 'x' } };

/** Two nodes, three events; `logs` replaces the sound logs of the nodes it names. */
function trace(logs: Partial<Record<'a' | 'b', NodeLogEntry[]>> = {}, extra: Partial<Trace> = {}): Trace {
  const sound = [start, view(1), d(a1, 2), d(a2), d(b1, 3)];
  return {
    seed: 42,
    nodes: ['a', 'b'],
    recorded: [a1, a2, b1].map((event) => ({ t: 1, event })),
    logs: { a: logs.a ?? sound, b: logs.b ?? sound },
    live: ['a', 'b'],
    finalViews: { a: ['a', 'b'], b: ['a', 'b'] },
    subscriptionWrites: [{ t: 1, node: 'a', entry: sub }],
    finalSubscriptions: { a: [sub], b: [sub] },
    commits: [{ t: 80, node: 'a', position: 3 }],
    configured: 2,
    inFlightMs: 50,
    ...extra,
  };
}

const expectProblem = (t: Trace, pattern: RegExp): void => {
  const problems = checkTrace(t);
  assert.ok(problems.some((p) => pattern.test(p)), `expected ${pattern}, got ${JSON.stringify(problems)}`);
  assert.ok(problems.every((p) => p.startsWith('seed 42: ')), 'every message names the seed');
};

test('a sound trace passes', () => {
  assert.deepEqual(checkTrace(trace()), []);
});

test('caught: two nodes with different events at one position (a swapped pair), and the sequences then differ', () => {
  expectProblem(trace({ b: [start, view(1), d(b1, 2), d(a2), d(a1, 3)] }), /position 2 differs: a delivered a:1 .*, b delivered b:1/);
  expectProblem(trace({ b: [start, view(1), d(b1, 2), d(a2), d(a1, 3)] }), /agreed sequences differ between a and b at position 2: a:1 vs b:1/);
});

test('caught: an agreed delivery off its position (a gap, a repeat, none at all), a fifo event with one', () => {
  expectProblem(trace({ b: [start, view(1), d(a1, 3), d(a2), d(b1, 4)] }), /node b delivered agreed a:1 at position 3 .* where position 2 was due/);
  expectProblem(trace({ b: [start, view(1), d(a1), d(a2), d(b1, 3)] }), /node b delivered agreed a:1 at position \(none\)/);
  expectProblem(trace({ b: [start, view(1), d(a1, 2), d(a2, 9), d(b1, 3)] }), /node b delivered fifo a:2 with a position/);
});

test('caught: a node cut off from every majority committing new positions; a delivery a majority had not persisted', () => {
  expectProblem(trace({}, { commits: [{ t: 80, node: 'a', position: 1 }, { t: 200, node: 'b', position: 3, cutOffSince: 10 }] }), /node b, cut off from every majority since t=10, committed positions 2..3 at t=200/);
  assert.deepEqual(checkTrace(trace({}, { commits: [{ t: 80, node: 'a', position: 3 }, { t: 200, node: 'b', position: 3, cutOffSince: 10 }] })), [], 'learning an old commit while cut off is fine');
  assert.deepEqual(checkTrace(trace({}, { commits: [{ t: 40, node: 'b', position: 3, cutOffSince: 10 }] })), [], 'within the in-flight bound of the cut');
  expectProblem(trace({ b: [start, view(1), d(a1, 2, 100, { persistedBy: 1 }), d(a2), d(b1, 3)] }), /node b delivered a:1 at position 2 at t=100 when only 1 of 2 nodes had persisted it/);
});

test('caught: Cluster views at different positions or with different members', () => {
  expectProblem(trace({ b: [start, view(1, ['a', 'b', 'c']), d(a1, 2), d(a2), d(b1, 3)] }), /position 1 differs: a delivered view 1.a \[a,b\] .*, b delivered view 1.a \[a,b,c\]/);
});

test('caught: an event a live node never delivered (origin live)', () => {
  expectProblem(trace({ b: [start, view(1), d(a1, 2), d(b1, 3)] }), /node b never delivered fifo a:2/);
});

test('caught: a duplicate delivery, even across a restart', () => {
  expectProblem(trace({ a: [start, view(1), d(a1, 2), d(a2), { kind: 'crash', t: 150 }, { kind: 'start', t: 160, view: ['a', 'b'] }, d(a2, undefined, 170), d(b1, 3)] }), /node a delivered a:2 twice/);
});

test('caught: a per-origin FIFO gap', () => {
  const t = trace({ a: [start, view(1), d(a1, 2), d(a3), d(a2), d(b1, 3)] });
  t.recorded.push({ t: 2, event: a3 });
  expectProblem(t, /node a broke fifo FIFO of origin a: delivered seq 3 .* where seq 2 was due/);
});

test('caught: an altered event, an invented one, diverged views, a lost subscription write', () => {
  expectProblem(trace({ b: [start, view(1), d({ ...a1, payload: { n: 'forged' } }, 2), d(a2), d(b1, 3)] }), /node b delivered a:1 altered/);
  expectProblem(trace({ b: [start, view(1), d(a1, 2), d(a2), d(b1, 3), d(ev('z', 1, 50, 'fifo'))] }), /node b delivered z:1 .* which no origin recorded/);
  expectProblem(trace({}, { finalViews: { a: ['a', 'b'], b: ['b'] } }), /node b ends with view \[b\], expected \[a,b\]/);
  const newer = { ...sub, version: { hlc: format({ wall: 9, logical: 0 }), node: 'a' } };
  expectProblem(trace({}, { subscriptionWrites: [{ t: 1, node: 'a', entry: sub }, { t: 2, node: 'a', entry: newer }] }), /subscription s1 written at a .* was lost/);
});

// --- sabotage through the simulator ----------------------------------------------------

const busy: ScheduleAction[] = [];
for (let i = 0; i < 20; i += 1) busy.push({ t: 500 + i * 150, kind: 'event', node: `n${1 + (i % 3)}`, order: i % 2 === 0 ? 'agreed' : 'fifo' });
const schedule = scriptedSchedule({ nodes: 3, endAt: 7000, actions: busy });

test('the untouched run of the sabotage schedule passes', () => {
  assert.deepEqual(checkTrace(runSchedule(schedule)), []);
});

test('caught end to end: a node that loses one delivery', () => {
  let dropped = false;
  const problems = checkTrace(runSchedule(schedule, {
    tamper: (_t, node, outputs) => outputs.filter((o) => {
      if (dropped || node !== 'n2' || o.type !== 'deliver' || o.event.origin !== 'n1' || o.event.order !== 'agreed') return true;
      dropped = true;
      return false;
    }),
  }));
  assert.ok(problems.some((p) => /node n2 (never delivered agreed n1:|broke agreed FIFO of origin n1)/.test(p)), JSON.stringify(problems));
});

test('caught end to end: a node that swaps two agreed deliveries', () => {
  let held: CoreOutput | undefined;
  let done = false;
  const problems = checkTrace(runSchedule(schedule, {
    tamper: (_t, node, outputs) => {
      if (done || node !== 'n3') return outputs;
      const out: CoreOutput[] = [];
      for (const o of outputs) {
        if (!done && o.type === 'deliver' && o.event.order === 'agreed') {
          if (held === undefined) { held = o; continue; }
          out.push(o, held);
          done = true;
          continue;
        }
        out.push(o);
      }
      return out;
    },
  }));
  assert.ok(problems.some((p) => /node n3 delivered agreed .* at position (\d+) .* where position \d+ was due/.test(p)), JSON.stringify(problems));
  assert.ok(problems.some((p) => /agreed sequences differ between n1 and n3/.test(p)), JSON.stringify(problems));
});

test('caught end to end: a node that gives an agreed delivery another position', () => {
  let moved = false;
  const problems = checkTrace(runSchedule(schedule, {
    tamper: (_t, node, outputs) => outputs.map((o) => {
      if (moved || node !== 'n1' || o.type !== 'deliver' || o.position === undefined || o.position < 3) return o;
      moved = true;
      return { ...o, position: o.position + 1 };
    }),
  }));
  assert.ok(problems.some((p) => /node n1 delivered agreed .* at position \d+ .* where position \d+ was due/.test(p)), JSON.stringify(problems));
});
