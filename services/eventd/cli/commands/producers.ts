// producers check DIR: a plugin author's dry run, with no daemon involved.
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import type { CheckReport } from '../../producers/index.js';
import { contextOf } from '../context.js';
import { CliError } from '../errors.js';
import { compactAttrs, formatDuration, keyValues } from '../format.js';

interface CheckOptions {
  procRoot: string;
  sysRoot: string;
  config?: Record<string, unknown>;
  node: string;
  timeout?: number;
}

export function producerCommands(program: Command): void {
  const producers = program.command('producers').description('work with producer plugins');
  producers
    .command('check')
    .description('validate a plugin folder: manifest, executable bit, one run, each sample checked against the manifest')
    .argument('<dir>', 'the plugin folder (holding manifest.json)')
    .option('--proc-root <path>', 'proc root handed to the producer', '/proc')
    .option('--sys-root <path>', 'sys root handed to the producer', '/sys')
    .option('--config <json>', 'the producers.<Class> settings to hand the producer, as JSON', jsonObject)
    .option('--node <name>', 'node name handed to the producer', hostname())
    .option('--timeout <ms>', 'how long the run may take (default: its period)', positiveInt)
    .action(async (dir: string, options: CheckOptions, command: Command) => {
      const context = contextOf(command);
      // Loaded here, not at start: the checker brings pino and ajv, which no other command needs (eventctl starts ~40% faster).
      const { checkProducerFolder } = await import('../../producers/index.js');
      const report = await checkProducerFolder(resolve(dir), {
        node: options.node,
        procRoot: resolve(options.procRoot),
        sysRoot: resolve(options.sysRoot),
        config: options.config ?? {},
        ...(options.timeout === undefined ? {} : { timeoutMs: options.timeout }),
      });
      if (context.json) context.writeJson(report);
      else context.write(describeReport(report));
      if (!report.passed) throw new CliError(`${dir}: check failed`);
    });
}

function describeReport(report: CheckReport): string {
  const lines: string[] = [];
  if (report.problems.length > 0) {
    lines.push(`plugin ${report.folder} cannot load:`, ...report.problems.map((problem) => `  - ${problem}`));
    return `${lines.join('\n')}\n`;
  }
  const manifest = report.manifest!;
  const mode = report.kind === 'module' ? 'module' : `executable, ${manifest.mode ?? 'periodic'}`;
  lines.push(
    keyValues([
      ['plugin', report.folder],
      ['class', `${manifest.class} (${mode}, every ${formatDuration(manifest.periodMs)})`],
      ['attributes', Object.entries(manifest.attributes).map(([name, spec]) => `${name}:${spec.type}${spec.unit ? `(${spec.unit})` : ''}`).join(' ')],
    ]).trimEnd(),
  );
  lines.push(report.failures.length === 0 ? 'run: ok' : 'run: FAILED');
  for (const failure of report.failures) lines.push(`  - ${failure.kind}: ${failure.message}`);
  const good = report.samples.filter((sample) => sample.ok).length;
  lines.push(`samples: ${good} ok, ${report.samples.length - good} bad`);
  for (const sample of report.samples) {
    lines.push(sample.ok ? `  ok   ${sample.sample.resource}  ${compactAttrs(sample.sample.attrs)}` : `  BAD  ${sample.problem}`);
  }
  if (report.samples.length === 0) lines.push('  (none: the producer reported no resource)');
  if (report.stderr.length > 0) lines.push('stderr:', ...report.stderr.map((line) => `  ${line.trimEnd()}`));
  lines.push(report.passed ? 'PASS' : 'FAIL');
  return `${lines.join('\n')}\n`;
}

function jsonObject(value: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (error) {
    throw new InvalidArgumentError(`not JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new InvalidArgumentError('expected a JSON object');
  return parsed as Record<string, unknown>;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive number of milliseconds');
  return n;
}
