import type { Db } from './db.js';

/** Small named values of the node (the cluster boot number, ...). */
export class MetaStore {
  private readonly getStmt;
  private readonly setStmt;
  private readonly dropOrphansStmt;

  constructor(db: Db) {
    this.getStmt = db.prepare('SELECT value FROM meta WHERE key = ?');
    this.setStmt = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value');
    // The range on the key is the prefix (the primary key's index); each value is looked up by events.id (unique).
    this.dropOrphansStmt = db.prepare('DELETE FROM meta WHERE key >= ? AND key < ? AND value NOT IN (SELECT id FROM events)');
  }

  /** Drops the values under `prefix` that name an event no longer in the log (pruned); returns how many. */
  dropEventRefsPruned(prefix: string): number {
    const end = prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
    return this.dropOrphansStmt.run(prefix, end).changes;
  }

  get(key: string): string | undefined {
    return (this.getStmt.get(key) as { value: string } | undefined)?.value;
  }

  set(key: string, value: string): void {
    this.setStmt.run(key, value);
  }
}
