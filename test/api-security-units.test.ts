// The pieces of the API's security, in process: the Host check, the ss parser
// behind the socket peer's uid, and the config keys.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hostCheck } from '../services/eventd/api/host-check.js';
import { parseSs } from '../services/eventd/api/unix-peer.js';
import { buildConfig } from '../services/eventd/config.js';
import { isEventdError } from '../services/eventd/errors.js';
import { checkReplicated } from '../services/eventd/subscriptions/replicated.js';

test('the Host check allows the listener by its names and port only', () => {
  const check = hostCheck('127.0.0.1', ['eventd.internal']);
  for (const host of ['127.0.0.1:7070', 'localhost:7070', '[::1]:7070', 'eventd.internal', 'eventd.internal:7070']) assert.ok(check.allows(host, '127.0.0.1', 7070), host);
  for (const host of [undefined, '', 'evil.example:7070', '127.0.0.1', '127.0.0.1:7071', 'localhost.evil.example:7070', 'eventd.internal:80']) assert.equal(check.allows(host, '127.0.0.1', 7070), false, String(host));
  // Bound to every address: the address the connection came in on names it too, a DNS name does not.
  const any = hostCheck('0.0.0.0', []);
  assert.ok(any.allows('10.1.2.3:7070', '::ffff:10.1.2.3', 7070));
  assert.equal(any.allows('attacker.example:7070', '::ffff:10.1.2.3', 7070), false);
  assert.ok(hostCheck('::', []).allows('[fe80::1]:7070', 'fe80::1', 7070));
});

test('ss -xp output gives each unix socket its peer and holders, paths with spaces too', () => {
  const sockets = parseSs([
    'u_str ESTAB 0      0                 * 21818 * 23013 users:(("curl",pid=12583,fd=5))',
    'u_str ESTAB 0      0      /tmp/my data/api.sock 23013 * 21818 users:(("node",pid=12571,fd=20),("node",pid=12572,fd=20))',
    'u_str ESTAB 0      0                 * 30001 * 30002',
    'garbage',
  ].join('\n'));
  assert.deepEqual(sockets.get('23013'), { peer: '21818', pids: [12571, 12572] });
  assert.deepEqual(sockets.get('21818'), { peer: '23013', pids: [12583] });
  assert.deepEqual(sockets.get('30001'), { peer: '30002', pids: [] });
  assert.equal(sockets.size, 3);
});

function configError(raw: Record<string, unknown>): string {
  try {
    buildConfig(raw);
  } catch (error) {
    assert.ok(isEventdError(error));
    assert.equal(error.code, 'EVENTD_ERR_BAD_CONFIG');
    return error.message;
  }
  return assert.fail('accepted');
}

test('api.tokens, api.socketGroup, actions.user and stopTimeout: defaults, and errors naming the key', () => {
  const defaults = buildConfig({});
  assert.deepEqual(defaults.api.tokens, []);
  assert.equal(defaults.stopTimeoutMs, 10_000);
  assert.equal(defaults.actions.user, undefined);
  const set = buildConfig({ api: { token: 'a'.repeat(16), tokens: [{ name: 'ci', token: 'b'.repeat(16) }], socketGroup: 'nogroup' }, actions: { user: 'nobody' }, stopTimeout: '3s' });
  assert.deepEqual(set.api.tokens.map((entry) => entry.name), ['token', 'ci']);
  assert.deepEqual(set.api.socketGroup, { name: 'nogroup', gid: 65534 });
  assert.deepEqual(set.actions.user, { name: 'nobody', uid: 65534, gid: 65534 });
  assert.equal(set.stopTimeoutMs, 3000);
  assert.match(configError({ actions: { user: 'no-such-user-here' } }), /actions\.user: no user "no-such-user-here"/);
  assert.match(configError({ api: { socketGroup: 'no-such-group-here' } }), /api\.socketGroup: no group "no-such-group-here"/);
  assert.match(configError({ api: { tokens: [{ name: 'a', token: 'x'.repeat(16) }, { name: 'a', token: 'y'.repeat(16) }] } }), /api\.tokens: the name "a" is used twice/);
  assert.match(configError({ api: { tokens: [{ name: 'a', token: 'short' }] } }), /api\.tokens\/0\/token|api\.tokens\[0\]\.token|token/);
  assert.match(configError({ stopTimeout: 'soon' }), /stopTimeout/);
});

test('a replicated subscription keeps who created it; a createdBy that is not a name is refused', () => {
  const replicated = {
    id: 'abc', name: 'swap-high', class: 'PagingSpace', expr: 'percentUsed > 75', scope: 'cluster', order: 'fifo',
    actions: [{ run: '/bin/true', timeout: '60s', on: ['event'], detach: true }], node: 'n2', createdAt: new Date(0).toISOString(), createdBy: 'uid:1000',
  };
  const checked = checkReplicated('abc', replicated);
  assert.ok(checked.ok, JSON.stringify(checked));
  assert.equal(checked.subscription.createdBy, 'uid:1000');
  const action = checked.subscription.actions[0];
  assert.ok(action !== undefined && 'run' in action);
  assert.equal(action.detach, true);
  assert.equal(checkReplicated('abc', { ...replicated, createdBy: 7 }).ok, false);
});
