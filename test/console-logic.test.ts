// The console page's own logic (services/eventd/ui/logic), under node: the
// same modules the browser bundle holds.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fastifySSE } from '@fastify/sse';
import Fastify from 'fastify';
import { ConditionStates } from '../services/eventd/ui/logic/condition-states.js';
import { EventList } from '../services/eventd/ui/logic/event-list.js';
import { EventStream, type StreamState } from '../services/eventd/ui/logic/event-stream.js';
import { formErrors } from '../services/eventd/ui/logic/field-errors.js';
import { comparedConstants, thresholdLines } from '../services/eventd/ui/logic/thresholds.js';
import type { ConsoleEvent } from '../services/eventd/ui/logic/types.js';
import { waitFor } from './helpers/tmp.js';

function event(seq: number, type: 'event' | 'rearm' = 'event', more: Partial<ConsoleEvent> = {}): ConsoleEvent {
  return {
    id: `n1:${seq}`, origin: 'n1', seq, hlc: String(seq), type, subscription: 's1', subscriptionName: 'swap-high', class: 'PagingSpace',
    resource: 'total', node: 'n1', expr: 'percentUsed > 80', attrs: { percentUsed: 90 }, time: new Date(1_700_000_000_000 + seq).toISOString(), ...more,
  };
}

test('event list: newest first, an id seen before is refused, bounded, filtered', () => {
  const list = new EventList(3);
  assert.equal(list.add(event(1)), true);
  assert.equal(list.add(event(2, 'rearm')), true);
  assert.equal(list.add(event(2, 'rearm')), false, 'a resumed stream repeating an event adds no row');
  assert.deepEqual(list.list().map((e) => e.id), ['n1:2', 'n1:1']);
  list.add(event(3, 'event', { class: 'FileSystem', node: 'n2' }));
  list.add(event(4));
  assert.deepEqual(list.list().map((e) => e.id), ['n1:4', 'n1:3', 'n1:2'], 'the oldest falls off');
  assert.equal(list.add(event(1)), true, 'a dropped id may come back (it is no longer shown)');
  assert.deepEqual(list.list({ class: 'FileSystem' }).map((e) => e.id), ['n1:3']);
  assert.deepEqual(list.list({ node: 'n1', type: 'event' }).map((e) => e.id), ['n1:1', 'n1:4']);
  assert.deepEqual(list.list({ subscription: 'swap-high', type: 'rearm' }).map((e) => e.id), []);
  assert.deepEqual(list.values('class'), ['FileSystem', 'PagingSpace']);
});

test('condition states: events move fired and armed; a seed fetched before an event does not undo it', () => {
  const states = new ConditionStates();
  states.seed('s1', [{ node: 'n1', resource: '/dev/sda2', state: 'fired', lastEvent: 'n1:1' }], new Map([['n1:1', event(1, 'event', { resource: '/dev/sda2' })]]));
  assert.deepEqual(states.states('s1'), [{ node: 'n1', resource: '/dev/sda2', state: 'fired', lastEvent: 'n1:1', since: event(1).time }]);
  const asOf = states.mark();
  states.apply(event(2, 'event'));
  // The fetch began before event 2: its answer knows nothing of "total" yet.
  states.seed('s1', [{ node: 'n1', resource: '/dev/sda2', state: 'armed' }], new Map(), asOf);
  assert.deepEqual(states.states('s1').map((s) => `${s.resource}:${s.state}`), ['/dev/sda2:armed', 'total:fired']);
  // A fetch begun after it is the daemon's word.
  states.seed('s1', [{ node: 'n1', resource: 'total', state: 'armed' }], new Map(), states.mark());
  assert.deepEqual(states.states('s1').map((s) => `${s.resource}:${s.state}`), ['total:armed']);
  states.apply(event(3, 'rearm'));
  assert.equal(states.firedCount('s1'), 0);
  states.apply(event(4, 'event'));
  assert.equal(states.firedCount('s1'), 1);
  states.forget('s1');
  assert.deepEqual(states.states('s1'), []);
});

test('form errors: the field the server names, else each schema problem at its path, else above the form', () => {
  const fields = ['name', 'class', 'expr', 'rearm', 'for'];
  const syntax = formErrors(
    { error: { code: 'EVENTD_ERR_BAD_EXPRESSION', message: 'expr: syntax error at position 13 (end of expression): Unexpected end of expression', details: { field: 'expr', pointer: 'percentUsed >\n             ^' } } },
    fields,
  );
  assert.equal(syntax.byField.get('expr'), 'expr: syntax error at position 13 (end of expression): Unexpected end of expression\npercentUsed >\n             ^');
  assert.deepEqual(syntax.general, []);
  const schema = formErrors({ error: { code: 'EVENTD_ERR_BAD_REQUEST', message: 'x', details: { problems: ['name: must NOT have fewer than 1 characters', 'actions.0.run: must be string', 'colour: unknown key'] } } }, fields);
  assert.deepEqual([...schema.byField], [['name', 'name: must NOT have fewer than 1 characters']]);
  assert.deepEqual(schema.general, ['actions.0.run: must be string', 'colour: unknown key']);
  assert.deepEqual([...formErrors({ error: { code: 'EVENTD_ERR_BAD_FOR', message: 'for: "x" is not valid' } }, fields).byField], [['for', 'for: "x" is not valid']]);
  assert.deepEqual(formErrors('<html>bad gateway</html>', fields).general, ['the daemon gave no error message']);
});

test('threshold lines: constants compared with the attribute, on either side; $prev and other attributes draw none', () => {
  assert.deepEqual(thresholdLines({ expr: 'percentUsed > 90', rearm: 'percentUsed < 85' }, 'percentUsed'), [
    { kind: 'threshold', value: 90 },
    { kind: 'rearm', value: 85 },
  ]);
  assert.deepEqual(comparedConstants('10 >= freeKiB and percentUsed>=2.5', 'freeKiB'), [10]);
  assert.deepEqual(comparedConstants('percentUsed >= 2.5', 'percentUsed'), [2.5]);
  assert.deepEqual(comparedConstants('(percentUsed - $prev.percentUsed) > 10', 'percentUsed'), []);
  assert.deepEqual(comparedConstants('$prev.percentUsed > 10 or x.percentUsed < 3', 'percentUsed'), []);
  assert.deepEqual(comparedConstants('usedPercentUsed > 10', 'percentUsed'), []);
  assert.deepEqual(comparedConstants('percentUsed > -5', 'percentUsed'), [-5]);
  assert.deepEqual(thresholdLines({ expr: 'configured = false' }, 'percentUsed'), []);
  assert.deepEqual(thresholdLines({ name: 'swap-high', expr: 'percentUsed > 80' }, 'percentUsed'), [{ kind: 'threshold', value: 80, condition: 'swap-high' }]);
});

test('event stream: resumes after a dropped connection with Last-Event-ID, says reconnecting, stops on 401', async (t) => {
  const app = Fastify();
  await app.register(fastifySSE);
  const seen: (string | undefined)[] = [];
  let connections = 0;
  let refuse = false;
  app.get('/stream', { sse: true }, async (request, reply) => {
    if (refuse) return reply.status(401).send({ error: { code: 'EVENTD_ERR_UNAUTHORIZED', message: 'no session' } });
    connections++;
    const last = request.headers['last-event-id'];
    seen.push(typeof last === 'string' ? last : undefined);
    const from = typeof last === 'string' ? Number(last.split(':')[1]) + 1 : 1;
    reply.sse.keepAlive();
    for (let seq = from; seq < from + 2; seq++) await reply.sse.send({ id: `n1:${seq}`, data: event(seq) });
    // The first connection drops after two events, as when the daemon restarts.
    if (connections === 1) setImmediate(() => reply.raw.destroy());
  });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  const states: StreamState[] = [];
  const ids: string[] = [];
  const stream = new EventStream({ url: `${url}/stream`, retryMs: 20, onEvent: (e) => ids.push(e.id), onState: (state) => states.push(state) });
  t.after(async () => {
    stream.stop();
    await app.close();
  });
  stream.start();
  await waitFor('four events over two connections', () => ids.length >= 4);
  assert.deepEqual(ids, ['n1:1', 'n1:2', 'n1:3', 'n1:4']);
  assert.deepEqual(seen, [undefined, 'n1:2'], 'the second connection resumed after the last id');
  assert.equal(stream.lastId, 'n1:4');
  assert.ok(states.indexOf('reconnecting') > states.indexOf('live'), `states: ${states.join(' ')}`);
  assert.equal(states.at(-1), 'live');

  refuse = true;
  stream.stop();
  states.length = 0;
  const next = new EventStream({ url: `${url}/stream`, onEvent: () => undefined, onState: (state) => states.push(state) });
  next.start();
  await waitFor('unauthorized', () => states.includes('unauthorized'));
  assert.deepEqual(states, ['connecting', 'unauthorized'], 'a 401 is not retried');
});
