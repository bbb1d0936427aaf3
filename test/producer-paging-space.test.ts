import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from './helpers/node-test.js';
import { pagingSpaceSamples, parseMeminfo, parseSwaps } from '../producers/paging-space/index.js';
import { silentLogger } from '../services/eventd/logger.js';
import { createMetrics } from '../services/eventd/metrics.js';
import { builtinProducersDir, packageRoot } from '../services/eventd/paths.js';
import { ProducerHost } from '../services/eventd/producers/index.js';
import { validator } from '../services/eventd/schema.js';
import type { Sample } from '../services/eventd/types.js';
import { defer, waitFor } from './helpers/tmp.js';

const fixtures = join(packageRoot, 'test', 'fixtures');
const read = (folder: string, file: string) => readFile(join(fixtures, folder, file), 'utf8');


test('parseSwaps reads one device from the fixture', async () => {
  assert.deepEqual(parseSwaps(await read('proc-swap', 'swaps')), [
    { filename: '/dev/sda2', type: 'partition', sizeKiB: 8388604, usedKiB: 2097152, priority: -2 },
  ]);
});

test('parseSwaps skips malformed lines and unescapes names', () => {
  const text = 'Filename Type Size Used Priority\n/swap\\040file file 1000 250 -3\nbroken line\n/dev/x partition lots 0 -1\n';
  assert.deepEqual(parseSwaps(text), [{ filename: '/swap file', type: 'file', sizeKiB: 1000, usedKiB: 250, priority: -3 }]);
});

test('parseMeminfo reads SwapTotal and SwapFree', async () => {
  assert.deepEqual(parseMeminfo(await read('proc-swap', 'meminfo')), { totalKiB: 8388604, freeKiB: 6291452 });
  assert.equal(parseMeminfo('MemTotal: 10 kB\n'), undefined);
});

test('pagingSpaceSamples: a device and the total, percentUsed to two decimals', async () => {
  const samples = pagingSpaceSamples(await read('proc-swap', 'swaps'), await read('proc-swap', 'meminfo'));
  const expected = { totalKiB: 8388604, usedKiB: 2097152, freeKiB: 6291452, percentUsed: 25, configured: true };
  assert.deepEqual(samples, [
    { resource: '/dev/sda2', attrs: expected },
    { resource: 'total', attrs: expected },
  ]);
  const third = pagingSpaceSamples(undefined, 'SwapTotal: 3 kB\nSwapFree: 2 kB\n');
  assert.deepEqual(third, [{ resource: 'total', attrs: { totalKiB: 3, usedKiB: 1, freeKiB: 2, percentUsed: 33.33, configured: true } }]);
});

test('pagingSpaceSamples: no swap is total with zeros and configured false', async () => {
  const zeros = { totalKiB: 0, usedKiB: 0, freeKiB: 0, percentUsed: 0, configured: false };
  assert.deepEqual(pagingSpaceSamples(await read('proc-noswap', 'swaps'), await read('proc-noswap', 'meminfo')), [{ resource: 'total', attrs: zeros }]);
  // Neither file present (a kernel without swap support) is the same state, not a failure.
  assert.deepEqual(pagingSpaceSamples(undefined, undefined), [{ resource: 'total', attrs: zeros }]);
});

test('pagingSpaceSamples: without meminfo the total is the sum of the devices', () => {
  const swaps = 'Filename Type Size Used Priority\n/a partition 100 10 -1\n/b file 300 30 -2\n';
  const total = pagingSpaceSamples(swaps, undefined).find((sample) => sample.resource === 'total');
  assert.deepEqual(total?.attrs, { totalKiB: 400, usedKiB: 40, freeKiB: 360, percentUsed: 10, configured: true });
});

test('the built-in PagingSpace module runs through the host on a recorded /proc', async (t) => {
  const procRoot = await mkdtemp(join(tmpdir(), 'eventd-proc-'));
  defer(t, () => rm(procRoot, { recursive: true, force: true }));
  await cp(join(fixtures, 'proc-swap'), procRoot, { recursive: true });
  const received: Sample[] = [];
  const metrics = createMetrics();
  const host = new ProducerHost({
    node: 'n1',
    procRoot,
    dirs: [builtinProducersDir],
    config: { PagingSpace: { periodMs: 200 } },
    logger: silentLogger(),
    metrics,
    onSamples: (_className, samples) => received.push(...samples),
  });
  defer(t, () => host.stop());
  await host.load();
  const manifest = host.manifest('PagingSpace');
  assert.equal(manifest?.periodMs, 10000);
  assert.deepEqual(Object.keys(manifest?.attributes ?? {}).sort(), ['configured', 'freeKiB', 'percentUsed', 'totalKiB', 'usedKiB']);
  assert.equal(host.periodMs('PagingSpace'), 200);
  assert.equal(received.length, 0, 'quiescent until woken');

  host.wake('PagingSpace');
  await waitFor('the first PagingSpace samples', () => received.some((sample) => sample.resource === 'total'), 10_000);
  const validSample = validator('sample.schema.json');
  for (const sample of received) assert.ok(validSample(sample), JSON.stringify(validSample.errors));
  const device = received.find((sample) => sample.resource === '/dev/sda2');
  assert.equal(device?.class, 'PagingSpace');
  assert.equal(device?.node, 'n1');
  assert.equal(device?.attrs['percentUsed'], 25);

  // The producer reads the files each period: swap switched off shows up.
  await writeFile(join(procRoot, 'swaps'), await read('proc-noswap', 'swaps'));
  await writeFile(join(procRoot, 'meminfo'), await read('proc-noswap', 'meminfo'));
  await waitFor('a sample after swapoff', () => received.at(-1)?.attrs['configured'] === false, 10_000);
  assert.deepEqual(received.at(-1)?.attrs, { totalKiB: 0, usedKiB: 0, freeKiB: 0, percentUsed: 0, configured: false });
  const errors = (await metrics.producerErrors.get()).values.reduce((sum, value) => sum + value.value, 0);
  assert.equal(errors, 0);
  await host.stop();
  assert.deepEqual(host.awake(), []);
});
