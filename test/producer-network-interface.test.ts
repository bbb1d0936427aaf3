import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from './helpers/node-test.js';
import {
  createNetworkInterfaceProducer,
  isUp,
  networkInterfaceSamples,
  parseNetDev,
  parseNetworkInterfaceConfig,
  readLink,
} from '../producers/network-interface/index.js';
import { silentLogger } from '../services/eventd/logger.js';
import { createMetrics } from '../services/eventd/metrics.js';
import { builtinProducersDir, packageRoot } from '../services/eventd/paths.js';
import { ProducerHost } from '../services/eventd/producers/index.js';
import { validator } from '../services/eventd/schema.js';
import type { Sample } from '../services/eventd/types.js';
import { assertBadConfig } from './helpers/errors.js';
import { defer, waitFor } from './helpers/tmp.js';

const fixtures = join(packageRoot, 'test', 'fixtures');
const procNet = join(fixtures, 'proc-net');
const sysNet = join(fixtures, 'sys-net');
const first = () => readFile(join(procNet, 'net', 'dev'), 'utf8');
const later = () => readFile(join(procNet, 'dev-5s-later'), 'utf8');


const badConfig = (config: Record<string, unknown>, key: string, mentions: RegExp): void => assertBadConfig(parseNetworkInterfaceConfig, config, key, mentions);

test('parseNetDev: two header lines, a colon with or without a space, malformed lines skipped', async () => {
  const counters = parseNetDev(await first());
  assert.deepEqual([...counters.keys()], ['lo', 'eth0', 'ifb0', 'tun0', 'veth9']);
  assert.deepEqual(counters.get('lo'), { rxBytes: 548163, rxErrors: 0, txBytes: 548163, txErrors: 0 });
  assert.deepEqual(counters.get('eth0'), { rxBytes: 4294967000, rxErrors: 3, txBytes: 1007105, txErrors: 1 });
  assert.deepEqual(parseNetDev(''), new Map());
});

test('readLink and isUp: operstate up, or unknown with IFF_UP', async () => {
  assert.deepEqual(await readLink(sysNet, 'lo'), { operstate: 'unknown', flags: 0x9, mtu: 65536 });
  assert.deepEqual(await readLink(sysNet, 'eth0'), { operstate: 'up', flags: 0x1003, mtu: 1500 });
  assert.deepEqual(await readLink(sysNet, 'veth9'), {}, 'an interface gone from /sys reads as nothing');
  assert.equal(isUp(await readLink(sysNet, 'lo')), true);
  assert.equal(isUp(await readLink(sysNet, 'eth0')), true);
  assert.equal(isUp(await readLink(sysNet, 'ifb0')), false);
  assert.equal(isUp(await readLink(sysNet, 'tun0')), true);
  assert.equal(isUp(await readLink(sysNet, 'dummy0')), false, 'unknown without IFF_UP is down');
  assert.equal(isUp({ operstate: 'dormant', flags: 0x1003 }), false);
  assert.equal(isUp({ flags: 0x1 }), true);
  assert.equal(isUp({}), undefined);
});

test('networkInterfaceSamples: rates across two readings; a wrapped counter omits its rate', async () => {
  const links = new Map([
    ['lo', { operstate: 'unknown', flags: 0x9, mtu: 65536 }],
    ['eth0', { operstate: 'up', flags: 0x1003, mtu: 1500 }],
  ]);
  const one = networkInterfaceSamples(parseNetDev(await first()), links, undefined, 10_000, ['lo', 'eth0']);
  assert.deepEqual(one.samples, [
    { resource: 'lo', attrs: { up: true, rxErrors: 0, txErrors: 0, mtu: 65536 } },
    { resource: 'eth0', attrs: { up: true, rxErrors: 3, txErrors: 1, mtu: 1500 } },
  ]);
  const two = networkInterfaceSamples(parseNetDev(await later()), links, one.reading, 15_000, ['lo', 'eth0']);
  assert.deepEqual(two.samples, [
    { resource: 'lo', attrs: { up: true, rxBytesPerS: 1000, txBytesPerS: 2000, rxErrors: 0, txErrors: 0, mtu: 65536 } },
    // eth0's receive counter went down (wrapped): no rx rate this period; tx still has one.
    { resource: 'eth0', attrs: { up: true, txBytesPerS: 1000, rxErrors: 4, txErrors: 1, mtu: 1500 } },
  ]);
  // The reading after the wrap gives a rate again; 0.3 s gives fractions, rounded to two decimals.
  const bumped = parseNetDev((await later()).replace('    1200   12930', '    1300   12931'));
  const three = networkInterfaceSamples(bumped, links, two.reading, 15_300, ['eth0']);
  assert.equal(three.samples[0]?.attrs['rxBytesPerS'], 333.33);
  assert.equal(networkInterfaceSamples(bumped, links, three.reading, 15_300, ['eth0']).samples[0]?.attrs['rxBytesPerS'], undefined, 'no time, no rate');
});

test('parseNetworkInterfaceConfig: optional list, errors naming the key', () => {
  assert.deepEqual(parseNetworkInterfaceConfig({}), {});
  assert.deepEqual(parseNetworkInterfaceConfig({ periodMs: 100, interfaces: ['eth0', 'lo', 'eth0'] }), { interfaces: ['eth0', 'lo'] });
  badConfig({ interfaces: 'eth0' }, 'producers.NetworkInterface.interfaces', /must be a list/);
  badConfig({ interfaces: ['eth0', '../../etc'] }, 'producers.NetworkInterface.interfaces[1]', /interface name/);
  badConfig({ interfaces: ['a-name-longer-than-15'] }, 'producers.NetworkInterface.interfaces[0]', /1 to 15 characters/);
  badConfig({ interfaces: [7] }, 'producers.NetworkInterface.interfaces[0]', /got 7/);
  badConfig({ interface: ['eth0'] }, 'producers.NetworkInterface.interface', /unknown key/);
});

test('the producer module over recorded files: every interface, then rates; a listed interface that is gone is down', async (t) => {
  const procRoot = await mkdtemp(join(tmpdir(), 'eventd-proc-net-'));
  defer(t, () => rm(procRoot, { recursive: true, force: true }));
  await cp(procNet, procRoot, { recursive: true });
  let clock = 0;
  const producer = createNetworkInterfaceProducer(() => clock);
  producer.start();
  const ctx = { procRoot, sysRoot: sysNet, config: {} };
  assert.deepEqual(await producer.sample(ctx), [
    { resource: 'lo', attrs: { up: true, rxErrors: 0, txErrors: 0, mtu: 65536 } },
    { resource: 'eth0', attrs: { up: true, rxErrors: 3, txErrors: 1, mtu: 1500 } },
    { resource: 'ifb0', attrs: { up: false, rxErrors: 0, txErrors: 0, mtu: 1500 } },
    { resource: 'tun0', attrs: { up: true, rxErrors: 0, txErrors: 0, mtu: 1420 } },
    // In /proc/net/dev but gone from /sys by the time it was read.
    { resource: 'veth9', attrs: { rxErrors: 0, txErrors: 0 } },
  ]);
  await cp(join(procNet, 'dev-5s-later'), join(procRoot, 'net', 'dev'));
  clock += 5000;
  assert.deepEqual(await producer.sample(ctx), [
    { resource: 'lo', attrs: { up: true, rxBytesPerS: 1000, txBytesPerS: 2000, rxErrors: 0, txErrors: 0, mtu: 65536 } },
    { resource: 'eth0', attrs: { up: true, txBytesPerS: 1000, rxErrors: 4, txErrors: 1, mtu: 1500 } },
    { resource: 'tun0', attrs: { up: true, rxBytesPerS: 200, txBytesPerS: 400, rxErrors: 0, txErrors: 0, mtu: 1420 } },
  ]);
  clock += 5000;
  const listed = await producer.sample({ ...ctx, config: { interfaces: ['tun0', 'ifb0'] } });
  assert.deepEqual(listed, [
    { resource: 'tun0', attrs: { up: true, rxBytesPerS: 0, txBytesPerS: 0, rxErrors: 0, txErrors: 0, mtu: 1420 } },
    { resource: 'ifb0', attrs: { up: false } },
  ]);
  producer.stop();
  assert.equal((await producer.sample(ctx))[0]?.attrs['rxBytesPerS'], undefined, 'a fresh wake starts without rates');
  await assert.rejects(producer.sample({ ...ctx, config: { interfaces: ['bad/name'] } }), /producers\.NetworkInterface\.interfaces\[0\]/);
});

test('the built-in NetworkInterface module sees lo up, with rates after two samples, on the real machine', async (t) => {
  const received: Sample[] = [];
  const metrics = createMetrics();
  const host = new ProducerHost({
    node: 'n1',
    procRoot: '/proc',
    sysRoot: '/sys',
    dirs: [builtinProducersDir],
    config: { NetworkInterface: { periodMs: 300 } },
    logger: silentLogger(),
    metrics,
    onSamples: (_className, samples) => received.push(...samples),
  });
  defer(t, () => host.stop());
  await host.load();
  assert.deepEqual(Object.keys(host.manifest('NetworkInterface')?.attributes ?? {}).sort(), ['mtu', 'rxBytesPerS', 'rxErrors', 'txBytesPerS', 'txErrors', 'up']);
  host.wake('NetworkInterface');
  const lo = () => received.filter((sample) => sample.resource === 'lo');
  await waitFor('a second lo sample with rates', () => lo().some((sample) => typeof sample.attrs['rxBytesPerS'] === 'number'), 10_000);
  const validSample = validator('sample.schema.json');
  for (const sample of received) assert.ok(validSample(sample), JSON.stringify(validSample.errors));
  const latest = lo().find((sample) => typeof sample.attrs['rxBytesPerS'] === 'number');
  assert.equal(latest?.class, 'NetworkInterface');
  assert.equal(latest?.attrs['up'], true);
  assert.ok(Number(latest?.attrs['rxBytesPerS']) >= 0 && Number(latest?.attrs['txBytesPerS']) >= 0);
  assert.equal(typeof latest?.attrs['mtu'], 'number');
  assert.equal(lo()[0]?.attrs['rxBytesPerS'], undefined, 'the first sample has no rate');
  const errors = (await metrics.producerErrors.get()).values.reduce((sum, value) => sum + value.value, 0);
  assert.equal(errors, 0);
  await host.stop();
});
