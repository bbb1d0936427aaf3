// The cluster core's store on SQLite: the same narrow synchronous interface
// the simulator's MemoryCoreStore implements (cluster/store.ts), so the code
// the simulator checks is the code that runs. The edge wraps each core step
// in one transaction with its deliveries (cluster/store.ts, "Contract").
import type { Decision } from '../core/decisions.js';
import type { ClusterEvent, SubscriptionEntry } from '../core/frames.js';
import type { CoreMeta, CoreStore, MemberRecord } from '../core/store.js';
import type { Db } from '../../store/db.js';

export class SqliteCoreStore implements CoreStore {
  private readonly stmt;
  /**
   * While a transaction defers (deferUntilFlush): the latest meta and
   * per-origin progress, written once by flush() before that transaction
   * commits. A burst records one event per core step, each step rewrote both
   * rows; the committed state is the same, written once.
   */
  private deferring = false;
  private pendingMeta: CoreMeta | undefined;
  private readonly pendingProgress = new Map<string, number>();

  constructor(db: Db) {
    this.stmt = {
      meta: db.prepare('SELECT body FROM cluster_meta WHERE id = 1'),
      setMeta: db.prepare('INSERT INTO cluster_meta (id, body) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET body = excluded.body'),
      members: db.prepare('SELECT body FROM cluster_members ORDER BY name'),
      setMember: db.prepare('INSERT INTO cluster_members (name, body) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET body = excluded.body'),
      putEvent: db.prepare('INSERT INTO cluster_events (origin, seq, body) VALUES (?, ?, ?) ON CONFLICT DO NOTHING'),
      event: db.prepare('SELECT body FROM cluster_events WHERE origin = ? AND seq = ?'),
      events: db.prepare('SELECT body FROM cluster_events WHERE origin = ? AND seq BETWEEN ? AND ? ORDER BY seq'),
      progress: db.prepare('SELECT origin, seq FROM cluster_progress'),
      setProgress: db.prepare('INSERT INTO cluster_progress (origin, seq) VALUES (?, ?) ON CONFLICT (origin) DO UPDATE SET seq = excluded.seq'),
      subscriptions: db.prepare('SELECT body FROM cluster_subscriptions'),
      decisions: db.prepare('SELECT body FROM cluster_decisions WHERE position >= ? ORDER BY position'),
      putDecision: db.prepare('INSERT INTO cluster_decisions (position, body) VALUES (?, ?) ON CONFLICT (position) DO UPDATE SET body = excluded.body'),
      truncateDecisions: db.prepare('DELETE FROM cluster_decisions WHERE position > ?'),
      setSubscription: db.prepare('INSERT INTO cluster_subscriptions (id, body) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET body = excluded.body'),
    };
  }

  /** Inside a transaction: hold meta and progress writes until flush(), which the caller runs before that transaction commits. */
  deferUntilFlush(): void {
    this.deferring = true;
  }

  /** Writes the held meta and progress (inside the deferring transaction) and stops deferring. */
  flush(): void {
    this.deferring = false;
    if (this.pendingMeta !== undefined) this.stmt.setMeta.run(JSON.stringify(this.pendingMeta));
    this.pendingMeta = undefined;
    for (const [origin, seq] of this.pendingProgress) this.stmt.setProgress.run(origin, seq);
    this.pendingProgress.clear();
  }

  meta(): CoreMeta | undefined {
    if (this.pendingMeta !== undefined) return this.pendingMeta;
    const row = this.stmt.meta.get() as { body: string } | undefined;
    return row === undefined ? undefined : (JSON.parse(row.body) as CoreMeta);
  }
  setMeta(meta: CoreMeta): void {
    if (this.deferring) {
      this.pendingMeta = meta;
      return;
    }
    this.stmt.setMeta.run(JSON.stringify(meta));
  }
  members(): MemberRecord[] {
    return (this.stmt.members.all() as { body: string }[]).map((row) => JSON.parse(row.body) as MemberRecord);
  }
  setMember(member: MemberRecord): void {
    this.stmt.setMember.run(member.name, JSON.stringify(member));
  }
  putEvent(event: ClusterEvent): void {
    this.stmt.putEvent.run(event.origin, event.seq, JSON.stringify(event));
  }
  event(origin: string, seq: number): ClusterEvent | undefined {
    const row = this.stmt.event.get(origin, seq) as { body: string } | undefined;
    return row === undefined ? undefined : (JSON.parse(row.body) as ClusterEvent);
  }
  events(origin: string, fromSeq: number, toSeq: number): ClusterEvent[] {
    return (this.stmt.events.all(origin, fromSeq, toSeq) as { body: string }[]).map((row) => JSON.parse(row.body) as ClusterEvent);
  }
  progress(): Map<string, number> {
    const progress = new Map((this.stmt.progress.all() as { origin: string; seq: number }[]).map((row) => [row.origin, row.seq]));
    for (const [origin, seq] of this.pendingProgress) progress.set(origin, seq);
    return progress;
  }
  setProgress(origin: string, seq: number): void {
    if (this.deferring) {
      this.pendingProgress.set(origin, seq);
      return;
    }
    this.stmt.setProgress.run(origin, seq);
  }
  subscriptions(): SubscriptionEntry[] {
    return (this.stmt.subscriptions.all() as { body: string }[]).map((row) => JSON.parse(row.body) as SubscriptionEntry);
  }
  setSubscription(entry: SubscriptionEntry): void {
    this.stmt.setSubscription.run(entry.id, JSON.stringify(entry));
  }
  decisions(position: number): Decision[] {
    return (this.stmt.decisions.all(position) as { body: string }[]).map((row) => JSON.parse(row.body) as Decision);
  }
  putDecision(decision: Decision): void {
    this.stmt.putDecision.run(decision.position, JSON.stringify(decision));
  }
  truncateDecisions(position: number): void {
    this.stmt.truncateDecisions.run(position);
  }
}
