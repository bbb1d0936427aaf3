// Inhibition rules managed as silences are: eventctl inhibit add / list /
// delete over the API of a real daemon, refused bodies named by field, the
// config's rules listed and kept, a rule made through the API persisted and
// its state rebuilt from the log after a kill -9, its mutes in the audit.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { defer } from './helpers/cleanup.js';
import { test } from './helpers/node-test.js';
import type { InhibitRuleList } from '../services/eventd/api/responses.js';
import type { EventRecord } from '../services/eventd/types.js';
import { DaemonProcess } from './helpers/daemon.js';
import { eventctl } from './helpers/eventctl.js';
import { setSwap } from './helpers/proc.js';
import { WebhookReceiver } from './helpers/receivers.js';
import { tempDir, waitFor } from './helpers/tmp.js';

const DEADLINE_MS = 30_000;

interface AuditRun { eventId: string; subscription: string; status: string; reason: string | null; detail: string | null }
type ErrorBody = { error: { code: string; message: string; details?: { field?: string } } };

test('eventctl inhibit add/list/delete: refused bodies name the field, config rules stay, a rule persists across kill -9 and mutes what it says', async (t) => {
  const dir = tempDir(t);
  const procRoot = join(dir, 'proc');
  setSwap(procRoot, 10);
  const hook = await new WebhookReceiver().start();
  defer(t, () => hook.stop());
  const daemon = DaemonProcess.withConfig(dir, {
    node: 'n1', dataDir: join(dir, 'data'), procRoot, api: { port: 0 }, producers: { PagingSpace: { periodMs: 50 } },
    inhibit: [{ when: { class: 'Node', state: 'down' }, mute: { sameNode: true } }],
  }, t);
  await daemon.start();
  const rules = async () => (await daemon.request<InhibitRuleList>('GET', '/v1/inhibit')).body.rules;
  const audit = async () => (await daemon.request<{ actions: AuditRun[] }>('GET', '/v1/actions')).body.actions;
  const events = async () => (await daemon.request<{ events: EventRecord[] }>('GET', '/v1/events')).body.events;

  // The config's rule is listed with a stable id, and cannot be deleted through the API.
  assert.deepEqual((await rules()).map((r) => [r.id, r.origin, r.when.class]), [['config-1', 'config', 'Node']]);
  const fromConfig = await daemon.request<ErrorBody>('DELETE', '/v1/inhibit/config-1');
  assert.equal(fromConfig.status, 409);
  assert.equal(fromConfig.body.error.code, 'EVENTD_ERR_INHIBIT_RULE_IN_CONFIG');
  assert.equal((await daemon.request<ErrorBody>('DELETE', '/v1/inhibit/nosuch')).body.error.code, 'EVENTD_ERR_INHIBIT_RULE_NOT_FOUND');

  const refused = async (body: unknown, field: string) => {
    const answer = await daemon.request<ErrorBody>('POST', '/v1/inhibit', body);
    assert.equal(answer.status, 400, JSON.stringify(answer.body));
    assert.equal(answer.body.error.code, 'EVENTD_ERR_BAD_INHIBIT_RULE');
    assert.ok(answer.body.error.message.startsWith(field), answer.body.error.message);
    assert.equal(answer.body.error.details?.field, field);
  };
  await refused({ when: { state: 'down' }, comment: 'x' }, 'when.class');
  await refused({ when: { class: 'Node' } }, 'comment');
  await refused({ when: { class: 'Node' }, mute: { node: 'n2' }, comment: 'x' }, 'mute.node');
  assert.equal((await rules()).length, 1, 'nothing refused was kept');

  // Source: swap-high firing on n1; muted: the other PagingSpace subscriptions' events about n1.
  const added = await eventctl(daemon, ['inhibit', 'add', '--when-class', 'PagingSpace', '--when-subscription', 'swap-high', '--mute-class', 'PagingSpace', '--comment', 'one page per swap storm', '--by', 'ana']);
  assert.equal(added.code, 0, added.stderr);
  const id = /^inhibit rule ([0-9a-f]+): PagingSpace of swap-high mutes PagingSpace events about that node$/m.exec(added.stdout)?.[1];
  assert.ok(id, added.stdout);
  assert.equal((await eventctl(daemon, ['responses', 'create', 'page', '--webhook', hook.url, '--on', 'event'])).code, 0);
  for (const [name, above] of [['swap-high', 75], ['swap-critical', 85]] as const) {
    const made = await eventctl(daemon, ['subscribe', '--name', name, '--class', 'PagingSpace', '--expr', `percentUsed > ${above}`, '--where', '$resource = "total"', '--response', 'page']);
    assert.equal(made.code, 0, made.stderr);
  }

  setSwap(procRoot, 80);
  const high = await waitFor('swap-high fired', async () => (await events()).find((e) => e.subscriptionName === 'swap-high' && e.type === 'event'), DEADLINE_MS);
  await waitFor('its page delivered', () => hook.accepted.includes(high.id), DEADLINE_MS);
  const listed = await eventctl(daemon, ['inhibit']);
  assert.match(listed.stdout, new RegExp(`^${id} +PagingSpace of swap-high +PagingSpace events about that node +n1 \\(${high.id}\\) +ana +one page per swap storm$`, 'm'));
  assert.match(listed.stdout, /^config-1 +Node down +events about that node +- +config +-$/m);

  setSwap(procRoot, 90);
  const critical = await waitFor('swap-critical fired', async () => (await events()).find((e) => e.subscriptionName === 'swap-critical' && e.type === 'event'), DEADLINE_MS);
  const muted = await waitFor('its run audited', async () => (await audit()).find((r) => r.eventId === critical.id), DEADLINE_MS);
  assert.deepEqual([muted.status, muted.reason, muted.detail], ['skipped', 'inhibited', `PagingSpace n1 (event ${high.id})`]);
  assert.match((await eventctl(daemon, ['actions'])).stdout, new RegExp(`^\\d+ +${critical.id} +skipped .* inhibited: PagingSpace n1`, 'm'));
  assert.ok(!hook.accepted.includes(critical.id));

  // kill -9: the rule is still there and still holds for n1 (rebuilt from the log).
  await daemon.kill9();
  await daemon.start();
  const after = (await rules()).find((r) => r.id === id);
  assert.deepEqual(after?.sources, [{ node: 'n1', event: high.id }]);
  assert.deepEqual([after?.createdBy, after?.comment, after?.origin], ['ana', 'one page per swap storm', 'api']);

  // Deleted, it mutes nothing: the next crossing of swap-critical pages.
  const deleted = await eventctl(daemon, ['inhibit', 'delete', id]);
  assert.equal(deleted.code, 0, deleted.stderr);
  assert.deepEqual((await rules()).map((r) => r.id), ['config-1']);
  setSwap(procRoot, 50);
  await waitFor('both rearmed', async () => (await events()).filter((e) => e.type === 'rearm').length === 2, DEADLINE_MS);
  setSwap(procRoot, 90);
  const again = await waitFor('swap-critical fired again', async () => (await events()).find((e) => e.subscriptionName === 'swap-critical' && e.type === 'event' && e.id !== critical.id), DEADLINE_MS);
  await waitFor('its page delivered', () => hook.accepted.includes(again.id), DEADLINE_MS);
  assert.equal(hook.duplicates, 0);
});
