// An executable in periodic mode: run once per period, one JSON sample per
// stdout line, killed (SIGKILL to its process group) when its period ends.
import { producerLimits, type LoadedProducer, type PeriodicRunner, type ProducerContext, type ProducerReporter } from './contract.js';
import { classifyExit, killGroup, spawnProducer, type ProducerProcess } from './exec-process.js';
import { LineReader, parseLine } from './line-reader.js';

interface ExecRun {
  child: ProducerProcess;
  killedByUs: boolean;
  closed: Promise<void>;
}

export class ExecRunner implements PeriodicRunner {
  private current: ExecRun | undefined;

  constructor(
    private readonly producer: LoadedProducer,
    private readonly ctx: ProducerContext,
    private readonly reporter: ProducerReporter,
  ) {}

  warm(): boolean {
    return true;
  }

  run(started: () => void): Promise<void> {
    const values: unknown[] = [];
    const garbage: string[] = [];
    const reader = new LineReader({
      totalBytes: producerLimits.runOutputBytes,
      lineBytes: producerLimits.runOutputBytes,
      onLine: (line) => {
        const parsed = parseLine(line);
        if (parsed.ok) values.push(parsed.value);
        else garbage.push(parsed.problem);
      },
      onOverflow: (problem) => garbage.push(problem),
    });
    const child = spawnProducer(this.producer, this.ctx, this.reporter);
    let resolveClosed = (): void => {};
    const run: ExecRun = { child, killedByUs: false, closed: new Promise<void>((resolve) => (resolveClosed = resolve)) };
    this.current = run;
    started();
    let settled = false;
    const settle = (failure: { kind: 'crash' | 'exit'; message: string } | undefined): void => {
      if (settled) return;
      settled = true;
      if (this.current === run) this.current = undefined;
      // Good lines printed before a failure or a kill still go through.
      this.reporter.output(values, garbage);
      if (failure !== undefined && !run.killedByUs) this.reporter.failure(failure.kind, failure.message);
      resolveClosed();
    };
    child.stdout.on('data', (chunk: Buffer) => reader.push(chunk));
    child.on('error', (error: NodeJS.ErrnoException) => settle({ kind: 'exit', message: `cannot run ${this.producer.entry}: ${error.code ?? error.message}` }));
    child.on('close', (code: number | null, signal: NodeJS.Signals | null) => {
      reader.end();
      settle(classifyExit(code, signal));
    });
    return run.closed;
  }

  expire(): void {
    const run = this.current;
    if (run) this.kill(run);
  }

  async close(): Promise<void> {
    const run = this.current;
    if (!run) return;
    this.kill(run);
    await run.closed;
  }

  private kill(run: ExecRun): void {
    if (this.current === run) this.current = undefined;
    run.killedByUs = true;
    killGroup(run.child, 'SIGKILL');
    // A grandchild that left the group must not keep the run open through our pipes.
    run.child.stdout.destroy();
    run.child.stderr.destroy();
  }
}
