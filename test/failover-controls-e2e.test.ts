// Operator controls through the real eventctl on three real daemons: a move
// with a lifetime moves the group and expires; an unsatisfiable move says why
// (exit 1) and leaves nothing behind; node standby drains a node; unmanage
// and maintenance run no script; cleanup; each shown by `eventctl groups`.
// The ledger's internal records stay out of `eventctl events` unless asked.
import assert from 'node:assert/strict';
import { test } from './helpers/node-test.js';
import { startCluster, type ClusterNodeHandle } from './helpers/cluster.js';
import { holdingsOf, loggingGroupScript, overlaps, type GroupsBody } from './helpers/failover-lab.js';
import { eventctl as runEventctl } from './helpers/eventctl.js';
import { defer, tempDir, waitFor } from './helpers/tmp.js';

/** The real eventctl against one node, 10 s deadline. */
const eventctl = (node: ClusterNodeHandle, ...args: string[]) => runEventctl(node.daemon, args, 10_000);

test('eventctl groups move (with --lifetime), ban, clear, node standby, unmanage, maintenance, cleanup on three daemons', { timeout: 180_000 }, async (t) => {
  const dir = tempDir(t);
  const { script, log } = loggingGroupScript(dir);
  const nodes = await startCluster(dir, ['n1', 'n2', 'n3'], { extra: { failover: { groups: [{ name: 'web', start: script, stop: script, prefer: ['n1'], timeout: '5s' }] } } });
  defer(t, () => Promise.all(nodes.map((node) => node.daemon.kill9())));
  const [n1, n2, n3] = nodes as [ClusterNodeHandle, ClusterNodeHandle, ClusterNodeHandle];
  const runningOn = () => holdingsOf(log).filter((h) => h.to === Infinity).map((h) => h.node);
  const groupsOn = async (node: ClusterNodeHandle) => (await node.daemon.request<GroupsBody>('GET', '/v1/groups')).body;
  await waitFor('web on n1', () => runningOn().join() === 'n1', 20_000);

  // Move with a lifetime: to n3, shown with its expiry; after it expires, the constraint is gone and web stays (stickiness).
  const moved = await eventctl(n2, 'groups', 'move', 'web', 'n3', '--lifetime', '6s');
  assert.equal(moved.code, 0, moved.stderr);
  assert.match(moved.stdout, /^move web n3 \(until .+\): agreed event n2:\d+/);
  await waitFor('web on n3', () => runningOn().join() === 'n3', 15_000);
  assert.equal(holdingsOf(log).at(-1)!.startReason, 'moved by operator');
  const listed = await eventctl(n1, 'groups');
  assert.match(listed.stdout, /web\s+n3\s+n3\s+stopped\s+move n3 until /);
  await waitFor('the move to expire everywhere', async () => (await Promise.all(nodes.map(groupsOn))).every((b) => b.groups[0]!.constraints.length === 0), 15_000);
  assert.deepEqual(runningOn(), ['n3']);

  // An unsatisfiable move: refused with the reason, exit 1, and nothing left behind.
  const before = (await groupsOn(n1)).groups[0]!;
  const bad = await eventctl(n1, 'groups', 'move', 'web', 'n9');
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /cannot move web to n9: n9 is not in the view/);
  const nothing = await eventctl(n1, 'groups', 'move', 'nope', 'n2');
  assert.match(nothing.stderr, /no failover group "nope"/);
  assert.deepEqual((await groupsOn(n1)).groups[0]!.constraints, before.constraints);
  assert.equal((await n1.daemon.request<{ events: unknown[] }>('GET', '/v1/events?class=FailoverControl')).body.events.length, 1, 'only the one move was recorded');

  // Standby drains n3: web goes to the best other node (prefer n1).
  assert.equal((await eventctl(n1, 'node', 'standby', 'n3')).code, 0);
  await waitFor('web off n3, on n1', () => runningOn().join() === 'n1', 15_000);
  assert.equal(holdingsOf(log).find((h) => h.node === 'n3')!.stopReason, 'node in standby');
  assert.match((await eventctl(n2, 'groups')).stdout, /standby: n3/);
  assert.equal((await eventctl(n1, 'node', 'unstandby', 'n3')).code, 0);

  // Ban keeps it off n1; clear drops the ban (stickiness keeps it where it went).
  assert.equal((await eventctl(n3, 'groups', 'ban', 'web', 'n1')).code, 0);
  await waitFor('web off n1', () => runningOn().length === 1 && runningOn()[0] !== 'n1', 15_000);
  const afterBan = runningOn()[0]!;
  assert.equal((await eventctl(n3, 'groups', 'clear', 'web')).code, 0);
  await waitFor('the ban cleared', async () => (await groupsOn(n1)).groups[0]!.constraints.length === 0, 10_000);

  // Unmanaged and maintenance: no script runs (a move is refused while in maintenance).
  assert.equal((await eventctl(n1, 'groups', 'unmanage', 'web')).code, 0);
  await waitFor('web unmanaged everywhere', async () => (await Promise.all(nodes.map(groupsOn))).every((b) => !b.groups[0]!.managed), 10_000);
  assert.match((await eventctl(n1, 'groups')).stdout, /\(unmanaged\)/);
  const refused = await eventctl(n1, 'groups', 'move', 'web', 'n2');
  assert.match(refused.stderr, /web is unmanaged/);
  assert.equal((await eventctl(n1, 'groups', 'manage', 'web')).code, 0);
  assert.equal((await eventctl(n1, 'maintenance', 'on')).code, 0);
  await waitFor('maintenance everywhere', async () => (await Promise.all(nodes.map(groupsOn))).every((b) => b.maintenance), 10_000);
  assert.match((await eventctl(n2, 'groups')).stdout, /cluster in maintenance/);
  assert.match((await eventctl(n2, 'groups', 'move', 'web', 'n2')).stderr, /maintenance/);
  assert.equal((await eventctl(n1, 'maintenance', 'off')).code, 0);
  assert.equal((await eventctl(n1, 'groups', 'cleanup', 'web')).code, 0);
  assert.deepEqual(runningOn(), [afterBan], 'no control ran a script it should not');
  assert.deepEqual(overlaps(holdingsOf(log)), []);
  assert.equal((await eventctl(n1, 'maintenance', 'maybe')).code, 2);

  // The user's log stays the user's: votes and node records only when asked for.
  const classes = async (query: string) => new Set((await n2.daemon.request<{ events: { class: string }[] }>('GET', `/v1/events?limit=10000${query}`)).body.events.map((e) => e.class));
  const plain = await classes('');
  assert.ok(plain.has('FailoverGroup') && plain.has('FailoverControl'));
  assert.ok(!plain.has('FailoverVote') && !plain.has('FailoverNode'), [...plain].join(','));
  const all = await classes('&internal=true');
  assert.ok(all.has('FailoverVote') && all.has('FailoverNode'));
  assert.ok((await classes('&class=FailoverVote')).has('FailoverVote'), 'asked for by class');
  const userEvents = await eventctl(n2, 'events', '--limit', '10000');
  assert.doesNotMatch(userEvents.stdout, /FailoverVote/);
  assert.match((await eventctl(n2, 'events', '--internal', '--limit', '10000')).stdout, /FailoverVote/);
});
