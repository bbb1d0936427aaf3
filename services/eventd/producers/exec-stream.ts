// An executable in stream mode: started on wake, every stdout line a sample
// as it comes; restarted with exponential backoff when it exits; on sleep
// SIGTERM to its process group, then SIGKILL after a grace period.
import { performance } from 'node:perf_hooks';
import { producerLimits, type LoadedProducer, type ProducerContext, type ProducerReporter } from './contract.js';
import { classifyExit, killGroup, spawnProducer, type ProducerProcess } from './exec-process.js';
import { LineReader, parseLine } from './line-reader.js';

export class StreamRunner {
  private child: ProducerProcess | undefined;
  private closed: Promise<void> = Promise.resolve();
  private restartTimer: NodeJS.Timeout | undefined;
  private stopping = false;
  /** Consecutive short-lived runs, the exponent of the backoff. */
  private failures = 0;

  constructor(
    private readonly producer: LoadedProducer,
    private readonly ctx: ProducerContext,
    private readonly reporter: ProducerReporter,
  ) {}

  start(): void {
    this.launch();
  }

  async close(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    const child = this.child;
    if (child) {
      killGroup(child, 'SIGTERM');
      const hard = setTimeout(() => {
        killGroup(child, 'SIGKILL');
        child.stdout.destroy();
        child.stderr.destroy();
      }, producerLimits.stopGraceMs);
      await this.closed;
      clearTimeout(hard);
    }
  }

  private launch(): void {
    if (this.stopping) return;
    const startedAt = performance.now();
    const child = spawnProducer(this.producer, this.ctx, this.reporter);
    this.child = child;
    this.reporter.run();
    let values: unknown[] = [];
    let garbage: string[] = [];
    const reader = new LineReader({
      totalBytes: Number.POSITIVE_INFINITY,
      lineBytes: producerLimits.lineBytes,
      onLine: (line) => {
        const parsed = parseLine(line);
        if (parsed.ok) values.push(parsed.value);
        else garbage.push(parsed.problem);
      },
      onOverflow: (problem) => garbage.push(problem),
    });
    const flush = (): void => {
      if (values.length === 0 && garbage.length === 0) return;
      const batch = { values, garbage };
      values = [];
      garbage = [];
      if (!this.stopping) this.reporter.output(batch.values, batch.garbage);
    };
    let resolveClosed = (): void => {};
    this.closed = new Promise<void>((resolve) => (resolveClosed = resolve));
    let settled = false;
    const settle = (failure: { kind: 'crash' | 'exit'; message: string } | undefined): void => {
      if (settled) return;
      settled = true;
      this.child = undefined;
      flush();
      resolveClosed();
      if (this.stopping) return;
      if (failure) this.reporter.failure(failure.kind, failure.message);
      else this.reporter.logger.warn('stream producer exited with code 0; restarting');
      this.scheduleRestart(performance.now() - startedAt);
    };
    child.stdout.on('data', (chunk: Buffer) => {
      reader.push(chunk);
      flush();
    });
    child.on('error', (error: NodeJS.ErrnoException) => settle({ kind: 'exit', message: `cannot run ${this.producer.entry}: ${error.code ?? error.message}` }));
    child.on('close', (code: number | null, signal: NodeJS.Signals | null) => {
      reader.end();
      settle(classifyExit(code, signal));
    });
  }

  private scheduleRestart(uptimeMs: number): void {
    if (uptimeMs >= producerLimits.restartResetAfterMs) this.failures = 0;
    const first = Math.min(Math.max(this.ctx.periodMs, producerLimits.restartMinMs), producerLimits.restartFirstMaxMs);
    const delay = Math.min(producerLimits.restartMaxMs, first * 2 ** Math.min(this.failures, 20));
    this.failures += 1;
    this.reporter.logger.info({ delayMs: delay }, 'stream producer restarts after backoff');
    this.restartTimer = setTimeout(() => this.launch(), delay);
  }
}
