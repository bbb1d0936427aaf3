// One trial run of a plugin folder, outside any daemon: what `eventctl
// producers check DIR` shows an author before deploying, and what the
// conformance test asserts for every built-in and example plugin.
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { ProducerManifest, RawSample } from '../types.js';
import { producerLimits, type LoadedProducer, type PeriodicRunner, type ProducerContext, type ProducerErrorKind, type ProducerReporter } from './contract.js';
import { ExecRunner } from './exec-runner.js';
import { StreamRunner } from './exec-stream.js';
import { loadProducerFolder } from './manifest.js';
import { ModuleRunner } from './module-runner.js';
import { checkSample } from './sample-check.js';

export interface CheckOptions {
  node: string;
  procRoot: string;
  sysRoot: string;
  /** The data folder handed to the producer, if any. */
  dataDir?: string;
  /** `producers.<Class>` settings to hand the producer. */
  config: Record<string, unknown>;
  /** How long the run may take; the manifest's period (plus a module's boot allowance) when absent. */
  timeoutMs?: number;
}

export interface CheckReport {
  folder: string;
  /** Problems with the folder itself (manifest, entry point, executable bit): nothing was run. */
  problems: string[];
  manifest?: ProducerManifest;
  kind?: LoadedProducer['kind'];
  /** Each value the producer printed or returned, checked against the manifest. */
  samples: Array<{ ok: true; sample: RawSample } | { ok: false; problem: string }>;
  failures: Array<{ kind: ProducerErrorKind; message: string }>;
  /** What the producer wrote to stderr (or a module to console), in order. */
  stderr: string[];
  /** True when the folder loads, the run did not fail and every value matched the manifest. */
  passed: boolean;
}

export async function checkProducerFolder(folder: string, options: CheckOptions): Promise<CheckReport> {
  const report: CheckReport = { folder, problems: [], samples: [], failures: [], stderr: [], passed: false };
  const loaded = await loadProducerFolder(folder);
  if (!loaded.ok) {
    report.problems = loaded.problems;
    return report;
  }
  const producer = loaded.producer;
  report.manifest = producer.manifest;
  report.kind = producer.kind;
  const periodMs = typeof options.config['periodMs'] === 'number' ? options.config['periodMs'] : producer.manifest.periodMs;
  const ctx: ProducerContext = { node: options.node, procRoot: options.procRoot, sysRoot: options.sysRoot, periodMs, config: options.config, ...(options.dataDir === undefined ? {} : { dataDir: options.dataDir }) };
  const reporter = collectingReporter(producer.manifest, report);
  const timeoutMs = options.timeoutMs ?? periodMs + (producer.kind === 'module' ? producerLimits.bootAllowanceMs : 0);
  if (producer.kind === 'exec' && producer.manifest.mode === 'stream') await streamOnce(new StreamRunner(producer, ctx, reporter), report, timeoutMs);
  else {
    const runner = producer.kind === 'module' ? new ModuleRunner(producer, ctx, reporter) : new ExecRunner(producer, ctx, reporter);
    await runOnce(runner, reporter, timeoutMs);
  }
  report.passed = report.failures.length === 0 && report.samples.every((sample) => sample.ok);
  return report;
}

async function runOnce(runner: PeriodicRunner, reporter: ProducerReporter, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
  const outcome = await Promise.race([runner.run(() => {}).then(() => 'done' as const), expired]);
  clearTimeout(timer);
  if (outcome === 'timeout') {
    reporter.failure('timeout', `no answer within ${timeoutMs} ms; killed`);
    runner.expire();
  }
  await runner.close();
}

/** A stream producer: started, given until its first line (or the timeout), then stopped. */
async function streamOnce(runner: StreamRunner, report: CheckReport, timeoutMs: number): Promise<void> {
  runner.start();
  const deadline = Date.now() + timeoutMs;
  while (report.samples.length === 0 && report.failures.length === 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  if (report.samples.length === 0 && report.failures.length === 0) report.failures.push({ kind: 'timeout', message: `no line within ${timeoutMs} ms` });
  await runner.close();
}

function collectingReporter(manifest: ProducerManifest, report: CheckReport): ProducerReporter {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
        const entry = JSON.parse(line) as { output?: string; msg?: string };
        report.stderr.push(entry.output ?? entry.msg ?? line);
      }
      done();
    },
  });
  return {
    logger: pino({ level: 'warn' }, sink),
    run: () => {},
    output: (values, garbage) => {
      for (const problem of garbage) report.samples.push({ ok: false, problem });
      for (const value of values) {
        const checked = checkSample(manifest, value);
        report.samples.push(checked.ok ? { ok: true, sample: checked.sample } : { ok: false, problem: checked.problem });
      }
    },
    failure: (kind, message) => report.failures.push({ kind, message }),
  };
}
