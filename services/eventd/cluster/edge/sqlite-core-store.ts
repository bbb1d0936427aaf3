// The cluster core's store on SQLite: the same narrow synchronous interface
// the simulator's MemoryCoreStore implements (cluster/store.ts), so the code
// the simulator checks is the code that runs. The edge wraps each core step
// in one transaction with its deliveries (cluster/store.ts, "Contract").
//
// One insert per event (issue 11): an event this node's log keeps is the
// core's copy too (its row carries cluster_order and cluster_reach, and the
// core's event is rebuilt from it, payload.ts loggedEvent); cluster_events
// holds only the rest: peers' local events, agreed events not yet placed, an
// event put in one transaction and delivered in a later one (past a gap), and
// rows the log's retention pruned (store/events.ts). Reads look in both.
import type { Decision } from '../core/decisions.js';
import type { ClusterEvent, SubscriptionEntry } from '../core/frames.js';
import type { CoreMeta, CoreStore, MemberRecord } from '../core/store.js';
import type { Db } from '../../store/db.js';
import type { Replicated } from '../../store/events.js';
import { loggedEvent } from './payload.js';

interface LogRow {
  seq: number;
  body: string;
  cluster_order: Replicated['order'];
  cluster_reach: Replicated['reach'];
}

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
  /**
   * While deferring: events put in this transaction, per origin and seq. Those
   * the log appends as the core's copy (keptInLog) are dropped from here; the
   * rest go into cluster_events at flush(), still inside the transaction.
   */
  private readonly pendingEvents = new Map<string, Map<number, ClusterEvent>>();

  constructor(db: Db) {
    this.stmt = {
      meta: db.prepare('SELECT body FROM cluster_meta WHERE id = 1'),
      setMeta: db.prepare('INSERT INTO cluster_meta (id, body) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET body = excluded.body'),
      members: db.prepare('SELECT body FROM cluster_members ORDER BY name'),
      setMember: db.prepare('INSERT INTO cluster_members (name, body) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET body = excluded.body'),
      putEvent: db.prepare('INSERT INTO cluster_events (origin, seq, body) VALUES (?, ?, ?) ON CONFLICT DO NOTHING'),
      event: db.prepare('SELECT body FROM cluster_events WHERE origin = ? AND seq = ?'),
      events: db.prepare('SELECT seq, body FROM cluster_events WHERE origin = ? AND seq BETWEEN ? AND ? ORDER BY seq'),
      // Through events_origin_seq; rows that are not the core's copy (cluster_order NULL) are not its events.
      loggedEvent: db.prepare('SELECT seq, body, cluster_order, cluster_reach FROM events WHERE origin = ? AND seq = ? AND cluster_order IS NOT NULL'),
      loggedEvents: db.prepare('SELECT seq, body, cluster_order, cluster_reach FROM events WHERE origin = ? AND seq BETWEEN ? AND ? AND cluster_order IS NOT NULL ORDER BY seq'),
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
    for (const events of this.pendingEvents.values()) for (const event of events.values()) this.insertEvent(event);
    this.pendingEvents.clear();
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
    if (!this.deferring) return this.insertEvent(event);
    let events = this.pendingEvents.get(event.origin);
    if (events === undefined) this.pendingEvents.set(event.origin, (events = new Map()));
    if (!events.has(event.seq)) events.set(event.seq, event);
  }
  /** Inside the deferring transaction: the log appended this event as the core's copy (its row carries `replicated`), so it needs no row of its own. */
  keptInLog(origin: string, seq: number): void {
    this.pendingEvents.get(origin)?.delete(seq);
  }
  event(origin: string, seq: number): ClusterEvent | undefined {
    const pending = this.pendingEvents.get(origin)?.get(seq);
    if (pending !== undefined) return pending;
    const logged = this.stmt.loggedEvent.get(origin, seq) as LogRow | undefined;
    if (logged !== undefined) return fromLog(origin, logged);
    const row = this.stmt.event.get(origin, seq) as { body: string } | undefined;
    return row === undefined ? undefined : (JSON.parse(row.body) as ClusterEvent);
  }
  events(origin: string, fromSeq: number, toSeq: number): ClusterEvent[] {
    const logged = (this.stmt.loggedEvents.all(origin, fromSeq, toSeq) as LogRow[]).map((row) => fromLog(origin, row));
    const own = (this.stmt.events.all(origin, fromSeq, toSeq) as { body: string }[]).map((row) => JSON.parse(row.body) as ClusterEvent);
    const pending = [...(this.pendingEvents.get(origin)?.values() ?? [])].filter((event) => event.seq >= fromSeq && event.seq <= toSeq);
    if (own.length === 0 && pending.length === 0) return logged;
    if (logged.length === 0 && pending.length === 0) return own;
    // An event may sit in both tables (delivered after the transaction that put it): one per seq, in seq order.
    const bySeq = new Map<number, ClusterEvent>();
    for (const event of [...own, ...logged, ...pending]) bySeq.set(event.seq, event);
    return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
  }
  private insertEvent(event: ClusterEvent): void {
    this.stmt.putEvent.run(event.origin, event.seq, JSON.stringify(event));
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

function fromLog(origin: string, row: LogRow): ClusterEvent {
  return loggedEvent(origin, row.seq, row.body, { order: row.cluster_order, reach: row.cluster_reach });
}
