import type { FlapState } from '../responses/flap.js';
import type { Db } from './db.js';
import type { ThresholdKey } from './threshold-states.js';

/** Flap history per (subscription, node, resource), written with the sample batch that moved it. */
export class FlapStateStore {
  private readonly upsertStmt;
  private readonly allStmt;

  constructor(db: Db) {
    this.upsertStmt = db.prepare(
      `INSERT INTO flap_states (subscription, node, resource, history, flapping) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (subscription, node, resource) DO UPDATE SET history = excluded.history, flapping = excluded.flapping`,
    );
    this.allStmt = db.prepare('SELECT subscription, node, resource, history, flapping FROM flap_states');
  }

  save(key: ThresholdKey, state: FlapState): void {
    this.upsertStmt.run(key.subscription, key.node, key.resource, state.history.map((fired) => (fired ? '1' : '0')).join(''), state.flapping ? 1 : 0);
  }

  all(): { key: ThresholdKey; state: FlapState }[] {
    const rows = this.allStmt.all() as { subscription: string; node: string; resource: string; history: string; flapping: number }[];
    return rows.map((row) => ({
      key: { subscription: row.subscription, node: row.node, resource: row.resource },
      state: { history: [...row.history].map((bit) => bit === '1'), flapping: row.flapping === 1 },
    }));
  }
}
