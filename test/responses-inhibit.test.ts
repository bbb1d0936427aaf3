// Inhibition: a Node down event mutes the responses of events about that
// node (audited inhibited) until the node is up again, through the real event
// log over a SQLite store; the inhibitor's memory is rebuilt from the log.
import assert from 'node:assert/strict';
import { defer } from './helpers/cleanup.js';
import { test } from 'node:test';
import type { EventOwner } from '../services/eventd/log/index.js';
import { createMetrics } from '../services/eventd/metrics.js';
import { Inhibitor, nodeDownRule } from '../services/eventd/responses/inhibit.js';
import { Store } from '../services/eventd/store/index.js';
import type { EventDraft } from '../services/eventd/log/index.js';
import type { EventRecord } from '../services/eventd/types.js';
import { localEventLog } from './helpers/event-log.js';
import { tempDir } from './helpers/tmp.js';

const disk: EventOwner = { id: 'disk', scope: 'local', order: 'fifo', node: 'n1', actions: [{ webhook: { url: 'http://127.0.0.1:9/hook', method: 'POST' }, timeout: '5s', on: ['event', 'rearm'] }] };
const membership: EventOwner = { id: 'membership', scope: 'local', order: 'fifo', node: 'n1', actions: [{ run: '/bin/true', timeout: '5s', on: ['event', 'rearm'] }] };

function nodeEvent(node: string, state: 'up' | 'down'): EventDraft {
  return { type: state === 'down' ? 'event' : 'rearm', subscription: 'membership', subscriptionName: 'membership', class: 'Node', resource: node, node, expr: `state = "${state}"`, attrs: { state }, time: new Date().toISOString() };
}

function diskEvent(node: string): EventDraft {
  return { type: 'event', subscription: 'disk', subscriptionName: 'disk-full', class: 'FileSystem', resource: '/dev/sda2', node, expr: 'percentUsed > 90', attrs: { percentUsed: 95 }, time: new Date().toISOString() };
}

test('while n2 is down its events are logged and their responses inhibited; other nodes and n2 once up are not', (t) => {
  const dir = tempDir(t);
  const store = Store.open(dir);
  defer(t, () => store.close());
  const inhibitor = new Inhibitor([{ id: 'r1', rule: nodeDownRule }]);
  const { log, recorder } = localEventLog(store, createMetrics(), 'n1', { plan: { response: () => undefined, mute: (e) => inhibitor.muting(e) }, observe: (e) => inhibitor.observe(e) });
  const record = (draft: EventDraft, owner: EventOwner) => log.transaction('test', () => recorder.record(draft, owner));
  const status = (id: string) => store.actionRuns.list({ eventId: id, limit: 5 }).map((run) => [run.status, run.reason, run.detail]);

  const before = record(diskEvent('n2'), disk);
  const down = record(nodeEvent('n2', 'down'), membership);
  const muted = [record(diskEvent('n2'), disk), record(diskEvent('n2'), disk)];
  const other = record(diskEvent('n3'), disk);
  const up = record(nodeEvent('n2', 'up'), membership);
  const after = record(diskEvent('n2'), disk);

  assert.deepEqual(status(before), [['pending', null, null]]);
  assert.deepEqual(status(down), [['pending', null, null]]); // the Node down event itself pages, once
  for (const id of muted) assert.deepEqual(status(id), [['skipped', 'inhibited', `Node down n2 (event ${down})`]]);
  assert.deepEqual(status(other), [['pending', null, null]]);
  assert.deepEqual(status(up), [['pending', null, null]]);
  assert.deepEqual(status(after), [['pending', null, null]]);
  assert.equal(store.events.listAfter(0, { limit: 100 }).length, 7); // every event is logged
});

test('the inhibitor rebuilt from the log at start knows which nodes are down', (t) => {
  const dir = tempDir(t);
  const store = Store.open(dir);
  defer(t, () => store.close());
  const first = new Inhibitor([{ id: 'r1', rule: nodeDownRule }]);
  const { log, recorder } = localEventLog(store, createMetrics(), 'n1', { observe: (e) => first.observe(e) });
  log.transaction('test', () => {
    recorder.record(nodeEvent('n2', 'down'), membership);
    recorder.record(nodeEvent('n3', 'down'), membership);
    recorder.record(nodeEvent('n3', 'up'), membership);
  });
  const restarted = new Inhibitor([{ id: 'r1', rule: nodeDownRule }]);
  for (const className of restarted.sourceClasses()) for (const event of store.events.latestOfClass(className, 100)) restarted.observe(event);
  assert.deepEqual(restarted.state()[0]?.sources.map((s) => s.node), ['n2']);
  assert.deepEqual(restarted.state(), first.state());
});

/** A Node probe on `observer` about `peer` (the Node producer's samples: the resource is the peer). */
function probe(observer: string, peer: string, subscription: string, type: 'event' | 'rearm', attrs: Record<string, string | number>): EventRecord {
  return {
    id: `${observer}:${++seq}`, origin: observer, seq, hlc: String(seq), type, subscription, subscriptionName: subscription, class: 'Node', resource: peer, node: observer,
    expr: 'x', attrs, time: new Date().toISOString(),
  };
}
let seq = 0;

function diskRecord(node: string): EventRecord {
  return { ...diskEvent(node), id: `${node}:${++seq}`, origin: node, seq, hlc: String(seq) };
}

test('a Node event is about the node it names: a probe on n1 saying n3 is down mutes events about n3, not about n1', () => {
  const inhibitor = new Inhibitor([{ id: 'r1', rule: { when: { class: 'Node', state: 'down', subscription: 'node-down' }, mute: { sameNode: true } } }]);
  const down = probe('n1', 'n3', 'node-down', 'event', { state: 'down', lastHeardMs: 4000 });
  inhibitor.observe(down);
  assert.deepEqual(inhibitor.state()[0]?.sources, [{ node: 'n3', event: down.id }]);
  assert.equal(inhibitor.muting(diskRecord('n1')), undefined, 'the observer is not down');
  assert.equal(inhibitor.muting(diskRecord('n3'))?.detail, `Node down n3 (event ${down.id})`);
  // Another probe about n3 (not of the source's subscription) is about n3 too: muted.
  const slow = probe('n2', 'n3', 'peer-slow', 'event', { state: 'down', lastHeardMs: 6000 });
  inhibitor.observe(slow);
  assert.equal(inhibitor.muting(slow)?.reason, 'inhibited');
  // The source's own kind is never muted by its rule (Alertmanager): the page for n3 down goes out.
  assert.equal(inhibitor.muting(down), undefined);
  // The rearm of another subscription of the class does not end it; the source's own rearm does.
  inhibitor.observe(probe('n2', 'n3', 'peer-slow', 'rearm', { lastHeardMs: 100 }));
  assert.equal(inhibitor.muting(diskRecord('n3'))?.reason, 'inhibited');
  inhibitor.observe(probe('n1', 'n3', 'node-down', 'rearm', { lastHeardMs: 100 }));
  assert.equal(inhibitor.muting(diskRecord('n3')), undefined);
});

test('a rule added later learns from the log which nodes it holds for; removed, it mutes nothing; mute.class and sameNode false narrow and widen it', () => {
  const inhibitor = new Inhibitor();
  const history = [probe('n1', 'n2', 'membership', 'event', { state: 'down' }), probe('n1', 'n3', 'membership', 'event', { state: 'down' }), probe('n1', 'n3', 'membership', 'rearm', { state: 'up' })];
  inhibitor.add('late', nodeDownRule, history);
  assert.deepEqual(inhibitor.state()[0]?.sources.map((s) => s.node), ['n2']);
  assert.equal(inhibitor.muting(diskRecord('n2'))?.reason, 'inhibited');
  assert.equal(inhibitor.muting(diskRecord('n3')), undefined);
  inhibitor.remove('late');
  assert.equal(inhibitor.muting(diskRecord('n2')), undefined);
  inhibitor.add('paging-only', { when: { class: 'Node', state: 'down' }, mute: { class: 'PagingSpace' } }, history);
  assert.equal(inhibitor.muting(diskRecord('n2')), undefined, 'FileSystem is not muted by a PagingSpace-only rule');
  inhibitor.add('everywhere', { when: { class: 'Node', state: 'down' }, mute: { sameNode: false } }, history);
  assert.equal(inhibitor.muting(diskRecord('n1'))?.detail, `Node down n2 (event ${history[0]?.id})`);
});
