import type { Attrs, Sample } from '../types.js';
import type { Db } from './db.js';

/** The latest sample per resource, persisted so $prev and /v1/resources survive a restart. */
export class SampleStore {
  private readonly upsertStmt;
  private readonly byClassStmt;
  private readonly allStmt;

  constructor(db: Db) {
    this.upsertStmt = db.prepare(
      `INSERT INTO samples (class, node, resource, time, attrs) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (class, node, resource) DO UPDATE SET time = excluded.time, attrs = excluded.attrs`,
    );
    this.byClassStmt = db.prepare('SELECT class, node, resource, time, attrs FROM samples WHERE class = ? ORDER BY node, resource');
    this.allStmt = db.prepare('SELECT class, node, resource, time, attrs FROM samples ORDER BY class, node, resource');
  }

  save(sample: Sample): void {
    this.upsertStmt.run(sample.class, sample.node, sample.resource, sample.time, JSON.stringify(sample.attrs));
  }

  list(className?: string): Sample[] {
    const rows = (className === undefined ? this.allStmt.all() : this.byClassStmt.all(className)) as {
      class: string; node: string; resource: string; time: number; attrs: string;
    }[];
    return rows.map((row) => ({ class: row.class, node: row.node, resource: row.resource, time: row.time, attrs: JSON.parse(row.attrs) as Attrs }));
  }
}
