// The shapes of the one append path (DESIGN.md, "Layout": services/eventd/log/).
import type { EventRecord, Subscription } from '../types.js';

/** An event before it has an identity. */
export type EventDraft = Omit<EventRecord, 'id' | 'origin' | 'seq' | 'hlc'>;

/** An event in this node's log, with its delivery position. */
export interface Appended {
  pos: number;
  event: EventRecord;
}

/** Who an event belongs to: its scope and order decide its reach; `node` is where its actions run. */
export type EventOwner = Pick<Subscription, 'id' | 'scope' | 'order'> & Partial<Pick<Subscription, 'node' | 'actions' | 'responses'>>;

/**
 * Gives a draft its identity (a local sequence, or the cluster core's seq and
 * HLC) and has it written through the event log, inside the caller's
 * `EventLog.transaction`. Returns the event's id.
 */
export interface EventRecorder {
  record(draft: EventDraft, owner: EventOwner): string;
}
