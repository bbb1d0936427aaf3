// The failover runtime against a fake cluster that delivers every raised
// event to every node at once, in one order (a perfect agreed order): the
// rules of claims, votes, start failures and failed stops, without timing.
import assert from 'node:assert/strict';
import { test } from './helpers/node-test.js';
import { FailoverRuntime, type FailoverHost } from '../consumers/failover/runtime.js';
import type { FailoverSettings, GroupSettings } from '../consumers/failover/settings.js';
import type { EventRecord } from '../services/eventd/types.js';
import { isEventdError } from '../services/eventd/errors.js';

const group: GroupSettings = {
  name: 'svc', weight: 1, prefer: ['n1', 'n2', 'n3'], start: '/x', stop: '/x', timeoutMs: 1000, leaseMs: 800, stopBudgetMs: 150, failureTimeoutMs: 0, after: [], monitor: { class: 'Process', expr: 'running = 0' },
};

class FakeCluster {
  now = 1_000_000;
  view: string[];
  readonly log: EventRecord[] = [];
  readonly runtimes = new Map<string, FailoverRuntime>();
  readonly running = new Set<string>();
  /** Which scripts fail: "n1:start". */
  readonly failing = new Set<string>();
  /** Scripts that never finish: "n1:stop". */
  readonly hanging = new Set<string>();
  /** When each node's heartbeats stopped being acknowledged (its lease ages from then). */
  readonly unackedSince = new Map<string, number>();
  /** When each node was last heard by the others, once it went silent. */
  readonly silentSince = new Map<string, number>();
  readonly pets = new Map<string, number>();
  readonly reasons: string[] = [];
  private readonly pending: Array<() => void> = [];
  private seq = 0;

  constructor(readonly names: string[], settings: Partial<FailoverSettings> = {}) {
    this.view = [...names];
    for (const name of names) {
      const host: FailoverHost = {
        node: name,
        now: () => this.now,
        mono: () => this.now,
        leaseAgeMs: () => (this.unackedSince.has(name) ? this.now - this.unackedSince.get(name)! : 0),
        silentForMs: (peer) => (this.silentSince.has(peer) ? this.now - this.silentSince.get(peer)! : 0),
        pet: () => void this.pets.set(name, this.now),
        view: () => (this.view.includes(name) ? [...this.view] : [name]),
        hasQuorum: () => this.view.includes(name),
        size: () => names.length,
        raise: (draft) => {
          const event: EventRecord = { ...draft, id: `${name}:${++this.seq}`, origin: name, seq: this.seq, hlc: String(this.seq) };
          this.log.push(event);
          // Delivered to every node in the same order, after this call returns (as a commit then a publish).
          this.pending.push(() => {
            for (const [other, runtime] of this.runtimes) if (this.view.includes(other) || other === name) runtime.observe([event]);
          });
          return event.id;
        },
        run: (_group, action, reason, _timeoutMs, done) => {
          this.reasons.push(`${name}:${action}:${reason}`);
          if (this.hanging.has(`${name}:${action}`)) return { kill: () => {} };
          this.pending.push(() => {
            const ok = !this.failing.has(`${name}:${action}`);
            if (ok && action === 'start') this.running.add(name);
            if (ok && action === 'stop') this.running.delete(name);
            done(ok, ok ? 'ok' : 'failed (exit 1)');
          });
          return { kill: () => {} };
        },
        warn: () => {},
        monitor: () => 'monitor-sub',
      };
      this.runtimes.set(name, new FailoverRuntime(host, { groups: [group], capacity: 100, fenceMs: 500, failback: false, maxStartFailures: 3, onShutdown: 'stop', startupWaitMs: 0, garpRefreshMs: 0, ...settings }));
    }
    for (const runtime of this.runtimes.values()) runtime.start([]);
  }

  /** Advances the clock by 50 ms (or `stepMs`: ticks running late) per round, draining deliveries and script completions, and ticks every node. */
  run(rounds: number, stepMs = 50): void {
    for (let i = 0; i < rounds; i++) {
      this.now += stepMs;
      while (this.pending.length > 0) this.pending.shift()!();
      for (const runtime of this.runtimes.values()) runtime.tick();
      while (this.pending.length > 0) this.pending.shift()!();
    }
  }

  /** `node` is cut off: out of the others' view, unheard and unacknowledged from now. */
  isolate(node: string): void {
    this.view = this.view.filter((n) => n !== node);
    this.silentSince.set(node, this.now);
    this.unackedSince.set(node, this.now);
  }

  states(state: string): EventRecord[] {
    return this.log.filter((event) => event.class === 'FailoverGroup' && event.attrs['state'] === state);
  }
}

test('the preferred node runs the group, and only it', () => {
  const cluster = new FakeCluster(['n1', 'n2', 'n3']);
  cluster.run(40);
  assert.deepEqual([...cluster.running], ['n1']);
  assert.equal(cluster.states('running').length, 1);
  assert.equal(cluster.log.filter((e) => e.class === 'FailoverVote').length, 3, 'every node voted for the one claim');
});

test('a start that fails maxStartFailures times on a node moves the group to the next one', () => {
  const cluster = new FakeCluster(['n1', 'n2', 'n3']);
  cluster.failing.add('n1:start');
  cluster.run(400);
  assert.deepEqual([...cluster.running], ['n2']);
  const failed = cluster.states('failed');
  assert.equal(failed.filter((e) => e.attrs['node'] === 'n1').length, 3, 'three failed starts on n1, then no more');
});

test('the holder gone from the view: a survivor takes over once its lease has surely lapsed, not before', () => {
  const cluster = new FakeCluster(['n1', 'n2', 'n3']);
  cluster.run(40);
  assert.deepEqual([...cluster.running], ['n1']);
  cluster.isolate('n1');
  cluster.runtimes.get('n1')!.stop();
  cluster.running.delete('n1'); // the host died with it
  cluster.run(18); // 900 ms < leaseMs + margin
  assert.deepEqual([...cluster.running], []);
  cluster.run(60);
  assert.deepEqual([...cluster.running], ['n2']);
  assert.ok(cluster.reasons.includes('n2:start:taking over from n1'), cluster.reasons.join(' '));
});

test('survivors whose own ticks run late wait their lateness longer before they take over (Lifeguard local health)', () => {
  const cluster = new FakeCluster(['n1', 'n2', 'n3']);
  cluster.run(40);
  assert.deepEqual([...cluster.running], ['n1']);
  cluster.isolate('n1');
  cluster.runtimes.get('n1')!.stop();
  cluster.running.delete('n1');
  // Ticks 200 ms apart (150 ms late each, short of a stall): silence 1000 ms > leaseMs + margin (950), but not + 150 ms of own lateness.
  cluster.run(5, 200);
  assert.equal(cluster.states('starting').filter((e) => e.attrs['from'] === 'n1').length, 0, 'no takeover claim while the silence may be the survivors\' own lateness');
  cluster.run(2, 200);
  cluster.run(20);
  assert.deepEqual([...cluster.running], ['n2'], 'once the silence exceeds the wait with the lateness added, n2 takes over');
});

test('a node whose own loop just stalled (a start on a loaded machine) claims nothing until it has run on time for a while', () => {
  const cluster = new FakeCluster(['n1', 'n2', 'n3']);
  // One pass 700 ms late: past fenceMs, so the group may be placed, but n1 (preferred) has just stalled.
  cluster.run(1, 700);
  cluster.run(10); // 500 ms on time: still inside the 600 ms it listens after a stall
  assert.equal(cluster.states('starting').length, 0, 'no claim by a node whose loop stalled under 600 ms ago');
  cluster.run(4);
  assert.deepEqual(cluster.states('starting').map((e) => e.attrs['node']), ['n1'], 'then the preferred node claims it');
  cluster.run(20);
  assert.deepEqual([...cluster.running], ['n1']);
});

test('a holder whose heartbeats go unacknowledged stops within its lease, even hearing a majority', () => {
  const cluster = new FakeCluster(['n1', 'n2', 'n3']);
  cluster.run(40);
  assert.deepEqual([...cluster.running], ['n1']);
  cluster.unackedSince.set('n1', cluster.now); // egress lost: the view and quorum stay as they were on n1
  const from = cluster.now;
  cluster.run(20);
  const stop = cluster.states('stopping').find((e) => e.attrs['node'] === 'n1');
  assert.ok(stop, 'n1 stopped');
  assert.match(String(stop.attrs['reason']), /^fenced: lease lapsing/);
  assert.ok(Date.parse(stop.time) - from <= group.leaseMs - group.stopBudgetMs, `stopping ${Date.parse(stop.time) - from} ms after the last ack`);
  assert.ok(!cluster.running.has('n1'));
});

test('a stop that outlasts the lease ends the watchdog petting (the machine resets); other nodes pet on', () => {
  const cluster = new FakeCluster(['n1', 'n2', 'n3'], { watchdog: { device: 'fake', timeoutMs: 500 } });
  cluster.run(40);
  cluster.hanging.add('n1:stop');
  cluster.unackedSince.set('n1', cluster.now);
  const from = cluster.now;
  cluster.run(30);
  assert.equal(cluster.runtimes.get('n1')!.localState('svc'), 'stopping');
  assert.ok(cluster.pets.get('n1')! < from + group.leaseMs, `last pet ${cluster.pets.get('n1')! - from} ms after the last ack`);
  assert.ok(cluster.pets.get('n2')! >= cluster.now - 50, 'the others still pet theirs');
  assert.equal(cluster.runtimes.get('n1')!.pettable(), false);
});

test('a takeover from a node with a watchdog also waits the watchdog timeout', () => {
  const cluster = new FakeCluster(['n1', 'n2', 'n3'], { watchdog: { device: 'fake', timeoutMs: 1000 } });
  cluster.run(40);
  cluster.isolate('n1');
  cluster.runtimes.get('n1')!.stop();
  cluster.running.delete('n1');
  cluster.run(36); // 1800 ms < leaseMs + 1000 + margin
  assert.deepEqual([...cluster.running], []);
  cluster.run(60);
  assert.deepEqual([...cluster.running], ['n2']);
});

test('drain (SIGTERM, onShutdown stop) stops the group here and reports it stopped', async () => {
  const cluster = new FakeCluster(['n1', 'n2', 'n3']);
  cluster.run(40);
  const drained = cluster.runtimes.get('n1')!.drain();
  cluster.run(4);
  await drained;
  assert.ok(!cluster.running.has('n1'));
  assert.ok(cluster.reasons.includes('n1:stop:eventd stopping'));
  assert.ok(cluster.states('stopped').some((e) => e.attrs['node'] === 'n1'));
});

test('a restarted node corrects the report its earlier life left (no starting or running left behind)', () => {
  const cluster = new FakeCluster(['n1', 'n2', 'n3']);
  cluster.run(40);
  const history = [...cluster.log];
  const raised: EventRecord[] = [];
  const host: FailoverHost = {
    node: 'n1', now: () => cluster.now, mono: () => cluster.now, view: () => ['n1', 'n2', 'n3'], hasQuorum: () => true, size: () => 3,
    leaseAgeMs: () => 0, silentForMs: () => 0, warn: () => {}, monitor: () => 'monitor-sub',
    raise: (draft) => {
      raised.push({ ...draft, id: `n1:r${raised.length}`, origin: 'n1', seq: 0, hlc: '0' });
      return `n1:r${raised.length - 1}`;
    },
    run: () => ({ kill: () => {} }),
  };
  new FailoverRuntime(host, { groups: [group], capacity: 100, fenceMs: 500, failback: false, maxStartFailures: 3, onShutdown: 'stop', startupWaitMs: 0, garpRefreshMs: 0 }).start(history);
  assert.deepEqual(raised.filter((e) => e.class === 'FailoverGroup').map((e) => [e.attrs['state'], e.attrs['reason']]), [['stopped', 'eventd restarted: not running here']]);
});

test('a failed stop keeps the group where it is: nobody starts it until that node is down', () => {
  const cluster = new FakeCluster(['n1', 'n2', 'n3'], { failback: true });
  cluster.run(40);
  assert.deepEqual([...cluster.running], ['n1']);
  // n1 loses its quorum and must fence itself, but its stop fails.
  cluster.failing.add('n1:stop');
  cluster.view = ['n2', 'n3'];
  cluster.run(2);
  cluster.view = ['n1', 'n2', 'n3'];
  cluster.run(60);
  assert.ok(cluster.states('failed').some((e) => e.attrs['node'] === 'n1' && e.attrs['stopFailed'] === true));
  assert.ok(!cluster.running.has('n2') && !cluster.running.has('n3'), `running: ${[...cluster.running].join(',')}`);
});

test('the monitor firing on the holder stops the group there, counts a failure, and after maxStartFailures it moves', () => {
  const cluster = new FakeCluster(['n1', 'n2', 'n3']);
  cluster.run(40);
  const monitorEvent = (n: number): EventRecord => ({
    id: `n1:m${n}`, origin: 'n1', seq: 1000 + n, hlc: '0', type: 'event', subscription: 'monitor-sub', subscriptionName: 'failover-svc-monitor',
    class: 'Process', resource: 'web', node: 'n1', expr: 'running = 0', attrs: { running: 0 }, time: new Date(cluster.now).toISOString(),
  });
  for (let n = 1; n <= 3; n++) {
    assert.deepEqual([...cluster.running], ['n1'], `round ${n}`);
    cluster.runtimes.get('n1')!.observe([monitorEvent(n)]);
    cluster.run(60);
  }
  assert.equal(cluster.states('failed').filter((e) => e.attrs['node'] === 'n1').length, 3);
  assert.deepEqual([...cluster.running], ['n2']);
});

test('operator controls: a move (with a lifetime) moves the group and expires; an unsatisfiable move says why and raises nothing', () => {
  const cluster = new FakeCluster(['n1', 'n2', 'n3']);
  cluster.run(40);
  assert.deepEqual([...cluster.running], ['n1']);
  const n2 = cluster.runtimes.get('n2')!;
  n2.control({ action: 'move', group: 'svc', node: 'n3', expiresAt: cluster.now + 5000 });
  cluster.run(40);
  assert.deepEqual([...cluster.running], ['n3']);
  assert.ok(cluster.reasons.includes('n1:stop:moved by operator to n3'), cluster.reasons.join(' '));
  assert.ok(cluster.reasons.includes('n3:start:moved by operator'), cluster.reasons.join(' '));
  const [constraint] = n2.groups()[0]!.constraints;
  assert.equal(constraint?.kind, 'move');
  assert.equal(constraint?.node, 'n3');
  assert.ok(typeof constraint?.expiresAt === 'number' && constraint.expiresAt > cluster.now);
  cluster.run(100); // past the lifetime: the constraint is gone, the group stays (stickiness)
  assert.deepEqual(n2.groups()[0]!.constraints, []);
  assert.deepEqual([...cluster.running], ['n3']);

  const before = cluster.log.length;
  cluster.runtimes.get('n1')!.control({ action: 'standby', node: 'n2' });
  cluster.run(4);
  for (const [node, why] of [['n2', /n2 is in standby/], ['n9', /n9 is not in the view/]] as const) {
    assert.throws(() => n2.control({ action: 'move', group: 'svc', node }), (error: unknown) => isEventdError(error) && error.code === 'EVENTD_ERR_UNSATISFIABLE' && why.test(error.message));
  }
  assert.throws(() => n2.control({ action: 'move', group: 'nope', node: 'n1' }), (error: unknown) => isEventdError(error) && error.code === 'EVENTD_ERR_GROUP_NOT_FOUND');
  assert.equal(cluster.log.filter((e) => e.class === 'FailoverControl').length, cluster.log.slice(0, before).filter((e) => e.class === 'FailoverControl').length + 1, 'only the standby was raised');
});

test('operator controls: standby drains a node; ban keeps a group off; clear drops both kinds', () => {
  const cluster = new FakeCluster(['n1', 'n2', 'n3']);
  cluster.run(40);
  const ops = cluster.runtimes.get('n3')!;
  ops.control({ action: 'standby', node: 'n1' });
  cluster.run(40);
  assert.deepEqual([...cluster.running], ['n2']);
  assert.ok(cluster.reasons.includes('n1:stop:node in standby'), cluster.reasons.join(' '));
  ops.control({ action: 'ban', group: 'svc', node: 'n2' });
  cluster.run(40);
  assert.deepEqual([...cluster.running], ['n3']);
  ops.control({ action: 'unstandby', node: 'n1' });
  ops.control({ action: 'clear', group: 'svc' });
  cluster.run(40);
  assert.deepEqual(ops.groups()[0]!.constraints, []);
  assert.deepEqual([...cluster.running], ['n3'], 'stickiness: clearing moves nothing back');
});

test('operator controls: an unmanaged group (and maintenance) runs no script, not even when its holder loses the lease', () => {
  const cluster = new FakeCluster(['n1', 'n2', 'n3']);
  cluster.run(40);
  const ops = cluster.runtimes.get('n2')!;
  ops.control({ action: 'unmanage', group: 'svc' });
  cluster.run(4);
  const scripts = cluster.reasons.length;
  cluster.unackedSince.set('n1', cluster.now);
  cluster.run(40);
  assert.equal(cluster.reasons.length, scripts, `scripts ran: ${cluster.reasons.slice(scripts).join(' ')}`);
  assert.equal(ops.groups()[0]!.managed, false);
  cluster.unackedSince.delete('n1');
  ops.control({ action: 'manage', group: 'svc' });
  ops.control({ action: 'maintenance', on: true });
  cluster.run(4);
  assert.equal(ops.status().maintenance, true);
  assert.throws(() => ops.control({ action: 'move', group: 'svc', node: 'n2' }), /the cluster is in maintenance/);
  ops.control({ action: 'maintenance', on: false });
  cluster.run(4);
  ops.control({ action: 'move', group: 'svc', node: 'n2' });
  cluster.run(40);
  assert.deepEqual([...cluster.running], ['n2']);
});

test('failureTimeout: fail counts expire after that long without a failure; cleanup resets them by hand', () => {
  const cluster = new FakeCluster(['n1', 'n2', 'n3'], { groups: [{ ...group, failureTimeoutMs: 30_000 }] });
  cluster.failing.add('n1:start');
  cluster.run(400);
  assert.deepEqual([...cluster.running], ['n2']);
  const ops = cluster.runtimes.get('n3')!;
  assert.deepEqual(ops.groups()[0]!.failures, { n1: 3 });
  cluster.run(400); // 20 s more: over 30 s after the last failure
  assert.deepEqual(ops.groups()[0]!.failures, {}, 'expired');
  ops.control({ action: 'ban', group: 'svc', node: 'n2' }); // n1 is eligible again: the group goes there and fails
  cluster.run(400);
  assert.deepEqual(ops.groups()[0]!.failures, { n1: 3 });
  ops.control({ action: 'cleanup', group: 'svc', node: 'n1' });
  cluster.run(2);
  assert.deepEqual(ops.groups()[0]!.failures['n1'] ?? 0, 0);
});
