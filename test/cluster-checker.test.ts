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
const d = (event: ClusterEvent, late = false, t = 100): NodeLogEntry => ({ kind: 'deliver', t, event, late });
const start: NodeLogEntry = { kind: 'start', t: 0, view: ['a', 'b'] };
const sub = { id: 's1', version: { hlc: format({ wall: 5, logical: 0 }), node: 'a' }, value: { name: 'x' } };

/** Two nodes, three events; `logs` replaces the sound logs of the nodes it names. */
function trace(logs: Partial<Record<'a' | 'b', NodeLogEntry[]>> = {}, extra: Partial<Trace> = {}): Trace {
  const sound = [start, d(a1), d(a2), d(b1)];
  return {
    seed: 42,
    nodes: ['a', 'b'],
    recorded: [a1, a2, b1].map((event) => ({ t: 1, event })),
    logs: { a: logs.a ?? sound, b: logs.b ?? sound },
    live: ['a', 'b'],
    finalViews: { a: ['a', 'b'], b: ['a', 'b'] },
    subscriptionWrites: [{ t: 1, node: 'a', entry: sub }],
    finalSubscriptions: { a: [sub], b: [sub] },
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

test('caught: agreed events released out of (hlc, origin, seq) order, and the sequences then differ', () => {
  expectProblem(trace({ b: [start, d(b1), d(a1), d(a2)] }), /node b released agreed a:1 .* out of \(hlc, origin, seq\) order/);
  expectProblem(trace({ b: [start, d(b1), d(a1), d(a2)] }), /agreed sequences differ between a and b at position 0: a:1 vs b:1/);
});

test('caught: an event a live node never delivered (origin live)', () => {
  expectProblem(trace({ b: [start, d(a1), d(b1)] }), /node b never delivered fifo a:2/);
});

test('caught: a duplicate delivery, even across a restart', () => {
  expectProblem(trace({ a: [start, d(a1), d(a2), { kind: 'crash', t: 150 }, { kind: 'start', t: 160, view: ['a', 'b'] }, d(a2, false, 170), d(b1)] }), /node a delivered a:2 twice/);
});

test('caught: a per-origin FIFO gap', () => {
  const t = trace({ a: [start, d(a1), d(a3), d(a2), d(b1)] });
  t.recorded.push({ t: 2, event: a3 });
  expectProblem(t, /node a broke fifo FIFO of origin a: delivered seq 3 .* where seq 2 was due/);
});

test('caught: an event flagged late although its origin was in the view at the release that passed it', () => {
  expectProblem(trace({ b: [start, d(b1), d(a1, true), d(a2)] }), /node b delivered a:1 late .* yet a was in its view \[a,b\] when it released b:1/);
});

test('accepted: the same late event when its origin had left the view before that release', () => {
  const b: NodeLogEntry[] = [start, { kind: 'view', t: 50, view: ['b'] }, d(b1), { kind: 'view', t: 150, view: ['a', 'b'] }, d(a1, true), d(a2)];
  assert.deepEqual(checkTrace(trace({ b })), []);
});

test('caught: an altered event, an invented one, diverged views, a lost subscription write', () => {
  expectProblem(trace({ b: [start, d({ ...a1, payload: { n: 'forged' } }), d(a2), d(b1)] }), /node b delivered a:1 altered/);
  expectProblem(trace({ b: [start, d(a1), d(a2), d(b1), d(ev('z', 1, 50, 'fifo'))] }), /node b delivered z:1 .* which no origin recorded/);
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
  assert.ok(problems.some((p) => /node n3 released agreed .* out of \(hlc, origin, seq\) order/.test(p)), JSON.stringify(problems));
});

test('caught end to end: a node that flags an in-order agreed delivery late', () => {
  let flipped = false;
  const problems = checkTrace(runSchedule(schedule, {
    tamper: (_t, node, outputs) => outputs.map((o) => {
      if (flipped || node !== 'n1' || o.type !== 'deliver' || o.event.order !== 'agreed' || o.event.origin === 'n1') return o;
      flipped = true;
      return { ...o, late: true };
    }),
  }));
  assert.ok(problems.some((p) => /node n1 (flagged .* late .* had released nothing above it|delivered .* late .* yet .* was in its view)/.test(p)), JSON.stringify(problems));
});
