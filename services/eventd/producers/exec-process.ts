// Starting and killing a producer executable: its own process group (so a
// kill reaches its children), EVENTD_* environment, stderr to the log.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import { truncate, type LoadedProducer, type ProducerContext, type ProducerErrorKind, type ProducerReporter } from './contract.js';

export type ProducerProcess = ChildProcessByStdio<null, Readable, Readable>;

export function spawnProducer(producer: LoadedProducer, ctx: ProducerContext, reporter: ProducerReporter): ProducerProcess {
  const child = spawn(producer.entry, [], {
    cwd: producer.folder,
    env: {
      ...process.env,
      EVENTD_NODE: ctx.node,
      EVENTD_PROC_ROOT: ctx.procRoot,
      EVENTD_SYS_ROOT: ctx.sysRoot,
      ...(ctx.dataDir === undefined ? {} : { EVENTD_DATA_DIR: ctx.dataDir }),
      EVENTD_PERIOD_MS: String(ctx.periodMs),
      EVENTD_CONFIG: JSON.stringify(ctx.config),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  child.stderr.on('data', (chunk: Buffer) => reporter.logger.warn({ output: truncate(chunk.toString('utf8')) }, 'producer stderr'));
  const pid = child.pid;
  if (pid !== undefined) {
    reporter.spawned?.(pid);
    child.once('exit', () => reporter.exited?.(pid));
  }
  return child;
}

/** Signals the whole process group; a group already gone is fine. */
export function killGroup(child: ProducerProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // ESRCH: already exited.
  }
}

/** What an exit we did not cause means: a signal is a crash, a non-zero code an exit. */
export function classifyExit(code: number | null, signal: NodeJS.Signals | null): { kind: Exclude<ProducerErrorKind, 'garbage' | 'throw' | 'timeout'>; message: string } | undefined {
  if (signal !== null) return { kind: 'crash', message: `killed by ${signal}` };
  if (code !== null && code !== 0) return { kind: 'exit', message: `exited with code ${code}` };
  return undefined;
}
