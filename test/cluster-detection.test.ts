// Failure detection made fast and robust (issue 13, item 9): every heartbeat
// is acknowledged at once (an ack frame), so a holder's lease rests on an ack
// one round trip old; a sequencer tells its followers of a commit within a
// tick, not at its next beat (a failover claim's votes wait for it); a node
// whose own ticks run late accuses its peers only after a stretched silence
// (memberlist's Lifeguard local health), so a slow node does not report
// healthy peers dead.
import assert from 'node:assert/strict';
import { test } from './helpers/node-test.js';
import { Membership } from '../services/eventd/cluster/core/membership.js';
import { ClusterCore, MemoryCoreStore, parseFrame, type CoreOutput, type Frame } from '../services/eventd/cluster/core/index.js';

type Net = Map<string, ClusterCore>;

function formed(names: string[], config: { configuredNodes?: number } = {}): Net {
  return new Map(names.map((name) => [name, new ClusterCore(name, { seeds: [], configuredNodes: config.configuredNodes ?? names.length }, MemoryCoreStore.formed(names))]));
}

/** Delivers every send at once (no loss), hop after hop, and hands each node's outputs to `seen`. */
function flood(net: Net, from: string, outputs: CoreOutput[], now: number, seen: (at: string, output: CoreOutput) => void, drop: (frame: Frame, to: string) => boolean = () => false): void {
  let queue: Array<[string, Frame]> = outputs.flatMap((o) => (o.type === 'send' && !drop(o.frame, o.to) ? [[o.to, o.frame] as [string, Frame]] : []));
  for (const o of outputs) seen(from, o);
  for (let hops = 0; hops < 20 && queue.length > 0; hops++) {
    const next: Array<[string, Frame]> = [];
    for (const [to, frame] of queue) {
      const out = net.get(to)!.step({ type: 'frame', frame }, now);
      for (const o of out) {
        seen(to, o);
        if (o.type === 'send' && !drop(o.frame, o.to)) next.push([o.to, o.frame]);
      }
    }
    queue = next;
  }
}

test('ack frame: a heartbeat is answered at once with the beat it carried, and the sender counts it as a lease ack', () => {
  const net = formed(['a', 'b']);
  const now = 1_000_000;
  const outA = net.get('a')!.step({ type: 'tick' }, now);
  const beat = outA.flatMap((o) => (o.type === 'send' && o.frame.type === 'heartbeat' ? [o.frame] : []))[0];
  assert.ok(beat?.type === 'heartbeat' && beat.beat !== undefined, 'a sent a heartbeat with a beat');
  const outB = net.get('b')!.step({ type: 'frame', frame: beat }, now + 1);
  const ack = outB.flatMap((o) => (o.type === 'send' && o.to === 'a' && o.frame.type === 'ack' ? [o.frame] : []))[0];
  assert.ok(ack?.type === 'ack', 'b answers the heartbeat at once, not with its next heartbeat');
  assert.deepEqual(ack.ack, { name: 'a', incarnation: beat.incarnation, beat: beat.beat });
  assert.ok(parseFrame(JSON.parse(JSON.stringify(ack))), 'the ack frame passes the wire check');
  assert.equal(parseFrame({ type: 'ack', from: 'b', incarnation: 0, ack: { name: 'a', incarnation: 0 } }), undefined, 'an ack without a beat is refused');
  const outA2 = net.get('a')!.step({ type: 'frame', frame: ack }, now + 2);
  assert.deepEqual(outA2.filter((o) => o.type === 'leaseAck'), [{ type: 'leaseAck', from: 'b', beat: beat.beat }], 'a counts b\'s ack of its beat');
  // The same heartbeat again (a duplicate datagram) is not answered twice.
  const again = net.get('b')!.step({ type: 'frame', frame: beat }, now + 3);
  assert.equal(again.filter((o) => o.type === 'send' && o.frame.type === 'ack').length, 0, 'a beat already answered is not answered again');
});

test('commit notice: a follower delivers an agreed event within one tick of its commit, whatever the phase of the leader\'s heartbeat', () => {
  const names = ['a', 'b', 'c'];
  const net = formed(names);
  let now = 1_000_000;
  const delivered = new Map<string, number>();
  const committedAt = new Map<number, number>();
  const seen = (at: string, o: CoreOutput): void => {
    if (o.type === 'deliver' && o.event.order === 'agreed' && at === 'c') delivered.set(`${o.event.origin}:${o.event.seq}`, now);
    if (o.type === 'committed' && at === 'a') committedAt.set(o.position, now);
  };
  const tickAll = (): void => {
    now += 50;
    for (const name of names) flood(net, name, net.get(name)!.step({ type: 'tick' }, now), now, seen);
  };
  for (let i = 0; i < 40; i++) tickAll();
  // Four events, a tick apart: at every phase of the leader's 200 ms beat. The appended answer
  // (b -> a) is held back until the tick after the append, so the commit lands between two beats.
  const ids: string[] = [];
  for (let i = 0; i < 4; i++) {
    const out = net.get('b')!.step({ type: 'localEvent', order: 'agreed', payload: { n: i } }, now);
    const recorded = out.find((o) => o.type === 'recorded');
    assert.ok(recorded?.type === 'recorded');
    ids.push(`${recorded.event.origin}:${recorded.event.seq}`);
    flood(net, 'b', out, now, seen);
    tickAll();
    const raisedAt = now;
    for (let t = 0; t < 8 && !delivered.has(ids.at(-1)!); t++) tickAll();
    const at = delivered.get(ids.at(-1)!);
    assert.ok(at !== undefined, `c delivered ${ids.at(-1)}`);
    assert.ok(at - raisedAt <= 50, `c delivered ${ids.at(-1)} ${at - raisedAt} ms after the tick that followed its commit (at most one tick)`);
  }
});

test('local health: a node whose ticks run late accuses a silent peer only after a stretched silence, and as usual once it is on time again', () => {
  const m = new Membership('a', 0, ['a', 'b', 'c'].map((name) => ({ name, incarnation: 0, inView: true, downIncarnation: -1 })), 600);
  m.heard('b', 0, 1000);
  m.heard('c', 0, 1000);
  assert.deepEqual(m.localReport(1700).unreach.sort(), ['b', 'c'], 'healthy: silent for 700 > 600 ms');
  assert.deepEqual(m.localReport(1700, 1).unreach, [], 'health 1: accuses after 2 x 600 ms');
  assert.deepEqual(m.localReport(2300, 1).unreach.sort(), ['b', 'c']);

  // The core: b stays silent; a's ticks come 300 ms apart (a whole heartbeat late each) for a while.
  const core = new ClusterCore('a', { seeds: [] }, MemoryCoreStore.formed(['a', 'b', 'c']));
  let now = 1_000_000;
  const unreach = (out: CoreOutput[]): string[] | undefined => out.flatMap((o) => (o.type === 'send' && o.frame.type === 'heartbeat' ? [o.frame.unreach] : []))[0];
  const reports: Array<string[] | undefined> = [];
  for (let i = 0; i < 6; i++) {
    now += 300;
    reports.push(unreach(core.step({ type: 'tick' }, now)));
  }
  assert.ok(reports.every((r) => r === undefined || r.length === 0), `a, late, reports nobody unreachable: ${JSON.stringify(reports)}`);
  // On time again (ticks every 50 ms): the score falls a step per heartbeat, and a reports both.
  let reported: number | undefined;
  for (let t = 0; t < 200 && reported === undefined; t++) {
    now += 50;
    const r = unreach(core.step({ type: 'tick' }, now));
    if (r !== undefined && r.length === 2) reported = t;
  }
  assert.ok(reported !== undefined, 'once on time, a reports its silent peers');
});
