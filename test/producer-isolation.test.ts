// Producer isolation (DESIGN.md, "Producers"): plugins that throw, hang,
// exit, crash or print garbage are counted and skipped; a healthy producer
// beside them keeps its schedule; the host always stops cleanly.
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, test } from './helpers/node-test.js';
import { pino } from 'pino';
import { silentLogger, type Logger } from '../services/eventd/logger.js';
import { createMetrics, type Metrics } from '../services/eventd/metrics.js';
import { ProducerHost, type ProducerErrorKind } from '../services/eventd/producers/index.js';
import { validator } from '../services/eventd/schema.js';
import type { Sample } from '../services/eventd/types.js';
import { processGone } from './helpers/proc.js';
import { defer, waitFor } from './helpers/tmp.js';

const kinds: ProducerErrorKind[] = ['throw', 'timeout', 'crash', 'exit', 'garbage'];
const validSample = validator('sample.schema.json');


interface PluginFiles {
  manifest: Record<string, unknown>;
  files: Record<string, string>;
  executable?: string;
}

async function writePlugin(dir: string, folder: string, plugin: PluginFiles): Promise<void> {
  const path = join(dir, folder);
  await mkdir(path, { recursive: true });
  await writeFile(join(path, 'manifest.json'), JSON.stringify(plugin.manifest, null, 2));
  for (const [name, text] of Object.entries(plugin.files)) await writeFile(join(path, name), text);
  if (plugin.executable) await chmod(join(path, plugin.executable), 0o755);
}

const numberAttr = { type: 'number' } as const;
const moduleManifest = (className: string, periodMs: number, attributes: Record<string, unknown> = { n: numberAttr }) => ({ class: className, periodMs, attributes });
const execManifest = (className: string, periodMs: number, mode?: 'stream') => ({
  class: className,
  periodMs,
  exec: 'run.sh',
  ...(mode ? { mode } : {}),
  attributes: { n: numberAttr },
});
const module = (className: string, periodMs: number, source: string): PluginFiles => ({ manifest: moduleManifest(className, periodMs), files: { 'index.mjs': source } });
const script = (className: string, periodMs: number, body: string, mode?: 'stream'): PluginFiles => ({
  manifest: execManifest(className, periodMs, mode),
  files: { 'run.sh': `#!/bin/sh\n${body}\n` },
  executable: 'run.sh',
});

/** Counts its runs in the worker: consecutive `n` proves one worker, never restarted, no run lost. */
const counting = 'let n = 0;\nexport default { sample() { n += 1; return [{ resource: \'h\', attrs: { n } }]; } };\n';

const plugins: Record<string, PluginFiles> = {
  healthy: module('Healthy', 100, counting),
  clock: module('Clock', 50, counting),
  thrower: module('Thrower', 50, 'let n = 0;\nexport default { async sample() { n += 1; if (n % 2) throw new Error(\'boom\'); return Promise.reject(new Error(\'nope\')); } };\n'),
  hanger: module('Hanger', 100, 'export default { sample() { while (true) {} } };\n'),
  exiter: module('Exiter', 50, 'export default { sample() { process.exit(1); } };\n'),
  garbler: module(
    'Garbler',
    50,
    `export default { sample() { return [
      { resource: 'ok', attrs: { n: 1 } },
      { resource: 'bad-type', attrs: { n: 'one' } },
      { resource: 'unknown-attr', attrs: { n: 1, extra: true } },
      { resource: '', attrs: {} },
      'not a sample',
      { resource: 'ok2', attrs: {} },
    ]; } };\n`,
  ),
  execGarbage: script('ExecGarbage', 100, 'echo \'{"resource":"g1","attrs":{"n":1}}\'\necho \'not json\'\necho \'{"resource":"g2","attrs":{"n":"two"}}\'\necho \'{"resource":"g3","attrs":{"n":3}}\'\necho \'{"resource":"g4","attrs":{"n":4},"time":5}\''),
  execSleeper: script('ExecSleeper', 100, 'echo \'{"resource":"s","attrs":{"n":1}}\'\nsleep 1000 &\necho $! > sleeper.pid\nwait'),
  execExit3: script('ExecExit3', 50, 'echo \'{"resource":"e","attrs":{"n":1}}\'\nexit 3'),
  execCrash: script('ExecCrash', 50, 'echo \'{"resource":"c","attrs":{"n":1}}\'\nkill -KILL $$'),
  streamGarbage: script(
    'StreamGarbage',
    50,
    'echo $$ > stream.pid\ni=0\nwhile true; do\n  i=$((i+1))\n  echo "{\\"resource\\":\\"st\\",\\"attrs\\":{\\"n\\":$i}}"\n  echo \'garbage\'\n  sleep 0.05\ndone',
    'stream',
  ),
  streamExit: script('StreamExit', 50, 'echo \'{"resource":"sx","attrs":{"n":1}}\'\nexit 1', 'stream'),
  periodEcho: script('PeriodEcho', 1000, 'echo "{\\"resource\\":\\"p\\",\\"attrs\\":{\\"n\\":$EVENTD_PERIOD_MS}}"'),
  periodModule: module('PeriodModule', 1000, 'export default { sample(ctx) { return [{ resource: \'p\', attrs: { n: ctx.periodMs } }]; } };\n'),
};

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'eventd-producers-'));
  for (const [folder, plugin] of Object.entries(plugins)) await writePlugin(dir, folder, plugin);
});
after(() => rm(dir, { recursive: true, force: true }));

interface Harness {
  host: ProducerHost;
  metrics: Metrics;
  samples: Map<string, Sample[]>;
  got: (className: string) => Sample[];
  errors: (className: string, kind: ProducerErrorKind) => Promise<number>;
  runs: (className: string) => Promise<number>;
}

function harness(dirs: string[], options: { config?: Record<string, Record<string, unknown>>; logger?: Logger } = {}): Harness {
  const metrics = createMetrics();
  const samples = new Map<string, Sample[]>();
  const host = new ProducerHost({
    node: 'n1',
    procRoot: '/proc',
    dirs,
    config: options.config ?? {},
    logger: options.logger ?? silentLogger(),
    metrics,
    onSamples: (className, batch) => {
      for (const sample of batch) assert.ok(validSample(sample), JSON.stringify(validSample.errors));
      samples.set(className, [...(samples.get(className) ?? []), ...batch]);
    },
  });
  const labelled = async (counter: Metrics['producerErrors'] | Metrics['producerRuns'], labels: Record<string, string>) =>
    (await counter.get()).values.find((value) => Object.entries(labels).every(([key, want]) => (value.labels as Record<string, unknown>)[key] === want))?.value ?? 0;
  return {
    host,
    metrics,
    samples,
    got: (className) => samples.get(className) ?? [],
    errors: (className, kind) => labelled(metrics.producerErrors, { class: className, kind }),
    runs: (className) => labelled(metrics.producerRuns, { class: className }),
  };
}


const pidIn = async (file: string): Promise<number> => Number((await readFile(file, 'utf8')).trim());

test('every kind of misbehaviour is counted and skipped while a healthy producer keeps its schedule', async (t) => {
  const h = harness([dir]);
  defer(t, () => h.host.stop());
  await h.host.load();
  for (const className of ['Healthy', 'Thrower', 'Hanger', 'Exiter', 'Garbler', 'ExecGarbage', 'ExecSleeper', 'ExecExit3', 'ExecCrash', 'StreamGarbage', 'StreamExit']) {
    h.host.wake(className);
  }
  await waitFor('two failures of every kind', async () => {
    const counts = await Promise.all([
      h.errors('Thrower', 'throw'),
      h.errors('Hanger', 'timeout'),
      h.errors('Exiter', 'crash'),
      h.errors('Garbler', 'garbage'),
      h.errors('ExecGarbage', 'garbage'),
      h.errors('ExecSleeper', 'timeout'),
      h.errors('ExecExit3', 'exit'),
      h.errors('ExecCrash', 'crash'),
      h.errors('StreamGarbage', 'garbage'),
      h.errors('StreamExit', 'exit'),
    ]);
    return counts.every((count) => count >= 2);
  }, 15_000);

  // Good samples printed beside the bad ones still go through, checked and stamped.
  assert.deepEqual([...new Set(h.got('Garbler').map((sample) => sample.resource))].sort(), ['ok', 'ok2']);
  assert.deepEqual([...new Set(h.got('ExecGarbage').map((sample) => sample.resource))].sort(), ['g1', 'g3']);
  assert.ok(h.got('ExecExit3').some((sample) => sample.resource === 'e'), 'lines before a non-zero exit count');
  assert.ok(h.got('ExecCrash').some((sample) => sample.resource === 'c'), 'lines before a crash count');
  const stream = h.got('StreamGarbage').map((sample) => sample.attrs['n']);
  assert.deepEqual(stream.slice(0, 3), [1, 2, 3], 'a stream delivers each line as it comes, in order');
  assert.ok((await h.runs('StreamExit')) >= 2, 'an exiting stream producer is restarted');
  assert.equal(h.got('Thrower').length + h.got('Hanger').length + h.got('Exiter').length, 0);
  // A hung module is a timeout, never a crash or a throw; a thrower never a crash.
  assert.equal(await h.errors('Hanger', 'crash'), 0);
  assert.equal(await h.errors('Thrower', 'crash'), 0);

  // The healthy producer ran in one worker the whole time: n counts 1, 2, 3 ... with no gap and no restart.
  await waitFor('five healthy samples', () => h.got('Healthy').length >= 5, 15_000);
  const healthy = h.got('Healthy').map((sample) => sample.attrs['n']);
  assert.deepEqual(healthy, healthy.map((_, index) => index + 1));
  for (const kind of kinds) assert.equal(await h.errors('Healthy', kind), 0);

  const sleeperPid = await pidIn(join(dir, 'execSleeper', 'sleeper.pid'));
  const streamPid = await pidIn(join(dir, 'streamGarbage', 'stream.pid'));
  await h.host.stop();
  assert.deepEqual(h.host.awake(), []);
  // Killing the process group reaches the grandchild the timed-out run left behind, and the stream.
  await waitFor('the periodic producer child to be gone', () => processGone(sleeperPid), 15_000);
  await waitFor('the stream producer to be gone', () => processGone(streamPid), 15_000);
});

test('quiescent until woken, silent once asleep, and woken again on demand', async (t) => {
  const h = harness([dir]);
  defer(t, () => h.host.stop());
  await h.host.load();
  // Part of the scenario: a window in which an unwoken producer must not run.
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.equal(await h.runs('Clock'), 0, 'no run before a wake');
  assert.equal(h.got('Clock').length, 0);
  h.host.wake('Clock');
  h.host.wake('Clock');
  await waitFor('three Clock samples', () => h.got('Clock').length >= 3, 15_000);
  h.host.sleep('Clock');
  h.host.sleep('Clock');
  await h.host.stop();
  const runsAsleep = await h.runs('Clock');
  const samplesAsleep = h.got('Clock').length;
  // Wait out several periods on a second producer's clock: the sleeping one stays silent.
  h.host.wake('Healthy');
  await waitFor('three periods of another producer', () => h.got('Healthy').length >= 3, 15_000);
  assert.equal(await h.runs('Clock'), runsAsleep);
  assert.equal(h.got('Clock').length, samplesAsleep);
  // A fresh wake starts a fresh worker: the count starts again at 1.
  h.host.wake('Clock');
  await waitFor('a sample after the second wake', () => h.got('Clock').length > samplesAsleep, 15_000);
  assert.equal(h.got('Clock')[samplesAsleep]?.attrs['n'], 1);
});

test('producers.<Class>.periodMs overrides the manifest period and reaches the producer', async (t) => {
  const h = harness([dir], { config: { PeriodEcho: { periodMs: 20 }, PeriodModule: { periodMs: 30 } } });
  defer(t, () => h.host.stop());
  await h.host.load();
  assert.equal(h.host.manifest('PeriodEcho')?.periodMs, 1000);
  assert.equal(h.host.periodMs('PeriodEcho'), 20);
  h.host.wake('PeriodEcho');
  h.host.wake('PeriodModule');
  // Two samples within far less than the manifest's 1 s period prove the override drives the clock.
  await waitFor('samples from both', () => h.got('PeriodEcho').length >= 2 && h.got('PeriodModule').length >= 2, 15_000);
  assert.equal(h.got('PeriodEcho')[0]?.attrs['n'], 20, 'EVENTD_PERIOD_MS');
  assert.equal(h.got('PeriodModule')[0]?.attrs['n'], 30, 'ctx.periodMs');
  assert.ok(h.got('PeriodEcho')[1]!.time - h.got('PeriodEcho')[0]!.time < 1000);
});

test('a bad manifest is skipped and a clashing class refused, each with a log line naming the folder; the rest load', async (t) => {
  const other = await mkdtemp(join(tmpdir(), 'eventd-producers-bad-'));
  defer(t, () => rm(other, { recursive: true, force: true }));
  await writePlugin(other, 'a-clash', module('Healthy', 100, counting));
  await writePlugin(other, 'b-bad-json', { manifest: {}, files: {} });
  await writeFile(join(other, 'b-bad-json', 'manifest.json'), '{ not json');
  await writePlugin(other, 'c-bad-key', { manifest: { ...moduleManifest('BadKey', 100), colour: 'red' }, files: { 'index.mjs': counting } });
  await writePlugin(other, 'd-not-executable', { manifest: execManifest('NotExecutable', 100), files: { 'run.sh': 'echo' } });
  await writePlugin(other, 'e-no-entry', { manifest: moduleManifest('NoEntry', 100), files: {} });
  await writePlugin(other, 'f-fine', module('Fine', 100, counting));
  const lines: Array<{ level: number; msg: string; folder?: string }> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  const h = harness([dir, other], { logger: pino({ level: 'info' }, sink) });
  defer(t, () => h.host.stop());
  await h.host.load();
  const classes = h.host.manifests().map((manifest) => manifest.class);
  assert.ok(classes.includes('Fine') && classes.includes('Healthy'));
  for (const refused of ['BadKey', 'NotExecutable', 'NoEntry']) assert.ok(!classes.includes(refused), refused);
  await waitFor('five error lines', () => lines.filter((line) => line.level >= 50).length >= 5, 15_000);
  const refusal = (folder: string) => lines.find((line) => line.level >= 50 && line.folder === join(other, folder))?.msg ?? '';
  assert.match(refusal('a-clash'), /class Healthy is already provided by .*healthy/);
  assert.match(refusal('b-bad-json'), /not valid JSON/);
  assert.match(refusal('c-bad-key'), /colour/);
  assert.match(refusal('d-not-executable'), /not executable/);
  assert.match(refusal('e-no-entry'), /index\.js or index\.mjs/);
  // The original Healthy producer is the one kept: it still runs from the first folder.
  assert.equal(h.host.manifests().find((manifest) => manifest.class === 'Healthy') !== undefined, true);
  h.host.wake('Fine');
  await waitFor('a sample from the good plugin beside the bad ones', () => h.got('Fine').length >= 1, 15_000);
});
