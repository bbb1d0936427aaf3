import type { EventRecord } from '../types.js';
import type { Db } from './db.js';

export interface EventQuery {
  /** Return events delivered after this event id. */
  since?: string;
  class?: string;
  subscription?: string;
  /** Leave these classes out (consumers' internal records). */
  excludeClasses?: readonly string[];
  limit: number;
}

/**
 * How the cluster core replicates an event this log holds: the row is also
 * the core's copy of it (one insert per event; sqlite-core-store.ts rebuilds
 * the core's event from it). Absent: the row is the log's alone.
 */
export interface Replicated {
  order: 'fifo' | 'agreed';
  reach: 'cluster' | 'local';
}

export class EventStore {
  private readonly insertStmt;
  private readonly posOfStmt;
  private readonly getStmt;
  private readonly nextSeqStmt;
  private readonly bumpSeqStmt;
  private readonly pruneCountStmt;
  private readonly pruneAgeStmt;
  private readonly lastPosStmt;
  private readonly backlogStmt;
  private readonly keepCountStmt;
  private readonly keepAgeStmt;

  constructor(private readonly db: Db) {
    this.insertStmt = db.prepare(
      'INSERT INTO events (id, origin, seq, type, subscription, class, time, body, position, cluster_order, cluster_reach) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.posOfStmt = db.prepare('SELECT pos FROM events WHERE id = ?');
    this.getStmt = db.prepare('SELECT body FROM events WHERE id = ?');
    this.nextSeqStmt = db.prepare('SELECT seq FROM origin_progress WHERE origin = ?');
    this.bumpSeqStmt = db.prepare(
      'INSERT INTO origin_progress (origin, seq) VALUES (?, ?) ON CONFLICT (origin) DO UPDATE SET seq = excluded.seq',
    );
    // `pos <= ?` is the retention hold: events a consumer has not finished with stay. One condition per
    // rule, shared by the delete and by the copy that comes before it (they must select the same rows).
    const beyondCount = 'pos <= (SELECT MAX(pos) FROM events) - ? AND pos <= ?';
    const beyondAge = 'time < ? AND pos <= ?';
    this.pruneCountStmt = db.prepare(`DELETE FROM events WHERE ${beyondCount}`);
    this.pruneAgeStmt = db.prepare(`DELETE FROM events WHERE ${beyondAge}`);
    // Before a prune: the core's events among the rows it deletes move into the
    // core's own table, rebuilt as the core stores them (sqlite-core-store.ts),
    // so a peer that is behind can still pull them (the user's retention bounds the log, not catch-up).
    const keep = (where: string) => db.prepare(`INSERT INTO cluster_events (origin, seq, body)
      SELECT origin, seq, json_object('origin', origin, 'seq', seq, 'hlc', json_extract(body, '$.hlc'), 'order', cluster_order,
        'payload', json_object('reach', cluster_reach, 'draft', json_remove(body, '$.id', '$.origin', '$.seq', '$.hlc', '$.position')))
      FROM events WHERE cluster_order IS NOT NULL AND ${where} ON CONFLICT DO NOTHING`);
    this.keepCountStmt = keep(beyondCount);
    this.keepAgeStmt = keep(beyondAge);
    this.lastPosStmt = db.prepare('SELECT COALESCE(MAX(pos), 0) AS pos FROM events');
    this.backlogStmt = db.prepare('SELECT COUNT(*) AS count, MIN(time) AS oldest FROM events WHERE pos > ?');
  }

  /** The next sequence number of `origin`, persisted before use; call inside the event's transaction. */
  takeSeq(origin: string): number {
    const row = this.nextSeqStmt.get(origin) as { seq: number } | undefined;
    const seq = (row?.seq ?? 0) + 1;
    this.bumpSeqStmt.run(origin, seq);
    return seq;
  }

  /** Appends an event (with how the cluster core replicates it, when the row is also the core's copy); returns its delivery position. */
  append(event: EventRecord, replicated?: Replicated): number {
    const result = this.insertStmt.run(
      event.id, event.origin, event.seq, event.type, event.subscription, event.class, Date.parse(event.time), JSON.stringify(event),
      event.position ?? null, replicated?.order ?? null, replicated?.reach ?? null,
    );
    return Number(result.lastInsertRowid);
  }

  get(id: string): EventRecord | undefined {
    const row = this.getStmt.get(id) as { body: string } | undefined;
    return row === undefined ? undefined : (JSON.parse(row.body) as EventRecord);
  }

  /** Delivery position of an event id, or undefined when the id is unknown (or pruned). */
  positionOf(id: string): number | undefined {
    return (this.posOfStmt.get(id) as { pos: number } | undefined)?.pos;
  }

  /** Events after position `afterPos`, in delivery order, with their positions. */
  listAfter(afterPos: number, query: Omit<EventQuery, 'since'>): { pos: number; event: EventRecord }[] {
    const where = ['pos > ?'];
    const params: (string | number)[] = [afterPos];
    if (query.class !== undefined) { where.push('class = ?'); params.push(query.class); }
    if (query.subscription !== undefined) { where.push('subscription = ?'); params.push(query.subscription); }
    if (query.excludeClasses !== undefined && query.excludeClasses.length > 0) {
      where.push(`class NOT IN (${query.excludeClasses.map(() => '?').join(', ')})`);
      params.push(...query.excludeClasses);
    }
    params.push(query.limit);
    const rows = this.db
      .prepare(`SELECT pos, body FROM events WHERE ${where.join(' AND ')} ORDER BY pos LIMIT ?`)
      .all(...params) as { pos: number; body: string }[];
    return rows.map((row) => ({ pos: row.pos, event: JSON.parse(row.body) as EventRecord }));
  }

  /** The latest `limit` events of a class, in delivery order (the inhibitor's memory at start). */
  latestOfClass(className: string, limit: number): EventRecord[] {
    const rows = this.db.prepare('SELECT body FROM events WHERE class = ? ORDER BY pos DESC LIMIT ?').all(className, limit) as { body: string }[];
    return rows.reverse().map((row) => JSON.parse(row.body) as EventRecord);
  }

  /** The position just before the first event sampled at or after `timeMs`: list after it for "since 10 minutes ago". */
  positionBeforeTime(timeMs: number): number {
    const row = this.db.prepare('SELECT MIN(pos) AS pos FROM events WHERE time >= ?').get(timeMs) as { pos: number | null };
    return row.pos === null ? this.lastPos() : row.pos - 1;
  }

  /** The position after which the last `count` events matching the filter lie (0 when there are fewer). */
  positionBeforeLast(count: number, filter: { class?: string; subscription?: string }): number {
    if (count === 0) return this.lastPos();
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (filter.class !== undefined) { where.push('class = ?'); params.push(filter.class); }
    if (filter.subscription !== undefined) { where.push('subscription = ?'); params.push(filter.subscription); }
    params.push(count - 1);
    const row = this.db
      .prepare(`SELECT pos FROM events ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY pos DESC LIMIT 1 OFFSET ?`)
      .get(...params) as { pos: number } | undefined;
    return row === undefined ? 0 : row.pos - 1;
  }

  /** The highest delivery position so far; 0 for an empty log. */
  lastPos(): number {
    return (this.lastPosStmt.get() as { pos: number }).pos;
  }

  /** How many events lie after `afterPos`, and the sample time (ms) of the oldest of them. */
  backlog(afterPos: number): { count: number; oldestTime: number | undefined } {
    const row = this.backlogStmt.get(afterPos) as { count: number; oldest: number | null };
    return { count: row.count, oldestTime: row.oldest ?? undefined };
  }

  /**
   * Bounds the log by count and age, but never deletes an event after
   * `holdAfterPos` (the lowest position a running consumer still needs).
   */
  prune(maxCount: number, maxAgeMs: number, now: number, holdAfterPos = Number.MAX_SAFE_INTEGER): number {
    return this.db.transaction(() => {
      this.keepCountStmt.run(maxCount, holdAfterPos);
      const byCount = this.pruneCountStmt.run(maxCount, holdAfterPos).changes;
      this.keepAgeStmt.run(now - maxAgeMs, holdAfterPos);
      return byCount + this.pruneAgeStmt.run(now - maxAgeMs, holdAfterPos).changes;
    })();
  }
}
