import type { StoredInhibitRule } from '../types.js';
import type { Db } from './db.js';

/** Inhibition rules made through the API, this node's or learnt from the cluster, by id. */
export class InhibitRuleStore {
  private readonly putStmt;
  private readonly deleteStmt;
  private readonly allStmt;

  constructor(db: Db) {
    this.putStmt = db.prepare('INSERT OR REPLACE INTO inhibit_rules (id, body) VALUES (?, ?)');
    this.deleteStmt = db.prepare('DELETE FROM inhibit_rules WHERE id = ?');
    this.allStmt = db.prepare('SELECT body FROM inhibit_rules');
  }

  put(rule: StoredInhibitRule): void {
    this.putStmt.run(rule.id, JSON.stringify(rule));
  }

  delete(id: string): boolean {
    return this.deleteStmt.run(id).changes > 0;
  }

  /** Oldest first (by creation time, then id): the order the rules are consulted in. */
  all(): StoredInhibitRule[] {
    return (this.allStmt.all() as { body: string }[]).map((row) => JSON.parse(row.body) as StoredInhibitRule)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }
}
