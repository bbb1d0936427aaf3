import { parseDuration } from '../duration.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { ActionRun, ActionRunResult, ActionRunStore } from '../store/action-runs.js';
import type { EventStore } from '../store/events.js';
import type { EventRecord } from '../types.js';
import type { ProducerProcesses as ProcessGroupRecord } from '../producers/orphans.js';
import type { Account } from '../system/accounts.js';
import type { CgroupPlacer } from './cgroup.js';
import { actionEnv } from './env.js';
import { waitGroupsGone } from '../system/process-groups.js';
import { KILL_GRACE_MS, runScript, type ScriptOptions, type ScriptResult, type ScriptRun } from './run-script.js';

export interface ActionDispatcherOptions {
  runs: ActionRunStore;
  events: Pick<EventStore, 'get'>;
  logger: Logger;
  metrics: Metrics;
  /** Most scripts running at once, over all subscriptions (config actions.concurrency). */
  concurrency: number;
  /** Bytes of stdout and of stderr kept per run (config actions.outputLimitBytes). */
  outputLimitBytes: number;
  /** A write to the audit failed: stop the daemon (fail-stop); no script is run on an unrecorded start. */
  fatal: (error: unknown, what: string) => void;
  /** Run scripts as this user (actions.user); the daemon's own when absent. */
  user?: Account;
  /** Where running scripts' process groups are recorded, so the next start kills what a kill -9 left running. */
  processes?: ProcessGroupRecord;
  /** Gives each run its own cgroup when the machine allows; absent: process groups only. */
  cgroups?: CgroupPlacer;
}

/** How long stop() waits for running scripts when not told. */
export const DEFAULT_STOP_GRACE_MS = 5000;

interface Active {
  row: ActionRun;
  script: ScriptRun | undefined;
  /** Set by stop(): the run was killed, its row stays 'running' so a restart runs it again. */
  abandoned: boolean;
  done: Promise<void>;
}

/**
 * Runs script actions from the action_runs outbox.
 *
 * Invariants: runs of one subscription execute one at a time in row id order
 * (an event's script ends before its rearm's starts); runs of different
 * subscriptions run side by side (a slow script never holds up another
 * subscription: Serf issue 369), at most `concurrency` at once. A run is
 * marked started (committed) before its script is spawned and finished after,
 * so a row left 'running' means the daemon died mid-run, and start() runs it
 * again. Failed runs are not retried: they ran. Nothing here throws to the
 * caller; a failed write to the audit is fatal (fail-stop).
 */
export class ActionDispatcher {
  private readonly options: ActionDispatcherOptions;
  private readonly log: Logger;
  private state: 'new' | 'started' | 'stopped' = 'new';
  /** Rows known but not started, per subscription, in id order. */
  private readonly queues = new Map<string, ActionRun[]>();
  /** Subscriptions with a run in flight. */
  private readonly busy = new Set<string>();
  private readonly active = new Set<Active>();
  /** Highest row id taken from the store; ids are assigned in commit order, so later rows are above it. */
  private highWater = 0;
  private scanScheduled = false;
  private idleWaiters: (() => void)[] = [];

  constructor(options: ActionDispatcherOptions) {
    this.options = { ...options, concurrency: Math.max(1, Math.floor(options.concurrency)) };
    this.log = options.logger.child({ component: 'actions' });
  }

  /**
   * Takes every open row (pending, and 'running' left by a daemon that died)
   * and runs them, after killing what the dead daemon's scripts left running:
   * a re-run never overlaps its own earlier attempt.
   */
  start(): void {
    if (this.state !== 'new') return;
    this.state = 'started';
    const reaped = this.options.processes?.reapOrphanGroups() ?? [];
    if (reaped.length > 0) {
      const gone = waitGroupsGone(reaped, 2 * KILL_GRACE_MS);
      this.log.warn({ groups: reaped, gone }, 'killed action scripts left running by a previous daemon');
    }
    this.scan();
  }

  /** Kills every running script's tree now (a stop that ran out of time). Their rows stay 'running'. */
  killAll(): void {
    for (const run of this.active) {
      run.abandoned = true;
      run.script?.kill();
    }
  }

  /** New pending rows were committed: pick them up (coalesced, soon after). */
  kick(): void {
    if (this.state !== 'started' || this.scanScheduled) return;
    this.scanScheduled = true;
    setImmediate(() => {
      this.scanScheduled = false;
      this.scan();
    });
  }

  /** Resolves when nothing is queued, scheduled or running. Picks up rows committed without a kick. */
  idle(): Promise<void> {
    this.kick();
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Stops taking runs; waits up to `graceMs` for running scripts, then kills
   * them. Killed runs are not finished: their rows stay 'running' and the next
   * start() runs them again. Rows not yet started stay 'pending'.
   */
  async stop(graceMs = DEFAULT_STOP_GRACE_MS): Promise<void> {
    if (this.state !== 'stopped') {
      this.state = 'stopped';
      this.queues.clear();
    }
    if (this.active.size === 0) {
      this.notifyIdle();
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const allDone = Promise.all([...this.active].map((run) => run.done));
    const graceOver = new Promise<'grace'>((resolve) => { timer = setTimeout(() => resolve('grace'), graceMs); });
    const first = await Promise.race([allDone, graceOver]);
    clearTimeout(timer);
    if (first === 'grace') {
      this.killAll();
      await Promise.all([...this.active].map((run) => run.done));
    }
  }

  private isIdle(): boolean {
    return this.queues.size === 0 && this.active.size === 0 && !this.scanScheduled;
  }

  private notifyIdle(): void {
    if (this.active.size > 0 || (this.state !== 'stopped' && !this.isIdle())) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private scan(): void {
    if (this.state !== 'started') {
      this.notifyIdle();
      return;
    }
    let rows: ActionRun[];
    try {
      rows = this.options.runs.open();
    } catch (err) {
      this.options.fatal(err, 'reading pending action runs');
      return;
    }
    for (const row of rows) {
      if (row.id <= this.highWater) continue;
      this.highWater = row.id;
      const queue = this.queues.get(row.subscription);
      if (queue === undefined) this.queues.set(row.subscription, [row]);
      else queue.push(row);
    }
    this.pump();
    this.notifyIdle();
  }

  /** Starts runs while there is room: the oldest head among subscriptions with nothing in flight. */
  private pump(): void {
    while (this.state === 'started' && this.active.size < this.options.concurrency) {
      let next: ActionRun | undefined;
      for (const [subscription, queue] of this.queues) {
        if (this.busy.has(subscription)) continue;
        const head = queue[0];
        if (head !== undefined && (next === undefined || head.id < next.id)) next = head;
      }
      if (next === undefined) return;
      const queue = this.queues.get(next.subscription) as ActionRun[];
      queue.shift();
      if (queue.length === 0) this.queues.delete(next.subscription);
      this.launch(next);
    }
  }

  private launch(row: ActionRun): void {
    const attempt = row.attempt + 1;
    try {
      this.options.runs.markStarted(row.id, Date.now());
    } catch (err) {
      // Not started, so not run: the row stays open and the next start() takes it.
      this.state = 'stopped';
      this.options.fatal(err, `marking action run ${row.id} started`);
      return;
    }
    this.busy.add(row.subscription);
    const run: Active = { row, script: undefined, abandoned: false, done: Promise.resolve() };
    this.active.add(run);
    run.done = this.execute(run, attempt)
      .catch((err: unknown) => {
        this.log.error({ err, runId: row.id, subscription: row.subscription, eventId: row.eventId }, 'action run failed internally');
      })
      .finally(() => {
        this.active.delete(run);
        this.busy.delete(row.subscription);
        this.pump();
        this.notifyIdle();
      });
  }

  private async execute(run: Active, attempt: number): Promise<void> {
    const { row } = run;
    const startedAt = Date.now();
    const prepared = this.prepare(row, attempt);
    let result: ScriptResult;
    if (typeof prepared === 'string') {
      result = { status: 'failed', exitCode: null, signal: null, error: prepared, stdout: '', stderr: '' };
    } else {
      run.script = runScript(prepared);
      result = await run.script.result;
    }

    const context = { runId: row.id, subscription: row.subscription, eventId: row.eventId, action: row.actionIndex, attempt };
    if (run.abandoned) {
      this.log.warn(context, 'action run killed by shutdown; it runs again at next start');
      return;
    }
    const finished: ActionRunResult = { ...result, endedAt: Date.now() };
    try {
      this.options.runs.finish(row.id, finished);
    } catch (err) {
      // The row stays 'running': the next start runs it again (at least once).
      this.state = 'stopped';
      this.options.fatal(err, `recording the result of action run ${row.id}`);
      return;
    }
    this.options.metrics.actionRuns.inc({ status: result.status });
    const details = { ...context, status: result.status, exitCode: result.exitCode, signal: result.signal, durationMs: finished.endedAt - startedAt };
    if (result.status === 'ok') {
      this.log.info(details, 'action run ok');
    } else {
      this.options.metrics.actionFailures.inc();
      this.log.warn({ ...details, error: result.error, stderr: result.stderr.slice(-1024) }, `action run ${result.status}`);
    }
  }

  /** The script's options, or why the run cannot start (recorded as a failed run). */
  private prepare(row: ActionRun, attempt: number): ScriptOptions | string {
    let timeoutMs: number;
    let event: EventRecord | undefined;
    try {
      timeoutMs = parseDuration(row.spec.timeout, 'timeout');
      event = this.options.events.get(row.eventId);
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    }
    if (event === undefined) return `event ${row.eventId} not found (pruned before its action ran?)`;
    const env: Record<string, string> = {};
    for (const [key, value] of Object.entries(process.env)) if (value !== undefined) env[key] = value;
    Object.assign(env, actionEnv(event), { EVENTD_ACTION_ATTEMPT: String(attempt) });
    const { user, processes } = this.options;
    const cgroup = this.options.cgroups?.create(`run-${row.id}-${attempt}`);
    return {
      run: row.spec.run,
      args: row.spec.args ?? [],
      env,
      input: JSON.stringify(event) + '\n',
      timeoutMs,
      outputLimitBytes: this.options.outputLimitBytes,
      detach: row.spec.detach === true,
      ...(user === undefined ? {} : { uid: user.uid, gid: user.gid }),
      ...(cgroup === undefined ? {} : { cgroup }),
      ...(processes === undefined ? {} : { onGroupStarted: (pgid: number) => processes.spawned(pgid), onGroupEnded: (pgid: number) => processes.exited(pgid) }),
    };
  }
}
