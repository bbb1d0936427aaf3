import type { Silence } from '../types.js';
import type { Db } from './db.js';

/** Silences, kept after they end so the audit can name them. */
export class SilenceStore {
  private readonly putStmt;
  private readonly allStmt;

  constructor(db: Db) {
    this.putStmt = db.prepare('INSERT OR REPLACE INTO silences (id, ends_at, body) VALUES (?, ?, ?)');
    this.allStmt = db.prepare('SELECT body FROM silences ORDER BY ends_at, id');
  }

  put(silence: Silence): void {
    this.putStmt.run(silence.id, Date.parse(silence.endsAt), JSON.stringify(silence));
  }

  all(): Silence[] {
    return (this.allStmt.all() as { body: string }[]).map((row) => JSON.parse(row.body) as Silence);
  }
}
