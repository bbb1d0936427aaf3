import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test } from './helpers/node-test.js';
import { pino } from 'pino';
import {
  createProcessProducer,
  matches,
  parseCmdline,
  parseProcessConfig,
  parseStat,
  parseVmRssKiB,
  processSamples,
  readProcesses,
  type ProcessInfo,
} from '../producers/process/index.js';
import { silentLogger } from '../services/eventd/logger.js';
import { createMetrics } from '../services/eventd/metrics.js';
import { builtinProducersDir, packageRoot } from '../services/eventd/paths.js';
import { ProducerHost } from '../services/eventd/producers/index.js';
import { validator } from '../services/eventd/schema.js';
import type { Sample } from '../services/eventd/types.js';
import { assertBadConfig } from './helpers/errors.js';
import { defer, waitFor } from './helpers/tmp.js';
import type { Hooks } from './helpers/cleanup.js';

const fixture = join(packageRoot, 'test', 'fixtures', 'proc-process');
const read = (file: string) => readFile(join(fixture, file), 'utf8');


async function fixtureCopy(t: Hooks): Promise<string> {
  const procRoot = await mkdtemp(join(tmpdir(), 'eventd-proc-process-'));
  defer(t, () => rm(procRoot, { recursive: true, force: true }));
  await cp(fixture, procRoot, { recursive: true });
  return procRoot;
}

const badConfig = (config: Record<string, unknown>, key: string, mentions: RegExp): void => assertBadConfig(parseProcessConfig, config, key, mentions);

test('parseStat: comm with spaces and parentheses runs to the last )', async () => {
  assert.deepEqual(parseStat(await read('100/stat')), { pid: 100, comm: 'my (app) x)', state: 'S', cpuTicks: 50, startTime: 900 });
  assert.deepEqual(parseStat(await read('300/stat')), { pid: 300, comm: 'kworker/0:1-events', state: 'I', cpuTicks: 50, startTime: 5 });
  assert.equal(parseStat(''), undefined);
  assert.equal(parseStat('12 (cut short) S 1 2'), undefined);
  assert.equal(parseStat('x (name) S 1 1 1 0 -1 0 0 0 0 0 1 1 0 0 20 0 1 0 5 0 0'), undefined);
});

test('parseCmdline and parseVmRssKiB', async () => {
  assert.deepEqual(parseCmdline(await read('200/cmdline')), ['/usr/bin/node', '/srv/web/server.js', '--port', '8080']);
  assert.deepEqual(parseCmdline(''), []);
  // setproctitle() may leave one string with spaces and no NUL.
  assert.deepEqual(parseCmdline('nginx: worker process'), ['nginx: worker process']);
  assert.equal(parseVmRssKiB(await read('200/status')), 80000);
  assert.equal(parseVmRssKiB(await read('300/status')), undefined);
});

test('parseProcessConfig: names and patterns; no watch list is an empty one', () => {
  assert.deepEqual(parseProcessConfig({}), []);
  assert.deepEqual(parseProcessConfig({ periodMs: 1000, watch: [] }), []);
  const entries = parseProcessConfig({ watch: ['sshd', { name: 'web', pattern: 'server\\.js' }] });
  assert.equal(entries.length, 2);
  assert.deepEqual(entries[0], { name: 'sshd' });
  assert.equal(entries[1]?.name, 'web');
  assert.ok(entries[1]?.pattern instanceof RegExp);
});

test('parseProcessConfig: a bad entry is an error naming producers.Process.watch[i]', () => {
  badConfig({ watch: ['ok', { name: 'web', pattern: 'server(' }] }, 'producers.Process.watch[1].pattern', /not a valid regular expression/);
  badConfig({ watch: 'node' }, 'producers.Process.watch', /must be a list/);
  badConfig({ watch: ['ok', 42] }, 'producers.Process.watch[1]', /process name or a \{ name, pattern \} object/);
  badConfig({ watch: [''] }, 'producers.Process.watch[0]', /empty/);
  badConfig({ watch: [{ pattern: 'x' }] }, 'producers.Process.watch[0].name', /non-empty string/);
  badConfig({ watch: [{ name: 'x' }] }, 'producers.Process.watch[0].pattern', /regular expression/);
  badConfig({ watch: [{ name: 'x', pattern: 'x', flags: 'i' }] }, 'producers.Process.watch[0].flags', /unknown key/);
  badConfig({ watch: ['a', 'b', { name: 'a', pattern: 'a' }] }, 'producers.Process.watch[2]', /already watched by producers\.Process\.watch\[0\]/);
  badConfig({ wacth: ['a'] }, 'producers.Process.wacth', /unknown key/);
});

test('matches: comm or argv[0] base name; patterns over the command line; never zombies', () => {
  const proc = (comm: string, argv: string[], state = 'S'): ProcessInfo => ({ pid: 1, comm, state, cpuTicks: 0, startTime: 0, argv });
  assert.ok(matches({ name: 'node' }, proc('node', [])));
  assert.ok(matches({ name: 'postgres_exporter' }, proc('postgres_export', ['/usr/local/bin/postgres_exporter'])));
  assert.ok(!matches({ name: 'postgres' }, proc('postgres_export', ['/usr/local/bin/postgres_exporter'])));
  assert.ok(!matches({ name: 'node' }, proc('node', [], 'Z')));
  assert.ok(matches({ name: 'web', pattern: /server\.js --port 8080/ }, proc('node', ['node', 'server.js', '--port', '8080'])));
  assert.ok(!matches({ name: 'any', pattern: /.*/ }, proc('kthreadd', [])), 'kernel threads have no command line to match');
});

test('readProcesses on the recorded /proc: matching, zombies and vanished processes', async () => {
  const entries = parseProcessConfig({
    watch: ['node', 'postgres_exporter', 'my (app) x)', { name: 'web', pattern: '^/usr/bin/node /srv/web/server\\.js' }, 'sshd'],
  });
  const processes = await readProcesses(fixture, entries);
  // 1 and 300 match nothing; 400 is a zombie; 600 vanished (no cmdline); `uptime` is not a pid.
  assert.deepEqual(processes.map((proc) => proc.pid).sort((a, b) => a - b), [100, 200, 201, 500]);
  const { samples } = processSamples(entries, processes, undefined, 0);
  assert.deepEqual(samples, [
    { resource: 'node', attrs: { running: 2, pids: '200,201', rssKiB: 120000 } },
    { resource: 'postgres_exporter', attrs: { running: 1, pids: '500', rssKiB: 10000 } },
    { resource: 'my (app) x)', attrs: { running: 1, pids: '100', rssKiB: 6000 } },
    { resource: 'web', attrs: { running: 1, pids: '200', rssKiB: 80000 } },
    { resource: 'sshd', attrs: { running: 0, pids: '', rssKiB: 0 } },
  ]);
});

test('processSamples: cpuPercent across two readings, with new, exited and reused pids', () => {
  const entries = parseProcessConfig({ watch: ['node'] });
  const proc = (pid: number, cpuTicks: number, startTime: number): ProcessInfo => ({ pid, comm: 'node', state: 'S', cpuTicks, startTime, argv: [] });
  const first = processSamples(entries, [proc(10, 1000, 5), proc(11, 400, 6), proc(12, 700, 7)], undefined, 50_000);
  assert.equal(first.samples[0]?.attrs['cpuPercent'], undefined, 'no rate on the first reading');
  // 10 s later: 10 used 150 ticks; 11 exited; 12 is a new process on a reused pid (30 ticks); 13 started (20 ticks).
  const second = processSamples(entries, [proc(10, 1150, 5), proc(12, 30, 900), proc(13, 20, 901)], first.reading, 60_000);
  assert.deepEqual(second.samples[0]?.attrs, { running: 3, pids: '10,12,13', rssKiB: 0, cpuPercent: 20 });
  // Another 0.5 s: 10 used 75 ticks (1.5 CPUs).
  const third = processSamples(entries, [proc(10, 1225, 5), proc(12, 30, 900), proc(13, 20, 901)], second.reading, 60_500);
  assert.equal(third.samples[0]?.attrs['cpuPercent'], 150);
  // All gone: running 0 and no cpu.
  const fourth = processSamples(entries, [], third.reading, 61_500);
  assert.deepEqual(fourth.samples, [{ resource: 'node', attrs: { running: 0, pids: '', rssKiB: 0, cpuPercent: 0 } }]);
  // A clock that did not move gives no rate rather than a division by zero.
  assert.equal(processSamples(entries, [], fourth.reading, 61_500).samples[0]?.attrs['cpuPercent'], undefined);
});

test('the producer module reads the files each period and measures cpu between periods', async (t) => {
  const procRoot = await fixtureCopy(t);
  let clock = 1000;
  const producer = createProcessProducer(() => clock);
  const ctx = { procRoot, config: { watch: ['node', 'sshd'] } };
  producer.start();
  const first = await producer.sample(ctx);
  assert.deepEqual(first[0], { resource: 'node', attrs: { running: 2, pids: '200,201', rssKiB: 120000 } });

  // Two seconds on: pid 200 used 100 more ticks (utime 1000 -> 1100) and pid 201 exited.
  const stat200 = await read('200/stat');
  await writeFile(join(procRoot, '200', 'stat'), stat200.replace(' S 1 200 200 0 -1 4194560 1200 0 3 0 1000 ', ' S 1 200 200 0 -1 4194560 1200 0 3 0 1100 '));
  await rm(join(procRoot, '201'), { recursive: true });
  clock += 2000;
  const second = await producer.sample(ctx);
  assert.deepEqual(second, [
    { resource: 'node', attrs: { running: 1, pids: '200', rssKiB: 80000, cpuPercent: 50 } },
    { resource: 'sshd', attrs: { running: 0, pids: '', rssKiB: 0, cpuPercent: 0 } },
  ]);

  // stop() forgets the reading: the next wake starts without a rate.
  producer.stop();
  assert.equal((await producer.sample(ctx))[0]?.attrs['cpuPercent'], undefined);
  assert.deepEqual(await producer.sample({ procRoot, config: {} }), [], 'no watch list: nothing to report');
  await assert.rejects(producer.sample({ procRoot, config: { watch: [{ name: 'web', pattern: '[' }] } }), /producers\.Process\.watch\[0\]\.pattern/);
});

test('through the host, a bad watch entry is a counted failure naming the entry', async (t) => {
  const procRoot = await fixtureCopy(t);
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  const logger = pino({ level: 'warn' }, sink);
  const metrics = createMetrics();
  const host = new ProducerHost({
    node: 'n1',
    procRoot,
    dirs: [builtinProducersDir],
    config: { Process: { periodMs: 50, watch: ['node', { name: 'web', pattern: '(' }] } },
    logger,
    metrics,
    onSamples: () => assert.fail('no samples expected from a bad config'),
  });
  defer(t, () => host.stop());
  await host.load();
  host.wake('Process');
  const failures = async () => (await metrics.producerErrors.get()).values.find((value) => value.labels['class'] === 'Process' && value.labels['kind'] === 'throw')?.value ?? 0;
  const count = await waitFor('the Process failure', async () => { const n = await failures(); return n > 0 ? n : undefined; }, 10_000, 10);
  assert.ok(count >= 1);
  assert.ok(lines.some((line) => line.includes('producers.Process.watch[1].pattern')), lines.join(''));
  await host.stop();
});

test('the built-in Process module sees this node process on the real /proc', async (t) => {
  const received: Sample[] = [];
  const metrics = createMetrics();
  const host = new ProducerHost({
    node: 'n1',
    procRoot: '/proc',
    sysRoot: '/sys',
    dirs: [builtinProducersDir],
    config: { Process: { periodMs: 1000, watch: ['node', 'no-such-process-eventd-test'] } },
    logger: silentLogger(),
    metrics,
    onSamples: (_className, samples) => received.push(...samples),
  });
  defer(t, () => host.stop());
  await host.load();
  assert.deepEqual(Object.keys(host.manifest('Process')?.attributes ?? {}).sort(), ['cpuPercent', 'pids', 'rssKiB', 'running']);
  host.wake('Process');
  const node = () => received.filter((sample) => sample.resource === 'node');
  await waitFor('a second Process sample with cpuPercent', () => node().some((sample) => typeof sample.attrs['cpuPercent'] === 'number'), 10_000);
  const validSample = validator('sample.schema.json');
  for (const sample of received) assert.ok(validSample(sample), JSON.stringify(validSample.errors));
  const latest = node().at(-1);
  assert.equal(latest?.class, 'Process');
  assert.ok(Number(latest?.attrs['running']) >= 1);
  assert.ok(String(latest?.attrs['pids']).split(',').includes(String(process.pid)), `pids ${String(latest?.attrs['pids'])} lacks ${process.pid}`);
  assert.ok(Number(latest?.attrs['rssKiB']) > 0);
  assert.ok(Number(latest?.attrs['cpuPercent']) >= 0);
  const absent = received.filter((sample) => sample.resource === 'no-such-process-eventd-test').at(-1);
  assert.deepEqual({ running: absent?.attrs['running'], pids: absent?.attrs['pids'] }, { running: 0, pids: '' });
  const errors = (await metrics.producerErrors.get()).values.reduce((sum, value) => sum + value.value, 0);
  assert.equal(errors, 0);
  await host.stop();
});
