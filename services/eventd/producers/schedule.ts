// The clock of a periodic producer. Ticks fall at t0 + k * period on a
// monotonic clock, so lateness never accumulates; a tick that finds the
// previous run still inside its deadline is skipped, so runs never overlap.
import { performance } from 'node:perf_hooks';
import { producerLimits, type PeriodicRunner, type ProducerReporter } from './contract.js';

interface ScheduledRun {
  /** The tick at which this run, if still going, is a timeout. */
  deadlineTick: number;
}

export class PeriodicSchedule {
  private t0 = 0;
  private nextTick = 0;
  private timer: NodeJS.Timeout | undefined;
  private current: ScheduledRun | undefined;
  private stopped = false;

  constructor(
    private readonly periodMs: number,
    private readonly runner: PeriodicRunner,
    private readonly reporter: ProducerReporter,
  ) {}

  /** First run at once, then one per period. */
  start(): void {
    this.t0 = performance.now();
    this.tick(0);
  }

  /** No more ticks; the run in flight is ended and the runner closed. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.current = undefined;
    await this.runner.close();
  }

  private tick(k: number): void {
    if (this.stopped) return;
    const run = this.current;
    if (run !== undefined && k >= run.deadlineTick) {
      this.current = undefined;
      this.reporter.failure('timeout', `no answer within its period of ${this.periodMs} ms; killed`);
      this.runner.expire();
    }
    if (this.current === undefined) this.startRun(k);
    else this.reporter.logger.debug({ tick: k }, 'producer still running; tick skipped');
    const now = performance.now();
    // Ticks missed while the event loop was blocked are skipped, never bunched up.
    const next = Math.max(k + 1, Math.floor((now - this.t0) / this.periodMs) + 1);
    this.nextTick = next;
    // The tick itself runs in the check phase, after this loop turn's I/O: an
    // answer that arrived while the loop was stalled is seen before a timeout is declared.
    this.timer = setTimeout(() => setImmediate(() => this.tick(next)), Math.max(0, this.t0 + next * this.periodMs - now));
  }

  private startRun(k: number): void {
    // A fresh worker may first need to import its module and run start().
    const bootTicks = this.runner.warm() ? 0 : Math.ceil(producerLimits.bootAllowanceMs / this.periodMs);
    const run: ScheduledRun = { deadlineTick: k + 1 + bootTicks };
    this.current = run;
    this.reporter.run();
    let synchronous = true;
    const started = (): void => {
      // Started at once: the run owns this period. Started after a boot: at least one full period from now.
      if (this.current === run) run.deadlineTick = synchronous ? k + 1 : this.nextTick + 1;
    };
    void this.runner.run(started).then(() => {
      if (this.current === run) this.current = undefined;
    });
    synchronous = false;
  }
}
