import type { Db } from './db.js';

/** One write request to the API: who made it, over what, and how it ended. */
export interface AuditEntry {
  id: number;
  time: number;
  /** `uid:<n>` for a peer on the unix socket, `token:<name>` over TCP, `anonymous` when refused. */
  who: string;
  via: 'socket' | 'tcp' | 'in-process';
  method: string;
  path: string;
  status: number;
  /** The id of what the request created or changed (a subscription), when known. */
  subject: string | null;
}

interface Row { id: number; time: number; who: string; via: AuditEntry['via']; method: string; path: string; status: number; subject: string | null }

/** The api_audit table: append-only, pruned by count. */
export class AuditStore {
  private readonly insertStmt;
  private readonly pruneStmt;

  constructor(private readonly db: Db) {
    this.insertStmt = db.prepare('INSERT INTO api_audit (time, who, via, method, path, status, subject) VALUES (?, ?, ?, ?, ?, ?, ?)');
    this.pruneStmt = db.prepare('DELETE FROM api_audit WHERE id <= (SELECT MAX(id) FROM api_audit) - ?');
  }

  record(entry: Omit<AuditEntry, 'id'>): void {
    this.insertStmt.run(entry.time, entry.who, entry.via, entry.method, entry.path, entry.status, entry.subject);
  }

  /** Newest first. */
  list(query: { who?: string; after?: number; limit: number }): AuditEntry[] {
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (query.who !== undefined) { where.push('who = ?'); params.push(query.who); }
    if (query.after !== undefined) { where.push('id > ?'); params.push(query.after); }
    params.push(query.limit);
    const sql = `SELECT * FROM api_audit ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id DESC LIMIT ?`;
    return this.db.prepare(sql).all(...params) as Row[];
  }

  /** Keeps the newest `keep` rows; returns how many went. */
  prune(keep: number): number {
    return this.pruneStmt.run(keep).changes;
  }
}
