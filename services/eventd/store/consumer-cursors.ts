import type { Db } from './db.js';

/** Durable positions of consumers in the event log (the consumer_cursors table). */
export class ConsumerCursorStore {
  private readonly getStmt;
  private readonly saveStmt;

  constructor(db: Db) {
    this.getStmt = db.prepare('SELECT pos FROM consumer_cursors WHERE consumer = ?');
    this.saveStmt = db.prepare(
      `INSERT INTO consumer_cursors (consumer, pos, updated_at) VALUES (?, ?, ?)
       ON CONFLICT (consumer) DO UPDATE SET pos = excluded.pos, updated_at = excluded.updated_at`,
    );
  }

  /** The saved position, or undefined when the consumer never saved one. */
  get(consumer: string): number | undefined {
    return (this.getStmt.get(consumer) as { pos: number } | undefined)?.pos;
  }

  save(consumer: string, pos: number, now: number): void {
    this.saveStmt.run(consumer, pos, now);
  }
}
