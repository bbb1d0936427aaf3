import type { NamedResponse } from '../types.js';
import type { Db } from './db.js';

/** Named responses this node created or learnt from the cluster, by name. */
export class ResponseStore {
  private readonly putStmt;
  private readonly deleteStmt;
  private readonly allStmt;

  constructor(db: Db) {
    this.putStmt = db.prepare('INSERT OR REPLACE INTO responses (name, body) VALUES (?, ?)');
    this.deleteStmt = db.prepare('DELETE FROM responses WHERE name = ?');
    this.allStmt = db.prepare('SELECT body FROM responses ORDER BY name');
  }

  put(response: NamedResponse): void {
    this.putStmt.run(response.name, JSON.stringify(response));
  }

  delete(name: string): boolean {
    return this.deleteStmt.run(name).changes > 0;
  }

  all(): NamedResponse[] {
    return (this.allStmt.all() as { body: string }[]).map((row) => JSON.parse(row.body) as NamedResponse);
  }
}
