// The monitor's parts in process: the feed's filters and subscriber count,
// a client's bounded queue (drops the oldest, says how many, in order, and
// never waits), the query parameters, and the logger's tap (sees the lines,
// changes nothing of what the log gets).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { filterOf } from '../services/eventd/api/routes/monitor.js';
import { isEventdError } from '../services/eventd/errors.js';
import { MonitorClientBuffer } from '../services/eventd/messaging/monitor-buffer.js';
import { eventEntry, logEntry } from '../services/eventd/messaging/monitor-entries.js';
import { MonitorFeed, type MonitorEntry } from '../services/eventd/messaging/monitor-feed.js';
import { MonitorSources } from '../services/eventd/messaging/monitor-sources.js';
import { EventFeed } from '../services/eventd/event-feed.js';
import { silentLogger } from '../services/eventd/logger.js';
import { packageRoot } from '../services/eventd/paths.js';
import type { EventRecord } from '../services/eventd/types.js';
import { test } from './helpers/node-test.js';
import { waitFor } from './helpers/tmp.js';

function entry(kind: MonitorEntry['kind'], level: MonitorEntry['level'], message: string, className?: string): MonitorEntry {
  return { kind, level, time: new Date().toISOString(), message, ...(className === undefined ? {} : { class: className }) };
}

function event(overrides: Partial<EventRecord>): EventRecord {
  return {
    id: 'n2:7', origin: 'n2', seq: 7, hlc: '1.0', type: 'event', subscription: 'raise', subscriptionName: 'raise', class: 'Deploy', resource: 'web', node: 'n2',
    expr: '', attrs: { version: 42 }, time: new Date().toISOString(), ...overrides,
  };
}

test('the feed: level, kind and class filters; internal classes hidden unless named; subscribers counted and released', () => {
  const feed = new MonitorFeed();
  const seen: Record<string, string[]> = { warn: [], deploy: [], members: [], everything: [] };
  const offs = [
    feed.subscribe({ level: 'warn' }, (e) => seen['warn']!.push(e.message)),
    feed.subscribe({ level: 'info', classes: ['Deploy'] }, (e) => seen['deploy']!.push(e.message)),
    feed.subscribe({ level: 'debug', kinds: ['member'] }, (e) => seen['members']!.push(e.message)),
    feed.subscribe({ level: 'debug', hiddenClasses: ['FailoverVote'] }, (e) => seen['everything']!.push(e.message)),
  ];
  assert.equal(feed.subscribers, 4);
  assert.equal(feed.lowestLevel(), 'debug');
  assert.equal(feed.wanted('query', 'info'), true);
  feed.publish(entry('event', 'info', 'deploy', 'Deploy'));
  feed.publish(entry('event', 'info', 'release', 'Release'));
  feed.publish(entry('log', 'warn', 'a warning'));
  feed.publish(entry('log', 'debug', 'a debug line'));
  feed.publish(entry('member', 'warn', 'n3 down', 'Node'));
  feed.publish(entry('event', 'info', 'a vote', 'FailoverVote'));
  assert.deepEqual(seen['warn'], ['a warning', 'n3 down']);
  assert.deepEqual(seen['deploy'], ['deploy', 'a warning'], 'entries with no class pass a class filter; other classes do not');
  assert.deepEqual(seen['members'], ['n3 down']);
  assert.deepEqual(seen['everything'], ['deploy', 'release', 'a warning', 'a debug line', 'n3 down'], 'internal records hidden');
  for (const off of offs) off();
  offs[0]!();
  assert.equal(feed.subscribers, 0);
  assert.equal(feed.wanted('log', 'error'), false);
  assert.equal(feed.lowestLevel(), undefined);
});

test('the feed: a listener that throws is dropped, the publisher and the others go on', () => {
  const feed = new MonitorFeed();
  const got: string[] = [];
  feed.subscribe({ level: 'debug' }, () => { throw new Error('broken watcher'); });
  feed.subscribe({ level: 'debug' }, (e) => got.push(e.message));
  assert.doesNotThrow(() => feed.publish(entry('log', 'info', 'one')));
  feed.publish(entry('log', 'info', 'two'));
  assert.deepEqual(got, ['one', 'two']);
  assert.equal(feed.subscribers, 1);
});

test('a client queue: a stalled sink never holds push; the oldest go, the reader is told how many before what came after', async () => {
  let release: () => void = () => undefined;
  const stalled = new Promise<void>((resolve) => (release = resolve));
  const sent: MonitorEntry[] = [];
  let drops = 0;
  const buffer = new MonitorClientBuffer(async (e) => {
    sent.push(e);
    if (sent.length === 1) await stalled; // the first write blocks, as a full socket does
  }, 100, (count) => (drops += count));
  buffer.push(entry('event', 'info', 'first'));
  await waitFor('the first entry in flight', () => sent.length === 1);
  for (let i = 0; i < 5000; i += 1) buffer.push(entry('event', 'info', `e${i}`));
  // The sink holds the first; the queue keeps the newest 100: 4900 lost.
  assert.equal(buffer.length, 100, 'bounded while the sink is stalled');
  assert.equal(drops, 4900);
  release();
  await waitFor('the queue drained', () => sent.length === 1 + 1 + 100);
  assert.equal(sent[0]!.message, 'first');
  assert.deepEqual([sent[1]!.kind, sent[1]!.level, sent[1]!.data], ['log', 'warn', { dropped: 4900 }]);
  assert.match(sent[1]!.message, /^4900 entries dropped/);
  assert.deepEqual(sent.slice(2).map((e) => e.message), Array.from({ length: 100 }, (_, i) => `e${4900 + i}`));
  // Nothing more lost: no second notice.
  buffer.push(entry('event', 'info', 'after'));
  await waitFor('the next entry', () => sent.length === 103);
  assert.equal(sent[102]!.message, 'after');
  buffer.close();
  buffer.push(entry('event', 'info', 'closed'));
  assert.equal(buffer.length, 0, 'a closed queue takes nothing');
});

test('a client queue: a sink that fails (the connection went) closes it', async () => {
  let calls = 0;
  const buffer = new MonitorClientBuffer(async () => {
    calls += 1;
    throw new Error('connection closed');
  }, 10);
  buffer.push(entry('log', 'info', 'one'));
  buffer.push(entry('log', 'info', 'two'));
  await waitFor('the sink called', () => calls === 1);
  buffer.push(entry('log', 'info', 'three'));
  assert.equal(buffer.length, 0);
});

test('query parameters: defaults, lists, and a 400 naming the parameter', () => {
  assert.deepEqual(filterOf({}, undefined), { level: 'info' });
  assert.deepEqual(filterOf({ kind: 'member, event', class: 'Deploy,Node', level: 'warn' }, ['FailoverVote']), {
    level: 'warn', kinds: ['member', 'event'], classes: ['Deploy', 'Node'], hiddenClasses: ['FailoverVote'],
  });
  for (const [query, field] of [[{ level: 'loud' }, 'level'], [{ kind: 'gossip' }, 'kind'], [{ kind: ',' }, 'kind'], [{ class: 'deploy' }, 'class'], [{ class: '' }, 'class']] as const) {
    assert.throws(() => filterOf(query, undefined), (error: unknown) => isEventdError(error) && error.status === 400 && (error.details as { field?: string }).field === field && error.message.startsWith(`${field}:`), JSON.stringify(query));
  }
});

test('entries: membership records are member entries (down a warning), raised events event entries with their class', () => {
  const down = eventEntry(event({ class: 'Node', subscription: 'membership', subscriptionName: 'membership', resource: 'n3', node: 'n3', attrs: { state: 'down' } }));
  assert.deepEqual([down.kind, down.level, down.class, down.node, down.message], ['member', 'warn', 'Node', 'n3', 'member n3 is down']);
  const view = eventEntry(event({ class: 'Cluster', subscription: 'cluster-view', position: 9, node: 'n1', attrs: { epoch: 3, members: 'n1,n2', joined: '', left: 'n3' } }));
  assert.deepEqual([view.kind, view.class, view.message], ['member', 'Cluster', 'cluster view: epoch 3 of n1 at position 9: n1,n2 (left n3)']);
  const raised = eventEntry(event({ attrs: { version: 42, by: 'ci bot' } }));
  assert.deepEqual([raised.kind, raised.level, raised.class, raised.node, raised.message], ['event', 'info', 'Deploy', 'n2', 'event Deploy web version=42 by="ci bot" (n2:7)']);
  const error = new Error('disk full');
  const line = logEntry({ levelValue: 50, message: 'write failed', fields: { node: 'n1', component: 'actions', err: error, msg: 'x', drop: undefined } });
  assert.deepEqual(line, { kind: 'log', level: 'error', time: line.time, message: 'write failed', node: 'n1', data: { component: 'actions', err: { type: 'Error', message: 'disk full' } } });
});

/** Runs a script against the built logger in a fresh process; its stdout is what the log got. */
function runLoggerScript(body: string): Promise<string> {
  const logger = join(packageRoot, 'dist', 'services', 'eventd', 'logger.js');
  const script = `import { createLogger, tapLogger } from ${JSON.stringify(logger)};\n${body}`;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--input-type=module', '-e', script], { timeout: 20_000 }, (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout)));
  });
}

test('the logger tap: sees lines at the levels it wants, children included, and the log gets exactly the same lines', async () => {
  const lines = `
    const child = logger.child({ component: 'producers' });
    logger.info({ address: '127.0.0.1:1' }, 'listening on %s', 'udp');
    child.warn({ class: 'Blink' }, 'producer Blink unloaded');
    logger.error(new Error('boom'));
    logger.debug('not logged at info');
  `;
  const plain = await runLoggerScript(`const logger = createLogger('info', 'n1');${lines}`);
  const tapped = await runLoggerScript(`
    const logger = createLogger('info', 'n1');
    const seen = [];
    tapLogger(logger, { wants: (level) => level >= 40 || level === 20, line: (line) => seen.push(line) });
    ${lines}
    logger.info({ seen: seen.map((line) => [line.levelValue, line.message, line.fields.component ?? null, line.fields.class ?? null]) }, 'seen');
  `);
  const withoutTime = (text: string) => text.trim().split('\n').map((row) => {
    // What differs between two runs: the time, and the stack's line numbers in the script.
    const { time: _time, ...rest } = JSON.parse(row) as Record<string, unknown>;
    if (typeof rest['err'] === 'object' && rest['err'] !== null) rest['err'] = { ...rest['err'], stack: undefined };
    return rest;
  });
  const tappedRows = withoutTime(tapped);
  const seenRow = tappedRows.pop();
  assert.deepEqual(tappedRows, withoutTime(plain), 'the log is the same with a tap');
  assert.equal(withoutTime(plain).length, 3);
  assert.deepEqual(seenRow?.['seen'], [[40, 'producer Blink unloaded', 'producers', 'Blink'], [50, 'boom', null, null], [20, 'not logged at info', null, null]],
    'the tap saw the warning, the error and (asked for) the debug line the log does not get; not the info');
});

test('sources: committed events reach watchers (none made while nobody watches); a silent peer of the view is suspect once, then heard again', async () => {
  const monitor = new MonitorFeed();
  const feed = new EventFeed();
  const silences = new Map<string, number>([['n2', 10], ['n3', 10]]);
  const members = ['n1', 'n2', 'n3'];
  const sources = new MonitorSources({
    monitor, feed, logger: silentLogger(),
    cluster: { node: 'n1', view: () => members, silentForMs: (peer) => silences.get(peer) ?? Infinity, suspectAfterMs: 800, heartbeatMs: 10 },
  });
  sources.start();
  try {
    const seen: MonitorEntry[] = [];
    feed.publish([{ pos: 1, event: event({}) }]);
    const off = monitor.subscribe({ level: 'info' }, (e) => seen.push(e));
    feed.publish([{ pos: 2, event: event({ id: 'n2:8', seq: 8 }) }]);
    assert.deepEqual(seen.map((e) => e.message), ['event Deploy web version=42 (n2:8)'], 'only what was committed while watched');
    silences.set('n3', 900);
    await waitFor('n3 suspect', () => seen.some((e) => e.message === 'member n3 is suspect: not heard for 900 ms'));
    assert.equal(seen.filter((e) => e.message.includes('suspect')).length, 1, 'said once');
    assert.equal(seen.find((e) => e.message.includes('suspect'))?.level, 'warn');
    silences.set('n3', 5);
    await waitFor('n3 heard again', () => seen.some((e) => e.message === 'member n3 heard again'));
    silences.set('n2', 2000);
    await waitFor('n2 suspect', () => seen.some((e) => e.message.startsWith('member n2 is suspect')));
    sources.tagsChanged('n2', { role: 'db' });
    assert.equal(seen.at(-1)?.message, 'member n2 tags: role=db');
    off();
    assert.equal(monitor.subscribers, 0);
  } finally {
    sources.stop();
  }
});

test('a client queue: drained() resolves once what was queued is sent, at once when nothing is', async () => {
  const sent: string[] = [];
  const buffer = new MonitorClientBuffer(async (e) => void sent.push(e.message), 10);
  await buffer.drained();
  buffer.push(entry('log', 'info', 'stopping'));
  buffer.push(entry('log', 'info', 'stopped'));
  await buffer.drained();
  assert.deepEqual(sent, ['stopping', 'stopped']);
});
