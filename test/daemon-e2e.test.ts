// The real daemon process with a recorded proc root: paging space pushed
// across the threshold and back, a script action, kill -9 and restart.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from './helpers/node-test.js';
import type { EventRecord } from '../services/eventd/types.js';
import { DaemonProcess, freshSamples } from './helpers/daemon.js';
import { setSwap } from './helpers/proc.js';
import { defer, tempDir, waitFor } from './helpers/tmp.js';

/** An action script that records its environment and stdin per event id. */
function writeRecorder(dir: string, outDir: string, extra = ''): string {
  mkdirSync(outDir, { recursive: true });
  const script = join(dir, 'record.sh');
  writeFileSync(script, `#!/bin/sh\n${extra}\nenv | grep '^EVENTD_' | sort > "${outDir}/$EVENTD_EVENT_ID.env"\ncat > "${outDir}/$EVENTD_EVENT_ID.stdin"\n`);
  chmodSync(script, 0o755);
  return script;
}

function config(dir: string, procRoot: string) {
  return { node: 'n1', dataDir: join(dir, 'data'), procRoot, api: { port: 0 }, producers: { PagingSpace: { periodMs: 50 } }, log: { level: 'info' } };
}

type Events = { events: EventRecord[] };


test('paging space crosses up and back: one event, one rearm per resource, the script runs, kill -9 loses and repeats nothing', async (t) => {
  const dir = tempDir(t);
  const procRoot = join(dir, 'proc');
  const outDir = join(dir, 'out');
  setSwap(procRoot, 40);
  const script = writeRecorder(dir, outDir);
  const daemon = DaemonProcess.withConfig(dir, config(dir, procRoot));
  defer(t, () => daemon.kill9());
  await daemon.start();

  const created = await daemon.request<{ id: string }>('POST', '/v1/subscriptions', {
    name: 'swap-high', class: 'PagingSpace', expr: 'percentUsed > 75', rearm: 'percentUsed < 60', actions: [{ run: script, timeout: '10s' }],
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  await freshSamples(daemon);

  setSwap(procRoot, 80);
  await waitFor('two events (device and total)', async () => (await daemon.request<Events>('GET', '/v1/events')).body.events.length === 2);
  setSwap(procRoot, 90); // still above: nothing new
  await freshSamples(daemon);
  setSwap(procRoot, 65); // between rearm and threshold: nothing new
  await freshSamples(daemon);
  setSwap(procRoot, 50);
  await waitFor('two rearms', async () => (await daemon.request<Events>('GET', '/v1/events')).body.events.length === 4);
  await freshSamples(daemon);

  const { body } = await daemon.request<Events>('GET', '/v1/events');
  const byResource = (resource: string) => body.events.filter((e) => e.resource === resource).map((e) => `${e.type}@${e.attrs.percentUsed}`);
  assert.deepEqual(byResource('total'), ['event@80', 'rearm@50']);
  assert.deepEqual(byResource('/dev/sda2'), ['event@80', 'rearm@50']);
  assert.deepEqual(body.events.map((e) => e.seq), [1, 2, 3, 4]);

  // The script ran once per event, with the event on stdin and EVENTD_* in its env.
  await waitFor('four action runs finished', () => readdirSync(outDir).filter((f) => f.endsWith('.stdin')).length === 4);
  const rearm = body.events.find((e) => e.type === 'rearm' && e.resource === 'total') as EventRecord;
  await waitFor('stdin written', () => readFileSync(join(outDir, `${rearm.id}.stdin`), 'utf8').length > 0);
  assert.deepEqual(JSON.parse(readFileSync(join(outDir, `${rearm.id}.stdin`), 'utf8')), rearm);
  const env = Object.fromEntries(readFileSync(join(outDir, `${rearm.id}.env`), 'utf8').trim().split('\n').map((line) => line.split(/=(.*)/s).slice(0, 2)));
  assert.equal(env.EVENTD_EVENT_ID, rearm.id);
  assert.equal(env.EVENTD_EVENT_TYPE, 'rearm');
  assert.equal(env.EVENTD_SUBSCRIPTION, 'swap-high');
  assert.equal(env.EVENTD_SUBSCRIPTION_ID, created.body.id);
  assert.equal(env.EVENTD_CLASS, 'PagingSpace');
  assert.equal(env.EVENTD_RESOURCE, 'total');
  assert.equal(env.EVENTD_NODE, 'n1');
  assert.equal(env.EVENTD_EXPR, 'percentUsed < 60');
  assert.equal(env.EVENTD_TIME, rearm.time);
  assert.equal(env.EVENTD_ATTR_PERCENT_USED, '50');
  assert.equal(env.EVENTD_ATTR_CONFIGURED, 'true');
  await waitFor('audit rows ok', async () => {
    const runs = (await daemon.request<{ actions: { status: string }[] }>('GET', '/v1/actions')).body.actions;
    return runs.length === 4 && runs.every((r) => r.status === 'ok');
  });

  // kill -9, restart on the same store with the swap still low: nothing lost, nothing fired twice.
  await daemon.kill9();
  await daemon.start();
  await freshSamples(daemon, 5);
  const after = await daemon.request<Events>('GET', '/v1/events');
  assert.deepEqual(after.body.events.map((e) => e.id), body.events.map((e) => e.id));
  const runs = (await daemon.request<{ actions: { status: string; attempt: number }[] }>('GET', '/v1/actions')).body.actions;
  assert.deepEqual(runs.map((r) => [r.status, r.attempt]), [['ok', 1], ['ok', 1], ['ok', 1], ['ok', 1]]);
  assert.equal(readdirSync(outDir).filter((f) => f.endsWith('.stdin')).length, 4);

  // The subscription survived; the next crossing after restart continues the sequence.
  setSwap(procRoot, 95);
  await waitFor('events after restart', async () => (await daemon.request<Events>('GET', '/v1/events')).body.events.length === 6);
  const final = (await daemon.request<Events>('GET', '/v1/events')).body.events;
  assert.deepEqual(final.slice(4).map((e) => [e.seq, e.type]), [[5, 'event'], [6, 'event']]);
});

test('an action cut short by kill -9 runs again after restart (at least once)', async (t) => {
  const dir = tempDir(t);
  const procRoot = join(dir, 'proc');
  const outDir = join(dir, 'out');
  setSwap(procRoot, 90);
  // The first attempt hangs until the daemon is killed; the second completes.
  const script = writeRecorder(dir, outDir, `[ "$EVENTD_ACTION_ATTEMPT" = 1 ] && { touch "${outDir}/started"; exec sleep 60; }`);
  const daemon = DaemonProcess.withConfig(dir, config(dir, procRoot));
  defer(t, () => daemon.kill9());
  await daemon.start();
  const created = await daemon.request('POST', '/v1/subscriptions', {
    name: 'swap-high', class: 'PagingSpace', expr: 'percentUsed > 75', where: '$resource = "total"', actions: [{ run: script, timeout: '120s', on: ['event'] }],
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  await waitFor('the first attempt to start', () => existsSync(join(outDir, 'started')));
  await daemon.kill9();

  await daemon.start();
  await waitFor('the run to finish on its second attempt', async () => {
    const runs = (await daemon.request<{ actions: { status: string; attempt: number; eventId: string }[] }>('GET', '/v1/actions')).body.actions;
    return runs.length === 1 && runs[0]?.status === 'ok' && runs[0].attempt === 2;
  });
  const events = (await daemon.request<Events>('GET', '/v1/events')).body.events;
  assert.equal(events.length, 1);
  assert.ok(existsSync(join(outDir, `${events[0]?.id}.stdin`)));
});

test('bad input over HTTP: a bad expression is a 400 naming where, an unknown class a 422, and nothing accepted is lost', async (t) => {
  const dir = tempDir(t);
  const procRoot = join(dir, 'proc');
  setSwap(procRoot, 10);
  const daemon = DaemonProcess.withConfig(dir, config(dir, procRoot));
  defer(t, () => daemon.kill9());
  await daemon.start();
  const good = await daemon.request('POST', '/v1/subscriptions', { name: 'ok', class: 'PagingSpace', expr: 'percentUsed > 75' });
  assert.equal(good.status, 201);

  const bad = await daemon.request<{ error: { code: string; message: string; details: { field: string; position: number } } }>('POST', '/v1/subscriptions', { name: 'bad', class: 'PagingSpace', expr: 'percentUsed > > 75' });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.code, 'EVENTD_ERR_BAD_EXPRESSION');
  assert.equal(bad.body.error.details.field, 'expr');
  assert.equal(typeof bad.body.error.details.position, 'number');
  assert.match(bad.body.error.message, /position/);

  const unknown = await daemon.request<{ error: { code: string } }>('POST', '/v1/subscriptions', { name: 'x', class: 'NoSuchClass', expr: 'a > 1' });
  assert.equal(unknown.status, 422);
  assert.equal(unknown.body.error.code, 'EVENTD_ERR_UNKNOWN_CLASS');

  const json = await daemon.request<{ error: { code: string } }>('POST', '/v1/subscriptions', '{"name": ');
  assert.equal(json.status, 400);
  assert.equal(json.body.error.code, 'EVENTD_ERR_BAD_JSON');

  const list = await daemon.request<{ subscriptions: { name: string }[] }>('GET', '/v1/subscriptions');
  assert.deepEqual(list.body.subscriptions.map((s) => s.name), ['ok']);
  assert.equal((await daemon.request('GET', '/healthz')).status, 200);
});
