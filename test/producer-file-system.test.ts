import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from './helpers/node-test.js';
import {
  createFileSystemProducer,
  fileSystemOptions,
  fileSystemSamples,
  parseMounts,
  selectMounts,
  statfsTimeoutMs,
  type FsStats,
  type Mount,
} from '../producers/file-system/index.js';
import { silentLogger } from '../services/eventd/logger.js';
import { createMetrics } from '../services/eventd/metrics.js';
import { builtinProducersDir, packageRoot } from '../services/eventd/paths.js';
import { ProducerHost } from '../services/eventd/producers/index.js';
import { checkSample } from '../services/eventd/producers/sample-check.js';
import { validator } from '../services/eventd/schema.js';
import type { ProducerManifest, Sample } from '../services/eventd/types.js';
import { defer, waitFor } from './helpers/tmp.js';

const fixtureRoot = join(packageRoot, 'test', 'fixtures', 'fs');
const readMountsFixture = () => readFile(join(fixtureRoot, 'mounts'), 'utf8');
const readManifest = async () => JSON.parse(await readFile(join(packageRoot, 'producers', 'file-system', 'manifest.json'), 'utf8')) as ProducerManifest;

/** What `df` shows by default on the recorded machine, in mount table order. */
const reportedByDefault = [
  '/',
  '/boot/efi',
  '/var',
  '/mnt/backup disk',
  '/home',
  '/srv/data',
  '/var/lib/docker/overlay2/4f1c2e9a7b/merged',
  '/run/user/1000/gvfs',
];

const rootStats: FsStats = { bsize: 4096, blocks: 61202244, bfree: 30000000, bavail: 26876000, files: 15302656, ffree: 14000000 };
const dataStats: FsStats = { bsize: 4096, blocks: 26214400, bfree: 5242880, bavail: 5242880, files: 52428800, ffree: 52000000 };
const efiStats: FsStats = { bsize: 512, blocks: 1048576, bfree: 1000000, bavail: 1000000, files: 0, ffree: 0 };
const emptyStats: FsStats = { bsize: 4096, blocks: 0, bfree: 0, bavail: 0, files: 0, ffree: 0 };

function codeOf(error: unknown): unknown {
  return (error as { code?: unknown }).code;
}

test('the FileSystem manifest is valid and declares every attribute a sample carries', async () => {
  const manifest = await readManifest();
  const validate = validator('producer-manifest.schema.json');
  assert.ok(validate(manifest), JSON.stringify(validate.errors));
  assert.equal(manifest.class, 'FileSystem');
  const [sample] = fileSystemSamples([{ device: '/dev/sda1', mountPoint: '/', fsType: 'ext4', options: ['rw'] }], new Map([['/', rootStats]]));
  assert.deepEqual(Object.keys(sample?.attrs ?? {}).sort(), Object.keys(manifest.attributes).sort());
  assert.equal(checkSample(manifest, sample).ok, true);
});

test('parseMounts reads the recorded mount table, unescaping the mount point', async () => {
  const mounts = parseMounts(await readMountsFixture());
  assert.equal(mounts.length, 34);
  assert.deepEqual(mounts.find((mount) => mount.fsType === 'ext4'), {
    device: '/dev/nvme0n1p2',
    mountPoint: '/',
    fsType: 'ext4',
    options: ['rw', 'relatime', 'errors=remount-ro'],
  });
  assert.deepEqual(mounts.find((mount) => mount.device === '/dev/sdb1')?.mountPoint, '/mnt/backup disk');
  assert.equal(mounts.find((mount) => mount.mountPoint === '/home')?.device, 'nas.example.com:/export/home');
});

test('parseMounts unescapes tab, newline and backslash and skips malformed lines', () => {
  const text = [
    '/dev/sdb1 /mnt/a\\011tab ext4 rw 0 0',
    '/dev/sdb2 /mnt/new\\012line ext4 rw 0 0',
    '/dev/sdb3 /mnt/back\\134slash ext4 rw 0 0',
    'broken line',
    '',
    'none relative ext4 rw 0 0',
  ].join('\n');
  assert.deepEqual(
    parseMounts(text).map((mount) => mount.mountPoint),
    ['/mnt/a\ttab', '/mnt/new\nline', '/mnt/back\\slash'],
  );
});

test('selectMounts skips pseudo file systems, tmpfs and images, and keeps the last of a doubled mount point', async () => {
  const selected = selectMounts(parseMounts(await readMountsFixture()), { include: [] });
  assert.deepEqual(selected.map((mount) => mount.mountPoint), reportedByDefault);
  // `/` is listed first as rootfs, then as the real root; /srv/data had a second file system mounted over it.
  assert.equal(selected.find((mount) => mount.mountPoint === '/')?.fsType, 'ext4');
  const data = selected.filter((mount) => mount.mountPoint === '/srv/data');
  assert.deepEqual(data.map((mount) => [mount.device, mount.fsType]), [['/dev/sdd1', 'xfs']]);
});

test('selectMounts: include adds types back; mountPoints reports exactly those, whatever their type', async () => {
  const mounts = parseMounts(await readMountsFixture());
  const withTmpfs = selectMounts(mounts, { include: ['tmpfs'] }).map((mount) => mount.mountPoint);
  for (const tmpfs of ['/run', '/dev/shm', '/run/lock', '/run/user/1000']) assert.ok(withTmpfs.includes(tmpfs), tmpfs);
  assert.equal(withTmpfs.length, reportedByDefault.length + 4);
  const chosen = selectMounts(mounts, { include: [], mountPoints: ['/dev/shm', '/', '/not/mounted'] });
  assert.deepEqual(chosen.map((mount) => mount.mountPoint), ['/', '/dev/shm']);
});

test('fileSystemOptions: defaults, lists, and a bad key named by its code', () => {
  assert.deepEqual(fileSystemOptions({}), { include: [] });
  assert.deepEqual(fileSystemOptions({ periodMs: 5000, include: ['tmpfs'], mountPoints: ['/'] }), { include: ['tmpfs'], mountPoints: ['/'] });
  assert.throws(() => fileSystemOptions({ includes: ['tmpfs'] }), (error) => codeOf(error) === 'EVENTD_ERR_BAD_CONFIG');
  assert.throws(() => fileSystemOptions({ include: 'tmpfs' }), (error) => codeOf(error) === 'EVENTD_ERR_BAD_CONFIG');
  assert.throws(() => fileSystemOptions({ mountPoints: [1] }), (error) => codeOf(error) === 'EVENTD_ERR_BAD_CONFIG');
  assert.throws(() => createFileSystemProducer().start({ procRoot: '/proc', periodMs: 1000, config: { mountpoints: ['/'] } }), (error) => codeOf(error) === 'EVENTD_ERR_BAD_CONFIG');
});

test('fileSystemSamples: df arithmetic, two decimals; no results and zero size are left out', () => {
  const mount = (mountPoint: string, fsType: string, device: string): Mount => ({ device, mountPoint, fsType, options: ['rw'] });
  const mounts = [
    mount('/', 'ext4', '/dev/nvme0n1p2'),
    mount('/boot/efi', 'vfat', '/dev/nvme0n1p1'),
    mount('/home', 'nfs4', 'nas:/export/home'),
    mount('/srv/data', 'xfs', '/dev/sdd1'),
    mount('/run/user/1000/gvfs', 'fuse.gvfsd-fuse', 'gvfsd-fuse'),
  ];
  const results = new Map([
    ['/', rootStats],
    ['/boot/efi', efiStats],
    ['/srv/data', dataStats],
    ['/run/user/1000/gvfs', emptyStats],
  ]);
  assert.deepEqual(fileSystemSamples(mounts, results), [
    {
      resource: '/',
      attrs: {
        totalKiB: 244808976,
        usedKiB: 124808976,
        freeKiB: 107504000,
        percentUsed: 53.72, // of used + available: the 5% root reserve is left out, as df does
        inodesTotal: 15302656,
        inodesUsed: 1302656,
        percentInodesUsed: 8.51,
        fsType: 'ext4',
        device: '/dev/nvme0n1p2',
      },
    },
    {
      resource: '/boot/efi',
      attrs: {
        totalKiB: 524288,
        usedKiB: 24288,
        freeKiB: 500000,
        percentUsed: 4.63,
        inodesTotal: 0,
        inodesUsed: 0,
        percentInodesUsed: 0,
        fsType: 'vfat',
        device: '/dev/nvme0n1p1',
      },
    },
    {
      resource: '/srv/data',
      attrs: {
        totalKiB: 104857600,
        usedKiB: 83886080,
        freeKiB: 20971520,
        percentUsed: 80,
        inodesTotal: 52428800,
        inodesUsed: 428800,
        percentInodesUsed: 0.82,
        fsType: 'xfs',
        device: '/dev/sdd1',
      },
    },
  ]);
});

test('statfsTimeoutMs is half the period', () => {
  assert.equal(statfsTimeoutMs(30000), 15000);
  assert.equal(statfsTimeoutMs(1), 1);
});

test('the producer skips a failing and a hung statfs, and never asks a hung mount again while it hangs', async () => {
  const calls = new Map<string, number>();
  const warnings: string[] = [];
  let releaseHome: (stats: FsStats) => void = () => {};
  const statfs = (path: string): Promise<FsStats> => {
    calls.set(path, (calls.get(path) ?? 0) + 1);
    if (path === '/home' && calls.get(path) === 1) return new Promise((resolve) => (releaseHome = resolve)); // a hard NFS mount whose server is gone
    if (path === '/var') return Promise.reject(Object.assign(new Error('EIO: i/o error'), { code: 'EIO' }));
    if (path === '/mnt/backup disk') throw Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
    return Promise.resolve(path === '/run/user/1000/gvfs' ? emptyStats : dataStats);
  };
  const producer = createFileSystemProducer({ statfs, warn: (message) => warnings.push(message) });
  // A recorded proc root holds `mounts` and no `self`: the producer falls back to it.
  const ctx = { procRoot: fixtureRoot, periodMs: 40, config: {} };
  producer.start(ctx);
  const answered = ['/', '/boot/efi', '/srv/data', '/var/lib/docker/overlay2/4f1c2e9a7b/merged'];

  const first = await producer.sample(ctx);
  assert.deepEqual(first.map((sample) => sample.resource), answered);
  assert.equal(warnings.length, 3);
  for (const skipped of ['/home', '/var', '/mnt/backup disk']) assert.ok(warnings.some((warning) => warning.includes(skipped)), skipped);

  const second = await producer.sample(ctx);
  assert.deepEqual(second.map((sample) => sample.resource), answered);
  assert.equal(calls.get('/home'), 1, 'no second statfs while the first hangs');
  assert.equal(calls.get('/var'), 2, 'a failed statfs is tried again next period');
  assert.equal(warnings.length, 3, 'a failing mount is reported once, not every period');

  releaseHome(rootStats);
  await waitFor('the hung statfs to settle', async () => {
    const samples = await producer.sample(ctx);
    return samples.some((sample) => sample.resource === '/home');
  });
  assert.equal(calls.get('/home'), 2);
});

test('the built-in FileSystem module runs through the host on this machine', async (t) => {
  const received: Sample[] = [];
  const metrics = createMetrics();
  const host = new ProducerHost({
    node: 'n1',
    procRoot: '/proc',
    dirs: [builtinProducersDir],
    config: { FileSystem: { periodMs: 200 } },
    logger: silentLogger(),
    metrics,
    onSamples: (_className, samples) => received.push(...samples),
  });
  defer(t, () => host.stop());
  await host.load();
  assert.deepEqual(host.manifest('FileSystem'), await readManifest());
  host.wake('FileSystem');
  const root = await waitFor('a FileSystem sample of /', () => received.find((sample) => sample.resource === '/'));
  await host.stop();
  assert.equal(root.class, 'FileSystem');
  assert.equal(root.node, 'n1');
  const percentUsed = root.attrs['percentUsed'];
  assert.equal(typeof percentUsed, 'number');
  assert.ok((percentUsed as number) >= 0 && (percentUsed as number) <= 100, String(percentUsed));
  assert.equal(typeof root.attrs['fsType'], 'string');
  const validSample = validator('sample.schema.json');
  for (const sample of received) assert.ok(validSample(sample), JSON.stringify(validSample.errors));
  assert.ok(!received.some((sample) => sample.resource === '/proc' || sample.resource === '/sys'), 'pseudo file systems are skipped');
  const errors = (await metrics.producerErrors.get()).values.reduce((sum, value) => sum + value.value, 0);
  assert.equal(errors, 0);
});
