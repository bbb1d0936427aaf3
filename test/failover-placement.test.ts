import assert from 'node:assert/strict';
import { describe, test } from './helpers/node-test.js';
import { bannedKey, DEFAULT_CAPACITY, homelessReason, place, type PlacementGroup, type PlacementInput } from '../consumers/failover/placement.js';
import { isEventdError } from '../services/eventd/errors.js';

function input(partial: Partial<PlacementInput> & Pick<PlacementInput, 'view' | 'groups'>): PlacementInput {
  return { capacities: new Map(), current: new Map(), banned: new Set(), failback: false, ...partial };
}

/** The answer as plain sorted pairs, for readable failures. */
function pairs(answer: Map<string, string | null>): [string, string | null][] {
  return [...answer].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function placed(answer: Map<string, string | null>): Map<string, string> {
  const current = new Map<string, string>();
  for (const [group, node] of answer) if (node !== null) current.set(group, node);
  return current;
}

describe('failover placement: rules', () => {
  test('prefer list first, in list order, skipping nodes not in the view', () => {
    const groups = [{ name: 'db', weight: 10, prefer: ['n3', 'n1'] }];
    assert.deepEqual(pairs(place(input({ view: ['n1', 'n2', 'n3'], groups }))), [['db', 'n3']]);
    assert.deepEqual(pairs(place(input({ view: ['n1', 'n2'], groups }))), [['db', 'n1']]);
  });

  test('without a preference: most free capacity, then node name', () => {
    const groups = [{ name: 'web', weight: 10 }];
    const capacities = new Map([['n1', 50], ['n3', 200]]);
    assert.deepEqual(pairs(place(input({ view: ['n1', 'n2', 'n3'], groups, capacities }))), [['web', 'n3']]);
    // n2 and n3 both default to DEFAULT_CAPACITY: the name breaks the tie.
    assert.deepEqual(pairs(place(input({ view: ['n3', 'n2'], groups }))), [['web', 'n2']]);
    assert.equal(DEFAULT_CAPACITY, 100);
  });

  test('groups spread by free capacity as they are placed, heaviest first', () => {
    const groups = [
      { name: 'a', weight: 30 },
      { name: 'b', weight: 50 },
      { name: 'c', weight: 20 },
    ];
    // b (50) -> n1 (a tie, by name); a (30) -> n2 (100 free vs 50); c (20) -> n2 (70 free vs 50).
    assert.deepEqual(pairs(place(input({ view: ['n1', 'n2'], groups }))), [
      ['a', 'n2'],
      ['b', 'n1'],
      ['c', 'n2'],
    ]);
  });

  test('a capacity is never exceeded: null when no node has room', () => {
    const groups = [
      { name: 'big', weight: 80 },
      { name: 'also-big', weight: 80 },
      { name: 'huge', weight: 101 },
    ];
    const answer = place(input({ view: ['n1'], groups }));
    assert.deepEqual(pairs(answer), [
      ['also-big', 'n1'],
      ['big', null],
      ['huge', null],
    ]);
    assert.deepEqual(pairs(place(input({ view: [], groups: [{ name: 'g', weight: 0 }] }))), [['g', null]]);
  });

  test('stickiness: a group stays on its node even when a preferred node is back', () => {
    const groups = [{ name: 'db', weight: 10, prefer: ['n1'] }];
    const current = new Map([['db', 'n2']]);
    assert.deepEqual(pairs(place(input({ view: ['n1', 'n2'], groups, current }))), [['db', 'n2']]);
  });

  test('failback: a group returns to a node ranked higher in its prefer list that has room', () => {
    const groups = [{ name: 'db', weight: 60, prefer: ['n1', 'n2'] }];
    const current = new Map([['db', 'n3']]);
    const view = ['n1', 'n2', 'n3'];
    assert.deepEqual(pairs(place(input({ view, groups, current, failback: true }))), [['db', 'n1']]);
    // No room on n1: the next preferred node ranked above n3 is n2.
    const capacities = new Map([['n1', 50]]);
    assert.deepEqual(pairs(place(input({ view, groups, current, capacities, failback: true }))), [['db', 'n2']]);
    // Without a prefer list there is nothing to fail back to.
    const plain = [{ name: 'db', weight: 60 }];
    assert.deepEqual(pairs(place(input({ view, groups: plain, current, failback: true }))), [['db', 'n3']]);
  });

  test('failback never leaves a group homeless: homeless groups are placed first', () => {
    const groups = [
      { name: 'g1', weight: 60, prefer: ['n1'] },
      { name: 'g2', weight: 60 },
    ];
    const current = new Map([['g1', 'n2'], ['g2', 'n3']]);
    assert.deepEqual(pairs(place(input({ view: ['n1', 'n2'], groups, current, failback: true }))), [
      ['g1', 'n2'],
      ['g2', 'n1'],
    ]);
  });

  test('a holder that no longer fits keeps the heaviest groups; the others move', () => {
    const groups = [
      { name: 'small', weight: 30 },
      { name: 'large', weight: 40 },
    ];
    const current = new Map([['small', 'n1'], ['large', 'n1']]);
    const capacities = new Map([['n1', 50]]);
    assert.deepEqual(pairs(place(input({ view: ['n1', 'n2'], groups, current, capacities }))), [
      ['large', 'n1'],
      ['small', 'n2'],
    ]);
  });

  test('a holder outside the view loses its group', () => {
    const groups = [{ name: 'db', weight: 10, prefer: ['n9', 'n2'] }];
    const current = new Map([['db', 'n9']]);
    assert.deepEqual(pairs(place(input({ view: ['n1', 'n2'], groups, current }))), [['db', 'n2']]);
  });

  test('banned pairs: the group leaves a banned holder, skips banned nodes, null when banned everywhere', () => {
    const groups = [{ name: 'db', weight: 10, prefer: ['n1', 'n2'] }];
    const current = new Map([['db', 'n1']]);
    const view = ['n1', 'n2', 'n3'];
    const banned = new Set([bannedKey('db', 'n1')]);
    assert.deepEqual(pairs(place(input({ view, groups, current, banned }))), [['db', 'n2']]);
    banned.add(bannedKey('db', 'n2'));
    assert.deepEqual(pairs(place(input({ view, groups, current, banned }))), [['db', 'n3']]);
    banned.add(bannedKey('db', 'n3'));
    assert.deepEqual(pairs(place(input({ view, groups, current, banned }))), [['db', null]]);
    // A ban names one group: another group still goes there.
    const other = [...groups, { name: 'web', weight: 10, prefer: ['n1'] }];
    assert.equal(place(input({ view, groups: other, banned })).get('web'), 'n1');
  });

  test('bad groups are a config error, not an order-dependent answer', () => {
    const isBadConfig = (error: unknown): boolean => isEventdError(error) && error.code === 'EVENTD_ERR_BAD_CONFIG';
    const twice = [{ name: 'g', weight: 1 }, { name: 'g', weight: 2 }];
    assert.throws(() => place(input({ view: ['n1'], groups: twice })), isBadConfig);
    assert.throws(() => place(input({ view: ['n1'], groups: [{ name: 'g', weight: -1 }] })), isBadConfig);
    assert.throws(() => place(input({ view: ['n1'], groups: [{ name: 'g', weight: NaN }] })), isBadConfig);
  });
});

// ---- properties over seeded random inputs ----

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Random = () => number;
const int = (random: Random, n: number): number => Math.floor(random() * n);
const pick = <T>(random: Random, items: readonly T[]): T => items[int(random, items.length)] as T;
function shuffled<T>(random: Random, items: Iterable<T>): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = int(random, i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}
const subset = <T>(random: Random, items: readonly T[], p: number): T[] => items.filter(() => random() < p);

// Names that sort differently by code unit and by "natural" order.
const POOL = ['n1', 'n2', 'n10', 'node-9', 'B', 'a', 'z'];
const WEIGHTS = [0, 5, 10, 10, 20, 25, 30, 40, 50, 60, 80, 100, 12.5];
const CAPACITIES = [0, 20, 50, 100, 150, 200, 37.5];

function randomInput(random: Random): PlacementInput {
  const view = subset(random, POOL, 0.6);
  const capacities = new Map(subset(random, POOL, 0.5).map((node) => [node, pick(random, CAPACITIES)] as const));
  const groups: PlacementGroup[] = [];
  const count = int(random, 12);
  for (let i = 0; i < count; i++) {
    const group: PlacementGroup = { name: `g${i}`, weight: pick(random, WEIGHTS) };
    if (random() < 0.5) group.prefer = shuffled(random, subset(random, POOL, 0.3));
    groups.push(group);
  }
  const current = new Map<string, string>();
  for (const group of groups) {
    if (random() < 0.6) current.set(group.name, random() < 0.1 ? 'gone' : pick(random, POOL));
  }
  const banned = new Set<string>();
  for (const group of groups) for (const node of POOL) if (random() < 0.08) banned.add(bannedKey(group.name, node));
  return { view, groups, capacities, current, banned, failback: random() < 0.5 };
}

/** The same input in other orders (and with a repeated view member). */
function reordered(random: Random, source: PlacementInput): PlacementInput {
  const view = shuffled(random, source.view);
  if (view.length > 0 && random() < 0.3) view.push(pick(random, view));
  return {
    view,
    groups: shuffled(random, source.groups),
    capacities: new Map(shuffled(random, source.capacities)),
    current: new Map(shuffled(random, source.current)),
    banned: new Set(shuffled(random, source.banned)),
    failback: source.failback,
  };
}

function capacityOf(source: PlacementInput, node: string): number {
  return source.capacities.get(node) ?? DEFAULT_CAPACITY;
}

function loads(source: PlacementInput, answer: Map<string, string | null>): Map<string, number> {
  const load = new Map<string, number>();
  for (const group of source.groups) {
    const node = answer.get(group.name);
    if (node) load.set(node, (load.get(node) ?? 0) + group.weight);
  }
  return load;
}

function checkInvariants(source: PlacementInput, answer: Map<string, string | null>, label: string): void {
  assert.deepEqual([...answer.keys()].sort(), source.groups.map((group) => group.name).sort(), `${label}: one entry per group`);
  const load = loads(source, answer);
  for (const [node, used] of load) {
    assert.ok(source.view.includes(node), `${label}: ${node} is in the view`);
    assert.ok(used <= capacityOf(source, node), `${label}: ${node} runs ${used} > ${capacityOf(source, node)}`);
  }
  for (const group of source.groups) {
    const node = answer.get(group.name);
    if (node) {
      assert.ok(!source.banned.has(bannedKey(group.name, node)), `${label}: ${group.name} placed on banned ${node}`);
      continue;
    }
    for (const candidate of source.view) {
      if (source.banned.has(bannedKey(group.name, candidate))) continue;
      const free = capacityOf(source, candidate) - (load.get(candidate) ?? 0);
      assert.ok(free < group.weight, `${label}: ${group.name} (${group.weight}) is null but ${candidate} has ${free} free`);
    }
  }
}

const RUNS = 2000;

describe('failover placement: properties over seeded random inputs', () => {
  test(`${RUNS} inputs: order-independent, within capacity, eligible nodes only, null only when full`, () => {
    const random = mulberry32(0x5eed01);
    for (let run = 0; run < RUNS; run++) {
      const source = randomInput(random);
      const answer = place(source);
      const label = `run ${run}`;
      checkInvariants(source, answer, label);
      for (let k = 0; k < 3; k++) {
        assert.deepEqual(pairs(place(reordered(random, source))), pairs(answer), `${label}: reordered input, same answer`);
      }
    }
  });

  test(`${RUNS} inputs: the answer is a fixed point (stickiness)`, () => {
    const random = mulberry32(0x5eed02);
    for (let run = 0; run < RUNS; run++) {
      const source = randomInput(random);
      const answer = place(source);
      const again = place(reordered(random, { ...source, current: placed(answer) }));
      assert.deepEqual(pairs(again), pairs(answer), `run ${run}: placing again moves nothing`);
    }
  });

  test(`${RUNS} inputs: a node rejoining the view takes nothing back unless failback`, () => {
    const random = mulberry32(0x5eed03);
    let moves = 0;
    for (let run = 0; run < RUNS; run++) {
      const source = randomInput(random);
      if (source.view.length === 0) continue;
      const rejoining = pick(random, source.view);
      const before = place({ ...source, view: source.view.filter((node) => node !== rejoining) });
      for (const failback of [false, true]) {
        const after = place({ ...source, current: placed(before), failback });
        checkInvariants({ ...source, failback }, after, `run ${run}`);
        for (const group of source.groups) {
          const was = before.get(group.name) ?? null;
          const now = after.get(group.name) ?? null;
          if (was === null || was === now) continue;
          assert.ok(failback, `run ${run}: ${group.name} moved ${was} -> ${now} without failback`);
          // Failback only ever moves a group up its prefer list.
          const prefer = group.prefer ?? [];
          const rank = (node: string): number => (prefer.includes(node) ? prefer.indexOf(node) : Infinity);
          assert.ok(now !== null && rank(now) < rank(was), `run ${run}: ${group.name} failed back ${was} -> ${now}`);
          moves++;
        }
      }
    }
    assert.ok(moves > 0, 'the generator produced failback moves');
  });

  test(`${RUNS} inputs: a holder with room for all its groups keeps them (no failback)`, () => {
    const random = mulberry32(0x5eed04);
    for (let run = 0; run < RUNS; run++) {
      const source = { ...randomInput(random), failback: false };
      const answer = place(source);
      const held = new Map<string, PlacementGroup[]>();
      for (const group of source.groups) {
        const holder = source.current.get(group.name);
        if (holder === undefined || !source.view.includes(holder) || source.banned.has(bannedKey(group.name, holder))) continue;
        held.set(holder, [...(held.get(holder) ?? []), group]);
      }
      for (const [holder, groups] of held) {
        if (groups.reduce((sum, group) => sum + group.weight, 0) > capacityOf(source, holder)) continue;
        for (const group of groups) assert.equal(answer.get(group.name), holder, `run ${run}: ${group.name} stays on ${holder}`);
      }
    }
  });
});

/** The input with operator controls: some nodes in standby, some groups moved (to any node of the pool). */
function withControls(random: Random, source: PlacementInput): PlacementInput {
  const standby = new Set(subset(random, POOL, 0.15));
  const moves = new Map(source.groups.filter(() => random() < 0.3).map((group) => [group.name, pick(random, POOL)] as const));
  return { ...source, standby, moves };
}

describe('failover placement: standby, bans and moves', () => {
  test(`${RUNS} inputs: nothing on a standby or banned node; a moved group on its node whenever that node can take it`, () => {
    const random = mulberry32(0x5eed05);
    let honoured = 0;
    for (let run = 0; run < RUNS; run++) {
      const source = withControls(random, { ...randomInput(random), failback: false });
      const answer = place(source);
      const label = `run ${run}`;
      const load = loads(source, answer);
      for (const group of source.groups) {
        const node = answer.get(group.name);
        if (node) {
          assert.ok(!source.standby!.has(node), `${label}: ${group.name} placed on ${node} in standby`);
          assert.ok(!source.banned.has(bannedKey(group.name, node)), `${label}: ${group.name} on banned ${node}`);
        }
        const target = source.moves!.get(group.name);
        if (target === undefined) continue;
        if (node === target) {
          honoured++;
          continue;
        }
        // Not there: only because the target cannot take it.
        const free = capacityOf(source, target) - (load.get(target) ?? 0);
        assert.ok(!source.view.includes(target) || source.standby!.has(target) || source.banned.has(bannedKey(group.name, target)) || free < group.weight,
          `${label}: ${group.name} moved to ${target} but placed on ${node} (target free ${free}, weight ${group.weight})`);
      }
      // Still order-independent and a fixed point with controls.
      assert.deepEqual(pairs(place({ ...reordered(random, source), standby: source.standby!, moves: source.moves! })), pairs(answer), `${label}: reordered`);
      assert.deepEqual(pairs(place({ ...source, current: placed(answer) })), pairs(answer), `${label}: fixed point`);
    }
    assert.ok(honoured > RUNS / 4, `moves honoured: ${honoured}`);
  });

  test('a node in standby drains: its groups go elsewhere, by preference', () => {
    const groups = [{ name: 'web', weight: 1, prefer: ['n2', 'n3'] }];
    const base = input({ view: ['n1', 'n2', 'n3'], groups, current: new Map([['web', 'n2']]) });
    assert.deepEqual(pairs(place(base)), [['web', 'n2']]);
    assert.deepEqual(pairs(place({ ...base, standby: new Set(['n2']) })), [['web', 'n3']]);
    assert.deepEqual(pairs(place({ ...base, standby: new Set(['n1', 'n2', 'n3']) })), [['web', null]]);
  });

  test('a move beats stickiness and prefer; without room on the target the group stays', () => {
    const groups = [{ name: 'web', weight: 60, prefer: ['n1'] }, { name: 'db', weight: 50 }];
    const base = input({ view: ['n1', 'n2', 'n3'], groups, current: new Map([['web', 'n1'], ['db', 'n3']]), capacities: new Map([['n3', 50]]) });
    assert.equal(place({ ...base, moves: new Map([['web', 'n2']]) }).get('web'), 'n2');
    assert.equal(place({ ...base, moves: new Map([['web', 'n3']]) }).get('web'), 'n1', 'n3 holds 50, web needs 60');
  });
});

// ---- constraints: colocateWith ----

/** Some groups colocated with an earlier one (so never in a circle). */
function withColocation(random: Random, source: PlacementInput): PlacementInput {
  const groups = source.groups.map((group, i) => (i > 0 && random() < 0.35 ? { ...group, colocateWith: source.groups[int(random, i)]!.name } : group));
  return { ...source, groups };
}

/** The root of a group's colocation chain. */
function rootOf(source: PlacementInput, name: string): string {
  let at = source.groups.find((g) => g.name === name)!;
  while (at.colocateWith !== undefined) at = source.groups.find((g) => g.name === at.colocateWith)!;
  return at.name;
}

function allowedOn(source: PlacementInput, group: string, node: string): boolean {
  return source.view.includes(node) && !source.standby?.has(node) && !source.banned.has(bannedKey(group, node));
}

describe('failover placement: colocateWith', () => {
  test('a VIP goes where its service goes, and moves with it', () => {
    const groups = [{ name: 'web', weight: 10, prefer: ['n2'] }, { name: 'vip', weight: 1, prefer: ['n3'], colocateWith: 'web' }];
    const base = input({ view: ['n1', 'n2', 'n3'], groups });
    assert.deepEqual(pairs(place(base)), [['vip', 'n2'], ['web', 'n2']], 'the set follows the root\'s prefer list, not the member\'s');
    assert.deepEqual(pairs(place({ ...base, moves: new Map([['web', 'n1']]) })), [['vip', 'n1'], ['web', 'n1']]);
    assert.deepEqual(pairs(place({ ...base, view: ['n1', 'n3'] })), [['vip', 'n1'], ['web', 'n1']]);
  });

  test('a member that may not run on the preferred node takes the whole set elsewhere; with nowhere for both, the root alone and a reason', () => {
    const groups = [{ name: 'web', weight: 10, prefer: ['n2'] }, { name: 'vip', weight: 1, colocateWith: 'web' }];
    const base = input({ view: ['n1', 'n2'], groups, banned: new Set([bannedKey('vip', 'n2')]) });
    assert.deepEqual(pairs(place(base)), [['vip', 'n1'], ['web', 'n1']]);
    const nowhere = { ...base, banned: new Set([bannedKey('vip', 'n2'), bannedKey('vip', 'n1')]) };
    const answer = place(nowhere);
    assert.deepEqual(pairs(answer), [['vip', null], ['web', 'n2']]);
    assert.equal(homelessReason(nowhere, answer, 'vip'), 'colocated with web on n2, but vip is banned from n2 (or failed there too often)');
    assert.equal(homelessReason(nowhere, answer, 'web'), undefined);
    const full = input({ view: ['n1'], groups, capacities: new Map([['n1', 5]]) });
    assert.match(homelessReason(full, place(full), 'web')!, /^no eligible node: n1 has 5 free for weight 10$/);
    assert.equal(homelessReason(full, place(full), 'vip'), 'colocated with web, which is placed nowhere');
  });

  test('the root\'s stickiness wins: a member banned from its node is placed nowhere, with the reason, and does not move the root', () => {
    const groups = [{ name: 'web', weight: 10, prefer: ['n1'] }, { name: 'vip', weight: 1, colocateWith: 'web' }];
    const source = input({ view: ['n1', 'n2'], groups, current: new Map([['web', 'n2'], ['vip', 'n2']]), banned: new Set([bannedKey('vip', 'n2')]) });
    const answer = place(source);
    assert.deepEqual(pairs(answer), [['vip', null], ['web', 'n2']]);
    assert.match(homelessReason(source, answer, 'vip')!, /colocated with web on n2, but vip is banned from n2/);
    // A VIP that was not running yet joins its service where it runs.
    assert.deepEqual(pairs(place(input({ view: ['n1', 'n2'], groups, current: new Map([['web', 'n2']]) }))), [['vip', 'n2'], ['web', 'n2']]);
  });

  test('colocateWith in a circle or naming no group is a config error', () => {
    const isBadConfig = (error: unknown) => isEventdError(error) && error.code === 'EVENTD_ERR_BAD_CONFIG';
    assert.throws(() => place(input({ view: ['n1'], groups: [{ name: 'a', weight: 1, colocateWith: 'b' }, { name: 'b', weight: 1, colocateWith: 'a' }] })), isBadConfig);
    assert.throws(() => place(input({ view: ['n1'], groups: [{ name: 'a', weight: 1, colocateWith: 'nope' }] })), isBadConfig);
  });

  test(`${RUNS} inputs with colocation, standby, bans, moves or failback: colocated groups never apart, invariants hold, order-independent, a fixed point`, () => {
    const random = mulberry32(0x5eed06);
    let together = 0;
    let split = 0;
    for (let run = 0; run < RUNS; run++) {
      const controlled = withControls(random, randomInput(random));
      // Moves with failback are no fixed point even without colocation: failback can free a move's target after the move was judged.
      const source = withColocation(random, controlled.failback ? { ...controlled, moves: new Map() } : controlled);
      const answer = place(source);
      const label = `run ${run}`;
      const load = loads(source, answer);
      for (const [node, used] of load) assert.ok(source.view.includes(node) && used <= capacityOf(source, node), `${label}: ${node} runs ${used}`);
      for (const group of source.groups) {
        const node = answer.get(group.name) ?? null;
        if (node !== null) assert.ok(allowedOn(source, group.name, node), `${label}: ${group.name} on ${node}, where it may not run`);
        // A root (or a group alone) is homeless only when no node allows it and has room.
        else if (group.colocateWith === undefined) {
          for (const candidate of source.view) {
            const free = capacityOf(source, candidate) - (load.get(candidate) ?? 0);
            assert.ok(!allowedOn(source, group.name, candidate) || free < group.weight, `${label}: ${group.name} (${group.weight}) homeless but ${candidate} has ${free} free`);
          }
        }
      }
      for (const group of source.groups) {
        const node = answer.get(group.name) ?? null;
        const reason = homelessReason(source, answer, group.name);
        assert.equal(reason === undefined, node !== null, `${label}: ${group.name} at ${node} has reason ${reason}`);
        if (group.colocateWith === undefined) continue;
        const partner = answer.get(group.colocateWith) ?? null;
        if (node !== null) {
          assert.equal(node, partner, `${label}: ${group.name} on ${node}, its partner ${group.colocateWith} on ${partner}`);
          together++;
        } else if (partner !== null) {
          // Apart only because it cannot run on its partner's node.
          const free = capacityOf(source, partner) - (load.get(partner) ?? 0);
          assert.ok(!allowedOn(source, group.name, partner) || free < group.weight, `${label}: ${group.name} homeless though ${partner} (${group.colocateWith}'s) has ${free} free`);
          split++;
        }
      }
      assert.deepEqual(pairs(place({ ...reordered(random, source), groups: shuffled(random, source.groups), standby: source.standby!, moves: source.moves! })), pairs(answer), `${label}: reordered`);
      assert.deepEqual(pairs(place({ ...source, current: placed(answer) })), pairs(answer), `${label}: fixed point`);
    }
    assert.ok(together > RUNS / 2 && split > 0, `colocated pairs placed together ${together}, split by bans or room ${split}`);
  });

  test(`${RUNS} inputs: a set alone in the cluster runs on one node whenever some node takes all of it`, () => {
    const random = mulberry32(0x5eed07);
    let whole = 0;
    for (let run = 0; run < RUNS; run++) {
      const source = withColocation(random, randomInput(random));
      const roots = source.groups.filter((g) => g.colocateWith === undefined);
      if (roots.length === 0) continue;
      const root = pick(random, roots).name;
      const groups = source.groups.filter((g) => rootOf(source, g.name) === root);
      const alone = { ...source, groups, current: new Map<string, string>() };
      const weight = groups.reduce((sum, g) => sum + g.weight, 0);
      const fits = alone.view.some((node) => groups.every((g) => allowedOn(alone, g.name, node)) && weight <= capacityOf(alone, node));
      const answer = place(alone);
      const nodes = new Set(groups.map((g) => answer.get(g.name) ?? null));
      if (fits) {
        assert.ok(nodes.size === 1 && !nodes.has(null), `run ${run}: ${groups.map((g) => `${g.name}@${answer.get(g.name)}`).join(' ')} though a node takes all ${weight}`);
        if (groups.length > 1) whole++;
      }
    }
    assert.ok(whole > 50, `sets of two or more placed whole: ${whole}`);
  });

  test(`${RUNS} inputs: a moved set is on its node whenever that node takes the whole set`, () => {
    const random = mulberry32(0x5eed08);
    let honoured = 0;
    for (let run = 0; run < RUNS; run++) {
      const source = withColocation(random, withControls(random, { ...randomInput(random), failback: false }));
      const answer = place(source);
      for (const group of source.groups) {
        const target = source.moves!.get(group.name);
        if (target === undefined || group.colocateWith !== undefined) continue;
        const members = source.groups.filter((g) => rootOf(source, g.name) === group.name);
        if (members.every((g) => answer.get(g.name) === target)) {
          honoured++;
          continue;
        }
        const others = source.groups.filter((g) => !members.includes(g) && answer.get(g.name) === target).reduce((sum, g) => sum + g.weight, 0);
        const weight = members.reduce((sum, g) => sum + g.weight, 0);
        assert.ok(members.some((g) => !allowedOn(source, g.name, target)) || others + weight > capacityOf(source, target),
          `run ${run}: ${group.name} moved to ${target} but its set is at ${members.map((g) => `${g.name}@${answer.get(g.name)}`).join(' ')}`);
      }
    }
    assert.ok(honoured > RUNS / 5, `moves honoured: ${honoured}`);
  });
});
