import assert from 'node:assert/strict';
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import { test } from './helpers/node-test.js';
import ipAddressProducer, { ipAddressSamples, isLoopback, normaliseAddress, parseIPAddressConfig, prefixLength } from '../producers/ip-address/index.js';
import { silentLogger } from '../services/eventd/logger.js';
import { createMetrics } from '../services/eventd/metrics.js';
import { builtinProducersDir } from '../services/eventd/paths.js';
import { ProducerHost } from '../services/eventd/producers/index.js';
import { validator } from '../services/eventd/schema.js';
import type { Sample } from '../services/eventd/types.js';
import { assertBadConfig } from './helpers/errors.js';
import { defer, waitFor } from './helpers/tmp.js';


/** A documentation address (RFC 5737) this machine does not hold, for "configured but absent". */
const held = new Set(Object.values(networkInterfaces()).flatMap((infos) => (infos ?? []).map((info) => info.address)));
const absent = ['203.0.113.254', '198.51.100.254', '192.0.2.254'].find((address) => !held.has(address)) ?? '203.0.113.254';

const mac = '02:fc:00:00:00:01';
const none = '00:00:00:00:00:00';

/** os.networkInterfaces() as recorded on a node with one link, plus a second link sharing a link-local address. */
const recorded: NodeJS.Dict<NetworkInterfaceInfo[]> = {
  lo: [
    { address: '127.0.0.1', netmask: '255.0.0.0', family: 'IPv4', mac: none, internal: true, cidr: '127.0.0.1/8' },
    { address: '::1', netmask: 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', family: 'IPv6', mac: none, internal: true, cidr: '::1/128', scopeid: 0 },
  ],
  eth0: [
    { address: '192.0.2.2', netmask: '255.255.255.0', family: 'IPv4', mac, internal: false, cidr: '192.0.2.2/24' },
    { address: 'fd00::2', netmask: 'ffff:ffff:ffff:ffff::', family: 'IPv6', mac, internal: false, cidr: 'fd00::2/64', scopeid: 0 },
    { address: 'fe80::1', netmask: 'ffff:ffff:ffff:ffff::', family: 'IPv6', mac, internal: false, cidr: 'fe80::1/64', scopeid: 4 },
  ],
  eth1: [
    { address: '10.1.2.100', netmask: '255.255.240.0', family: 'IPv4', mac, internal: false, cidr: null },
    { address: 'fe80::1', netmask: 'ffff:ffff:ffff:ffff::', family: 'IPv6', mac, internal: false, cidr: 'fe80::1/64', scopeid: 5 },
  ],
};

const badConfig = (config: Record<string, unknown>, key: string, mentions: RegExp): void => assertBadConfig(parseIPAddressConfig, config, key, mentions);

test('normaliseAddress: one text per IPv6 address (RFC 5952); IPv4 as is; not-addresses undefined', () => {
  const cases: [string, string | undefined][] = [
    ['FE80::0001', 'fe80::1'],
    ['fe80:0:0:0:0:0:0:1', 'fe80::1'],
    ['2001:DB8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // the first of two equal runs
    ['1:0:0:1:0:0:0:1', '1:0:0:1::1'], // the longest run
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a single zero group stays
    ['0:0:0:0:0:0:0:0', '::'],
    ['::0001', '::1'],
    ['::FFFF:0A01:0203', '::ffff:10.1.2.3'],
    ['10.1.2.3', '10.1.2.3'],
    ['010.1.2.3', undefined],
    ['10.1.2.3/24', undefined],
    ['fe80::1%eth0', undefined],
    ['node1', undefined],
  ];
  for (const [input, expected] of cases) assert.equal(normaliseAddress(input), expected, input);
});

test('isLoopback and prefixLength', () => {
  assert.ok(isLoopback('127.0.0.1') && isLoopback('127.8.9.10') && isLoopback('::1'));
  assert.ok(!isLoopback('128.0.0.1') && !isLoopback('::2') && !isLoopback('fe80::1'));
  assert.equal(prefixLength({ cidr: '10.1.2.3/16', netmask: '255.255.0.0' }), 16);
  assert.equal(prefixLength({ cidr: null, netmask: '255.255.240.0' }), 20);
  assert.equal(prefixLength({ cidr: null, netmask: 'ffff:ffff:ffff:ff80::' }), 57);
  assert.equal(prefixLength({ cidr: null, netmask: '0.0.0.0' }), 0);
});

test('ipAddressSamples: present addresses, loopback left out, a shared link-local address is one sample', () => {
  assert.deepEqual(ipAddressSamples(recorded, []), [
    { resource: '192.0.2.2', attrs: { present: true, interface: 'eth0', family: 'ipv4', prefixLength: 24 } },
    { resource: 'fd00::2', attrs: { present: true, interface: 'eth0', family: 'ipv6', prefixLength: 64 } },
    { resource: 'fe80::1', attrs: { present: true, interface: 'eth0,eth1', family: 'ipv6', prefixLength: 64 } },
    { resource: '10.1.2.100', attrs: { present: true, interface: 'eth1', family: 'ipv4', prefixLength: 20 } },
  ]);
  const withLoopback = ipAddressSamples(recorded, [], { includeLoopback: true });
  assert.deepEqual(withLoopback.slice(0, 2), [
    { resource: '127.0.0.1', attrs: { present: true, interface: 'lo', family: 'ipv4', prefixLength: 8 } },
    { resource: '::1', attrs: { present: true, interface: 'lo', family: 'ipv6', prefixLength: 128 } },
  ]);
  assert.equal(withLoopback.length, 6);
  assert.deepEqual(ipAddressSamples({}, []), []);
});

test('ipAddressSamples: configured addresses are matched in any spelling and reported absent', () => {
  const samples = ipAddressSamples(recorded, ['FD00:0:0:0:0:0:0:0002', '10.1.2.200', 'FD00::0100', '::1']);
  assert.deepEqual(
    samples.map((sample) => [sample.resource, sample.attrs['present']]),
    [
      ['::1', true], // loopback, but configured
      ['192.0.2.2', true],
      ['fd00::2', true],
      ['fe80::1', true],
      ['10.1.2.100', true],
      ['10.1.2.200', false],
      ['fd00::100', false],
    ],
  );
  assert.deepEqual(samples.at(-1), { resource: 'fd00::100', attrs: { present: false, family: 'ipv6' } });
});

test('ipAddressSamples: a configured address that moves away turns present: false', () => {
  const configured = ['10.1.2.100'];
  const before = ipAddressSamples(recorded, configured).find((sample) => sample.resource === '10.1.2.100');
  assert.deepEqual(before?.attrs, { present: true, interface: 'eth1', family: 'ipv4', prefixLength: 20 });
  const taken = { ...recorded, eth1: recorded['eth1']?.filter((info) => info.address !== '10.1.2.100') };
  const after = ipAddressSamples(taken, configured).find((sample) => sample.resource === '10.1.2.100');
  assert.deepEqual(after?.attrs, { present: false, family: 'ipv4' });
});

test('parseIPAddressConfig: defaults, normalised addresses, and errors naming the key', () => {
  assert.deepEqual(parseIPAddressConfig({}), { addresses: [], includeLoopback: false });
  assert.deepEqual(parseIPAddressConfig({ periodMs: 100, addresses: ['FE80::0001', 'fe80::1', '10.0.0.1'], includeLoopback: true }), {
    addresses: ['fe80::1', '10.0.0.1'],
    includeLoopback: true,
  });
  badConfig({ addresses: ['10.0.0.1', '10.0.0.300'] }, 'producers.IPAddress.addresses[1]', /"10\.0\.0\.300"/);
  badConfig({ addresses: ['10.0.0.0/8'] }, 'producers.IPAddress.addresses[0]', /without prefix or zone/);
  badConfig({ addresses: [42] }, 'producers.IPAddress.addresses[0]', /IPv4 or IPv6/);
  badConfig({ addresses: '10.0.0.1' }, 'producers.IPAddress.addresses', /must be a list/);
  badConfig({ includeLoopback: 'yes' }, 'producers.IPAddress.includeLoopback', /true or false/);
  badConfig({ address: ['10.0.0.1'] }, 'producers.IPAddress.address', /unknown key/);
});

test('the module default export reads this node and refuses a bad config', () => {
  const samples = ipAddressProducer.sample({ config: { addresses: [absent] } });
  assert.ok(samples.every((sample) => !isLoopback(sample.resource)));
  assert.deepEqual(samples.at(-1), { resource: absent, attrs: { present: false, family: 'ipv4' } });
  assert.throws(() => ipAddressProducer.sample({ config: { addresses: ['nope'] } }), /producers\.IPAddress\.addresses\[0\]/);
});

test('the built-in IPAddress module sees 127.0.0.1 on lo on the real machine', async (t) => {
  const received: Sample[] = [];
  const metrics = createMetrics();
  const host = new ProducerHost({
    node: 'n1',
    procRoot: '/proc',
    sysRoot: '/sys',
    dirs: [builtinProducersDir],
    config: { IPAddress: { periodMs: 300, includeLoopback: true, addresses: [absent] } },
    logger: silentLogger(),
    metrics,
    onSamples: (_className, samples) => received.push(...samples),
  });
  defer(t, () => host.stop());
  await host.load();
  assert.deepEqual(Object.keys(host.manifest('IPAddress')?.attributes ?? {}).sort(), ['family', 'interface', 'prefixLength', 'present']);
  host.wake('IPAddress');
  await waitFor('an IPAddress sample for 127.0.0.1', () => received.some((sample) => sample.resource === '127.0.0.1'), 10_000);
  const validSample = validator('sample.schema.json');
  for (const sample of received) assert.ok(validSample(sample), JSON.stringify(validSample.errors));
  const loopback = received.find((sample) => sample.resource === '127.0.0.1');
  assert.equal(loopback?.class, 'IPAddress');
  assert.deepEqual(loopback?.attrs, { present: true, interface: 'lo', family: 'ipv4', prefixLength: 8 });
  await waitFor('the absent configured address', () => received.some((sample) => sample.resource === absent), 10_000);
  assert.deepEqual(received.find((sample) => sample.resource === absent)?.attrs, { present: false, family: 'ipv4' });
  const errors = (await metrics.producerErrors.get()).values.reduce((sum, value) => sum + value.value, 0);
  assert.equal(errors, 0);
  await host.stop();
});
