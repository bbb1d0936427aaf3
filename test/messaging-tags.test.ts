// Node tags (issue 16, "Node tags") on three real daemons: configured tags
// replicated and shown by /v1/members and eventctl members; `eventctl tags
// set` at run time (kept across a restart) moves a tag-scoped subscription;
// $tags in an expression.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from './helpers/node-test.js';
import { events, view } from './helpers/cluster.js';
import { runEventctl, startMessagingCluster } from './helpers/messaging.js';
import { defer, tempDir, waitFor } from './helpers/tmp.js';

const names = ['n1', 'n2', 'n3'];
const roles: Record<string, string> = { n1: 'web', n2: 'web', n3: 'db' };

interface Members { members: { name: string; tags?: Record<string, string> }[] }

test('tags: replicated with members, changed at run time and kept, a tag-scoped subscription moves with them, $tags bound', { timeout: 240_000 }, async (t) => {
  const dir = tempDir(t);
  const nodes = await startMessagingCluster(dir, names, (name) => ({ tags: { role: roles[name]!, dc: 'ams1' } }), t);
  defer(t, () => Promise.all(nodes.map((node) => node.daemon.kill9())));
  const [n1, , n3] = nodes as [typeof nodes[0], typeof nodes[0], typeof nodes[0]];
  const dataOf = (node: typeof n1) => join(node.daemon.configFile, '..', 'data');
  for (const node of nodes) await waitFor(`${node.name} to see a view of three`, async () => (await view(node.daemon)).length === 3, 30_000);
  const tagsSeenBy = async (node: typeof n1, of: string) =>
    (await node.daemon.request<Members>('GET', '/v1/members')).body.members.find((member) => member.name === of)?.tags?.['role'];
  await waitFor('n3 to know the role of n1', async () => (await tagsSeenBy(n3, 'n1')) === 'web', 20_000);
  const listed = await runEventctl(dataOf(n3), ['members']);
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, /TAGS/);
  assert.match(listed.stdout, /n1 .*role=web/);

  // Evaluated on db nodes only; the expression reads the evaluating node's tags too.
  const created = await n3.daemon.request<{ id: string }>('POST', '/v1/subscriptions', { name: 'db-deploy', class: 'Deploy', expr: 'version > 0 and $tags.dc = "ams1"', scope: { tags: { role: 'db' } } });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  await waitFor('n1 to know the subscription', async () =>
    (await n1.daemon.request<{ subscriptions: { id: string }[] }>('GET', '/v1/subscriptions')).body.subscriptions.some((s) => s.id === created.body.id), 20_000);
  const fired = async () => (await events(n3.daemon, `?subscription=${created.body.id}`)).filter((e) => e.type === 'event');

  // On n3 (db) a raise fires; on n1 (web) it does not.
  assert.equal((await n3.daemon.request('POST', '/v1/events', { class: 'Deploy', resource: 'db-app', attrs: { version: 1 } })).status, 201);
  await waitFor('the subscription to fire on n3', async () => (await fired()).some((e) => e.node === 'n3'), 20_000);
  const marker = await n1.daemon.request<{ id: string }>('POST', '/v1/events', { class: 'Deploy', resource: 'web-app', attrs: { version: 1 } });
  assert.equal(marker.status, 201);
  // The raise itself reaching n3 shows n1 took it as a sample; a crossing of it would have been recorded in the same batch.
  await waitFor('the web raise on n3', async () => (await events(n3.daemon, '?class=Deploy')).some((e) => e.id === marker.body.id), 20_000);
  await n1.daemon.request('GET', '/v1/status');
  assert.ok(!(await events(n1.daemon, `?subscription=${created.body.id}`)).some((e) => e.node === 'n1'), 'not evaluated on a web node');

  // n1 becomes a db node at run time: the subscription moves there, and the change survives a restart.
  const set = await runEventctl(dataOf(n1), ['tags', 'set', 'role=db']);
  assert.equal(set.code, 0, set.stderr);
  assert.match(set.stdout, /role: db/);
  assert.equal((await n1.daemon.request('POST', '/v1/events', { class: 'Deploy', resource: 'web-app', attrs: { version: 2 } })).status, 201);
  const onN1 = await waitFor('the subscription to fire on n1 now', async () => (await fired()).find((e) => e.node === 'n1'), 20_000);
  // Had n1 evaluated the version-1 raise as a web node, it would have fired then and stayed fired: no event at version 2.
  assert.equal(onN1.attrs['version'], 2);
  await waitFor('n3 to see n1 as db', async () => (await tagsSeenBy(n3, 'n1')) === 'db', 20_000);
  await n1.daemon.stop();
  await n1.daemon.start();
  const shown = await runEventctl(dataOf(n1), ['tags', '--json']);
  assert.deepEqual(JSON.parse(shown.stdout).tags, { role: 'db', dc: 'ams1' });

  const badScope = await n1.daemon.request<{ error: { code: string } }>('POST', '/v1/subscriptions', { name: 'bad', class: 'Deploy', expr: 'version > 0', scope: { tags: {} } });
  assert.equal(badScope.status, 400);
  const badTag = await n1.daemon.request<{ error: { details?: { field?: string } } }>('PATCH', '/v1/tags', { set: { role: 7 } });
  assert.equal(badTag.status, 400);
  assert.equal(badTag.body.error.details?.field, 'set.role');
});
