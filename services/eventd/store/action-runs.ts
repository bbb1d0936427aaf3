import type { ActionSpec } from '../types.js';
import type { Db } from './db.js';

export type ActionRunStatus = 'pending' | 'running' | 'ok' | 'failed' | 'timeout';

export interface ActionRun {
  id: number;
  eventId: string;
  subscription: string;
  actionIndex: number;
  spec: ActionSpec;
  status: ActionRunStatus;
  attempt: number;
  exitCode: number | null;
  signal: string | null;
  error: string | null;
  stdout: string | null;
  stderr: string | null;
  createdAt: number;
  startedAt: number | null;
  endedAt: number | null;
}

interface Row {
  id: number; event_id: string; subscription: string; action_index: number; spec: string; status: ActionRunStatus;
  attempt: number; exit_code: number | null; signal: string | null; error: string | null; stdout: string | null;
  stderr: string | null; created_at: number; started_at: number | null; ended_at: number | null;
}

export interface ActionRunResult {
  status: 'ok' | 'failed' | 'timeout';
  exitCode: number | null;
  signal: string | null;
  error: string | null;
  stdout: string;
  stderr: string;
  endedAt: number;
}

/** Outbox and audit of script actions (the action_runs table). */
export class ActionRunStore {
  private readonly enqueueStmt;
  private readonly openStmt;
  private readonly startStmt;
  private readonly finishStmt;
  private readonly getStmt;

  constructor(private readonly db: Db) {
    this.enqueueStmt = db.prepare(
      `INSERT OR IGNORE INTO action_runs (event_id, subscription, action_index, spec, status, created_at)
       VALUES (?, ?, ?, ?, 'pending', ?)`,
    );
    // 'running' rows are runs a killed daemon never finished: at least once means they run again.
    this.openStmt = db.prepare('SELECT * FROM action_runs WHERE status IN (\'pending\', \'running\') ORDER BY id');
    this.startStmt = db.prepare('UPDATE action_runs SET status = \'running\', attempt = attempt + 1, started_at = ? WHERE id = ?');
    this.finishStmt = db.prepare(
      'UPDATE action_runs SET status = ?, exit_code = ?, signal = ?, error = ?, stdout = ?, stderr = ?, ended_at = ? WHERE id = ?',
    );
    this.getStmt = db.prepare('SELECT * FROM action_runs WHERE id = ?');
  }

  /** Call inside the transaction that appends the event. */
  enqueue(eventId: string, subscription: string, actionIndex: number, spec: ActionSpec, now: number): void {
    this.enqueueStmt.run(eventId, subscription, actionIndex, JSON.stringify(spec), now);
  }

  /** Pending runs, and runs left 'running' by a daemon that died, oldest first. */
  open(): ActionRun[] {
    return (this.openStmt.all() as Row[]).map(fromRow);
  }

  markStarted(id: number, now: number): void {
    this.startStmt.run(now, id);
  }

  finish(id: number, result: ActionRunResult): void {
    this.finishStmt.run(result.status, result.exitCode, result.signal, result.error, result.stdout, result.stderr, result.endedAt, id);
  }

  get(id: number): ActionRun | undefined {
    const row = this.getStmt.get(id) as Row | undefined;
    return row === undefined ? undefined : fromRow(row);
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
}

function fromRow(row: Row): ActionRun {
  return {
    id: row.id,
    eventId: row.event_id,
    subscription: row.subscription,
    actionIndex: row.action_index,
    spec: JSON.parse(row.spec) as ActionSpec,
    status: row.status,
    attempt: row.attempt,
    exitCode: row.exit_code,
    signal: row.signal,
    error: row.error,
    stdout: row.stdout,
    stderr: row.stderr,
    createdAt: row.created_at,
    startedAt: row.started_at,
    endedAt: row.ended_at,
  };
}
