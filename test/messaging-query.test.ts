// Queries (issue 16, Build item 2) on real daemons: `eventctl query uptime
// --tag role=web` prints one answer per web node and never runs the handler
// of the node that is not (its mark file stays absent); a stopped web node is
// missing in the summary; a handler that hangs is killed at its timeout and
// answered as an error while the daemon goes on answering; a node with no
// handler acks and says so; bad input is a 400 naming the field; a replayed
// query frame does not run the handler twice (not even after a restart).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from './helpers/node-test.js';
import { view } from './helpers/cluster.js';
import { DaemonProcess } from './helpers/daemon.js';
import { runEventctl, startMessagingCluster } from './helpers/messaging.js';
import { MonitorProcess } from './helpers/monitor.js';
import { alive, ask, pidOf, runsOf, summaryOf, writeQueryScripts } from './helpers/query.js';
import { defer, tempDir, waitFor } from './helpers/tmp.js';
import { dropsByReason, metricValue, relayedCluster, replayRefusals, UdpRelay } from './helpers/udp-relay.js';

const roles: Record<string, string> = { n1: 'web', n2: 'web', n3: 'db' };
const dataOf = (daemon: DaemonProcess): string => join(daemon.configFile, '..', 'data');

interface Members { members: { name: string; tags?: Record<string, string> }[] }

test('query --tag role=web: one answer per web node, the db node never runs it; a hung handler is killed and reported; a stopped node is missing', { timeout: 240_000 }, async (t) => {
  const dir = tempDir(t);
  const scripts = writeQueryScripts(dir);
  // n3 (db) has an uptime handler too: the tag filter, not a missing handler, must keep it from running.
  const nodes = await startMessagingCluster(dir, ['n1', 'n2', 'n3'], (name) => ({
    tags: { role: roles[name]! },
    queries: {
      uptime: { run: scripts.uptime },
      ...(name === 'n3' ? {} : { slow: name === 'n2' ? { run: scripts.hang, timeout: '1s' } : { run: scripts.uptime } }),
    },
  }), t);
  defer(t, () => Promise.all(nodes.map((node) => node.daemon.kill9())));
  const [n1, n2, n3] = nodes as [typeof nodes[0], typeof nodes[0], typeof nodes[0]];
  for (const node of nodes) await waitFor(`${node.name} to see a view of three`, async () => (await view(node.daemon)).length === 3, 30_000);
  await waitFor('n3 to know the roles of n1 and n2', async () => {
    const members = (await n3.daemon.request<Members>('GET', '/v1/members')).body.members;
    return members.filter((member) => member.tags?.['role'] === 'web').length === 2;
  }, 20_000);

  // `eventctl monitor --kind query` on the asking node and on an answering one.
  const askerMonitor = new MonitorProcess(dataOf(n3.daemon), ['--kind', 'query'], t);
  const answererMonitor = new MonitorProcess(dataOf(n1.daemon), ['--kind', 'query'], t);
  for (const node of [n3, n1]) await waitFor(`a monitor client on ${node.name}`, async () => (await metricValue(node.daemon, 'eventd_monitor_clients') ?? 0) >= 1, 30_000);

  // Asked from the db node: it is not web, so it neither answers nor runs its handler.
  const result = await runEventctl(dataOf(n3.daemon), ['query', 'uptime', '--tag', 'role=web', '--payload', 'hello', '--timeout', '5s']);
  assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
  const answers = result.stdout.split('\n').filter((line) => /ms {2}up /.test(line));
  assert.equal(answers.length, 2, result.stdout);
  assert.match(result.stdout, /^n1 +\d+\.\dms {2}up n1 hello$/m);
  assert.match(result.stdout, /^n2 +\d+\.\dms {2}up n2 hello$/m);
  assert.match(result.stdout, /^2 acks, 2 answers$/m);
  await askerMonitor.line('the query asked of n1, n2', (line) => /query .*query uptime \(.+\) asked of n1, n2$/.test(line));
  await askerMonitor.line('its summary', (line) => /query .*query uptime \(.+\): 2 acks, 2 answers$/.test(line));
  await answererMonitor.line('n1 answering n3', (line) => /query .*query uptime \(.+\) from n3: answering$/.test(line));
  assert.equal(runsOf(scripts, 'n1').length, 1);
  assert.equal(runsOf(scripts, 'n2').length, 1);
  assert.deepEqual(runsOf(scripts, 'n3'), [], 'n3 is not tagged web: its handler never ran');
  // Audited on the asking node, not stored as an event anywhere.
  const audit = (await n3.daemon.request<{ entries: { path: string; subject: string | null; status: number }[] }>('GET', '/v1/audit')).body.entries;
  const row = audit.find((entry) => entry.path === '/v1/queries');
  assert.ok(row, JSON.stringify(audit));
  assert.match(row.subject ?? '', /^query:uptime:/);
  assert.equal(row.status, 200);
  assert.equal(await metricValue(n3.daemon, 'eventd_queries_asked_total'), 1);

  // The API stream: the query line, acks apart from answers, the summary last.
  const json = await ask(n1.daemon, { name: 'uptime', tags: { role: 'web' }, timeout: '5s' });
  assert.equal(json.status, 200);
  assert.equal(json.lines[0]?.type, 'query');
  const types = json.lines.map((line) => `${line.type}${'node' in line ? `:${line.node}` : ''}`);
  for (const node of ['n1', 'n2']) {
    assert.ok(types.indexOf(`ack:${node}`) >= 0 && types.indexOf(`ack:${node}`) < types.indexOf(`answer:${node}`), types.join(' '));
  }
  assert.deepEqual(summaryOf(json.lines), { ...summaryOf(json.lines), asked: ['n1', 'n2'], acked: ['n1', 'n2'], answered: ['n1', 'n2'], failed: [], missing: [] });

  // slow: n1 answers, n2's handler hangs (killed at its 1 s timeout), n3 has no handler: it acks and says so.
  const slow = await runEventctl(dataOf(n1.daemon), ['query', 'slow', '--timeout', '10s']);
  assert.equal(slow.code, 3, `${slow.stdout}\n${slow.stderr}`);
  assert.match(slow.stdout, /^n1 .*up n1 $/m);
  assert.match(slow.stdout, /^n2 .*error \(timeout\): handler killed at its timeout \(1000 ms\)$/m);
  assert.match(slow.stdout, /^n3 .*error \(no-handler\): no handler for query "slow" on n3/m);
  assert.match(slow.stdout, /^3 acks, 1 answer, failed: n2, n3$/m);
  assert.match(slow.stderr, /2 of 3 asked nodes gave no answer \(failed: n2, n3\)/);
  const hung = pidOf(scripts, 'n2');
  assert.ok(hung !== undefined);
  await waitFor('the hung handler to be gone', () => !alive(hung), 10_000);
  // n2 goes on answering.
  const after = await ask(n1.daemon, { name: 'uptime', scope: ['n2'], timeout: '5s' });
  assert.deepEqual(summaryOf(after.lines).answered, ['n2']);
  assert.equal(runsOf(scripts, 'n2').length, 3);

  // n2 stopped (SIGSTOP: alive to the kernel, silent to the cluster): missing.
  const pid = n2.daemon.pid;
  assert.ok(pid !== undefined);
  process.kill(pid, 'SIGSTOP');
  defer(t, () => process.kill(pid, 'SIGCONT'));
  const missing = await runEventctl(dataOf(n1.daemon), ['query', 'uptime', '--tag', 'role=web', '--timeout', '2s', '--json']);
  assert.equal(missing.code, 3, missing.stderr);
  const lines = missing.stdout.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as { type: string; node?: string; missing?: string[]; answered?: string[] });
  const summary = lines.at(-1);
  assert.equal(summary?.type, 'summary');
  assert.deepEqual(summary?.answered, ['n1']);
  assert.deepEqual(summary?.missing, ['n2']);
  assert.match(missing.stderr, /missing: n2/);
  assert.equal(await metricValue(n1.daemon, 'eventd_queries_timed_out_total'), 1);
});

test('bad queries are a 400 naming the field; on a single node a query is answered by that node', async (t) => {
  const dir = tempDir(t);
  const scripts = writeQueryScripts(dir);
  const daemon = DaemonProcess.withConfig(dir, {
    node: 'solo', dataDir: join(dir, 'data'), api: { port: 0 }, log: { level: 'info' }, queries: { uptime: { run: scripts.uptime } },
  }, t);
  await daemon.start();
  const refused: [unknown, string][] = [
    [{ name: 'uptime' }, 'timeout'],
    [{ name: 'uptime', timeout: '2m' }, 'timeout'],
    [{ name: 'uptime', timeout: 60_001 }, 'timeout'],
    [{ name: 'uptime', timeout: 'soon' }, 'timeout'],
    [{ name: 'uptime', timeout: '1s', scope: 'everywhere' }, 'scope'],
    [{ name: 'uptime', timeout: '1s', scope: ['n1', 7] }, 'scope[1]'],
    [{ name: 'uptime', timeout: '1s', scope: ['-n1'] }, 'scope[0]'],
    [{ name: 'uptime', timeout: '1s', tags: { role: 5 } }, 'tags.role'],
    [{ name: 'uptime', timeout: '1s', tags: ['web'] }, 'tags'],
    [{ name: 'up time', timeout: '1s' }, 'name'],
    [{ name: 'uptime', timeout: '1s', payload: 'x'.repeat(16 * 1024 + 1) }, 'payload'],
    [{ name: 'uptime', timeout: '1s', payload: 7 }, 'payload'],
    [{ name: 'uptime', timeout: '1s', nodes: ['n1'] }, 'nodes'],
  ];
  for (const [body, field] of refused) {
    const answer = await ask(daemon, body);
    assert.equal(answer.status, 400, JSON.stringify(body));
    assert.equal(answer.error?.code, 'EVENTD_ERR_BAD_QUERY');
    assert.equal(answer.error?.details?.field, field, JSON.stringify(body));
  }
  assert.deepEqual(runsOf(scripts, 'solo'), [], 'nothing was asked');
  const cli = await runEventctl(dataOf(daemon), ['query', 'uptime', '--timeout', '90s']);
  assert.equal(cli.code, 1);
  assert.match(cli.stderr, /timeout: 90000 ms; between 1 ms and 60s \(EVENTD_ERR_BAD_QUERY\)/);

  const local = await runEventctl(dataOf(daemon), ['query', 'uptime', '--payload', 'hi']);
  assert.equal(local.code, 0, local.stderr);
  assert.match(local.stdout, /^solo +\d+\.\dms {2}up solo hi$/m);
  assert.match(local.stdout, /^1 ack, 1 answer$/m);
});

test('a query frame replayed to its node (and again after that node restarted) does not run the handler twice', { timeout: 240_000 }, async (t) => {
  const dir = tempDir(t);
  const scripts = writeQueryScripts(dir);
  const relay = await UdpRelay.start();
  const nodes = await relayedCluster(dir, relay, undefined, () => ({ queries: { uptime: { run: scripts.uptime } } }));
  defer(t, async () => {
    await Promise.all(nodes.map((node) => node.daemon.kill9()));
    await relay.close();
  });
  await Promise.all(nodes.map((node) => node.daemon.start()));
  const [, n2, n3] = nodes as [typeof nodes[0], typeof nodes[0], typeof nodes[0]];
  for (const node of nodes) await waitFor(`${node.name} to see a view of three`, async () => (await view(node.daemon)).length === 3, 20_000);

  // n2 asks n3 through the relay, which keeps a copy of every datagram n2 sent n3 meanwhile.
  relay.captured.length = 0;
  relay.capturing = true;
  const answer = await ask(n2.daemon, { name: 'uptime', scope: ['n3'], payload: 'once', timeout: '5s' });
  relay.capturing = false;
  assert.deepEqual(summaryOf(answer.lines).answered, ['n3']);
  const captured = relay.captured.slice();
  const runs = runsOf(scripts, 'n3');
  assert.equal(runs.length, 1);

  const before = replayRefusals(await dropsByReason(n3.daemon));
  await relay.replay(captured, n3.udp);
  await waitFor(`n3 to refuse the ${captured.length} replayed frames`, async () => replayRefusals(await dropsByReason(n3.daemon)) - before >= captured.length, 30_000);
  assert.deepEqual(runsOf(scripts, 'n3'), runs, 'the replayed query did not run the handler again');

  // After a restart the guard's memory is the persisted high-water (committed with the query frame's batch).
  await n3.daemon.stop();
  await n3.daemon.start();
  await waitFor('n3 back in a view of three', async () => (await view(n3.daemon)).length === 3, 20_000);
  const restarted = replayRefusals(await dropsByReason(n3.daemon));
  await relay.replay(captured, n3.udp);
  await waitFor(`n3 to refuse the ${captured.length} frames captured before its restart`, async () => replayRefusals(await dropsByReason(n3.daemon)) - restarted >= captured.length, 30_000);
  assert.deepEqual(runsOf(scripts, 'n3'), runs, 'not after the restart either');
});
