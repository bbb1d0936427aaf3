// The console's operator logic (services/eventd/ui/logic/operator.ts): the
// requests its failover and silence buttons make and what their
// confirmations say, under node.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formErrors } from '../services/eventd/ui/logic/field-errors.js';
import { constraintText, failoverEventText, fromNow, groupControl, knownNodes, maintenanceControl, matchersText, nodeControl, silenceDraft } from '../services/eventd/ui/logic/operator.js';
import type { GroupView } from '../services/eventd/ui/logic/types.js';

test('failover controls: each names its route, sends only what it needs, and says what will happen', () => {
  const move = groupControl('move', 'web', { node: 'n3', lifetime: '30m' });
  assert.equal(move.path, '/groups/web/move');
  assert.deepEqual(move.body, { node: 'n3', lifetime: '30m' });
  assert.match(move.consequence, /started on n3; it stays there for 30m/);
  assert.match(groupControl('move', 'web', { node: 'n3', lifetime: '' }).consequence, /until cleared/);
  assert.deepEqual(groupControl('move', 'web', { node: 'n3', lifetime: '' }).body, { node: 'n3' });
  assert.deepEqual(groupControl('ban', 'web', { node: 'n2', lifetime: '1h' }).body, { node: 'n2', lifetime: '1h' });
  assert.deepEqual(groupControl('clear', 'web', { node: 'n2', lifetime: '1h' }).body, { node: 'n2' }, 'a lifetime only for moves and bans');
  assert.equal(groupControl('cleanup', 'web').title, 'Clean up web');
  assert.match(groupControl('cleanup', 'web', { node: 'n1' }).consequence, /fail counts on n1/);
  assert.equal(groupControl('unmanage', 'a b/c').path, '/groups/a%20b%2Fc/unmanage', 'a name is one path segment');
  assert.equal(nodeControl('standby', 'n2').path, '/failover/nodes/n2/standby');
  assert.match(nodeControl('standby', 'n2').consequence, /stopped there and started elsewhere/);
  assert.equal(nodeControl('unstandby', 'n2').path, '/failover/nodes/n2/unstandby');
  assert.deepEqual(maintenanceControl(true).body, { on: true });
  assert.deepEqual(maintenanceControl(false).body, { on: false });
  assert.equal(maintenanceControl(true).path, '/failover/maintenance');
});

test('failover views: constraints, known nodes, history lines', () => {
  assert.equal(constraintText({ kind: 'ban', node: 'n2', expiresAt: null }, () => 'never'), 'ban n2');
  assert.equal(constraintText({ kind: 'move', node: 'n3', expiresAt: 5 }, (ms) => `t${ms}`), 'move n3 until t5');
  const group: GroupView = {
    name: 'web', owner: 'n1', target: 'n1', local: 'running', managed: true, constraints: [], failures: {},
    reports: [{ node: 'n4', state: 'stopped', time: '', eventId: 'n4:1', inView: false }],
  };
  assert.deepEqual(knownNodes(['n2', 'n1'], [group], ['n5', 'n1']), ['n1', 'n2', 'n4', 'n5']);
  assert.equal(failoverEventText({ class: 'FailoverGroup', resource: 'web', node: 'n2', attrs: { node: 'n2', state: 'running', reason: 'moved by operator' } }), 'web running on n2: moved by operator');
  assert.equal(failoverEventText({ class: 'FailoverControl', resource: 'web', node: 'n1', attrs: { action: 'move', group: 'web', node: 'n3' } }), 'move web n3 (operator, through n1)');
  assert.equal(failoverEventText({ class: 'FailoverControl', resource: 'cluster', node: 'n1', attrs: { action: 'maintenance', on: true } }), 'maintenance on (operator, through n1)');
  assert.equal(failoverEventText({ class: 'FailoverFence', resource: 'n3', node: 'n1', attrs: { node: 'n1', target: 'n3', result: 'ok' } }), 'fence n3 from n1: ok');
});

test('silence form: a body of the matchers given, or the errors the daemon would surely answer, at their fields', () => {
  const blank = { subscription: '', class: '', node: '', resource: '', duration: '', comment: '' };
  const refused = silenceDraft(blank);
  assert.ok('errors' in refused);
  assert.deepEqual([...refused.errors.keys()].sort(), ['comment', 'duration', 'matchers']);
  const made = silenceDraft({ ...blank, subscription: ' swap-high ', node: 'n1', duration: '2h', comment: 'disk swap' });
  assert.ok('body' in made);
  assert.deepEqual(made.body, { matchers: { subscription: 'swap-high', node: 'n1' }, duration: '2h', comment: 'disk swap' });
  assert.equal(matchersText({ subscription: 'swap-high', node: 'n1' }), 'condition swap-high, node n1');
  // The daemon's answers land at the field they name: details.field, a path, or a required property.
  const atDuration = formErrors({ error: { code: 'EVENTD_ERR_BAD_SILENCE', message: 'duration: "2x" is not a duration', details: { field: 'duration' } } }, ['duration', 'comment', 'matchers']);
  assert.equal(atDuration.byField.get('duration'), 'duration: "2x" is not a duration');
  const schema = formErrors(
    { error: { code: 'EVENTD_ERR_BAD_SILENCE', message: '…', details: { problems: ['matchers.node: must NOT have fewer than 1 characters', "(root): must have required property 'comment'"] } } },
    ['duration', 'comment', 'matchers'],
  );
  assert.match(schema.byField.get('matchers') ?? '', /matchers\.node/);
  assert.match(schema.byField.get('comment') ?? '', /required property 'comment'/);
  assert.deepEqual(schema.general, []);
});

test('times from now: ahead and behind', () => {
  const now = Date.parse('2026-01-01T12:00:00Z');
  assert.equal(fromNow('2026-01-01T14:00:00Z', now), 'in 2h 0m');
  assert.equal(fromNow('2026-01-01T13:59:50Z', now), 'in 2h 0m', 'never "1h 60m"');
  assert.equal(fromNow('2026-01-01T13:29:10Z', now), 'in 1h 29m');
  assert.equal(fromNow('2026-01-01T12:00:40Z', now), 'in 40s');
  assert.equal(fromNow('2026-01-01T11:57:00Z', now), '3m ago');
  assert.equal(fromNow('not a time', now), 'not a time');
});
