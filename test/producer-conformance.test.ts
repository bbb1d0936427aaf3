// The one contract every producer keeps, built-in or example (after aedes'
// shared persistence tests): the manifest is valid, one run's samples all
// match the manifest, wake and sleep are idempotent, and a producer stays
// quiescent while no subscription names its class.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from './helpers/node-test.js';
import { silentLogger } from '../services/eventd/logger.js';
import { createMetrics } from '../services/eventd/metrics.js';
import { builtinProducersDir, packageRoot } from '../services/eventd/paths.js';
import { checkProducerFolder, loadProducerFolder, ProducerHost } from '../services/eventd/producers/index.js';
import { pluginFolders } from '../services/eventd/producers/manifest.js';
import type { Sample } from '../services/eventd/types.js';
import { defer, waitFor } from './helpers/tmp.js';

const examplesDir = join(packageRoot, 'examples', 'producers');
const fixtures = join(packageRoot, 'test', 'fixtures');

/** What each class is handed so that one run has something to report on this machine. */
interface Inputs {
  procRoot: string;
  sysRoot: string;
  dataDir?: string;
  config: Record<string, unknown>;
}
let health = '';
const inputs = (className: string): Inputs => {
  const real = { procRoot: '/proc', sysRoot: '/sys', config: {} };
  switch (className) {
    case 'PagingSpace':
      return { ...real, procRoot: join(fixtures, 'proc-swap') };
    case 'Process':
      return { ...real, config: { watch: ['node'] } };
    case 'IPAddress':
      return { ...real, config: { includeLoopback: true } };
    case 'Temperature':
      return { ...real, sysRoot: join(fixtures, 'sys-thermal') };
    case 'Node':
      return { ...real, dataDir: join(fixtures, 'node-data') };
    case 'HttpHealth':
      return { ...real, config: { checks: { local: health } } };
    default:
      return real;
  }
};

const server = createServer((_request, response) => response.end('ok'));
before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  health = `http://127.0.0.1:${(server.address() as AddressInfo).port}/healthz`;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

const folders = [...(await pluginFolders(builtinProducersDir)), ...(await pluginFolders(examplesDir))];

test('the plugins under test: every built-in and every example', () => {
  const names = folders.map((folder) => folder.split('/').at(-1));
  for (const name of ['paging-space', 'file-system', 'host', 'process', 'ip-address', 'network-interface', 'node', 'temperature', 'http-health']) {
    assert.ok(names.includes(name), `${name} in ${names.join(', ')}`);
  }
});

for (const folder of folders) {
  test(`conformance: ${folder.slice(packageRoot.length + 1)}`, async () => {
    const loaded = await loadProducerFolder(folder);
    assert.ok(loaded.ok, loaded.ok ? '' : loaded.problems.join('; '));
    const className = loaded.producer.manifest.class;
    const report = await checkProducerFolder(folder, { node: 'n1', ...inputs(className) });
    assert.deepEqual(report.failures, [], `${className}: the run failed`);
    const bad = report.samples.filter((sample) => !sample.ok);
    assert.deepEqual(bad, [], `${className}: samples that do not match the manifest`);
    assert.ok(report.samples.length > 0, `${className}: one run reported no resource`);
  });
}

test('conformance: quiescent until woken, wake and sleep idempotent, clean stop', async (t) => {
  const received = new Map<string, Sample[]>();
  const metrics = createMetrics();
  const byClass: Record<string, Record<string, unknown>> = {};
  const host = new ProducerHost({
    node: 'n1',
    procRoot: '/proc',
    sysRoot: '/sys',
    dirs: [builtinProducersDir, examplesDir],
    config: byClass,
    logger: silentLogger(),
    metrics,
    onSamples: (className, samples) => received.set(className, [...(received.get(className) ?? []), ...samples]),
  });
  defer(t, () => host.stop());
  await host.load();
  const classes = host.manifests().map((manifest) => manifest.class);
  assert.equal(classes.length, folders.length, 'every folder loaded');
  const runs = async () => (await metrics.producerRuns.get()).values.reduce((sum, value) => sum + value.value, 0);
  assert.deepEqual(host.awake(), []);
  assert.equal(await runs(), 0, 'nothing runs before a subscription names a class');

  for (const className of classes) {
    host.wake(className);
    host.wake(className);
    await waitFor(`a run of ${className}`, async () =>
      (await metrics.producerRuns.get()).values.some((value) => value.labels['class'] === className && value.value > 0),
    );
    host.sleep(className);
    host.sleep(className);
    assert.ok(!host.awake().includes(className));
  }
  await host.stop();
  assert.deepEqual(host.awake(), []);
  assert.ok((await runs()) >= classes.length);
});
