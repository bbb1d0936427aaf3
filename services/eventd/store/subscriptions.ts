import type { Subscription } from '../types.js';
import type { Db } from './db.js';

export class SubscriptionStore {
  private readonly insertStmt;
  private readonly deleteStmt;
  private readonly deleteStatesStmt;
  private readonly deleteFlapStmt;
  private readonly allStmt;
  private readonly updateStmt;
  private readonly deleteFaultStmt;
  private readonly deleteErrorsStmt;

  constructor(private readonly db: Db) {
    this.insertStmt = db.prepare('INSERT INTO subscriptions (id, name, class, body, created_at) VALUES (?, ?, ?, ?, ?)');
    this.deleteStmt = db.prepare('DELETE FROM subscriptions WHERE id = ?');
    this.deleteStatesStmt = db.prepare('DELETE FROM threshold_states WHERE subscription = ?');
    this.deleteFlapStmt = db.prepare('DELETE FROM flap_states WHERE subscription = ?');
    this.updateStmt = db.prepare('UPDATE subscriptions SET body = ? WHERE id = ?');
    this.deleteFaultStmt = db.prepare('DELETE FROM subscription_faults WHERE subscription = ?');
    this.deleteErrorsStmt = db.prepare('DELETE FROM evaluation_errors WHERE subscription = ?');
    this.allStmt = db.prepare('SELECT body FROM subscriptions ORDER BY created_at, id');
  }

  insert(subscription: Subscription): void {
    this.insertStmt.run(subscription.id, subscription.name, subscription.class, JSON.stringify(subscription), Date.parse(subscription.createdAt));
  }

  /** A changed body (PATCH); the name and class never change. */
  update(subscription: Subscription): void {
    this.updateStmt.run(JSON.stringify(subscription), subscription.id);
  }

  /** Removes the subscription, its threshold state and what went wrong evaluating it; its events and action audit stay. */
  delete(id: string): boolean {
    return this.db.transaction(() => {
      this.deleteStatesStmt.run(id);
      this.deleteFlapStmt.run(id);
      this.deleteFaultStmt.run(id);
      this.deleteErrorsStmt.run(id);
      return this.deleteStmt.run(id).changes > 0;
    })();
  }

  all(): Subscription[] {
    return (this.allStmt.all() as { body: string }[]).map((row) => JSON.parse(row.body) as Subscription);
  }
}
