// The live monitor (issue 16, "Live monitor"; Serf's `serf monitor`) on three
// real daemons: `eventctl monitor` on n1 shows n3 going down after kill -9 and
// up after its restart, a raise on n2 with its class; --class leaves other
// classes out; --level warn hides info lines and shows a warning the daemon
// logs, --level debug a refused frame the log at info leaves out; a client
// that stops reading (SIGSTOP) holds nothing up while thousands
// of entries are made and is told how many it lost; closing a client ends its
// subscription; no token, no monitor; bad parameters are a 400 naming them.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createSocket } from 'node:dgram';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { burstPluginDir } from '../bench/lib/burst-cluster.js';
import { view } from './helpers/cluster.js';
import { DaemonProcess } from './helpers/daemon.js';
import { deployClass, runEventctl, startMessagingCluster } from './helpers/messaging.js';
import { metric, monitorClients, MonitorProcess } from './helpers/monitor.js';
import { test } from './helpers/node-test.js';
import { setSwap } from './helpers/proc.js';
import { defer, tempDir, waitFor } from './helpers/tmp.js';
import type { MonitorEntry } from '../services/eventd/messaging/monitor-feed.js';

const names = ['n1', 'n2', 'n3'];
const releaseClass = { attributes: { version: { type: 'number' } } };
/** Entries the burst makes on n1 (one event or rearm per sample), far more than a client's queue and its socket hold. */
const burstTotal = 6000;

function entriesOf(monitor: MonitorProcess): MonitorEntry[] {
  return monitor.lines().map((line) => JSON.parse(line) as MonitorEntry);
}

/** A producer folder that loads (its load is an info line) and whose removal is a warning. */
function writeBlinkProducer(folder: string): void {
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, 'manifest.json'), JSON.stringify({
    class: 'Blink', description: 'monitor test: loaded, then removed', periodMs: 1000, exec: 'run.mjs', attributes: { v: { type: 'number' } },
  }));
  writeFileSync(join(folder, 'run.mjs'), '#!/usr/bin/env node\nprocess.stdout.write(JSON.stringify({ resource: "b", attrs: { v: 1 } }) + "\\n");\n');
  chmodSync(join(folder, 'run.mjs'), 0o755);
}

test('eventctl monitor: membership, raises by class, warnings by level, a stalled client drops and is told, subscriptions released, token required', { timeout: 400_000 }, async (t) => {
  const dir = tempDir(t);
  const plugins = join(dir, 'plugins');
  mkdirSync(plugins);
  const nodes = await startMessagingCluster(dir, names, (name) => ({
    events: { classes: { Deploy: deployClass, Release: releaseClass } },
    ...(name === 'n1' ? {
      plugins: { dirs: [burstPluginDir, plugins] },
      producers: { PagingSpace: { periodMs: 100 }, Burst: { rate: 3000, total: burstTotal, resources: 100 } },
    } : {}),
  }), t);
  defer(t, () => Promise.all(nodes.map((node) => node.daemon.kill9())));
  const [n1, n2, n3] = nodes as [typeof nodes[0], typeof nodes[0], typeof nodes[0]];
  for (const node of nodes) await waitFor(`${node.name} to see a view of three`, async () => (await view(node.daemon)).length === 3, 60_000);
  const dataDir = (node: typeof n1) => join(dir, node.name, 'data');

  // Safe by default: no token over TCP, nothing; bad parameters name themselves.
  const anonymous = await fetch(`${n1.daemon.url}/v1/monitor`, { headers: { accept: 'text/event-stream' }, signal: AbortSignal.timeout(10_000) });
  assert.equal(anonymous.status, 401);
  assert.equal(((await anonymous.json()) as { error: { code: string } }).error.code, 'EVENTD_ERR_UNAUTHORIZED');
  for (const [query, field] of [['level=loud', 'level'], ['kind=member,gossip', 'kind'], ['class=not-a-class', 'class']] as const) {
    const bad = await n1.daemon.request<{ error: { code: string; message: string; details?: { field?: string } } }>('GET', `/v1/monitor?${query}`, undefined, { accept: 'text/event-stream' });
    assert.equal(bad.status, 400, `${query}: ${JSON.stringify(bad.body)}`);
    assert.deepEqual([bad.body.error.code, bad.body.error.details?.field], ['EVENTD_ERR_BAD_REQUEST', field], query);
    assert.match(bad.body.error.message, new RegExp(`^${field}:`));
  }
  const usage = await runEventctl(dataDir(n1), ['monitor', '--level', 'loud']);
  assert.equal(usage.code, 2, usage.stderr);
  assert.equal(await monitorClients(n1.daemon), 0, 'refused requests subscribe nothing');

  const all = new MonitorProcess(dataDir(n1), [], t);
  const deploys = new MonitorProcess(dataDir(n1), ['--class', 'Deploy', '--json'], t);
  const warnings = new MonitorProcess(dataDir(n1), ['--level', 'warn', '--json'], t);
  await waitFor('three monitor clients on n1', async () => (await monitorClients(n1.daemon)) === 3, 30_000);

  // A raise on n2 shows on n1's monitor with its class; --class Deploy leaves Release out (raised first: n2's FIFO order holds at n1).
  const release = await runEventctl(dataDir(n2), ['event', 'raise', 'Release', 'api', '--attr', 'version=7']);
  assert.equal(release.code, 0, release.stderr);
  const deploy = await runEventctl(dataDir(n2), ['event', 'raise', 'Deploy', 'web', '--attr', 'version=42']);
  assert.equal(deploy.code, 0, deploy.stderr);
  const line = await all.line('the Deploy raised on n2', (text) => /^\S+ INFO\s+event\s+\[n2\] event Deploy web version=42 /.test(text));
  assert.match(line, /^\d{4}-\d{2}-\d{2}T\S+Z INFO /, 'TIME LEVEL KIND [node] message');
  await all.line('the Release raised on n2', (text) => / event Release api version=7 /.test(text));
  await deploys.line('the Deploy as JSON', (text) => text.includes('"class":"Deploy"'));
  const deployed = entriesOf(deploys);
  assert.ok(deployed.every((entry) => entry.class === undefined || entry.class === 'Deploy'), `only Deploy among classed entries: ${JSON.stringify(deployed.filter((e) => e.class !== undefined && e.class !== 'Deploy'))}`);
  const raised = deployed.find((entry) => entry.kind === 'event' && entry.class === 'Deploy');
  assert.deepEqual([raised?.node, raised?.level, (raised?.data?.['event'] as { attrs?: unknown } | undefined)?.attrs], ['n2', 'info', { version: 42 }]);

  // A warning the daemon logs: a producer folder that loads (info) and is then removed (warn).
  writeBlinkProducer(join(plugins, 'blink'));
  await all.line('the Blink producer loaded (an info log line)', (text) => / INFO\s+log\s+\[n1\] producer Blink loaded/.test(text));
  rmSync(join(plugins, 'blink'), { recursive: true, force: true });
  const unloaded = await warnings.line('the Blink producer unloaded (a warning)', (text) => text.includes('producer Blink unloaded'));
  assert.deepEqual([JSON.parse(unloaded).level, JSON.parse(unloaded).kind, JSON.parse(unloaded).data.component], ['warn', 'log', 'producers']);
  await all.line('the same warning in the full monitor', (text) => / WARN\s+log\s+\[n1\] producer Blink unloaded/.test(text));
  assert.match(n1.daemon.log, /producer Blink unloaded/, 'the log itself still has the line');
  const seenAtWarn = entriesOf(warnings);
  assert.ok(seenAtWarn.every((entry) => entry.level === 'warn' || entry.level === 'error'), `--level warn shows no info: ${JSON.stringify(seenAtWarn.filter((e) => e.level === 'info' || e.level === 'debug'))}`);
  assert.ok(!seenAtWarn.some((entry) => entry.message.includes('producer Blink loaded') || entry.message.includes('Deploy')), 'info lines and events stay hidden at warn');

  // --level debug shows the debug lines the log (at info) leaves out: a refused frame (garbage sent to n1's cluster port on loopback).
  const debug = new MonitorProcess(dataDir(n1), ['--level', 'debug', '--kind', 'log', '--json'], t);
  await waitFor('the debug client connected', async () => (await monitorClients(n1.daemon)) === 4, 30_000);
  const [host, port] = n1.udp.split(':') as [string, string];
  const socket = createSocket('udp4');
  defer(t, () => new Promise<void>((resolve) => socket.close(() => resolve())));
  await new Promise<void>((resolve, reject) => socket.send(Buffer.from('not a sealed frame'), Number(port), host, (error) => (error ? reject(error) : resolve())));
  const refused = JSON.parse(await debug.line('a refused frame (a debug line)', (text) => text.includes('cluster frame dropped'))) as MonitorEntry;
  assert.deepEqual([refused.level, refused.kind, refused.data?.['component']], ['debug', 'log', 'cluster']);
  assert.doesNotMatch(n1.daemon.log, /cluster frame dropped/, 'the log at info has no debug line');
  assert.ok(!entriesOf(warnings).some((entry) => entry.message.includes('cluster frame dropped')), 'nor the monitor at warn');
  await debug.kill();
  await waitFor('the debug client gone', async () => (await monitorClients(n1.daemon)) === 3, 30_000);

  // Membership: n3 killed (-9) is down, restarted is up, on n1's monitor.
  await n3.daemon.kill9();
  await all.line('n3 down', (text) => / WARN\s+member \[n3\] member n3 is down/.test(text), 60_000);
  await warnings.line('n3 down at --level warn', (text) => text.includes('member n3 is down'));
  await n3.daemon.start();
  await all.line('n3 up', (text) => / INFO\s+member \[n3\] member n3 is up/.test(text), 60_000);
  assert.ok(!entriesOf(deploys).some((entry) => entry.kind === 'member' && entry.class !== undefined), '--class Deploy leaves the Node and Cluster membership records out');

  // A client that stops reading: thousands of entries later the daemon still answers, and the client is told what it lost.
  const stalled = new MonitorProcess(dataDir(n1), ['--kind', 'event', '--json'], t);
  await waitFor('the stalled client connected', async () => (await monitorClients(n1.daemon)) === 4, 30_000);
  stalled.signal('SIGSTOP');
  const droppedBefore = await metric(n1.daemon, 'eventd_monitor_entries_dropped_total');
  const created = await n1.daemon.request<{ id: string }>('POST', '/v1/subscriptions', { name: 'burst', class: 'Burst', expr: 'v = 1', scope: ['n1'] });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  let slowestMs = 0;
  let answers = 0;
  await waitFor(`the ${burstTotal} burst entries on n1 while the API answers`, async () => {
    const started = performance.now();
    const health = await n1.daemon.request<{ events: { count: number } }>('GET', '/v1/status');
    slowestMs = Math.max(slowestMs, performance.now() - started);
    assert.equal(health.status, 200);
    answers += 1;
    const burst = await n1.daemon.request<{ events: unknown[] }>('GET', '/v1/events?class=Burst&tail=1&limit=1');
    const last = burst.body.events[0] as { attrs?: { i?: number } } | undefined;
    return last?.attrs?.i === burstTotal - 1;
  }, 180_000, 100);
  assert.ok(answers > 1, 'the API answered during the burst');
  // The request deadline (requestDeadlineMs) already fails a stalled call; this says how far from it the slowest was.
  assert.ok(slowestMs < 15_000, `the slowest API answer during the burst took ${Math.round(slowestMs)} ms`);
  await all.line('the last burst entry on the reading client', (text) => text.includes(`i=${burstTotal - 1} `), 120_000);
  assert.ok((await metric(n1.daemon, 'eventd_monitor_entries_dropped_total')) > droppedBefore, 'the stalled client lost entries');
  stalled.signal('SIGCONT');
  await stalled.line('a dropped-count entry', (text) => /"message":"\d+ entries dropped/.test(text), 60_000);
  await waitFor('the stalled client to catch up with the burst', () => entriesOf(stalled).some((entry) => (entry.data?.['event'] as { attrs?: { i?: number } } | undefined)?.attrs?.i === burstTotal - 1), 60_000);
  // It asked for events only, and the burst's are the only ones: what it saw and what it was told it lost add up to the burst.
  const told = entriesOf(stalled);
  const droppedTold = told.filter((entry) => typeof entry.data?.['dropped'] === 'number').reduce((sum, entry) => sum + Number(entry.data?.['dropped']), 0);
  const burstSeen = told.filter((entry) => entry.class === 'Burst').length;
  assert.ok(droppedTold > 0, 'told of dropped entries');
  assert.equal(burstSeen + droppedTold, burstTotal, `saw ${burstSeen}, told of ${droppedTold} dropped`);
  t.diagnostic(`stalled client: saw ${burstSeen} of ${burstTotal} burst entries, told of ${droppedTold} dropped; ${answers} API calls during the burst, the slowest ${Math.round(slowestMs)} ms`);

  // Closing the clients ends their subscriptions.
  await Promise.all([all.kill(), deploys.kill(), warnings.kill(), stalled.kill()]);
  await waitFor('no monitor client left on n1', async () => (await monitorClients(n1.daemon)) === 0, 30_000);
});

test('a graceful stop is not held by an attached monitor, a stalled one included; the watching eventctl says it lost the stream', async (t) => {
  const dir = tempDir(t);
  const procRoot = join(dir, 'proc');
  const dataDir = join(dir, 'data');
  setSwap(procRoot, 40);
  const daemon = DaemonProcess.withConfig(dir, { node: 'solo', dataDir, procRoot, api: { port: 0 }, log: { level: 'info' } }, t);
  await daemon.start();
  const watching = new MonitorProcess(dataDir, [], t);
  const stalled = new MonitorProcess(dataDir, ['--json'], t);
  await waitFor('two monitor clients', async () => (await monitorClients(daemon)) === 2, 30_000);
  stalled.signal('SIGSTOP');
  // stop() fails the test if SIGTERM does not end the daemon within its grace.
  await daemon.stop();
  await waitFor('eventctl monitor to say it lost the stream', () => watching.errors.includes('lost the monitor stream'), 20_000);
  assert.ok(watching.lines().some((line) => line.includes('stopping')), `the stop itself was on the monitor: ${watching.lines().join('\n')}`);
});
