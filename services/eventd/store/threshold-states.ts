import type { ThresholdState } from '../evaluation/threshold.js';
import type { Db } from './db.js';

export interface ThresholdKey {
  subscription: string;
  node: string;
  resource: string;
}

export class ThresholdStateStore {
  private readonly upsertStmt;
  private readonly allStmt;

  constructor(db: Db) {
    this.upsertStmt = db.prepare(
      `INSERT INTO threshold_states (subscription, node, resource, state, progress, last_event)
       VALUES (@subscription, @node, @resource, @state, @progress, @lastEvent)
       ON CONFLICT (subscription, node, resource) DO UPDATE SET
         state = excluded.state, progress = excluded.progress, last_event = excluded.last_event`,
    );
    this.allStmt = db.prepare('SELECT subscription, node, resource, state, progress, last_event FROM threshold_states');
  }

  /** Call inside the transaction that writes the event the state change caused. */
  save(key: ThresholdKey, state: ThresholdState): void {
    this.upsertStmt.run({
      ...key,
      state: state.state,
      progress: state.progress === undefined ? null : JSON.stringify(state.progress),
      lastEvent: state.lastEvent ?? null,
    });
  }

  all(): { key: ThresholdKey; state: ThresholdState }[] {
    const rows = this.allStmt.all() as { subscription: string; node: string; resource: string; state: 'armed' | 'fired'; progress: string | null; last_event: string | null }[];
    return rows.map((row) => ({
      key: { subscription: row.subscription, node: row.node, resource: row.resource },
      state: {
        state: row.state,
        ...(row.progress === null ? {} : { progress: JSON.parse(row.progress) as ThresholdState['progress'] }),
        ...(row.last_event === null ? {} : { lastEvent: row.last_event }),
      },
    }));
  }
}
