// Where an event gets its identity and lands in the log. One node: a local
// sequence and the local log. In a cluster: the cluster core gives the seq
// and HLC (one sequence per origin, for every event) and its deliveries fill
// the log. Either way the caller's SQLite transaction holds it all, with the
// threshold state that caused the event.
import { HybridClock } from '../hlc.js';
import type { Store } from '../store/index.js';
import type { EventRecord, Subscription } from '../types.js';

/** An event before it has an identity. */
export type EventDraft = Omit<EventRecord, 'id' | 'origin' | 'seq' | 'hlc'>;

export interface Appended {
  pos: number;
  event: EventRecord;
}

export interface EventRecorder {
  /**
   * Inside the caller's transaction: gives the draft its id, writes it and the
   * action runs it owes. Returns its id and every event this call appended to
   * this node's log, in log order (in a cluster, releasing one event may
   * release others).
   */
  record(draft: EventDraft, subscription: Subscription): { id: string; appended: Appended[] };
}

/** Appends an event to the log with the action runs its subscription owes on this node; inside a transaction. */
export function appendWithActions(store: Store, event: EventRecord, subscription: Subscription | undefined, node: string): number {
  const pos = store.events.append(event);
  // Actions run where the subscription was created (DESIGN.md, "Responses").
  if (subscription && subscription.node === node) {
    subscription.actions.forEach((action, index) => {
      if (action.on.includes(event.type)) store.actionRuns.enqueue(event.id, event.subscription, index, action, Date.now());
    });
  }
  return pos;
}

export class LocalRecorder implements EventRecorder {
  private readonly clock = new HybridClock();

  constructor(
    private readonly store: Store,
    private readonly node: string,
  ) {}

  record(draft: EventDraft, subscription: Subscription): { id: string; appended: Appended[] } {
    const seq = this.store.events.takeSeq(this.node);
    const event: EventRecord = { ...draft, id: `${this.node}:${seq}`, origin: this.node, seq, hlc: this.clock.now(Date.now()) };
    const pos = appendWithActions(this.store, event, subscription, this.node);
    return { id: event.id, appended: [{ pos, event }] };
  }
}
