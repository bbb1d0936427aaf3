import { parseDuration } from '../duration.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { ActionRun, ActionRunStore, AttemptOutcome } from '../store/action-runs.js';
import type { EventStore } from '../store/events.js';
import type { ProducerProcesses as ProcessGroupRecord } from '../producers/orphans.js';
import { waitGroupsGone } from '../system/process-groups.js';
import type { Account } from '../system/accounts.js';
import { actionKind } from '../types.js';
import type { AttemptResult, AttemptRun } from './attempt.js';
import type { CgroupPlacer } from './cgroup.js';
import type { SmtpSettings } from './email.js';
import { startAttempt, type ScriptPlacement } from './kinds.js';
import { nextAttempt, type RetryPolicy } from './retry.js';
import { KILL_GRACE_MS } from './run-script.js';

export interface ActionDispatcherOptions {
  runs: ActionRunStore;
  events: Pick<EventStore, 'get'>;
  logger: Logger;
  metrics: Metrics;
  /** Most scripts running at once, over all subscriptions (config actions.concurrency). */
  concurrency: number;
  /** Bytes of stdout and of stderr kept per run (config actions.outputLimitBytes). */
  outputLimitBytes: number;
  /** Bounds and backoff of retries (config actions.retry); an action's maxAttempts / maxAge override them. */
  retry: RetryPolicy;
  /** The SMTP server of e-mail actions (config smtp); absent: e-mail actions fail, not retried. */
  smtp?: SmtpSettings;
  /** The jitter's random source (tests pin it). */
  random?: () => number;
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
  attempt: AttemptRun | undefined;
  /** Set by stop(): the run was killed, its row stays 'running' so a restart runs it again. */
  abandoned: boolean;
  /** Resolves once its outcome is committed (or it was abandoned). */
  done: Promise<void>;
  settle: () => void;
}

/** An attempt that ended, its outcome not yet committed. */
interface Ended {
  run: Active;
  attempt: number;
  result: AttemptResult;
  outcome: AttemptOutcome;
}

/**
 * Runs actions (scripts, webhooks, e-mails) from the action_runs outbox.
 *
 * Invariants: runs of one subscription execute one at a time in row id order
 * (an event's action ends before its rearm's starts), and a run waiting to be
 * retried holds up the later runs of its subscription, so a receiver that was
 * down gets the backlog in order; runs of different subscriptions run side by
 * side (a slow one never holds up another subscription: Serf issue 369), at
 * most `concurrency` at once. An attempt is marked started (committed) before
 * it begins and recorded after, so a row left 'running' means the daemon died
 * mid-attempt, and start() tries it again. Writes go in steps: one
 * transaction records every attempt that ended since the last step and marks
 * started the runs that may start now (often the next run of the same
 * subscription), then, only after it commits, those runs begin and the ended
 * ones are announced (logs, metrics): one commit per delivery at most, fewer
 * when several end together. A failed attempt is retried with
 * exponential backoff and jitter until the run's maxAttempts or maxAge, unless
 * the receiver refused it (HTTP 4xx, SMTP 5xx). Nothing here throws to the
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
  /** Attempts that ended, waiting for the next step to commit their outcome. */
  private ended: Ended[] = [];
  private stepScheduled = false;
  private idleWaiters: (() => void)[] = [];
  /** Wakes step() when the earliest waiting retry is due. */
  private retryTimer: NodeJS.Timeout | undefined;
  private retryTimerAt = Infinity;

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
      run.attempt?.cancel();
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
      clearTimeout(this.retryTimer);
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
    return this.queues.size === 0 && this.active.size === 0 && !this.scanScheduled && !this.stepScheduled;
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
    this.step();
  }

  /** An attempt ended or a retry is due: step soon, once for all that happen meanwhile. */
  private scheduleStep(): void {
    if (this.stepScheduled) return;
    this.stepScheduled = true;
    setImmediate(() => {
      // A step that ran meanwhile (a scan's, a retry's) did this one's work.
      if (this.stepScheduled) this.step();
    });
  }

  /**
   * One transaction: the outcomes of the attempts that ended, then the start
   * marks of the runs that may start now. After it commits (never before):
   * the ended runs are announced and let go, the picked ones begin.
   */
  private step(): void {
    this.stepScheduled = false;
    const ended = this.ended;
    this.ended = [];
    if (ended.length === 0 && this.state !== 'started') {
      this.notifyIdle();
      return;
    }
    const announce: (() => void)[] = [];
    const launches: ActionRun[] = [];
    try {
      this.options.runs.transaction(() => {
        for (const item of ended) announce.push(this.record(item));
        if (this.state === 'started') this.pick(launches, Date.now());
      });
    } catch (err) {
      // Nothing of this step was committed, so nothing of it is announced or started; open rows run at the next start.
      this.state = 'stopped';
      this.options.fatal(err, 'recording action runs');
      for (const { run } of ended) run.settle();
      this.notifyIdle();
      return;
    }
    for (const effect of announce) effect();
    for (const { run } of ended) run.settle();
    for (const row of launches) this.launch(row);
    this.notifyIdle();
  }

  /** Picks runs while there is room: the oldest due head among subscriptions with nothing in flight; marks each started. */
  private pick(launches: ActionRun[], now: number): void {
    while (this.active.size + launches.length < this.options.concurrency) {
      let next: ActionRun | undefined;
      let wake = Infinity;
      for (const [subscription, queue] of this.queues) {
        if (this.busy.has(subscription)) continue;
        const head = queue[0];
        if (head === undefined) continue;
        const dueAt = this.dueAt(head, queue);
        if (dueAt > now) {
          wake = Math.min(wake, dueAt);
          continue;
        }
        if (next === undefined || head.id < next.id) next = head;
      }
      if (next === undefined) {
        this.wakeAt(wake);
        return;
      }
      const queue = this.queues.get(next.subscription) as ActionRun[];
      queue.shift();
      const carrier = next.spec.batch !== undefined && next.batch === null ? this.gather(next, queue, now) : next;
      if (queue.length === 0) this.queues.delete(next.subscription);
      this.options.runs.markStarted(carrier.id, now);
      this.busy.add(carrier.subscription);
      launches.push(carrier);
    }
  }

  /**
   * When the head may start: a retry at its next_at; a batched run (ERRM -b)
   * once its batch is full or its interval since the first event has passed.
   */
  private dueAt(head: ActionRun, queue: readonly ActionRun[]): number {
    if (head.nextAt !== null) return head.nextAt;
    const batch = head.spec.batch;
    if (batch === undefined || head.batch !== null) return 0;
    if (this.members(head, queue).length + 1 >= batch.maxEvents) return 0;
    let intervalMs = 0;
    try { intervalMs = parseDuration(batch.interval, 'batch.interval'); } catch { /* checked at creation */ }
    return head.createdAt + intervalMs;
  }

  /** Later open runs of the same action of the same subscription that may join head's batch. */
  private members(head: ActionRun, queue: readonly ActionRun[]): ActionRun[] {
    const max = (head.spec.batch?.maxEvents ?? 1) - 1;
    const found: ActionRun[] = [];
    for (const row of queue) {
      if (found.length >= max) break;
      if (row !== head && row.actionIndex === head.actionIndex && row.attempt === 0 && row.batch === null && row.status === 'pending') found.push(row);
    }
    return found;
  }

  /** Folds the members into head's run (in the step's transaction), takes them out of the queue. */
  private gather(head: ActionRun, queue: ActionRun[], now: number): ActionRun {
    const members = this.members(head, queue);
    const ids = [head.eventId, ...members.map((row) => row.eventId)];
    this.options.runs.gatherBatch(head.id, ids, members.map((row) => row.id), now);
    for (const member of members) queue.splice(queue.indexOf(member), 1);
    return { ...head, batch: ids };
  }

  /** One timer, for the earliest retry due; a later one waits behind it. */
  private wakeAt(at: number): void {
    if (at === Infinity || at >= this.retryTimerAt) return;
    clearTimeout(this.retryTimer);
    this.retryTimerAt = at;
    this.retryTimer = setTimeout(() => {
      this.retryTimerAt = Infinity;
      this.step();
    }, Math.max(0, at - Date.now()));
  }

  /** The failed run waits at the head of its subscription's queue: nothing of that subscription overtakes it. */
  private requeue(row: ActionRun): void {
    const queue = this.queues.get(row.subscription);
    if (queue === undefined) this.queues.set(row.subscription, [row]);
    else queue.unshift(row);
  }

  /** Begins a run whose start mark is committed. */
  private launch(row: ActionRun): void {
    const attempt = row.attempt + 1;
    let settle = (): void => undefined;
    const done = new Promise<void>((resolve) => { settle = resolve; });
    const run: Active = { row, attempt: undefined, abandoned: false, done, settle: () => undefined };
    // Only the run's own slot: its subscription was let go when its outcome was written (record), and may be busy again with its next run.
    run.settle = () => {
      this.active.delete(run);
      settle();
    };
    this.active.add(run);
    this.execute(run, attempt).catch((err: unknown) => {
      this.log.error({ err, runId: row.id, subscription: row.subscription, eventId: row.eventId }, 'action run failed internally');
      this.busy.delete(row.subscription);
      run.settle();
      this.scheduleStep();
    });
  }

  private async execute(run: Active, attempt: number): Promise<void> {
    const { row } = run;
    const startedAt = Date.now();
    run.attempt = startAttempt(row, attempt, { events: (id) => this.options.events.get(id), outputLimitBytes: this.options.outputLimitBytes, smtp: this.options.smtp, script: this.scriptPlacement(row, attempt) });
    const result = await run.attempt.result;
    if (run.abandoned) {
      this.log.warn(this.context(row, attempt), 'action attempt cut short by shutdown; it runs again at next start');
      this.busy.delete(row.subscription);
      run.settle();
      this.notifyIdle();
      return;
    }
    this.ended.push({ run, attempt, result, outcome: { ...result, startedAt, endedAt: Date.now() } });
    this.scheduleStep();
  }

  private context(row: ActionRun, attempt: number): Record<string, unknown> {
    return { runId: row.id, subscription: row.subscription, eventId: row.eventId, action: row.actionIndex, kind: actionKind(row.spec), attempt };
  }

  /**
   * Writes one ended attempt (inside the step's transaction) and lets its
   * subscription go (a retry waits at the head of its queue); returns what
   * is announced once the step has committed.
   */
  private record({ run, attempt, result, outcome }: Ended): () => void {
    const { row } = run;
    const details = { ...this.context(row, attempt), status: result.status, exitCode: result.exitCode, httpStatus: result.httpStatus, smtpReply: result.smtpReply, durationMs: outcome.endedAt - outcome.startedAt };
    this.active.delete(run);
    this.busy.delete(row.subscription);
    if (result.status === 'ok') {
      this.options.runs.finish(row.id, attempt, outcome);
      return () => this.finished('ok', details);
    }
    if (!result.retryable) {
      this.options.runs.finish(row.id, attempt, outcome, { reason: 'rejected', detail: result.error ?? 'refused' });
      return () => this.finished(result.status, { ...details, error: result.error, reason: 'rejected' });
    }
    const decision = nextAttempt(attempt, row.createdAt, outcome.endedAt, this.policy(row), this.options.random);
    if (!decision.retry) {
      this.options.runs.finish(row.id, attempt, outcome, { reason: 'gave-up', detail: decision.detail });
      return () => this.finished(result.status, { ...details, error: result.error, stderr: result.stderr.slice(-1024), reason: decision.detail });
    }
    this.options.runs.retry(row.id, attempt, outcome, decision.at);
    this.requeue({ ...row, status: 'retrying', attempt, nextAt: decision.at });
    return () => this.log.info({ ...details, error: result.error, retryInMs: decision.at - outcome.endedAt }, `action attempt ${result.status}; retrying`);
  }

  private finished(status: 'ok' | 'failed' | 'timeout', details: Record<string, unknown>): void {
    this.options.metrics.actionRuns.inc({ status });
    if (status === 'ok') {
      this.log.info(details, 'action run ok');
    } else {
      this.options.metrics.actionFailures.inc();
      this.log.warn(details, `action run ${status}`);
    }
  }

  /** How a run's script is placed: its user, its cgroup, its process group recorded; its tree killed at exit unless it detaches. */
  private scriptPlacement(row: ActionRun, attempt: number): ScriptPlacement {
    const { user, processes } = this.options;
    const cgroup = 'run' in row.spec ? this.options.cgroups?.create(`run-${row.id}-${attempt}`) : undefined;
    return {
      detach: 'run' in row.spec && row.spec.detach === true,
      ...(user === undefined ? {} : { uid: user.uid, gid: user.gid }),
      ...(cgroup === undefined ? {} : { cgroup }),
      ...(processes === undefined ? {} : { onGroupStarted: (pgid: number) => processes.spawned(pgid), onGroupEnded: (pgid: number) => processes.exited(pgid) }),
    };
  }

  /** The config's retry policy with the action's own bounds. */
  private policy(row: ActionRun): RetryPolicy {
    const { maxAttempts, maxAge } = row.spec;
    let maxAgeMs = this.options.retry.maxAgeMs;
    if (maxAge !== undefined) {
      try { maxAgeMs = parseDuration(maxAge, 'maxAge'); } catch { /* checked at creation */ }
    }
    return { ...this.options.retry, maxAttempts: maxAttempts ?? this.options.retry.maxAttempts, maxAgeMs };
  }
}
