import type { ActionSpec } from '../types.js';
import type { Db } from './db.js';

/**
 * open: pending (never tried), running (a daemon died mid-attempt: tried
 * again), retrying (an attempt failed; tried again at next_at).
 * final: ok, failed / timeout (the last attempt's outcome, given up), skipped
 * (never run, `reason` says why).
 */
export type ActionRunStatus = 'pending' | 'running' | 'retrying' | 'ok' | 'failed' | 'timeout' | 'skipped';
export const actionRunStatuses: readonly ActionRunStatus[] = ['pending', 'running', 'retrying', 'ok', 'failed', 'timeout', 'skipped'];

/** Why a run did not run, or why it stopped being retried. */
export type ActionRunReason = 'silenced' | 'outside-window' | 'inhibited' | 'flapping' | 'gave-up' | 'rejected' | 'batched';

export interface ActionRun {
  id: number;
  eventId: string;
  subscription: string;
  actionIndex: number;
  /** The named response the action came from; null for an inline action. */
  response: string | null;
  spec: ActionSpec;
  status: ActionRunStatus;
  attempt: number;
  exitCode: number | null;
  signal: string | null;
  httpStatus: number | null;
  smtpReply: string | null;
  error: string | null;
  stdout: string | null;
  stderr: string | null;
  reason: ActionRunReason | null;
  detail: string | null;
  /** The node that ran it (this one). */
  node: string | null;
  /** Batched runs: the ids of the events it carries, in order (the first is eventId). */
  batch: string[] | null;
  createdAt: number;
  startedAt: number | null;
  endedAt: number | null;
  nextAt: number | null;
}

/** One attempt of a run, as audited. */
export interface ActionAttempt {
  attempt: number;
  status: 'ok' | 'failed' | 'timeout';
  startedAt: number;
  endedAt: number;
  exitCode: number | null;
  signal: string | null;
  httpStatus: number | null;
  smtpReply: string | null;
  error: string | null;
}

interface Row {
  id: number; event_id: string; subscription: string; action_index: number; response: string | null; spec: string; status: ActionRunStatus;
  attempt: number; exit_code: number | null; signal: string | null; http_status: number | null; smtp_reply: string | null;
  error: string | null; stdout: string | null; stderr: string | null; reason: ActionRunReason | null; detail: string | null;
  node: string | null; batch: string | null; created_at: number; started_at: number | null; ended_at: number | null; next_at: number | null;
}

interface AttemptRow {
  run_id: number; attempt: number; status: ActionAttempt['status']; started_at: number; ended_at: number; exit_code: number | null;
  signal: string | null; http_status: number | null; smtp_reply: string | null; error: string | null;
}

/** The outcome of one attempt, as the dispatcher records it. */
export interface AttemptOutcome {
  status: 'ok' | 'failed' | 'timeout';
  exitCode: number | null;
  signal: string | null;
  httpStatus: number | null;
  smtpReply: string | null;
  error: string | null;
  stdout: string;
  stderr: string;
  startedAt: number;
  endedAt: number;
}

/** What the event log writes for one action of an event. */
export interface ActionRunDraft {
  eventId: string;
  subscription: string;
  actionIndex: number;
  response: string | null;
  spec: ActionSpec;
  node: string;
  /** Set: the run is recorded skipped, never run. */
  skip?: { reason: ActionRunReason; detail: string };
  batch?: string[];
}

/** Outbox and audit of actions (the action_runs and action_attempts tables). */
export class ActionRunStore {
  private readonly enqueueStmt;
  private readonly openStmt;
  private readonly startStmt;
  private readonly attemptStmt;
  private readonly finishStmt;
  private readonly retryStmt;
  private readonly skipStmt;
  private readonly batchStmt;
  private readonly getStmt;
  private readonly attemptsStmt;

  constructor(private readonly db: Db) {
    this.enqueueStmt = db.prepare(
      `INSERT OR IGNORE INTO action_runs (event_id, subscription, action_index, response, spec, status, reason, detail, node, batch, created_at, ended_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    // 'running' rows are attempts a killed daemon never finished: at least once means they run again.
    this.openStmt = db.prepare('SELECT * FROM action_runs WHERE status IN (\'pending\', \'running\', \'retrying\') ORDER BY id');
    this.startStmt = db.prepare('UPDATE action_runs SET status = \'running\', attempt = attempt + 1, started_at = ?, next_at = NULL WHERE id = ?');
    this.attemptStmt = db.prepare(
      `INSERT OR REPLACE INTO action_attempts (run_id, attempt, status, started_at, ended_at, exit_code, signal, http_status, smtp_reply, error)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.finishStmt = db.prepare(
      `UPDATE action_runs SET status = ?, exit_code = ?, signal = ?, http_status = ?, smtp_reply = ?, error = ?, stdout = ?, stderr = ?,
       ended_at = ?, reason = ?, detail = ?, next_at = NULL WHERE id = ?`,
    );
    this.retryStmt = db.prepare(
      `UPDATE action_runs SET status = 'retrying', exit_code = ?, signal = ?, http_status = ?, smtp_reply = ?, error = ?, stdout = ?, stderr = ?,
       ended_at = ?, next_at = ? WHERE id = ?`,
    );
    this.skipStmt = db.prepare('UPDATE action_runs SET status = \'skipped\', reason = ?, detail = ?, ended_at = ?, next_at = NULL WHERE id = ?');
    this.batchStmt = db.prepare('UPDATE action_runs SET batch = ? WHERE id = ?');
    this.getStmt = db.prepare('SELECT * FROM action_runs WHERE id = ?');
    this.attemptsStmt = db.prepare('SELECT * FROM action_attempts WHERE run_id = ? ORDER BY attempt');
  }

  /** Runs `work` in one transaction: the dispatcher's outcomes and start marks of one step commit together (nested writes join it). */
  transaction<T>(work: () => T): T {
    return this.db.transaction(work)();
  }

  /** Call inside the transaction that appends the event. */
  enqueue(draft: ActionRunDraft, now: number): void {
    const skipped = draft.skip !== undefined;
    this.enqueueStmt.run(
      draft.eventId, draft.subscription, draft.actionIndex, draft.response, JSON.stringify(draft.spec), skipped ? 'skipped' : 'pending',
      draft.skip?.reason ?? null, draft.skip?.detail ?? null, draft.node, draft.batch === undefined ? null : JSON.stringify(draft.batch), now, skipped ? now : null,
    );
  }

  /** Open runs, oldest first. */
  open(): ActionRun[] {
    return (this.openStmt.all() as Row[]).map(fromRow);
  }

  markStarted(id: number, now: number): void {
    this.startStmt.run(now, id);
  }

  /** The attempt is audited and the run is final: ok, or given up (`reason` says why). */
  finish(id: number, attempt: number, outcome: AttemptOutcome, reason: { reason: ActionRunReason; detail: string } | null = null): void {
    this.db.transaction(() => {
      this.recordAttempt(id, attempt, outcome);
      this.finishStmt.run(
        outcome.status, outcome.exitCode, outcome.signal, outcome.httpStatus, outcome.smtpReply, outcome.error, outcome.stdout, outcome.stderr,
        outcome.endedAt, reason?.reason ?? null, reason?.detail ?? null, id,
      );
    })();
  }

  /** The attempt is audited and the run waits until `nextAt` for its next one. */
  retry(id: number, attempt: number, outcome: AttemptOutcome, nextAt: number): void {
    this.db.transaction(() => {
      this.recordAttempt(id, attempt, outcome);
      this.retryStmt.run(outcome.exitCode, outcome.signal, outcome.httpStatus, outcome.smtpReply, outcome.error, outcome.stdout, outcome.stderr, outcome.endedAt, nextAt, id);
    })();
  }

  /**
   * The run `carrier` takes the events of `members` (open runs of the same
   * action) as one batch; the members are skipped, their audit naming the carrier.
   */
  gatherBatch(carrier: number, eventIds: readonly string[], members: readonly number[], now: number): void {
    this.db.transaction(() => {
      this.batchStmt.run(JSON.stringify(eventIds), carrier);
      for (const member of members) this.skipStmt.run('batched', `in run ${carrier}`, now, member);
    })();
  }

  get(id: number): ActionRun | undefined {
    const row = this.getStmt.get(id) as Row | undefined;
    return row === undefined ? undefined : fromRow(row);
  }

  attempts(id: number): ActionAttempt[] {
    return (this.attemptsStmt.all(id) as AttemptRow[]).map((row) => ({
      attempt: row.attempt,
      status: row.status,
      startedAt: row.started_at,
      endedAt: row.ended_at,
      exitCode: row.exit_code,
      signal: row.signal,
      httpStatus: row.http_status,
      smtpReply: row.smtp_reply,
      error: row.error,
    }));
  }

  list(query: { subscription?: string; eventId?: string; status?: ActionRunStatus; limit: number }): ActionRun[] {
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (query.subscription !== undefined) { where.push('subscription = ?'); params.push(query.subscription); }
    if (query.eventId !== undefined) { where.push('event_id = ?'); params.push(query.eventId); }
    if (query.status !== undefined) { where.push('status = ?'); params.push(query.status); }
    params.push(query.limit);
    const sql = `SELECT * FROM action_runs ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...params) as Row[]).map(fromRow);
  }

  private recordAttempt(id: number, attempt: number, outcome: AttemptOutcome): void {
    this.attemptStmt.run(id, attempt, outcome.status, outcome.startedAt, outcome.endedAt, outcome.exitCode, outcome.signal, outcome.httpStatus, outcome.smtpReply, outcome.error);
  }
}

function fromRow(row: Row): ActionRun {
  return {
    id: row.id,
    eventId: row.event_id,
    subscription: row.subscription,
    actionIndex: row.action_index,
    response: row.response,
    spec: JSON.parse(row.spec) as ActionSpec,
    status: row.status,
    attempt: row.attempt,
    exitCode: row.exit_code,
    signal: row.signal,
    httpStatus: row.http_status,
    smtpReply: row.smtp_reply,
    error: row.error,
    stdout: row.stdout,
    stderr: row.stderr,
    reason: row.reason,
    detail: row.detail,
    node: row.node,
    batch: row.batch === null ? null : (JSON.parse(row.batch) as string[]),
    createdAt: row.created_at,
    startedAt: row.started_at,
    endedAt: row.ended_at,
    nextAt: row.next_at,
  };
}
