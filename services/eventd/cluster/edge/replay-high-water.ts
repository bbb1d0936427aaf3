// Where a receiver keeps each replay stream's high-water (replay-guard.ts)
// across its own restarts: rows of the node's `meta` table, one per stream,
// written inside the transaction of the step the frame drives, so a frame's
// effects are never announced before its counter is durable.
import type { Db } from '../../store/db.js';
import type { HighWater } from './replay-guard.js';

const prefix = 'cluster.replay.';

export class ReplayHighWaterStore {
  private readonly loadStmt;
  private readonly saveStmt;

  constructor(db: Db) {
    this.loadStmt = db.prepare(`SELECT key, value FROM meta WHERE key >= '${prefix}' AND key < '${prefix}\uffff'`);
    this.saveStmt = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value');
  }

  load(): Map<string, HighWater> {
    const out = new Map<string, HighWater>();
    for (const row of this.loadStmt.all() as { key: string; value: string }[]) {
      const [boot, counter] = row.value.split(':').map(Number);
      if (Number.isSafeInteger(boot) && Number.isSafeInteger(counter)) out.set(row.key.slice(prefix.length), { boot: boot!, counter: counter! });
    }
    return out;
  }

  /** Call inside the step's transaction. */
  save(stream: string, { boot, counter }: HighWater): void {
    this.saveStmt.run(prefix + stream, `${boot}:${counter}`);
  }
}
