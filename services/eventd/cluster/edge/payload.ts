// What an eventd event looks like inside the cluster core (its opaque
// `payload`): the event without its identity (the core gives origin, seq and
// HLC), and whether peers keep it in their logs.
import type { ClusterEvent, Json } from '../core/frames.js';
import type { EventDraft } from '../../log/append.js';
import type { EventRecord } from '../../types.js';

/**
 * `cluster`: every node appends it to its log (a cluster-scoped
 * subscription's event, a membership change seen by all). `local`: only the
 * origin does; peers hold it for anti-entropy (so the origin's sequence has
 * no gaps) but leave it out of their logs.
 */
export type Reach = 'cluster' | 'local';

export interface EventPayload {
  reach: Reach;
  draft: EventDraft;
}

export function toPayload(draft: EventDraft, reach: Reach): Json {
  return { reach, draft } as unknown as Json;
}

/** The record for this node's log, or undefined when this node does not keep it (or the payload is not ours). */
export function toRecord(event: ClusterEvent, self: string): EventRecord | undefined {
  const payload = event.payload as unknown as EventPayload | null;
  if (payload === null || typeof payload !== 'object' || typeof payload.draft !== 'object' || payload.draft === null) return undefined;
  if (payload.reach !== 'cluster' && event.origin !== self) return undefined;
  return { ...payload.draft, id: `${event.origin}:${event.seq}`, origin: event.origin, seq: event.seq, hlc: event.hlc };
}
