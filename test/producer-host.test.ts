import assert from 'node:assert/strict';
import { copyFile, cp, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from './helpers/node-test.js';
import {
  countCpus,
  countProcesses,
  cpuPercent,
  cpuWarmupMs,
  createHostProducer,
  hostAttrs,
  parseCpuTimes,
  parseLoadavg,
  parseMemInfo,
  parseUptime,
} from '../producers/host/index.js';
import { silentLogger } from '../services/eventd/logger.js';
import { createMetrics } from '../services/eventd/metrics.js';
import { builtinProducersDir, packageRoot } from '../services/eventd/paths.js';
import { ProducerHost } from '../services/eventd/producers/index.js';
import { checkSample } from '../services/eventd/producers/sample-check.js';
import { validator } from '../services/eventd/schema.js';
import type { ProducerManifest, Sample } from '../services/eventd/types.js';
import { defer, tempDir, waitFor } from './helpers/tmp.js';

const fixtureRoot = join(packageRoot, 'test', 'fixtures', 'proc-host');
const read = (file: string) => readFile(join(fixtureRoot, file), 'utf8');
const readManifest = async () => JSON.parse(await readFile(join(packageRoot, 'producers', 'host', 'manifest.json'), 'utf8')) as ProducerManifest;

/** The recorded machine's attributes, all but cpuPercent (which needs two readings). */
const recorded = {
  load1: 0.68,
  load5: 0.62,
  load15: 0.35,
  cpus: 2,
  memTotalKiB: 16303428,
  memAvailableKiB: 5837412,
  memPercentUsed: 64.2,
  uptimeS: 12191.38,
};

function codeOf(error: unknown): unknown {
  return (error as { code?: unknown }).code;
}

test('the Host manifest is valid and declares every attribute a sample carries', async () => {
  const manifest = await readManifest();
  const validate = validator('producer-manifest.schema.json');
  assert.ok(validate(manifest), JSON.stringify(validate.errors));
  assert.equal(manifest.class, 'Host');
  const previous = parseCpuTimes(await read('stat'));
  const { attrs } = hostAttrs({ loadavg: await read('loadavg'), stat: await read('later/stat'), meminfo: await read('meminfo'), uptime: await read('uptime'), processes: 6 }, previous);
  assert.deepEqual(Object.keys(attrs).sort(), Object.keys(manifest.attributes).sort());
  assert.equal(checkSample(manifest, { resource: 'n1', attrs }).ok, true);
});

test('parseLoadavg, parseMemInfo and parseUptime read the recorded files', async () => {
  assert.deepEqual(parseLoadavg(await read('loadavg')), { load1: 0.68, load5: 0.62, load15: 0.35 });
  assert.equal(parseLoadavg('garbage\n'), undefined);
  assert.deepEqual(parseMemInfo(await read('meminfo')), { totalKiB: 16303428, availableKiB: 5837412 });
  // Before Linux 3.14 there is no MemAvailable.
  assert.deepEqual(parseMemInfo('MemTotal:  1000 kB\nMemFree:  400 kB\n'), { totalKiB: 1000 });
  assert.equal(parseMemInfo('MemFree:  400 kB\n'), undefined);
  assert.equal(parseUptime(await read('uptime')), 12191.38);
  assert.equal(parseUptime(''), undefined);
});

test('parseCpuTimes: the cpu line, guest time not counted twice, idle and iowait not busy; countCpus: the cpuN lines', async () => {
  // user nice system idle iowait irq softirq steal = 2441111 jiffies, of which idle + iowait = 2316399.
  assert.deepEqual(parseCpuTimes(await read('stat')), { busy: 124712, total: 2441111 });
  assert.deepEqual(parseCpuTimes('cpu  10 0 5 80 5 0 0 0 7 3\ncpu0 10 0 5 80 5 0 0 0 7 3\n'), { busy: 15, total: 100 });
  assert.deepEqual(parseCpuTimes('cpu 1 2 3 4\n'), { busy: 6, total: 10 }, 'an old kernel with four fields');
  assert.equal(parseCpuTimes('cpu0 1 2 3 4\nintr 5\n'), undefined);
  assert.equal(countCpus(await read('stat')), 2);
  assert.equal(countCpus('cpu  1 2 3 4\n'), undefined);
  assert.equal(parseCpuTimes('cpu  1 x 3 4\n'), undefined);
});

test('cpuPercent across two readings; none without a previous one or without time between them', async () => {
  const first = parseCpuTimes(await read('stat'));
  const later = parseCpuTimes(await read('later/stat'));
  assert.ok(first && later);
  // 1000 jiffies later, 184 of them busy (user 150, system 30, softirq 3, steal 1).
  assert.equal(cpuPercent(first, later), 18.4);
  assert.equal(cpuPercent(undefined, later), undefined);
  assert.equal(cpuPercent(later, later), undefined);
  assert.equal(cpuPercent({ busy: 0, total: 0 }, { busy: 1, total: 3 }), 33.33);
  // iowait stepping backwards must not push the share past 100.
  assert.equal(cpuPercent({ busy: 0, total: 100 }, { busy: 20, total: 110 }), 100);
});

test('countProcesses counts the numeric folders only', () => {
  const entry = (name: string, directory = true) => ({ name, isDirectory: () => directory });
  assert.equal(countProcesses([entry('1'), entry('417'), entry('self', false), entry('sys'), entry('loadavg', false), entry('12x')]), 2);
});

test('hostAttrs: every attribute of the recorded machine; cpuPercent only with a previous reading', async () => {
  const readings = { loadavg: await read('loadavg'), stat: await read('stat'), meminfo: await read('meminfo'), uptime: await read('uptime'), processes: 6 };
  const first = hostAttrs(readings, undefined);
  assert.deepEqual(first.attrs, { ...recorded, processes: 6 });
  assert.deepEqual(first.cpu, { busy: 124712, total: 2441111 });
  const second = hostAttrs({ ...readings, stat: await read('later/stat') }, first.cpu);
  assert.equal(second.attrs['cpuPercent'], 18.4);
  // Absent files leave their attributes out; nothing is made up.
  assert.deepEqual(hostAttrs({ uptime: '5.5 9.0\n' }, undefined).attrs, { uptimeS: 5.5 });
});

test('the producer reads a recorded proc root: cpuPercent between readings, the first one taken at start', async (t) => {
  const procRoot = tempDir(t, 'eventd-proc-host-');
  await cp(fixtureRoot, procRoot, { recursive: true });
  const producer = createHostProducer();
  const ctx = { node: 'n7', procRoot, periodMs: 10, config: {} };
  await producer.start(ctx);
  // The recorded stat has not moved since start(): no CPU time between the readings, no share.
  assert.deepEqual(await producer.sample(ctx), [{ resource: 'n7', attrs: { ...recorded, processes: 6 } }]);
  await copyFile(join(procRoot, 'later', 'stat'), join(procRoot, 'stat'));
  assert.deepEqual(await producer.sample(ctx), [{ resource: 'n7', attrs: { ...recorded, cpuPercent: 18.4, processes: 6 } }]);
  // A fresh wake starts from its own reading: no share over the time asleep.
  await producer.start(ctx);
  assert.equal((await producer.sample(ctx))[0]?.attrs['cpuPercent'], undefined);
  assert.equal(cpuWarmupMs(10_000), 1000);
  assert.equal(cpuWarmupMs(100), 100);
});

test('the producer leaves out what a sparse proc root lacks, and refuses unknown config keys', async (t) => {
  const procRoot = tempDir(t, 'eventd-proc-sparse-');
  await copyFile(join(fixtureRoot, 'uptime'), join(procRoot, 'uptime'));
  const producer = createHostProducer();
  const ctx = { node: 'n1', procRoot, periodMs: 10, config: {} };
  await producer.start(ctx);
  assert.deepEqual(await producer.sample(ctx), [{ resource: 'n1', attrs: { uptimeS: 12191.38 } }]);
  await assert.rejects(producer.start({ ...ctx, config: { periodMs: 1000, cpu: true } }), (error) => codeOf(error) === 'EVENTD_ERR_BAD_CONFIG');
});

test('the built-in Host module runs through the host on this machine', async (t) => {
  const received: Sample[] = [];
  const metrics = createMetrics();
  const host = new ProducerHost({
    node: 'n1',
    procRoot: '/proc',
    dirs: [builtinProducersDir],
    config: { Host: { periodMs: 100 } },
    logger: silentLogger(),
    metrics,
    onSamples: (_className, samples) => received.push(...samples),
  });
  defer(t, () => host.stop());
  await host.load();
  assert.deepEqual(host.manifest('Host'), await readManifest());
  host.wake('Host');
  // start() takes the first CPU reading, so even the first sample has a share.
  const withCpu = await waitFor('a Host sample with cpuPercent', () => received.find((sample) => sample.attrs['cpuPercent'] !== undefined));
  await host.stop();
  assert.equal(withCpu.class, 'Host');
  assert.equal(withCpu.resource, 'n1');
  const between = (name: string, low: number, high: number) => {
    const value = withCpu.attrs[name];
    assert.ok(typeof value === 'number' && value >= low && value <= high, `${name}: ${String(value)}`);
  };
  between('cpuPercent', 0, 100);
  between('memPercentUsed', 0, 100);
  between('load1', 0, Number.MAX_VALUE);
  between('cpus', 1, Number.MAX_VALUE);
  between('processes', 1, Number.MAX_VALUE);
  between('uptimeS', 0, Number.MAX_VALUE);
  const validSample = validator('sample.schema.json');
  for (const sample of received) assert.ok(validSample(sample), JSON.stringify(validSample.errors));
  const errors = (await metrics.producerErrors.get()).values.reduce((sum, value) => sum + value.value, 0);
  assert.equal(errors, 0);
});
