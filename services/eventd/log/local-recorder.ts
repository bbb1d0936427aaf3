// One node: a local sequence gives each event its identity, in the caller's transaction.
import { HybridClock } from '../hlc.js';
import type { Store } from '../store/index.js';
import type { EventRecord } from '../types.js';
import type { EventDraft, EventOwner, EventRecorder } from './append.js';
import type { EventLog } from './event-log.js';

export class LocalRecorder implements EventRecorder {
  private readonly clock = new HybridClock();

  constructor(
    private readonly store: Store,
    private readonly log: EventLog,
    private readonly node: string,
  ) {}

  record(draft: EventDraft, owner: EventOwner): string {
    const seq = this.store.events.takeSeq(this.node);
    const event: EventRecord = { ...draft, id: `${this.node}:${seq}`, origin: this.node, seq, hlc: this.clock.now(Date.now()) };
    this.log.append(event, owner, this.node);
    return event.id;
  }
}
