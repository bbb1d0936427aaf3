// Responses as a new user meets them, on the real daemon process: eventctl
// makes a webhook response and a subscription using it, the threshold is
// crossed, the receiver fails the first two deliveries and the daemon is
// killed -9 between attempts: exactly one accepted delivery per event. A
// silence for the node mutes the next one and `eventctl actions` says so.
import assert from 'node:assert/strict';
import { defer } from './helpers/cleanup.js';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { packageRoot } from '../services/eventd/paths.js';
import type { EventRecord } from '../services/eventd/types.js';
import { DaemonProcess } from './helpers/daemon.js';
import { setSwap } from './helpers/proc.js';
import { WebhookReceiver } from './helpers/receivers.js';
import { tempDir, waitFor } from './helpers/tmp.js';

const DEADLINE_MS = 30_000;

interface AuditRun {
  id: number;
  eventId: string;
  status: string;
  attempt: number;
  response: string | null;
  reason: string | null;
  detail: string | null;
  httpStatus: number | null;
  node: string | null;
  attempts: { attempt: number; status: string; httpStatus: number | null }[];
}
type Audit = { actions: AuditRun[] };
type Events = { events: EventRecord[] };
type ErrorBody = { error: { code: string; message: string; details?: { field?: string } } };

function config(dir: string, procRoot: string) {
  return {
    node: 'n1', dataDir: join(dir, 'data'), procRoot, api: { port: 0 }, producers: { PagingSpace: { periodMs: 50 } },
    // Waits long enough to kill the daemon between two attempts, short enough for a test.
    actions: { retry: { initialBackoff: '1500ms', maxBackoff: '2s' } },
  };
}

function eventctl(daemon: DaemonProcess, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(packageRoot, 'bin', 'eventctl'), '--api', daemon.url, ...args], { timeout: DEADLINE_MS }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stdout, stderr });
    });
  });
}

async function audit(daemon: DaemonProcess): Promise<AuditRun[]> {
  return (await daemon.request<Audit>('GET', '/v1/actions')).body.actions;
}

test('eventctl responses create + subscribe --response: one accepted POST per event through two failures and a kill -9; a silence mutes and the audit says so', async (t) => {
  const dir = tempDir(t);
  const procRoot = join(dir, 'proc');
  setSwap(procRoot, 40);
  const hook = await new WebhookReceiver({ failFirst: 2 }).start();
  const daemon = DaemonProcess.withConfig(dir, config(dir, procRoot));
  defer(t, async () => { await daemon.kill9(); await hook.stop(); });
  await daemon.start();

  const created = await eventctl(daemon, ['responses', 'create', 'page-oncall', '--webhook', hook.url, '--timeout', '5s']);
  assert.equal(created.code, 0, created.stderr);
  assert.match(created.stdout, /created response page-oncall/);
  const subscribed = await eventctl(daemon, ['subscribe', '--name', 'swap-high', '--class', 'PagingSpace', '--expr', 'percentUsed > 75', '--where', '$resource = "total"', '--response', 'page-oncall']);
  assert.equal(subscribed.code, 0, subscribed.stderr);
  const shown = await eventctl(daemon, ['responses', 'show', 'page-oncall']);
  assert.match(shown.stdout, new RegExp(`action 1: +POST ${hook.url.replace(/[.]/g, '\\.')}`));

  setSwap(procRoot, 80);
  await waitFor('the first delivery, refused', () => hook.deliveries.length >= 1, DEADLINE_MS);
  await waitFor('the run waiting for its retry', async () => (await audit(daemon))[0]?.status === 'retrying', DEADLINE_MS);
  await daemon.kill9();
  assert.equal(hook.accepted.length, 0);
  await daemon.start();

  const [event] = (await daemon.request<Events>('GET', '/v1/events')).body.events;
  assert.ok(event);
  await waitFor('the delivery accepted after the restart', () => hook.accepted.length === 1, DEADLINE_MS);
  assert.deepEqual(hook.accepted, [event.id]);
  assert.deepEqual(JSON.parse(hook.acceptedBodies.get(event.id) ?? ''), event);
  await waitFor('the audit to show ok', async () => (await audit(daemon))[0]?.status === 'ok', DEADLINE_MS);
  const [run] = await audit(daemon);
  assert.ok(run);
  assert.deepEqual([run.eventId, run.response, run.attempt, run.httpStatus, run.node], [event.id, 'page-oncall', 3, 200, 'n1']);
  assert.deepEqual(run.attempts.map((a) => [a.attempt, a.status, a.httpStatus]), [[1, 'failed', 503], [2, 'failed', 503], [3, 'ok', 200]]);

  // The rearm is delivered as well (a response runs on event and rearm unless told).
  setSwap(procRoot, 50);
  await waitFor('the rearm accepted', () => hook.accepted.length === 2, DEADLINE_MS);

  // A silence for this node: the next event is logged, silenced, and not delivered.
  const silence = await eventctl(daemon, ['silence', 'add', '--class', 'PagingSpace', '--node', 'n1', '--for', '2h', '--comment', 'swap work']);
  assert.equal(silence.code, 0, silence.stderr);
  const silenceId = /^silence ([0-9a-f]+) until /.exec(silence.stdout)?.[1];
  assert.ok(silenceId, silence.stdout);
  const listed = await eventctl(daemon, ['silences']);
  assert.match(listed.stdout, new RegExp(`^${silenceId} +active +class=PagingSpace node=n1 .* swap work$`, 'm'));
  setSwap(procRoot, 85);
  const silenced = await waitFor('the silenced event', async () => (await daemon.request<Events>('GET', '/v1/events')).body.events.find((e) => e.silenced !== undefined), DEADLINE_MS);
  assert.equal(silenced.silenced, silenceId);
  const skipped = await waitFor('its skipped run', async () => (await audit(daemon)).find((r) => r.eventId === silenced.id), DEADLINE_MS);
  assert.deepEqual([skipped.status, skipped.reason, skipped.detail, skipped.attempt], ['skipped', 'silenced', silenceId, 0]);
  const actions = await eventctl(daemon, ['actions']);
  assert.match(actions.stdout, new RegExp(`^\\d+ +${silenced.id} +skipped .* silenced: ${silenceId}$`, 'm'));

  // Expired, the silence no longer mutes: the rearm is delivered.
  const expired = await eventctl(daemon, ['silence', 'expire', silenceId]);
  assert.equal(expired.code, 0, expired.stderr);
  assert.doesNotMatch((await eventctl(daemon, ['silences'])).stdout, new RegExp(silenceId));
  setSwap(procRoot, 50);
  await waitFor('the rearm after the silence accepted', () => hook.accepted.length === 3, DEADLINE_MS);
  const all = (await daemon.request<Events>('GET', '/v1/events')).body.events;
  assert.deepEqual(hook.accepted, all.filter((e) => e.silenced === undefined).map((e) => e.id));
  assert.equal(hook.duplicates, 0);
});

test('bad input is a 400 naming the field; a response in use is not deleted; outside its window a response is audited outside-window', async (t) => {
  const dir = tempDir(t);
  const procRoot = join(dir, 'proc');
  setSwap(procRoot, 10);
  const daemon = DaemonProcess.withConfig(dir, config(dir, procRoot));
  defer(t, () => daemon.kill9());
  await daemon.start();

  const refused = async (path: string, body: unknown, code: string, field: string) => {
    const answer = await daemon.request<ErrorBody>('POST', path, body);
    assert.equal(answer.status, 400, JSON.stringify(answer.body));
    assert.equal(answer.body.error.code, code);
    assert.ok(answer.body.error.details?.field === field || answer.body.error.message.includes(field), `${field} named: ${JSON.stringify(answer.body)}`);
    assert.ok(answer.body.error.message.startsWith(field), answer.body.error.message);
  };
  await refused('/v1/responses', { name: 'ftp', actions: [{ webhook: { url: 'ftp://127.0.0.1/x' } }] }, 'EVENTD_ERR_BAD_ACTION', 'actions[0].webhook.url');
  await refused('/v1/responses', { name: 'late', actions: [{ webhook: { url: 'http://127.0.0.1:9/x' } }], window: { start: '25:00' } }, 'EVENTD_ERR_BAD_WINDOW', 'window.start');
  await refused('/v1/subscriptions', { name: 's', class: 'PagingSpace', expr: 'percentUsed > 75', responses: ['no-such'] }, 'EVENTD_ERR_UNKNOWN_RESPONSE', 'responses[0]');
  await refused('/v1/subscriptions', { name: 's', class: 'PagingSpace', expr: 'percentUsed > 75', actions: [{ webhook: { url: 'file:///etc/passwd' } }] }, 'EVENTD_ERR_BAD_ACTION', 'actions[0].webhook.url');
  await refused('/v1/silences', { matchers: { node: 'n1' }, comment: 'no end' }, 'EVENTD_ERR_BAD_SILENCE', 'endsAt');
  assert.deepEqual((await daemon.request<{ responses: unknown[] }>('GET', '/v1/responses')).body.responses, []);
  assert.deepEqual((await daemon.request<{ silences: unknown[] }>('GET', '/v1/silences')).body.silences, []);

  // A window that is not now: two hours from now, for an hour (UTC).
  const hour = (offset: number) => `${String((new Date().getUTCHours() + offset) % 24).padStart(2, '0')}:00`;
  const never = await daemon.request('POST', '/v1/responses', { name: 'later', actions: [{ webhook: { url: 'http://127.0.0.1:9/x' } }], window: { start: hour(2), end: hour(3) } });
  assert.equal(never.status, 201, JSON.stringify(never.body));
  const sub = await daemon.request('POST', '/v1/subscriptions', { name: 'swap', class: 'PagingSpace', expr: 'percentUsed > 75', where: '$resource = "total"', responses: ['later'] });
  assert.equal(sub.status, 201, JSON.stringify(sub.body));
  const inUse = await daemon.request<ErrorBody>('DELETE', '/v1/responses/later');
  assert.equal(inUse.status, 409);
  assert.equal(inUse.body.error.code, 'EVENTD_ERR_RESPONSE_IN_USE');

  setSwap(procRoot, 90);
  const run = await waitFor('the skipped run', async () => (await audit(daemon))[0], DEADLINE_MS);
  assert.deepEqual([run.status, run.reason, run.response], ['skipped', 'outside-window', 'later']);
  assert.match(run.detail ?? '', new RegExp(`later: every day ${hour(2)}-${hour(3)} UTC`));

  assert.equal((await daemon.request('DELETE', '/v1/subscriptions/swap')).status, 200);
  assert.equal((await daemon.request('DELETE', '/v1/responses/later')).status, 200);
  assert.equal((await daemon.request<ErrorBody>('GET', '/v1/responses/later')).status, 404);
});
