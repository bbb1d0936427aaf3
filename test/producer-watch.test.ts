// Plugin dirs are watched: a folder dropped in, changed or removed while the
// host runs is loaded, reloaded or unloaded without a restart.
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test } from './helpers/node-test.js';
import { pino } from 'pino';
import { createMetrics } from '../services/eventd/metrics.js';
import { ProducerHost } from '../services/eventd/producers/index.js';
import type { Sample } from '../services/eventd/types.js';
import { defer, waitFor } from './helpers/tmp.js';

interface LogLine {
  level: number;
  msg: string;
  folder?: string;
}

async function writeModule(folder: string, className: string, value: number): Promise<void> {
  await mkdir(folder, { recursive: true });
  await writeFile(join(folder, 'manifest.json'), JSON.stringify({ class: className, periodMs: 30, attributes: { v: { type: 'number' } } }));
  await writeFile(join(folder, 'index.mjs'), `export default { sample() { return [{ resource: 'r', attrs: { v: ${value} } }]; } };\n`);
}

function setup(dir: string) {
  const samples: Sample[] = [];
  const lines: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  const host = new ProducerHost({
    node: 'n1',
    procRoot: '/proc',
    dirs: [dir],
    config: {},
    logger: pino({ level: 'info' }, sink),
    metrics: createMetrics(),
    onSamples: (_className, batch) => samples.push(...batch),
  });
  return { host, samples, lines };
}

test('a plugin dropped in, changed and removed while running is loaded, reloaded and unloaded', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'eventd-watch-'));
  defer(t, () => rm(dir, { recursive: true, force: true }));
  const { host, samples } = setup(dir);
  defer(t, () => host.stop());
  await host.load();
  host.watch(100);
  // A subscription already names the class before any plugin provides it.
  host.wake('Dropped');
  assert.equal(host.manifest('Dropped'), undefined);

  // Written elsewhere and moved in, as an installer would; then picked up without a restart.
  const staging = await mkdtemp(join(tmpdir(), 'eventd-staging-'));
  defer(t, () => rm(staging, { recursive: true, force: true }));
  await writeModule(join(staging, 'dropped'), 'Dropped', 1);
  await rename(join(staging, 'dropped'), join(dir, 'dropped'));
  await waitFor('the dropped plugin to report', () => samples.some((sample) => sample.class === 'Dropped' && sample.attrs['v'] === 1), 10_000);
  assert.deepEqual(host.awake(), ['Dropped']);

  // Its code changes: the next samples come from the new code.
  await writeModule(join(dir, 'dropped'), 'Dropped', 2);
  await waitFor('the changed plugin to report its new value', () => samples.at(-1)?.attrs['v'] === 2, 10_000);

  // Removed: unloaded and silent; the class stays wanted and comes back with the folder.
  await rm(join(dir, 'dropped'), { recursive: true });
  await waitFor('the plugin to be unloaded', () => host.manifest('Dropped') === undefined && host.awake().length === 0, 10_000);
  const count = samples.length;
  await writeModule(join(dir, 'other'), 'Other', 0);
  await waitFor('a later scan', () => host.manifest('Other') !== undefined, 10_000);
  assert.equal(samples.length, count, 'no sample from a removed plugin');
  await writeModule(join(staging, 'again'), 'Dropped', 3);
  await rename(join(staging, 'again'), join(dir, 'again'));
  await waitFor('the class to wake again when a plugin provides it', () => samples.at(-1)?.attrs['v'] === 3, 10_000);
});

test('a clashing class is refused with a log line, and loads once the first provider is removed', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'eventd-watch-'));
  defer(t, () => rm(dir, { recursive: true, force: true }));
  await writeModule(join(dir, 'a-first'), 'Shared', 1);
  const { host, samples, lines } = setup(dir);
  defer(t, () => host.stop());
  await host.load();
  host.watch(100);
  host.wake('Shared');
  await waitFor('the first provider', () => samples.some((sample) => sample.attrs['v'] === 1), 10_000);

  const staging = await mkdtemp(join(tmpdir(), 'eventd-staging-'));
  defer(t, () => rm(staging, { recursive: true, force: true }));
  await writeModule(join(staging, 'b-second'), 'Shared', 2);
  await cp(join(staging, 'b-second'), join(dir, 'b-second'), { recursive: true });
  await waitFor('the refusal', () => lines.some((line) => line.level >= 50 && /class Shared is already provided by .*a-first/.test(line.msg)), 10_000);
  const refusals = () => lines.filter((line) => line.folder === join(dir, 'b-second') && line.level >= 50).length;
  // A refused folder that does not change is not refused again at every scan.
  await writeModule(join(dir, 'c-marker'), 'Marker', 0);
  await waitFor('a few scans', () => host.manifest('Marker') !== undefined, 10_000);
  assert.equal(refusals(), 1);
  assert.ok(samples.every((sample) => sample.attrs['v'] === 1));

  await rm(join(dir, 'a-first'), { recursive: true });
  await waitFor('the second provider to take over the class', () => samples.at(-1)?.attrs['v'] === 2, 10_000);
});
