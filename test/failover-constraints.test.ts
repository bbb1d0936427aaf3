// Constraints in the failover runtime, against a fake cluster that delivers
// every raised event to every node in one order (as failover-runtime.test.ts
// does, here with several groups): `after` orders starts and planned stops,
// `colocateWith` keeps a VIP with its service, and the config refuses
// constraints no order could satisfy.
import assert from 'node:assert/strict';
import { test } from './helpers/node-test.js';
import { FailoverRuntime, type FailoverHost } from '../consumers/failover/runtime.js';
import { failoverSettings, type FailoverSettings, type GroupSettings } from '../consumers/failover/settings.js';
import type { EventRecord } from '../services/eventd/types.js';
import { isEventdError } from '../services/eventd/errors.js';

const base = { weight: 1, start: '/x', stop: '/x', timeoutMs: 1000, leaseMs: 800, stopBudgetMs: 150, failureTimeoutMs: 0, after: [] as string[] };
const db: GroupSettings = { ...base, name: 'db', prefer: ['n1', 'n2'] };
const web: GroupSettings = { ...base, name: 'web', prefer: ['n3', 'n2'], after: ['db'] };
const vip: GroupSettings = { ...base, name: 'vip', prefer: ['n1'], colocateWith: 'web', after: ['web'] };

class Cluster {
  now = 1_000_000;
  readonly log: EventRecord[] = [];
  readonly runtimes = new Map<string, FailoverRuntime>();
  /** "node:group" pairs whose start succeeded and whose stop has not. */
  readonly running = new Set<string>();
  /** "node:group:start" / "node:group:stop", when each script ended, in order. */
  readonly scripts: string[] = [];
  private readonly pending: Array<() => void> = [];
  private seq = 0;

  constructor(readonly names: string[], groups: GroupSettings[]) {
    for (const name of names) {
      const host: FailoverHost = {
        node: name,
        now: () => this.now,
        mono: () => this.now,
        leaseAgeMs: () => 0,
        silentForMs: () => 0,
        view: () => [...names],
        hasQuorum: () => true,
        size: () => names.length,
        raise: (draft) => {
          const event: EventRecord = { ...draft, id: `${name}:${++this.seq}`, origin: name, seq: this.seq, hlc: String(this.seq) };
          this.log.push(event);
          this.pending.push(() => {
            for (const runtime of this.runtimes.values()) runtime.observe([event]);
          });
          return event.id;
        },
        run: (group, action, _reason, _timeoutMs, done) => {
          this.pending.push(() => {
            const key = `${name}:${group.name}`;
            if (action === 'start') this.running.add(key);
            else this.running.delete(key);
            this.scripts.push(`${key}:${action}`);
            done(true, 'ok');
          });
          return { kill: () => {} };
        },
        warn: () => {},
        monitor: () => 'monitor-sub',
      };
      const settings: FailoverSettings = { groups, capacity: 100, fenceMs: 0, failback: false, maxStartFailures: 3, onShutdown: 'stop', startupWaitMs: 0, garpRefreshMs: 0 };
      this.runtimes.set(name, new FailoverRuntime(host, settings));
    }
    for (const runtime of this.runtimes.values()) runtime.start([]);
  }

  /** 50 ms rounds; each drains deliveries and script ends one at a time, so their order shows. */
  run(rounds: number): void {
    for (let i = 0; i < rounds; i++) {
      this.now += 50;
      while (this.pending.length > 0) this.pending.shift()!();
      for (const runtime of this.runtimes.values()) runtime.tick();
    }
  }

  where(group: string): string[] {
    return [...this.running].filter((key) => key.endsWith(`:${group}`)).map((key) => key.split(':')[0]!);
  }

  index(script: string): number {
    const at = this.scripts.indexOf(script);
    assert.ok(at >= 0, `${script} ran (scripts: ${this.scripts.join(' ')})`);
    return at;
  }
}

test('after: a group starts only once the groups it runs after run; a colocated VIP starts where its service is, after it', () => {
  const cluster = new Cluster(['n1', 'n2', 'n3'], [db, web, vip]);
  cluster.run(30);
  assert.deepEqual([cluster.where('db'), cluster.where('web'), cluster.where('vip')], [['n1'], ['n3'], ['n3']], 'vip follows web, not its own prefer list');
  assert.ok(cluster.index('n1:db:start') < cluster.index('n3:web:start'), 'db before web');
  assert.ok(cluster.index('n3:web:start') < cluster.index('n3:vip:start'), 'web before vip');
  // Every claim of web came after db was reported running (the log's order is the agreed order).
  const pos = (pred: (e: EventRecord) => boolean) => cluster.log.findIndex(pred);
  const dbRunning = pos((e) => e.resource === 'db' && e.attrs['state'] === 'running');
  const webClaim = pos((e) => e.resource === 'web' && e.attrs['state'] === 'starting');
  assert.ok(dbRunning >= 0 && dbRunning < webClaim, 'web claimed only after db ran');
  const view = cluster.runtimes.get('n2')!.groups();
  assert.equal(view.find((g) => g.name === 'vip')?.target, 'n3');
  assert.equal(view.find((g) => g.name === 'vip')?.why, undefined);
});

test('after: a planned move of db stops web first, then db; db starts on its new node before web starts again', () => {
  const cluster = new Cluster(['n1', 'n2', 'n3'], [db, web, vip]);
  cluster.run(30);
  const from = cluster.scripts.length;
  cluster.runtimes.get('n2')!.control({ action: 'move', group: 'db', node: 'n2' });
  cluster.run(40);
  assert.deepEqual([cluster.where('db'), cluster.where('web'), cluster.where('vip')], [['n2'], ['n3'], ['n3']]);
  const after = cluster.scripts.slice(from);
  const at = (script: string) => {
    const i = after.indexOf(script);
    assert.ok(i >= 0, `${script} in ${after.join(' ')}`);
    return i;
  };
  assert.ok(at('n3:vip:stop') < at('n3:web:stop'), `vip stops before web: ${after.join(' ')}`);
  assert.ok(at('n3:web:stop') < at('n1:db:stop'), `web stops before db: ${after.join(' ')}`);
  assert.ok(at('n1:db:stop') < at('n2:db:start') && at('n2:db:start') < at('n3:web:start') && at('n3:web:start') < at('n3:vip:start'), after.join(' '));
});

test('colocateWith: moving the service moves its VIP; moving the VIP alone is refused with the reason and raises nothing', () => {
  const cluster = new Cluster(['n1', 'n2', 'n3'], [db, web, vip]);
  cluster.run(30);
  const before = cluster.log.length;
  assert.throws(() => cluster.runtimes.get('n1')!.control({ action: 'move', group: 'vip', node: 'n1' }),
    (error: unknown) => isEventdError(error) && error.code === 'EVENTD_ERR_UNSATISFIABLE' && /colocated with web/.test(error.message));
  assert.equal(cluster.log.length, before);
  cluster.runtimes.get('n1')!.control({ action: 'move', group: 'web', node: 'n2' });
  cluster.run(40);
  assert.deepEqual([cluster.where('web'), cluster.where('vip')], [['n2'], ['n2']]);
  // Never apart: the VIP never ran on a node where web did not.
  for (const event of cluster.log.filter((e) => e.resource === 'vip' && e.attrs['state'] === 'starting')) {
    const node = String(event.attrs['node']);
    const webOwnedThere = cluster.log.slice(0, cluster.log.indexOf(event)).filter((e) => e.resource === 'web' && e.attrs['state'] === 'starting').at(-1);
    assert.equal(webOwnedThere?.attrs['node'], node, `vip claimed on ${node} where web was last claimed`);
  }
});

test('drain (SIGTERM) stops the groups after others first on this node', async () => {
  const cluster = new Cluster(['n1', 'n2', 'n3'], [{ ...db, prefer: ['n3'] }, web, vip]);
  cluster.run(30);
  assert.deepEqual([cluster.where('db'), cluster.where('web'), cluster.where('vip')], [['n3'], ['n3'], ['n3']]);
  const from = cluster.scripts.length;
  const drained = cluster.runtimes.get('n3')!.drain();
  cluster.run(20);
  await drained;
  const after = cluster.scripts.slice(from).filter((s) => s.startsWith('n3:'));
  assert.deepEqual(after, ['n3:vip:stop', 'n3:web:stop', 'n3:db:stop']);
});

test('after and colocateWith naming no group, themselves, or going round in a circle are config errors naming the key', () => {
  const groups = (extra: Record<string, unknown>[]) => ({ groups: [{ name: 'a', start: '/bin/true', stop: '/bin/true' }, ...extra.map((g) => ({ start: '/bin/true', stop: '/bin/true', ...g }))] });
  const fails = (raw: unknown, key: RegExp) => assert.throws(() => failoverSettings(raw, '/'), (error: unknown) => isEventdError(error) && error.code === 'EVENTD_ERR_BAD_CONFIG' && key.test(String(error.details?.['key'])));
  fails(groups([{ name: 'b', after: ['nope'] }]), /^failover\.groups\[1\]\.after\[0\]$/);
  fails(groups([{ name: 'b', after: ['b'] }]), /^failover\.groups\[1\]\.after\[0\]$/);
  fails(groups([{ name: 'b', colocateWith: 'b' }]), /^failover\.groups\[1\]\.colocateWith$/);
  fails(groups([{ name: 'b', colocateWith: 'zz' }]), /^failover\.groups\[1\]\.colocateWith$/);
  fails({ groups: [{ name: 'a', start: '/bin/true', stop: '/bin/true', after: ['b'] }, { name: 'b', start: '/bin/true', stop: '/bin/true', after: ['a'] }] }, /\.after$/);
  fails({ groups: [{ name: 'a', start: '/bin/true', stop: '/bin/true', colocateWith: 'b' }, { name: 'b', start: '/bin/true', stop: '/bin/true', colocateWith: 'a' }] }, /\.colocateWith$/);
  const ok = failoverSettings(groups([{ name: 'b', after: ['a'], colocateWith: 'a' }]), '/');
  assert.deepEqual([ok.groups[1]!.after, ok.groups[1]!.colocateWith], [['a'], 'a']);
});
