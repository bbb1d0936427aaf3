// GET /v1/events/stream on a real socket: backlog, live events, and resuming
// after Last-Event-ID with nothing missed or repeated.
import assert from 'node:assert/strict';
import { test } from './helpers/node-test.js';
import { createParser } from 'eventsource-parser';
import type { EventRecord, Sample } from '../services/eventd/types.js';
import { apiUnderTest } from './helpers/api-context.js';
import { defer, tempDir, waitFor } from './helpers/tmp.js';

function sample(percentUsed: number, time: number): Sample {
  return { class: 'PagingSpace', resource: 'total', node: 'n1', time, attrs: { percentUsed, totalKiB: 100, usedKiB: percentUsed, freeKiB: 100 - percentUsed, configured: true } };
}

/** Reads an SSE stream into `received` until aborted. */
function follow(url: string, headers: Record<string, string>, received: { id: string; event: EventRecord }[]) {
  const controller = new AbortController();
  const parser = createParser({ onEvent: (message) => received.push({ id: message.id ?? '', event: JSON.parse(message.data) as EventRecord }) });
  const done = (async () => {
    const response = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: controller.signal });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /text\/event-stream/);
    const decoder = new TextDecoder();
    const reader = response.body?.getReader();
    assert.ok(reader, 'the stream has a body');
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) parser.feed(decoder.decode(chunk.value, { stream: true }));
  })().catch((error: unknown) => {
    if ((error as Error).name !== 'AbortError') throw error;
  });
  return { stop: async () => { controller.abort(); await done; } };
}

test('the event stream sends the backlog, then live events, and resumes after Last-Event-ID', async (t) => {
  const api = await apiUnderTest(tempDir(t));
  defer(t, api.close);
  const address = await api.app.listen({ host: '127.0.0.1', port: 0 });
  const created = await api.app.inject({ method: 'POST', url: '/v1/subscriptions', payload: { name: 'swap-high', class: 'PagingSpace', expr: 'percentUsed > 75', rearm: 'percentUsed < 60' } });
  assert.equal(created.statusCode, 201);
  const { evaluator } = api.context;
  let time = 1_700_000_000_000;
  const push = async (...values: number[]) => { for (const v of values) await evaluator.submit('PagingSpace', [sample(v, (time += 1000))]); };

  await push(50, 80, 50); // backlog: event n1:1, rearm n1:2
  const first: { id: string; event: EventRecord }[] = [];
  const stream = follow(`${address}/v1/events/stream`, {}, first);
  await waitFor('backlog', () => first.length === 2);
  await push(90); // live: n1:3
  await waitFor('live event', () => first.length === 3);
  assert.deepEqual(first.map((m) => m.id), ['n1:1', 'n1:2', 'n1:3']);
  assert.deepEqual(first.map((m) => m.event.id), ['n1:1', 'n1:2', 'n1:3']);
  await stream.stop();

  await push(40, 95); // while disconnected: n1:4, n1:5
  const second: { id: string; event: EventRecord }[] = [];
  const resumed = follow(`${address}/v1/events/stream`, { 'last-event-id': 'n1:3' }, second);
  await waitFor('missed events', () => second.length === 2);
  await push(10); // n1:6
  await waitFor('live after resume', () => second.length === 3);
  assert.deepEqual(second.map((m) => m.id), ['n1:4', 'n1:5', 'n1:6']);
  await resumed.stop();

  const filtered: { id: string; event: EventRecord }[] = [];
  const rearms = follow(`${address}/v1/events/stream?subscription=swap-high&class=PagingSpace`, { 'last-event-id': 'n1:4' }, filtered);
  await waitFor('filtered backlog', () => filtered.length === 2);
  assert.deepEqual(filtered.map((m) => m.id), ['n1:5', 'n1:6']);
  await rearms.stop();
});

test('resuming from an unknown event id is a clear 404, not a silent replay of everything', async (t) => {
  const api = await apiUnderTest(tempDir(t));
  defer(t, api.close);
  const address = await api.app.listen({ host: '127.0.0.1', port: 0 });
  const response = await fetch(`${address}/v1/events/stream`, { headers: { accept: 'text/event-stream', 'last-event-id': 'n9:1' } });
  assert.equal(response.status, 404);
  assert.equal(((await response.json()) as { error: { code: string } }).error.code, 'EVENTD_ERR_EVENT_NOT_FOUND');
});
