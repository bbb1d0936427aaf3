// When the holder of a group with `ip` announces it again (garp.ts): on each
// view change and every garpRefreshMs, never twice at once, never for a
// group that does not run here or has no address, and not right after its
// own start (the start script announced already).
import assert from 'node:assert/strict';
import { test } from './helpers/node-test.js';
import { Announcer } from '../consumers/failover/garp.js';
import type { FailoverHost } from '../consumers/failover/host.js';
import type { FailoverSettings, GroupSettings } from '../consumers/failover/settings.js';

const base = { weight: 1, prefer: [], start: '/x', stop: '/x', timeoutMs: 1000, leaseMs: 800, stopBudgetMs: 150, failureTimeoutMs: 0, after: [] };
const vip: GroupSettings = { ...base, name: 'vip', ip: { address: '10.0.0.100', prefixLength: 24, interface: 'eth0' } };
const svc: GroupSettings = { ...base, name: 'svc' };

function announcer(garpRefreshMs: number) {
  const calls: Array<{ group: string; reason: string; done: () => void }> = [];
  const host: Pick<FailoverHost, 'announce'> = { announce: (group, reason, done) => void calls.push({ group: group.name, reason, done }) };
  const settings: FailoverSettings = { groups: [vip, svc], capacity: 100, fenceMs: 0, failback: false, maxStartFailures: 3, onShutdown: 'stop', startupWaitMs: 0, garpRefreshMs };
  return { calls, announcer: new Announcer(host as FailoverHost, settings) };
}

test('gratuitous ARP again on a view change and every garpRefreshMs, one at a time, only for a running ip group', () => {
  const { calls, announcer: a } = announcer(1000);
  const state = new Map([['vip', 'stopped'], ['svc', 'running']]);
  const at = (view: string[], mono: number) => a.pass(view, mono, (group) => state.get(group) ?? 'stopped');
  at(['n1', 'n2', 'n3'], 0);
  assert.equal(calls.length, 0, 'nothing runs with an address');
  state.set('vip', 'running');
  at(['n1', 'n2', 'n3'], 100);
  assert.equal(calls.length, 0, 'just started: its start announced it');
  at(['n1', 'n2', 'n3'], 900);
  assert.equal(calls.length, 0);
  at(['n1', 'n2'], 950);
  assert.deepEqual(calls.map((c) => [c.group, c.reason]), [['vip', 'the view changed (n1,n2)']]);
  at(['n1', 'n2', 'n3'], 960);
  assert.equal(calls.length, 1, 'never two at once');
  calls[0]!.done();
  at(['n1', 'n2', 'n3'], 970);
  assert.deepEqual(calls.map((c) => c.reason), ['the view changed (n1,n2)', 'the view changed (n1,n2,n3)']);
  calls[1]!.done();
  at(['n1', 'n2', 'n3'], 1900);
  assert.equal(calls.length, 2);
  at(['n1', 'n2', 'n3'], 1970);
  assert.deepEqual(calls.at(-1)?.reason, 'refresh every 1000 ms');
  calls.at(-1)!.done();
  state.set('vip', 'stopping');
  at(['n1'], 5000);
  assert.equal(calls.length, 3, 'not announced once it stops');
});

test('garpRefreshMs 0: announcements on view changes only', () => {
  const { calls, announcer: a } = announcer(0);
  a.pass(['n1', 'n2'], 0, () => 'running');
  a.pass(['n1', 'n2'], 3_600_000, () => 'running');
  assert.equal(calls.length, 0);
  a.pass(['n1'], 3_600_001, () => 'running');
  assert.equal(calls.length, 1);
});
