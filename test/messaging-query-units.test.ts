// The pure parts of queries: frames checked field by field, the request's
// bounds, the asker's bookkeeping (acks apart from answers, each node once,
// missing at the end), and the service between nodes over an in-memory
// network (the Transport idea: memberlist's mock transport) with real
// handler scripts.
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from './helpers/node-test.js';
import { tempDir, waitFor } from './helpers/tmp.js';
import { silentLogger } from '../services/eventd/logger.js';
import { createMetrics } from '../services/eventd/metrics.js';
import { EventdError } from '../services/eventd/errors.js';
import { parseQueryFrame, queryBounds, type QueryWireFrame } from '../services/eventd/messaging/query-frames.js';
import { QueryHandlers } from '../services/eventd/messaging/query-handler.js';
import { parseQueryRequest } from '../services/eventd/messaging/query-request.js';
import { QueryTally, type QueryLine, type QuerySummary } from '../services/eventd/messaging/query-tally.js';
import { QueryService, type QueryNetwork, type QuerySendResult } from '../services/eventd/messaging/queries.js';
import { TagService, type Tags } from '../services/eventd/messaging/tags.js';
import { openDb } from '../services/eventd/store/db.js';
import { Store } from '../services/eventd/store/index.js';

test('query frames: each kind round-trips through JSON; a malformed or out-of-bounds one is no frame', () => {
  const frames: QueryWireFrame[] = [
    { type: 'query', from: 'n1', id: 'q1', name: 'uptime', payload: 'hi', tags: { role: 'web' }, nodes: null, timeoutMs: 2000 },
    { type: 'query', from: 'n1', id: 'q1', name: 'uptime', payload: '', tags: {}, nodes: ['n2'], timeoutMs: 1 },
    { type: 'query-ack', from: 'n2', id: 'q1' },
    { type: 'query-answer', from: 'n2', id: 'q1', output: 'up', truncated: false, exitCode: 0 },
    { type: 'query-answer', from: 'n2', id: 'q1', output: '', truncated: false, exitCode: null, failure: 'no-handler', message: 'none' },
  ];
  for (const frame of frames) assert.deepEqual(parseQueryFrame(JSON.parse(JSON.stringify(frame))), frame);
  const query = frames[0]!;
  for (const bad of [
    { ...query, timeoutMs: queryBounds.maxTimeoutMs + 1 },
    { ...query, timeoutMs: 0 },
    { ...query, tags: { role: 5 } },
    { ...query, nodes: 'n2' },
    { ...query, nodes: [''] },
    { ...query, name: '' },
    { ...query, from: 7 },
    { ...query, type: 'heartbeat' },
    { type: 'query-answer', from: 'n2', id: 'q1', output: 'x', truncated: 'no', exitCode: 0 },
    { type: 'query-answer', from: 'n2', id: 'q1', output: 'x', truncated: false, exitCode: 1.5 },
    { type: 'query-answer', from: 'n2', id: 'q1', output: 'x', truncated: false, exitCode: 0, failure: 'exploded' },
    null, 'query', [],
  ]) assert.equal(parseQueryFrame(bad), undefined, JSON.stringify(bad));
});

test('query request: timeout required and bounded (duration or ms), scope forms, names deduplicated', () => {
  assert.deepEqual(parseQueryRequest({ name: 'uptime', timeout: '2s' }), { name: 'uptime', payload: '', scope: 'cluster', tags: {}, timeoutMs: 2000 });
  assert.equal(parseQueryRequest({ name: 'uptime', timeout: 60_000 }).timeoutMs, 60_000);
  assert.deepEqual(parseQueryRequest({ name: 'uptime', timeout: '1s', scope: ['n2', 'n2', 'n3'] }).scope, ['n2', 'n3']);
  assert.equal(parseQueryRequest({ name: 'uptime', timeout: '1s', scope: 'local' }).scope, 'local');
  const field = (body: unknown): unknown => {
    try {
      parseQueryRequest(body);
    } catch (error) {
      assert.ok(error instanceof EventdError);
      assert.equal(error.code, 'EVENTD_ERR_BAD_QUERY');
      return error.details?.['field'];
    }
    return undefined;
  };
  assert.equal(field({ name: 'uptime', timeout: 1.5 }), 'timeout');
  assert.equal(field({ name: 'uptime', timeout: '61s' }), 'timeout');
  assert.equal(field({ name: 'uptime', timeout: '1s', scope: [] }), 'scope');
  assert.equal(field({ name: 'uptime', timeout: '1s', tags: { '9x': 'a' } }), 'tags.9x');
  assert.equal(field([]), 'body');
});

test('query tally: acks apart from answers, each node once, an answer that overtook its ack counts as both, missing at the end', () => {
  const tally = new QueryTally('q1', 'uptime', ['n1', 'n2', 'n3'], 1000);
  assert.deepEqual(tally.ack('n1', 1001.5), { type: 'ack', node: 'n1', rttMs: 1.5 });
  assert.equal(tally.ack('n1', 1002), undefined, 'a repeated ack is no line');
  const answered = tally.answer('n1', 1010, { output: 'up', truncated: false, exitCode: 0 });
  assert.deepEqual(answered, [{ type: 'answer', node: 'n1', rttMs: 10, output: 'up', truncated: false, exitCode: 0 }]);
  assert.deepEqual(tally.answer('n1', 1011, { output: 'again', truncated: false, exitCode: 0 }), []);
  // n2's answer arrived before its ack (UDP reorders): an ack line first.
  assert.deepEqual(tally.answer('n2', 1020, { output: '', truncated: false, exitCode: null, failure: 'timeout', message: 'killed' }).map((line) => line.type), ['ack', 'error']);
  assert.equal(tally.complete, false);
  // A node the asker did not think matched (its tags changed) acked: it was asked after all.
  tally.ack('n4', 1030);
  const summary: QuerySummary = tally.summary(3000);
  assert.deepEqual({ ...summary, elapsedMs: 0 }, {
    type: 'summary', id: 'q1', name: 'uptime', asked: ['n1', 'n2', 'n3', 'n4'], acked: ['n1', 'n2', 'n4'], answered: ['n1'], failed: ['n2'], missing: ['n3', 'n4'], elapsedMs: 0,
  });
  assert.equal(summary.elapsedMs, 2000);
  // A frame the asker could not send is a failure, never an ack.
  const unsent = new QueryTally('q2', 'uptime', ['n2'], 0);
  assert.deepEqual(unsent.answer('n2', 1, { output: '', truncated: false, exitCode: null, failure: 'too-large', message: 'big' }).map((line) => line.type), ['error']);
  assert.deepEqual(unsent.summary(2).acked, []);
  assert.equal(unsent.complete, true);
});

/** Nodes wired to each other in memory: each frame goes through JSON and the receiver's checks, as over the wire. */
class MemoryNet {
  readonly services = new Map<string, QueryService>();
  readonly sent: QueryWireFrame[] = [];
  /** Frames larger than this (JSON bytes) are refused as too large. */
  maxBytes = Infinity;

  network(self: string): QueryNetwork {
    return {
      send: (to, frame): QuerySendResult => {
        const service = this.services.get(to);
        if (!service) return 'unreachable';
        const text = JSON.stringify(frame);
        if (Buffer.byteLength(text) > this.maxBytes) return 'too-large';
        this.sent.push(frame);
        setImmediate(() => service.receive(self, JSON.parse(text)));
        return 'sent';
      },
      peers: () => [...this.services.keys()].filter((name) => name !== self),
    };
  }
}

function tagsOf(own: Tags, all: Record<string, Tags>) {
  const holds = (tags: Tags | undefined, wanted: Readonly<Tags>) => Object.entries(wanted).every(([name, value]) => tags?.[name] === value);
  return {
    matching: (wanted: Readonly<Tags>, nodes: readonly string[]) => nodes.filter((node) => holds(all[node], wanted)),
    matchesHere: (wanted: Readonly<Tags>) => holds(own, wanted),
    isWitness: (node: string) => all[node]?.['witness'] === 'true',
  };
}

function cluster(dir: string, handlersOf: Record<string, Record<string, string>>, tags: Record<string, Tags>): MemoryNet {
  const net = new MemoryNet();
  for (const [node, scripts] of Object.entries(handlersOf)) {
    const handlers: Record<string, { run: string; args: string[]; timeoutMs: number }> = {};
    for (const [name, body] of Object.entries(scripts)) {
      const file = join(dir, `${node}-${name}.sh`);
      writeFileSync(file, `#!/bin/sh\n${body}\n`);
      chmodSync(file, 0o755);
      handlers[name] = { run: file, args: [], timeoutMs: 5000 };
    }
    net.services.set(node, new QueryService({
      node, handlers: new QueryHandlers({ node, handlers }), tags: tagsOf(tags[node] ?? {}, tags), network: net.network(node), metrics: createMetrics(), logger: silentLogger(),
      witness: tags[node]?.['witness'] === 'true',
    }));
  }
  return net;
}

async function askOn(net: MemoryNet, node: string, body: unknown): Promise<QueryLine[]> {
  const lines: QueryLine[] = [];
  const service = net.services.get(node);
  assert.ok(service);
  await service.ask(parseQueryRequest(body), (line) => lines.push(line)).done;
  return lines;
}

test('query service: tag filter on the receiver, no handler answered at once, a repeated query id runs once, an answer cut to fit a datagram', async (t) => {
  const dir = tempDir(t);
  const counter = join(dir, 'runs');
  const net = cluster(dir, {
    n1: { uptime: 'echo n1 "$(cat)"' },
    n2: { uptime: `echo run >> ${counter}; echo n2` },
    n3: { uptime: 'echo n3', big: 'head -c 20000 /dev/zero | tr \'\\0\' x' },
  }, { n1: { role: 'web' }, n2: { role: 'web' }, n3: { role: 'db' } });

  const web = await askOn(net, 'n1', { name: 'uptime', tags: { role: 'web' }, payload: 'hi', timeout: '5s' });
  const summary = web.at(-1);
  assert.equal(summary?.type, 'summary');
  assert.ok(summary?.type === 'summary');
  assert.deepEqual([summary.asked, summary.answered, summary.missing], [['n1', 'n2'], ['n1', 'n2'], []]);
  assert.ok(web.some((line) => line.type === 'answer' && line.node === 'n1' && line.output === 'n1 hi\n'));
  assert.ok(!net.sent.some((frame) => frame.type !== 'query' && frame.from === 'n3'), 'n3 (db) neither acked nor answered');

  // No handler on n1 and n2 for `big`: acked and answered no-handler, no waiting for the timeout.
  // n3's output (20000 bytes) is first kept to 8 KiB, then halved until the frame fits 3000 bytes.
  net.maxBytes = 3000;
  const big = await askOn(net, 'n1', { name: 'big', timeout: '10s' });
  const answer = big.find((line) => line.type === 'answer');
  assert.ok(answer?.type === 'answer');
  assert.equal(answer.node, 'n3');
  assert.equal(answer.truncated, true);
  assert.ok(answer.output.length > 0 && answer.output.length <= 3000 && /^x+$/.test(answer.output), `${answer.output.length} bytes`);
  const errors = big.filter((line) => line.type === 'error').map((line) => line.type === 'error' ? `${line.node}:${line.error}` : '');
  assert.deepEqual(errors.sort(), ['n1:no-handler', 'n2:no-handler']);
  const bigSummary = big.at(-1);
  assert.ok(bigSummary?.type === 'summary');
  assert.ok(bigSummary.elapsedMs < 10_000, 'ended as soon as every node answered');
  net.maxBytes = Infinity;

  // The same query frame delivered twice (the transport would refuse it; the service drops the id too).
  const runsOfN2 = (): number => readFileSync(counter, 'utf8').split('\n').filter(Boolean).length;
  const runs = runsOfN2();
  const n2 = net.services.get('n2');
  assert.ok(n2);
  const frame: QueryWireFrame = { type: 'query', from: 'n1', id: 'same', name: 'uptime', payload: '', tags: {}, nodes: ['n2'], timeoutMs: 2000 };
  n2.receive('n1', frame);
  n2.receive('n1', frame);
  assert.equal(net.sent.filter((sent) => sent.type === 'query-ack' && sent.id === 'same').length, 1, 'acked once: the repeat was dropped on receipt');
  await waitFor('the one run of the repeated query', () => (net.sent.filter((sent) => sent.type === 'query-answer' && sent.id === 'same').length === 1));
  assert.equal(runsOfN2(), runs + 1);
  // A frame whose sealed sender is not its `from` is dropped.
  n2.receive('n3', { ...frame, id: 'forged' });
  assert.equal(net.sent.filter((sent) => sent.type === 'query-ack' && sent.id === 'forged').length, 0);
});

test('query service: a witness is left out of cluster-wide queries (no no-handler answer, nothing missing); asked by its tag or its name, it answers', async (t) => {
  const dir = tempDir(t);
  const net = cluster(dir, { n1: { uptime: 'echo n1' }, n2: { uptime: 'echo n2' }, w: {} }, { w: { witness: 'true' } });
  const plain = (await askOn(net, 'n1', { name: 'uptime', timeout: '5s' })).at(-1);
  assert.ok(plain?.type === 'summary');
  assert.deepEqual([plain.asked, plain.answered, plain.failed, plain.missing], [['n1', 'n2'], ['n1', 'n2'], [], []]);
  assert.ok(!net.sent.some((frame) => frame.type !== 'query' && frame.from === 'w'), 'the witness stayed silent');
  // Asked on the witness itself: it leaves itself out too.
  const fromWitness = (await askOn(net, 'w', { name: 'uptime', timeout: '5s' })).at(-1);
  assert.ok(fromWitness?.type === 'summary');
  assert.deepEqual([fromWitness.asked, fromWitness.answered], [['n1', 'n2'], ['n1', 'n2']]);
  // Asked for by its tag, or by name: it acks and says it has no handler.
  const tagged = (await askOn(net, 'n1', { name: 'uptime', tags: { witness: 'true' }, timeout: '5s' })).at(-1);
  assert.ok(tagged?.type === 'summary');
  assert.deepEqual([tagged.asked, tagged.acked, tagged.failed], [['w'], ['w'], ['w']]);
  const named = (await askOn(net, 'n1', { name: 'uptime', scope: ['w'], timeout: '5s' })).at(-1);
  assert.ok(named?.type === 'summary');
  assert.deepEqual([named.asked, named.failed], [['w'], ['w']]);
});

test('tags: a witness carries witness=true, set by eventd, kept over saved tags, refused to a client that sets or deletes it', (t) => {
  const dir = tempDir(t);
  const db = openDb(join(dir, 'data'));
  t.after(() => db.close());
  const store = new Store(db);
  const published: Tags[] = [];
  const options = { node: 'w', configured: { zone: 'a' }, store, logger: silentLogger(), builtIn: { witness: 'true' }, publish: (own: Tags) => published.push(own) };
  const first = new TagService(options);
  assert.deepEqual(first.mine(), { zone: 'a', witness: 'true' });
  assert.equal(first.isWitness('w'), true);
  first.change({ rack: '7' }, []);
  for (const [set, remove] of [[{ witness: 'false' }, []], [{}, ['witness']]] as const) {
    assert.throws(() => first.change(set, remove), (error: unknown) => error instanceof EventdError && error.details?.['field'] === 'witness');
  }
  // Saved tags from a run as a plain node, started again as a witness: the built-in tag is on top.
  store.meta.set('tags', JSON.stringify({ zone: 'a', witness: 'no' }));
  const again = new TagService(options);
  again.announce();
  assert.deepEqual(published.at(-1), { zone: 'a', witness: 'true' });
  assert.equal(new TagService({ ...options, builtIn: {} }).isWitness('w'), false);
});
