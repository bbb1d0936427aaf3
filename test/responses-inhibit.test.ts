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
  const inhibitor = new Inhibitor([nodeDownRule]);
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
  const first = new Inhibitor([nodeDownRule]);
  const { log, recorder } = localEventLog(store, createMetrics(), 'n1', { observe: (e) => first.observe(e) });
  log.transaction('test', () => {
    recorder.record(nodeEvent('n2', 'down'), membership);
    recorder.record(nodeEvent('n3', 'down'), membership);
    recorder.record(nodeEvent('n3', 'up'), membership);
  });
  const restarted = new Inhibitor([nodeDownRule]);
  for (const className of restarted.sourceClasses()) for (const event of store.events.latestOfClass(className, 100)) restarted.observe(event);
  assert.deepEqual(restarted.state()[0]?.sources.map((s) => s.node), ['n2']);
  assert.deepEqual(restarted.state(), first.state());
});
