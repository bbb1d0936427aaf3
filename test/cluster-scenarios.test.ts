// Hand-written cluster scenarios on the simulator: the minority pause, kill -9
// detection time, no false down for a busy core, refutation, and a fresh node
// joining a formed cluster. Each also passes the full checker.

import assert from 'node:assert/strict';
import { test } from './helpers/node-test.js';
import { nodeStateChanges, type CoreOutput } from '../services/eventd/cluster/core/index.js';
import { checkTrace } from './sim/checker.js';
import { nodeNames, scriptedSchedule, type ScheduleAction } from './sim/schedules.js';
import { runSchedule } from './sim/simulator.js';

type Seen = { t: number; node: string; output: CoreOutput };

function run(schedule: Parameters<typeof runSchedule>[0]) {
  const seen: Seen[] = [];
  const trace = runSchedule(schedule, { onOutput: (t, node, output) => seen.push({ t, node, output }) });
  return { trace, seen, problems: checkTrace(trace) };
}

const split = (a: string[], b: string[]): [string, string][] => a.flatMap((x) => b.flatMap((y): [string, string][] => [[x, y], [y, x]]));

test('a minority side keeps its view and pauses agreed delivery, FIFO goes on; all catches up after the heal', () => {
  const minority = ['n1', 'n2'];
  const majority = ['n3', 'n4', 'n5'];
  const { trace, seen, problems } = run(scriptedSchedule({
    nodes: 5,
    endAt: 9000,
    actions: [
      { t: 1000, kind: 'cut', id: 1, links: split(minority, majority) },
      { t: 3000, kind: 'event', node: 'n1', order: 'agreed' },
      { t: 3100, kind: 'event', node: 'n2', order: 'fifo' },
      { t: 3200, kind: 'event', node: 'n3', order: 'agreed' },
      { t: 5000, kind: 'mend', id: 1 },
    ],
  }));
  assert.deepEqual(problems, []);
  const during = (node: string) => seen.filter((s) => s.node === node && s.t >= 1000 && s.t < 5000).map((s) => s.output);
  for (const node of minority) {
    assert.equal(during(node).filter((o) => o.type === 'viewChange').length, 0, `${node} (minority) changed its view`);
    assert.equal(during(node).filter((o) => o.type === 'deliver' && o.event.order === 'agreed').length, 0, `${node} delivered agreed events in the minority`);
  }
  assert.ok(during('n1').some((o) => o.type === 'deliver' && o.event.origin === 'n2' && o.event.order === 'fifo'), 'n1 got n2\'s fifo event during the partition');
  for (const node of majority) {
    assert.ok(during(node).some((o) => o.type === 'viewChange' && o.down.includes('n1') && o.down.includes('n2')), `${node} dropped the minority`);
    assert.ok(during(node).some((o) => o.type === 'deliver' && o.event.origin === 'n3' && o.event.order === 'agreed' && o.position !== undefined), `${node} went on delivering agreed events`);
  }
  // After the heal the minority's agreed event reaches everyone at one position, after all the majority delivered meanwhile.
  const positions = new Set<number>();
  const before = Math.max(...majority.flatMap((node) => during(node).flatMap((o) => (o.type === 'deliver' && o.position !== undefined ? [o.position] : []))));
  for (const node of nodeNames(5)) {
    const got = seen.find((s) => s.node === node && s.output.type === 'deliver' && s.output.event.origin === 'n1' && s.output.event.order === 'agreed');
    assert.ok(got?.output.type === 'deliver' && got.output.position !== undefined, `${node} never delivered n1's agreed event`);
    positions.add(got.output.position);
    assert.ok(got.output.position > before, `${node}: n1's event at ${got.output.position}, not after the majority's ${before}`);
  }
  assert.equal(positions.size, 1, `n1's event at one position everywhere: ${[...positions].join(', ')}`);
  assert.deepEqual(Object.values(trace.finalViews), nodeNames(5).map(() => nodeNames(5)));
});

test('kill -9 of a member is in the view of every survivor within 1 s (40 kill times and tick phases)', (t) => {
  const delays: number[] = [];
  for (let seed = 1; seed <= 40; seed += 1) {
    const killAt = 3000 + seed * 37;
    const { seen, problems } = run(scriptedSchedule({
      seed,
      nodes: 5,
      endAt: killAt + 3000,
      actions: [{ t: killAt, kind: 'crash', node: 'n3' }, { t: killAt + 100, kind: 'event', node: 'n1', order: 'agreed' }],
    }));
    assert.deepEqual(problems, []);
    const detected = ['n1', 'n2', 'n4', 'n5'].map((node) => seen.find((s) => s.node === node && s.output.type === 'viewChange' && s.output.down.includes('n3'))?.t);
    assert.ok(detected.every((t) => t !== undefined), `seed ${seed}: some survivor never dropped n3`);
    delays.push(Math.max(...(detected as number[])) - killAt);
  }
  const worst = Math.max(...delays);
  t.diagnostic(`kill -9 detected by every survivor after ${Math.min(...delays)}..${worst} ms (suspectAfterMs 800)`);
  assert.ok(worst <= 1000, `detection took ${worst} ms`);
});

test('no false down while cores are busy: stalls of up to 450 ms change no view', () => {
  for (let seed = 1; seed <= 10; seed += 1) {
    const nodes = nodeNames(5);
    const actions: ScheduleAction[] = [];
    for (let i = 0; i < 12; i += 1) {
      actions.push({ t: 1000 + i * 1000 + ((seed * 131 + i * 71) % 400), kind: 'stall', node: nodes[(seed + i) % 5] as string, ms: 250 + ((seed * 17 + i * 53) % 201) });
      actions.push({ t: 1200 + i * 1000, kind: 'event', node: nodes[(seed * 3 + i) % 5] as string, order: i % 2 === 0 ? 'agreed' : 'fifo' });
    }
    const { seen, problems } = run(scriptedSchedule({ seed, nodes: 5, endAt: 16_000, actions }));
    assert.deepEqual(problems, []);
    const changes = seen.filter((s) => s.output.type === 'viewChange');
    assert.equal(changes.length, 0, `seed ${seed}: ${JSON.stringify(changes[0])}`);
  }
});

test('a node declared down while alive (stalled 2.5 s) refutes with a higher incarnation and is taken back', () => {
  const { seen, problems } = run(scriptedSchedule({
    nodes: 5,
    endAt: 8000,
    actions: [{ t: 2000, kind: 'stall', node: 'n2', ms: 2500 }, { t: 3000, kind: 'event', node: 'n1', order: 'agreed' }],
  }));
  assert.deepEqual(problems, []);
  const n1Views = seen.flatMap((s) => (s.node === 'n1' && s.output.type === 'viewChange' ? [s.output] : []));
  assert.deepEqual(n1Views.flatMap(nodeStateChanges), [
    { class: 'Node', resource: 'n2', attrs: { state: 'down' } },
    { class: 'Node', resource: 'n2', attrs: { state: 'up' } },
  ]);
  const incarnations = new Set(seen.flatMap((s) => (s.node === 'n2' && s.output.type === 'send' ? [s.output.frame.incarnation] : [])));
  assert.ok(Math.max(...incarnations) > Math.min(...incarnations), 'n2 rejoined with a higher incarnation');
});

test('a fresh node joins a formed cluster through a seed: it gets the view, the whole history and the subscriptions', () => {
  const { trace, seen, problems } = run(scriptedSchedule({
    nodes: 4,
    formed: ['n1', 'n2', 'n3'],
    endAt: 8000,
    actions: [
      { t: 0, kind: 'start', node: 'n1' },
      { t: 0, kind: 'start', node: 'n2' },
      { t: 0, kind: 'start', node: 'n3' },
      { t: 500, kind: 'event', node: 'n1', order: 'agreed' },
      { t: 600, kind: 'event', node: 'n2', order: 'fifo' },
      { t: 700, kind: 'subscription', node: 'n3', id: 's1', remove: false },
      { t: 3000, kind: 'start', node: 'n4' },
      { t: 5000, kind: 'event', node: 'n4', order: 'agreed' },
    ],
  }));
  assert.deepEqual(problems, []);
  assert.deepEqual(trace.finalViews.n4, ['n1', 'n2', 'n3', 'n4']);
  assert.equal(trace.finalSubscriptions.n4?.length, 1);
  const n4 = seen.filter((s) => s.node === 'n4' && s.output.type === 'deliver').map((s) => s.output.type === 'deliver' && `${s.output.event.origin}:${s.output.event.seq}`);
  assert.deepEqual(n4.slice(0, 2).sort(), ['n1:1', 'n2:1']);
  assert.ok(seen.some((s) => s.node === 'n1' && s.output.type === 'viewChange' && s.output.up.includes('n4')));
});

test('a node back from a long partition catches up 600 events in pull batches from peers, its origin being dead', () => {
  const actions: ScheduleAction[] = [
    { t: 500, kind: 'cut', id: 1, links: split(['n1'], ['n2', 'n3', 'n4']) },
    { t: 6000, kind: 'crash', node: 'n2' },
    { t: 6500, kind: 'mend', id: 1 },
  ];
  for (let i = 0; i < 600; i += 1) actions.push({ t: 1000 + i * 8, kind: 'event', node: 'n2', order: i % 2 === 0 ? 'agreed' : 'fifo' });
  const { trace, seen, problems } = run(scriptedSchedule({ nodes: 4, endAt: 10_000, actions, config: { maxEventsPerFrame: 16 } }));
  assert.deepEqual(problems, []);
  assert.equal(trace.logs.n1?.filter((e) => e.kind === 'deliver' && e.event.origin === 'n2').length, 600);
  const pulls = seen.filter((s) => s.node === 'n1' && s.t >= 6500 && s.output.type === 'send' && s.output.frame.type === 'pull');
  assert.ok(pulls.length >= 600 / 16, `only ${pulls.length} pulls`);
  assert.ok(pulls.every((s) => s.output.type === 'send' && s.output.to !== 'n2'));
});

test('two failures in a row in a 3-node cluster: when one node returns, the two live nodes form the view and go on', () => {
  const { trace, problems } = run(scriptedSchedule({
    nodes: 3,
    endAt: 10_000,
    actions: [
      { t: 1000, kind: 'crash', node: 'n3' }, // view shrinks to [n1,n2]
      { t: 3000, kind: 'crash', node: 'n2' }, // n1 alone: 1 of 2, it cannot drop n2 and pauses agreed delivery
      { t: 5000, kind: 'restart', node: 'n3', skewMs: 0 },
      { t: 6000, kind: 'event', node: 'n1', order: 'agreed' },
      { t: 6100, kind: 'event', node: 'n3', order: 'agreed' },
    ],
  }));
  assert.deepEqual(problems, []);
  assert.deepEqual(trace.finalViews, { n1: ['n1', 'n3'], n3: ['n1', 'n3'] });
});
