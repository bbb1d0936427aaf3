// Targeted tests of the cluster core's parts: the LWW map, the decision log, the sequencer,
// floors, the membership majority rule and refutation, frames and config.

import assert from 'node:assert/strict';
import { test } from './helpers/node-test.js';
import { Progress } from '../services/eventd/cluster/core/anti-entropy.js';
import { clusterDefaults, resolveClusterConfig } from '../services/eventd/cluster/core/config.js';
import { ClusterCore } from '../services/eventd/cluster/core/core.js';
import { parseFrame, type SubscriptionEntry } from '../services/eventd/cluster/core/frames.js';
import type { CoreInput, CoreOutput } from '../services/eventd/cluster/core/io.js';
import { LwwMap } from '../services/eventd/cluster/core/lww-map.js';
import { Membership } from '../services/eventd/cluster/core/membership.js';
import { compareHlc } from '../services/eventd/cluster/core/ordering.js';
import { compareEpochs, DecisionLog } from '../services/eventd/cluster/core/decisions.js';
import { MemoryCoreStore } from '../services/eventd/cluster/core/store.js';
import { format } from '../services/eventd/hlc.js';
import { Rng } from './sim/prng.js';

const hlc = (wall: number, logical = 0): string => format({ wall, logical });

// --- LWW map ---------------------------------------------------------------

function randomEntries(rng: Rng, count: number): SubscriptionEntry[] {
  return Array.from({ length: count }, () => ({
    id: `s${rng.int(1, 4)}`,
    version: { hlc: hlc(rng.int(1, 5), rng.int(0, 1)), node: rng.pick(['a', 'b', 'c']) },
    value: rng.chance(0.3) ? null : { v: rng.int(0, 1000) },
  }));
}

const snapshot = (map: LwwMap): string => JSON.stringify(map.all().sort((x, y) => (x.id < y.id ? -1 : 1)).map((e) => [e.id, e.version]));

test('lww map: merge is commutative, associative and idempotent (random entry sets)', () => {
  const rng = new Rng(7);
  for (let round = 0; round < 300; round += 1) {
    const a = randomEntries(rng, rng.int(0, 6));
    const b = randomEntries(rng, rng.int(0, 6));
    const c = randomEntries(rng, rng.int(0, 6));
    const ab = new LwwMap([...a, ...b]);
    const ba = new LwwMap([...b, ...a]);
    assert.equal(snapshot(ab), snapshot(ba), 'commutative');
    assert.equal(snapshot(new LwwMap([...new LwwMap([...a, ...b]).all(), ...c])), snapshot(new LwwMap([...a, ...new LwwMap([...b, ...c]).all()])), 'associative');
    const again = new LwwMap(ab.all());
    for (const entry of [...a, ...b]) again.merge(entry);
    assert.equal(snapshot(again), snapshot(ab), 'idempotent');
    assert.equal(again.hash(), ab.hash(), 'equal maps hash equal');
  }
});

test('lww map: a later tombstone beats a put, an older put never resurrects it, ties go to the higher node name', () => {
  const map = new LwwMap();
  assert.equal(map.merge({ id: 's1', version: { hlc: hlc(10), node: 'a' }, value: { v: 1 } }), true);
  assert.equal(map.merge({ id: 's1', version: { hlc: hlc(11), node: 'a' }, value: null }), true);
  assert.equal(map.merge({ id: 's1', version: { hlc: hlc(10, 5), node: 'z' }, value: { v: 2 } }), false);
  assert.deepEqual(map.values(), []);
  map.merge({ id: 's2', version: { hlc: hlc(20), node: 'a' }, value: { v: 'a' } });
  map.merge({ id: 's2', version: { hlc: hlc(20), node: 'b' }, value: { v: 'b' } });
  assert.deepEqual(map.get('s2')?.value, { v: 'b' });
});

test('lww map: a digest exchange gives what the peer lacks and asks for what it holds newer', () => {
  const mine = new LwwMap([
    { id: 'x', version: { hlc: hlc(5), node: 'a' }, value: 1 },
    { id: 'y', version: { hlc: hlc(1), node: 'a' }, value: 2 },
    { id: 'z', version: { hlc: hlc(1), node: 'a' }, value: 3 },
  ]);
  const { give, want } = mine.compare([
    { id: 'x', version: { hlc: hlc(4), node: 'b' } },
    { id: 'y', version: { hlc: hlc(2), node: 'b' } },
    { id: 'w', version: { hlc: hlc(1), node: 'b' } },
  ]);
  assert.deepEqual(give.map((e) => e.id).sort(), ['x', 'z']);
  assert.deepEqual(want.sort(), ['w', 'y']);
});

// --- agreed release and floors ---------------------------------------------

test('decision log: dense positions, an overwrite or truncation hands back the events it displaced, views looked up backwards', () => {
  const e1 = { n: 1, leader: 'a' };
  const e2 = { n: 2, leader: 'b' };
  const log = new DecisionLog([{ position: 1, epoch: e1, kind: 'view', members: ['a', 'b'], joined: ['a', 'b'], left: [], hlc: hlc(1) }]);
  log.set({ position: 2, epoch: e1, kind: 'event', origin: 'a', seq: 1 });
  log.set({ position: 3, epoch: e1, kind: 'event', origin: 'b', seq: 1 });
  assert.throws(() => log.set({ position: 5, epoch: e1, kind: 'event', origin: 'a', seq: 2 }), /hole/);
  assert.equal(log.positionOf('b', 1), 3);
  assert.deepEqual(log.set({ position: 3, epoch: e2, kind: 'event', origin: 'c', seq: 1 }), ['b:1']);
  assert.equal(log.positionOf('b', 1), undefined);
  assert.deepEqual(log.truncate(1).sort(), ['a:1', 'c:1']);
  assert.deepEqual(log.membersBefore(9), ['a', 'b']);
  assert.equal(log.lastEpoch, e1);
  assert.ok(compareEpochs(e2, e1) > 0 && compareEpochs({ n: 2, leader: 'a' }, e2) < 0 && compareEpochs(null, e1) < 0);
  assert.ok(compareHlc(hlc(1, 10000), hlc(1, 9999)) > 0, 'logical counters past 4 digits still compare as numbers');
});

test('a floor claim counts only once every event up to its seq is held', () => {
  const progress = new Progress(new Map([['m', 2]]));
  progress.claim('m', { hlc: hlc(50), seq: 4 });
  assert.equal(progress.floor('m'), undefined, 'events 3 and 4 of m are missing');
  progress.claim('m', { hlc: hlc(20), seq: 2 });
  assert.equal(progress.floor('m'), hlc(20));
  progress.setHeld('m', 4);
  assert.equal(progress.floor('m'), hlc(50));
  progress.advertise('peer', 'm', 9);
  assert.deepEqual(progress.pullsFrom('peer', 'self', 0, 3, 400), [{ origin: 'm', fromSeq: 5, toSeq: 7 }]);
  assert.deepEqual(progress.pullsFrom('peer', 'self', 100, 3, 400), [{ origin: 'm', fromSeq: 8, toSeq: 9 }], 'the next batch while the first is under way (two outstanding at most)');
  assert.deepEqual(progress.pullsFrom('peer', 'self', 150, 3, 400), [], 'nothing is asked twice while outstanding');
  progress.advertise('peer', 'm', 20);
  assert.deepEqual(progress.pullsFrom('peer', 'self', 160, 3, 400), [], 'two batches outstanding: no third');
  progress.setHeld('m', 5, 170);
  assert.deepEqual(progress.pullsFrom('peer', 'self', 180, 3, 400), [], 'held moved, but more than a batch is still to come');
  progress.setHeld('m', 6, 190);
  assert.deepEqual(progress.pullsFrom('peer', 'self', 200, 3, 400), [{ origin: 'm', fromSeq: 10, toSeq: 12 }], 'a batch or less to come: the next one');
  assert.equal(progress.pullsFrom('other', 'self', 700, 3, 400).length, 0, 'other has advertised nothing');
  progress.advertise('other', 'm', 9);
  assert.deepEqual(progress.pullsFrom('other', 'self', 700, 3, 400), [{ origin: 'm', fromSeq: 7, toSeq: 9 }], 'after the timeout any holder is asked, from held + 1');
});

// --- membership --------------------------------------------------------------

const five = ['a', 'b', 'c', 'd', 'e'].map((name) => ({ name, incarnation: 0, inView: true, downIncarnation: -1 }));

test('membership: down only when a majority of the view reports the node unreachable', () => {
  const m = new Membership('a', 1, five, 800);
  for (const peer of ['b', 'c', 'e']) m.heard(peer, 0, 1000);
  const local = m.localReport(1000);
  assert.deepEqual(local.unreach, ['d'], 'a has not heard d for more than 800 ms');
  m.report('b', hlc(1), [], ['d']);
  assert.equal(m.evaluate(local), undefined, '2 of 5 is not a majority');
  m.report('c', hlc(1), [], ['d']);
  assert.deepEqual(m.evaluate(local), { view: ['a', 'b', 'c', 'e'], up: [], down: ['d'] });
  assert.deepEqual(m.downRefs(), [{ name: 'd', incarnation: 0 }]);
});

test('membership: a known member outside the view that this node hears now may vote a view member down', () => {
  const m = new Membership('a', 1, [
    { name: 'a', incarnation: 1, inView: true, downIncarnation: -1 },
    { name: 'b', incarnation: 0, inView: true, downIncarnation: -1 },
    { name: 'c', incarnation: 0, inView: false, downIncarnation: 0 },
  ], 800);
  m.heard('c', 1, 1000);
  m.report('c', hlc(1), [{ name: 'a', incarnation: 1 }], ['b']);
  assert.deepEqual(m.evaluate(m.localReport(1000)), { view: ['a', 'c'], up: ['c'], down: ['b'] }, 'a and c out-vote the dead b, then a alone takes c back');
  m.report('c', hlc(2), [{ name: 'a', incarnation: 1 }], []);
  const stale = new Membership('a', 1, [{ name: 'b', incarnation: 0, inView: true, downIncarnation: -1 }, { name: 'c', incarnation: 0, inView: false, downIncarnation: 0 }], 800);
  stale.report('c', hlc(1), [], ['b']);
  assert.equal(stale.evaluate(stale.localReport(1000)), undefined, 'an outsider not heard right now does not vote');
});

test('membership: a minority cannot change its view', () => {
  const m = new Membership('a', 1, five, 800);
  m.heard('b', 0, 1000);
  m.report('b', hlc(1), [{ name: 'a', incarnation: 1 }], ['c', 'd', 'e']);
  const local = m.localReport(1000);
  assert.deepEqual(local.unreach.sort(), ['c', 'd', 'e']);
  assert.equal(m.evaluate(local), undefined, 'a and b are 2 of 5');
  assert.deepEqual(m.view(), ['a', 'b', 'c', 'd', 'e']);
});

test('membership: up again only when a majority hears a higher incarnation than the one declared down', () => {
  const m = new Membership('a', 1, five.map((r) => (r.name === 'd' ? { ...r, inView: false, downIncarnation: 0 } : r)), 800);
  for (const peer of ['b', 'c', 'd', 'e']) m.heard(peer, 0, 100);
  for (const r of ['b', 'c']) m.report(r, hlc(1), [{ name: 'd', incarnation: 0 }], []);
  assert.equal(m.evaluate(m.localReport(100)), undefined, 'frames of the incarnation declared down prove nothing');
  m.heard('d', 1, 200);
  m.report('b', hlc(2), [{ name: 'd', incarnation: 1 }], []);
  assert.equal(m.evaluate(m.localReport(200)), undefined, 'a and b hear d@1: 2 of 4 is not a majority');
  m.report('c', hlc(2), [{ name: 'd', incarnation: 1 }], []);
  assert.deepEqual(m.evaluate(m.localReport(200)), { view: ['a', 'b', 'c', 'd', 'e'], up: ['d'], down: [] });
});

test('membership: a node seeing itself declared down rejoins with a higher incarnation; a restart grants a grace period', () => {
  const m = new Membership('a', 3, five, 800);
  assert.equal(m.refutation([{ name: 'a', incarnation: 2 }]), undefined, 'an older incarnation was declared down');
  assert.equal(m.refutation([{ name: 'a', incarnation: 3 }]), 4);
  assert.deepEqual(m.localReport(500), { reach: [], unreach: [] }, 'nobody is reported either way before suspectAfterMs');
  assert.deepEqual(m.localReport(900).unreach.sort(), ['b', 'c', 'd', 'e']);
});

// --- the core itself -----------------------------------------------------------

test('core: a local event is persisted before it is announced, and a restart continues seq and HLC', () => {
  const store = MemoryCoreStore.formed(['a', 'b']);
  const core = new ClusterCore('a', {}, store);
  const out = core.step({ type: 'localEvent', order: 'fifo', payload: { x: 1 } }, 5000);
  const recorded = out.find((o): o is Extract<CoreOutput, { type: 'recorded' }> => o.type === 'recorded');
  assert.ok(recorded);
  assert.equal(recorded.event.seq, 1);
  assert.deepEqual(store.event('a', 1), recorded.event, 'in the store when the step returns');
  assert.ok(out.some((o) => o.type === 'send' && o.to === 'b' && o.frame.type === 'events'));
  assert.ok(out.some((o) => o.type === 'deliver' && o.event.seq === 1 && o.position === undefined), 'fifo: delivered at the origin at once');
  const again = new ClusterCore('a', {}, store);
  assert.equal(again.incarnation, core.incarnation + 1);
  // The wall clock stepped back 4 s: seq and HLC still move forward.
  const next = again.step({ type: 'localEvent', order: 'agreed', payload: null }, 1000).find((o) => o.type === 'recorded');
  assert.ok(next?.type === 'recorded' && next.event.seq === 2 && compareHlc(next.event.hlc, recorded.event.hlc) > 0);
});

/** Cores wired by hand: every frame sent is stepped into its recipient at once (no loss), until quiet. */
function wire(cores: Map<string, ClusterCore>): { step: (name: string, input: CoreInput, now: number) => CoreOutput[]; seen: Map<string, CoreOutput[]> } {
  const seen = new Map<string, CoreOutput[]>([...cores.keys()].map((n) => [n, []]));
  const step = (name: string, input: CoreInput, now: number): CoreOutput[] => {
    const queue: [string, CoreInput][] = [[name, input]];
    const first: CoreOutput[] = [];
    for (let i = 0; i < queue.length && i < 10_000; i += 1) {
      const [at, next] = queue[i] as [string, CoreInput];
      const out = (cores.get(at) as ClusterCore).step(next, now);
      if (i === 0) first.push(...out);
      (seen.get(at) as CoreOutput[]).push(...out);
      for (const o of out) if (o.type === 'send' && cores.has(o.to)) queue.push([o.to, { type: 'frame', frame: o.frame }]);
    }
    return first;
  };
  return { step, seen };
}

const agreedAt = (outputs: CoreOutput[]): string[] => outputs.flatMap((o) => (o.type === 'deliver' && o.position !== undefined ? [`${o.position}=${o.event.origin}:${o.event.seq}`]
  : o.type === 'clusterView' ? [`${o.position}=view[${o.members.join(',')}]`] : []));

test('core: a lone configured node sequences its own agreed events after its view entry; fifo events need no position', () => {
  const core = new ClusterCore('a', { configuredNodes: 1 }, MemoryCoreStore.formed(['a']));
  const first = core.step({ type: 'localEvent', order: 'agreed', payload: 1 }, 1000);
  assert.deepEqual(agreedAt(first), [], 'no epoch before the first tick');
  assert.deepEqual(agreedAt(core.step({ type: 'tick' }, 1010)), ['1=view[a]', '2=a:1']);
  const fifo = core.step({ type: 'localEvent', order: 'fifo', payload: 2 }, 1020);
  assert.ok(fifo.some((o) => o.type === 'deliver' && o.event.seq === 2 && o.position === undefined));
  assert.deepEqual(agreedAt(core.step({ type: 'localEvent', order: 'agreed', payload: 3 }, 1030)), ['3=a:3']);
});

test('core: one node of two configured delivers no agreed event alone; with its peer both deliver the same positions', () => {
  const store = MemoryCoreStore.formed(['a', 'b']);
  const alone = new ClusterCore('a', { configuredNodes: 2 }, store);
  alone.step({ type: 'localEvent', order: 'agreed', payload: 1 }, 1000);
  for (let t = 1000; t < 3000; t += 50) assert.deepEqual(agreedAt(alone.step({ type: 'tick' }, t)), [], 'a minority of the configured set never commits');
  const cores = new Map([['a', new ClusterCore('a', { configuredNodes: 2 }, store)], ['b', new ClusterCore('b', { configuredNodes: 2 }, MemoryCoreStore.formed(['a', 'b']))]]);
  const net = wire(cores);
  net.step('b', { type: 'localEvent', order: 'agreed', payload: 2 }, 3000);
  for (let t = 3000; t < 3600; t += 50) for (const name of ['a', 'b']) net.step(name, { type: 'tick' }, t);
  const a = agreedAt(net.seen.get('a') ?? []);
  assert.deepEqual(a, agreedAt(net.seen.get('b') ?? []));
  assert.deepEqual(a.slice(0, 1), ['1=view[a,b]']);
  assert.equal(a.length, 3, JSON.stringify(a));
  assert.deepEqual(a.slice(1).map((x) => x.slice(2)).sort(), ['a:1', 'b:1'], 'both events placed, after the view, once each');
});

test('frames: well-formed frames pass, malformed ones are refused, never thrown on', () => {
  assert.equal(parseFrame(null), undefined);
  assert.equal(parseFrame({ type: 'pull', from: 'a', incarnation: 0, origin: 'b', fromSeq: -1, toSeq: 3 }), undefined);
  assert.equal(parseFrame({ type: 'events', from: 'a', incarnation: 0, events: [{ origin: 'b', seq: 0, hlc: hlc(1), order: 'fifo', payload: 1 }] }), undefined);
  assert.equal(parseFrame({ type: 'nope', from: 'a', incarnation: 0 }), undefined);
  assert.ok(parseFrame({ type: 'join', from: 'a', incarnation: 2 }));
});

test('config: defaults of 100 ms heartbeats and 600 ms suspicion; unknown keys and nonsense refused', () => {
  assert.equal(clusterDefaults.heartbeatMs, 100);
  assert.equal(clusterDefaults.suspectAfterMs, 600);
  assert.throws(() => resolveClusterConfig({ heartbeatMS: 100 } as never), { code: 'EVENTD_ERR_BAD_CONFIG' });
  assert.throws(() => resolveClusterConfig({ heartbeatMs: 500, suspectAfterMs: 800 }), { code: 'EVENTD_ERR_BAD_CONFIG' });
  assert.ok(Object.isFrozen(resolveClusterConfig({ seeds: ['10.0.0.1:7946'] })));
});
