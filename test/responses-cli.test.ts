// eventctl responses create --batch (ERRM's -b) on a real daemon: the
// response shows its batch, and the two events of one crossing (the swap
// device and the total) reach the receiver as one array in one POST.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from './helpers/node-test.js';
import { defer } from './helpers/cleanup.js';
import type { EventRecord } from '../services/eventd/types.js';
import { DaemonProcess } from './helpers/daemon.js';
import { eventctl } from './helpers/eventctl.js';
import { setSwap } from './helpers/proc.js';
import { WebhookReceiver } from './helpers/receivers.js';
import { tempDir, waitFor } from './helpers/tmp.js';

const DEADLINE_MS = 30_000;

test('eventctl responses create --batch: shown with the response; one crossing\'s events go as one array', async (t) => {
  const dir = tempDir(t);
  const procRoot = join(dir, 'proc');
  setSwap(procRoot, 10);
  const hook = await new WebhookReceiver().start();
  defer(t, () => hook.stop());
  const daemon = DaemonProcess.withConfig(dir, { node: 'n1', dataDir: join(dir, 'data'), procRoot, api: { port: 0 }, producers: { PagingSpace: { periodMs: 50 } } }, t);
  await daemon.start();

  const lonely = await eventctl(daemon, ['responses', 'create', 'x', '--webhook', hook.url, '--batch-max', '2']);
  assert.equal(lonely.code, 2);
  assert.match(lonely.stderr, /--batch-max needs --batch/);
  const created = await eventctl(daemon, ['responses', 'create', 'digest', '--webhook', hook.url, '--on', 'event', '--batch', '10s', '--batch-max', '2']);
  assert.equal(created.code, 0, created.stderr);
  assert.match(created.stdout, /^batch: +10s or 2 events$/m);
  assert.equal((await eventctl(daemon, ['subscribe', '--name', 'swap-high', '--class', 'PagingSpace', '--expr', 'percentUsed > 75', '--response', 'digest'])).code, 0);

  setSwap(procRoot, 90);
  await waitFor('one delivery', () => hook.accepted.length === 1, DEADLINE_MS);
  const fired = (await daemon.request<{ events: EventRecord[] }>('GET', '/v1/events')).body.events.filter((e) => e.type === 'event');
  assert.equal(fired.length, 2, 'the device and the total');
  const body = JSON.parse(hook.acceptedBodies.get(hook.accepted[0] ?? '') ?? 'null') as EventRecord[];
  assert.ok(Array.isArray(body));
  assert.deepEqual(body.map((e) => e.id), fired.map((e) => e.id));
  assert.equal(hook.deliveries.length, 1);
});
