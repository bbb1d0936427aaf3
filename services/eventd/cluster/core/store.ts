// What the cluster core keeps across a crash, behind a narrow synchronous
// interface (better-sqlite3 is synchronous too).
//
// Contract with the edge: everything the core writes during one `step` is
// committed atomically (one SQLite transaction) BEFORE the edge acts on that
// step's outputs (sends frames, appends deliveries to its event log, runs
// actions), and the delivery log append is in the same transaction. So a
// `kill -9` lands between steps: an event's seq is durable before the event
// is announced, and a delivery is never repeated nor lost after a restart.
// The simulator models exactly this: a crash drops the core between steps and
// keeps its store.

import type { Decision, Epoch } from './decisions.js';
import type { ClusterEvent, SubscriptionEntry } from './frames.js';

/** The sequencer's durable state (sequencer.ts). */
export interface OrderMeta {
  /** The newest epoch this node promised (it refuses decisions of older ones). */
  promised: Epoch | null;
  /** Positions up to here are committed (final everywhere). */
  committed: number;
  /** Positions up to here were delivered to this node's log. */
  delivered: number;
}

export interface CoreMeta {
  /** Bumped on every start and on every refutation. */
  incarnation: number;
  /** The last seq this node assigned to its own events. */
  seq: number;
  /** HLC high-water: no time at or below it is ever issued again (floors stay true across restarts). */
  hlc: string;
  /** The agreed order's state; absent in a store written before positions existed. */
  order?: OrderMeta;
}

export interface MemberRecord {
  name: string;
  /** Highest incarnation known for the member. */
  incarnation: number;
  inView: boolean;
  /** Incarnation at which this node declared the member down; -1 when never. */
  downIncarnation: number;
}

export interface CoreStore {
  meta(): CoreMeta | undefined;
  setMeta(meta: CoreMeta): void;
  members(): MemberRecord[];
  setMember(member: MemberRecord): void;
  /** Idempotent: an event is immutable, a second put of the same (origin, seq) is ignored. */
  putEvent(event: ClusterEvent): void;
  event(origin: string, seq: number): ClusterEvent | undefined;
  /** Held events of `origin` with fromSeq <= seq <= toSeq, in seq order (absent ones skipped). */
  events(origin: string, fromSeq: number, toSeq: number): ClusterEvent[];
  /** Per origin, the contiguous prefix held (and delivered or queued). */
  progress(): Map<string, number>;
  setProgress(origin: string, seq: number): void;
  subscriptions(): SubscriptionEntry[];
  setSubscription(entry: SubscriptionEntry): void;
  /** Decisions of the agreed order from `position` on, in position order (dense). */
  decisions(position: number): Decision[];
  /** Writes (or overwrites) the decision at its position. */
  putDecision(decision: Decision): void;
  /** Drops every decision above `position`. */
  truncateDecisions(position: number): void;
}

/** In-memory store: the simulator's and the unit tests'; it outlives the core it is handed to. */
export class MemoryCoreStore implements CoreStore {
  private metaRecord: CoreMeta | undefined;
  private readonly memberRecords = new Map<string, MemberRecord>();
  private readonly byOrigin = new Map<string, Map<number, ClusterEvent>>();
  private readonly progressBy = new Map<string, number>();
  private readonly subs = new Map<string, SubscriptionEntry>();
  private readonly decisionList: Decision[] = [];

  /** A store for a node of an already formed cluster: every name in the view at incarnation 0. */
  static formed(names: readonly string[]): MemoryCoreStore {
    const store = new MemoryCoreStore();
    for (const name of names) store.setMember({ name, incarnation: 0, inView: true, downIncarnation: -1 });
    return store;
  }

  meta(): CoreMeta | undefined {
    return this.metaRecord === undefined ? undefined : { ...this.metaRecord };
  }
  setMeta(meta: CoreMeta): void {
    this.metaRecord = { ...meta };
  }
  members(): MemberRecord[] {
    return [...this.memberRecords.values()].map((m) => ({ ...m }));
  }
  setMember(member: MemberRecord): void {
    this.memberRecords.set(member.name, { ...member });
  }
  putEvent(event: ClusterEvent): void {
    let events = this.byOrigin.get(event.origin);
    if (events === undefined) {
      events = new Map();
      this.byOrigin.set(event.origin, events);
    }
    if (!events.has(event.seq)) events.set(event.seq, event);
  }
  event(origin: string, seq: number): ClusterEvent | undefined {
    return this.byOrigin.get(origin)?.get(seq);
  }
  events(origin: string, fromSeq: number, toSeq: number): ClusterEvent[] {
    const events = this.byOrigin.get(origin);
    const out: ClusterEvent[] = [];
    if (events === undefined) return out;
    for (let seq = fromSeq; seq <= toSeq; seq += 1) {
      const event = events.get(seq);
      if (event !== undefined) out.push(event);
    }
    return out;
  }
  progress(): Map<string, number> {
    return new Map(this.progressBy);
  }
  setProgress(origin: string, seq: number): void {
    this.progressBy.set(origin, seq);
  }
  subscriptions(): SubscriptionEntry[] {
    return [...this.subs.values()];
  }
  setSubscription(entry: SubscriptionEntry): void {
    this.subs.set(entry.id, entry);
  }
  decisions(position: number): Decision[] {
    return this.decisionList.slice(Math.max(position, 1) - 1).map((d) => ({ ...d }));
  }
  /** The decision at one position (the simulator checks what a majority persisted). */
  decisionAt(position: number): Decision | undefined {
    return this.decisionList[position - 1];
  }
  putDecision(decision: Decision): void {
    if (decision.position > this.decisionList.length + 1) throw new Error(`decision at ${decision.position} would leave a hole`);
    this.decisionList[decision.position - 1] = { ...decision };
  }
  truncateDecisions(position: number): void {
    this.decisionList.length = Math.min(this.decisionList.length, Math.max(position, 0));
  }
}
