import type { Subscription } from '../types.js';
import type { Db } from './db.js';

export class SubscriptionStore {
  private readonly insertStmt;
  private readonly deleteStmt;
  private readonly deleteStatesStmt;
  private readonly deleteFlapStmt;
  private readonly allStmt;

  constructor(private readonly db: Db) {
    this.insertStmt = db.prepare('INSERT INTO subscriptions (id, name, class, body, created_at) VALUES (?, ?, ?, ?, ?)');
    this.deleteStmt = db.prepare('DELETE FROM subscriptions WHERE id = ?');
    this.deleteStatesStmt = db.prepare('DELETE FROM threshold_states WHERE subscription = ?');
    this.deleteFlapStmt = db.prepare('DELETE FROM flap_states WHERE subscription = ?');
    this.allStmt = db.prepare('SELECT body FROM subscriptions ORDER BY created_at, id');
  }

  insert(subscription: Subscription): void {
    this.insertStmt.run(subscription.id, subscription.name, subscription.class, JSON.stringify(subscription), Date.parse(subscription.createdAt));
  }

  /** Removes the subscription and its threshold state; its events and action audit stay. */
  delete(id: string): boolean {
    return this.db.transaction(() => {
      this.deleteStatesStmt.run(id);
      this.deleteFlapStmt.run(id);
      return this.deleteStmt.run(id).changes > 0;
    })();
  }

  all(): Subscription[] {
    return (this.allStmt.all() as { body: string }[]).map((row) => JSON.parse(row.body) as Subscription);
  }
}
