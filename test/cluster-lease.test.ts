// Heartbeat acks (cluster/core/lease.ts), the ground of failover leases: a
// peer acknowledges the beats it heard; the sender turns an ack into "that
// peer heard me at or after the beat's send time"; a lease is as old as the
// acks of a majority; stale incarnations and forged beats count for nothing.
import assert from 'node:assert/strict';
import { test } from './helpers/node-test.js';
import { LeaseAcks, LeaseClock, leaseAgeMs } from '../services/eventd/cluster/core/lease.js';
import { ClusterCore, MemoryCoreStore, type CoreOutput, type Frame } from '../services/eventd/cluster/core/index.js';

test('lease acks: a peer acks the highest beat it heard of our current incarnation, once', () => {
  const a = new LeaseAcks();
  const b = new LeaseAcks();
  const beat1 = a.nextBeat();
  assert.equal(b.onHeartbeat('a', 0, beat1, [], 'b', 0), undefined, 'no ack of b in a heartbeat of a');
  b.nextBeat();
  assert.equal(a.onHeartbeat('b', 0, 1, b.acks(), 'a', 0), 1, 'b acked beat 1 of a');
  assert.equal(a.onHeartbeat('b', 0, 2, b.acks(), 'a', 0), undefined, 'the same ack again is nothing new');
  assert.equal(a.onHeartbeat('b', 0, 3, b.acks(), 'a', 1), undefined, 'an ack of an older incarnation of a counts for nothing');
  assert.equal(a.onHeartbeat('b', 0, 4, [{ name: 'a', incarnation: 1, beat: 99 }], 'a', 1), undefined, 'a beat a never sent');
});

test('lease clock: an ack dates from the send time of its beat; the lease is as old as the majority ack', () => {
  const clock = new LeaseClock();
  clock.sent(1, 1000);
  clock.sent(2, 1200);
  clock.acked('b', 2);
  clock.acked('c', 1);
  clock.acked('c', 7); // never sent: ignored
  const ages = clock.ages(1500);
  assert.deepEqual([...ages], [['b', 300], ['c', 500]]);
  assert.equal(leaseAgeMs(ages, 3), 300, 'three nodes: this one and the freshest peer');
  assert.equal(leaseAgeMs(ages, 5), 500, 'five nodes: this one and two peers');
  assert.equal(leaseAgeMs(ages, 7), Infinity, 'seven nodes: three peers needed, two acked');
  assert.equal(leaseAgeMs(new Map(), 1), 0, 'a single node needs nobody');
});

test('core: heartbeats carry beats and acks; a one-way cut leaves the sender without acks', () => {
  const cores = new Map(['a', 'b'].map((name) => [name, new ClusterCore(name, { seeds: [] }, MemoryCoreStore.formed(['a', 'b']))]));
  const acks: Array<{ at: string; from: string; beat: number }> = [];
  let now = 1_000_000;
  const deliver = (from: string, outputs: CoreOutput[], cut: boolean): Array<[string, Frame]> =>
    outputs.flatMap((o) => (o.type === 'send' && !(cut && from === 'a') ? [[o.to, o.frame] as [string, Frame]] : []));
  const round = (cut: boolean): void => {
    now += 200;
    let queue: Array<[string, Frame]> = [];
    for (const [name, core] of cores) queue.push(...deliver(name, core.step({ type: 'tick' }, now), cut));
    for (let hops = 0; hops < 4 && queue.length > 0; hops++) {
      const next: Array<[string, Frame]> = [];
      for (const [to, frame] of queue) {
        const outputs = cores.get(to)!.step({ type: 'frame', frame }, now);
        for (const o of outputs) if (o.type === 'leaseAck') acks.push({ at: to, from: o.from, beat: o.beat });
        next.push(...deliver(to, outputs, cut));
      }
      queue = next;
    }
  };
  for (let i = 0; i < 5; i++) round(false);
  assert.ok(acks.some((ack) => ack.at === 'a' && ack.from === 'b'), 'b acks a');
  assert.ok(acks.some((ack) => ack.at === 'b' && ack.from === 'a'), 'a acks b');
  round(true); // a's frames are lost from now on; this round may still carry b's ack of a beat heard before
  acks.length = 0;
  for (let i = 0; i < 5; i++) round(true);
  assert.ok(!acks.some((ack) => ack.at === 'a'), 'a gets no new ack: b hears no new beat of a');
});
