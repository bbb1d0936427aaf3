// Issue 11, finding 3, the parts that hold without a clock: a slow peer is
// not flooded (pushes stop past pushWindowEvents, it pulls at its own pace,
// two batches in flight at most), a transaction's events go out as a few
// frames cut to fit a datagram, and a batch of received frames is bounded.
import assert from 'node:assert/strict';
import { test } from './helpers/node-test.js';
import { ClusterCore } from '../services/eventd/cluster/core/core.js';
import { parseFrame, type EventsFrame, type Frame } from '../services/eventd/cluster/core/frames.js';
import type { CoreOutput } from '../services/eventd/cluster/core/io.js';
import { MemoryCoreStore } from '../services/eventd/cluster/core/store.js';
import { format } from '../services/eventd/hlc.js';
import { coalesce, DatagramFit, type Outgoing } from '../services/eventd/cluster/edge/frame-batch.js';
import { FrameInbox } from '../services/eventd/cluster/edge/frame-inbox.js';
import { waitFor } from './helpers/tmp.js';

const hlc = (wall: number) => format({ wall, logical: 0 });
const pushesTo = (out: CoreOutput[], peer: string) => out.filter((o) => o.type === 'send' && o.to === peer && o.frame.type === 'events').length;

function heartbeatOf(from: string, wall: number, holds: { origin: string; seq: number }[]): Frame {
  const frame = parseFrame({ type: 'heartbeat', from, incarnation: 0, hlc: hlc(wall), seq: 0, progress: holds, view: [], down: [], joining: [], reach: [], unreach: [], subs: '' });
  assert.ok(frame);
  return frame;
}

test('flow control: an origin stops pushing to a peer more than pushWindowEvents behind, and pushes again once it caught up', () => {
  const window = 50;
  const core = new ClusterCore('a', { pushWindowEvents: window, maxEventsPerFrame: 200 }, MemoryCoreStore.formed(['a', 'b', 'c']));
  let now = 1000;
  let toB = 0;
  let toC = 0;
  const record = () => {
    const out = core.step({ type: 'localEvent', order: 'fifo', payload: null }, (now += 1));
    toB += pushesTo(out, 'b');
    toC += pushesTo(out, 'c');
  };
  for (let i = 0; i < 3 * window; i++) {
    record();
    // c keeps up (says so every 10 events); b says nothing: slow, or its heartbeats are late.
    if (i % 10 === 9) core.step({ type: 'frame', frame: heartbeatOf('c', now, [{ origin: 'a', seq: i + 1 }]) }, now);
  }
  assert.equal(toC, 3 * window, 'the peer that keeps up got every event pushed');
  assert.equal(toB, window, 'the silent peer got the first pushWindowEvents, then none');
  // b pulls what it lacks: answered, and the pull tells a how far b has got.
  const pull = parseFrame({ type: 'pull', from: 'b', incarnation: 0, origin: 'a', fromSeq: window + 1, toSeq: 3 * window });
  assert.ok(pull);
  const answer = core.step({ type: 'frame', frame: pull }, (now += 1));
  const events = answer.flatMap((o) => (o.type === 'send' && o.to === 'b' && o.frame.type === 'events' ? o.frame.events : []));
  assert.deepEqual(events.map((e) => e.seq), Array.from({ length: 2 * window }, (_, i) => window + 1 + i), 'the pull is answered in full');
  core.step({ type: 'frame', frame: heartbeatOf('b', now, [{ origin: 'a', seq: 3 * window }]) }, (now += 1));
  toB = 0;
  record();
  assert.equal(toB, 1, 'caught up: pushed to again');
});

test('flow control: a node behind pulls two batches at most at a time, and asks for the next as it applies', () => {
  const core = new ClusterCore('b', { maxEventsPerFrame: 10 }, MemoryCoreStore.formed(['a', 'b']));
  const pullsIn = (out: CoreOutput[]) => out.flatMap((o) => (o.type === 'send' && o.frame.type === 'pull' ? [[o.frame.fromSeq, o.frame.toSeq]] : []));
  const beat = parseFrame({ type: 'heartbeat', from: 'a', incarnation: 0, hlc: hlc(1000), seq: 100, progress: [], view: [], down: [], joining: [], reach: [], unreach: [], subs: '' });
  assert.ok(beat);
  assert.deepEqual(pullsIn(core.step({ type: 'frame', frame: beat }, 1000)), [[1, 10]], 'one batch asked');
  assert.deepEqual(pullsIn(core.step({ type: 'frame', frame: beat }, 1001)), [[11, 20]], 'the next while the first is outstanding');
  assert.deepEqual(pullsIn(core.step({ type: 'frame', frame: beat }, 1002)), [], 'two outstanding: no third');
  const events = (from: number, to: number): Frame => ({ type: 'events', from: 'a', incarnation: 0, events: Array.from({ length: to - from + 1 }, (_, i) => ({ origin: 'a', seq: from + i, hlc: hlc(500 + from + i), order: 'fifo' as const, payload: null })) });
  assert.deepEqual(pullsIn(core.step({ type: 'frame', frame: events(1, 5) }, 1003)), [], 'half of the first batch in: more than a batch still to come');
  assert.deepEqual(pullsIn(core.step({ type: 'frame', frame: events(6, 10) }, 1004)), [[21, 30]], 'the first batch applied: the third asked');
});

const eventsFrame = (from: string, seqs: number[]): EventsFrame => ({ type: 'events', from, incarnation: 0, events: seqs.map((seq) => ({ origin: from, seq, hlc: hlc(seq), order: 'fifo' as const, payload: { seq } })) });

test('batching: the events frames of one transaction merge per peer, in order, and another frame type closes the merge', () => {
  const heartbeat: Frame = { type: 'join', from: 'a', incarnation: 0 };
  const frames: Outgoing[] = [
    { to: 'b', seed: false, frame: eventsFrame('a', [1]) },
    { to: 'c', seed: false, frame: eventsFrame('a', [1]) },
    { to: 'b', seed: false, frame: eventsFrame('a', [2]) },
    { to: 'b', seed: false, frame: heartbeat },
    { to: 'b', seed: false, frame: eventsFrame('a', [3]) },
    { to: 'c', seed: false, frame: eventsFrame('a', [2]) },
    { to: 'c', seed: false, frame: eventsFrame('a', [3]) },
  ];
  const out = coalesce(frames, 2);
  const shape = out.map(({ to, frame }) => `${to}:${frame.type === 'events' ? frame.events.map((e) => e.seq).join(',') : frame.type}`);
  assert.deepEqual(shape, ['b:1,2', 'c:1,2', 'b:join', 'b:3', 'c:3'], 'at most 2 per frame; b\'s join stays between its events');
  assert.equal((frames[0]!.frame as EventsFrame).events.length, 1, 'the core\'s frame objects are left alone');
});

test('batching: a frame of thousands of events is cut into pieces that fit a datagram, learned from the sizes sealed', () => {
  const fit = new DatagramFit(60_000);
  const frame = eventsFrame('a', Array.from({ length: 5000 }, (_, i) => i + 1));
  fit.learn(1000, 250_000);
  const pieces = fit.pieces(frame);
  assert.ok(pieces.every((p) => p.events.length <= fit.eventsPerDatagram && p.events.length * 250 <= 60_000), `pieces of ${fit.eventsPerDatagram}`);
  assert.deepEqual(pieces.flatMap((p) => p.events.map((e) => e.seq)), frame.events.map((e) => e.seq), 'every event once, in order');
});

test('batching: received frames are drained in batches bounded by their events, in arrival order', async () => {
  const batches: number[][] = [];
  const inbox = new FrameInbox<number>((batch) => batches.push(batch), (events) => events, 100);
  for (const events of [30, 30, 30, 30, 500, 1]) inbox.push(events);
  await waitFor('the inbox drained', () => inbox.length === 0 && batches.flat().length === 6, 5000, 1);
  assert.deepEqual(batches, [[30, 30, 30], [30], [500], [1]], 'at most 100 events a batch; one heavier frame alone');
  inbox.close();
});
