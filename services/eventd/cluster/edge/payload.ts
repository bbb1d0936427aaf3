// What an eventd event looks like inside the cluster core (its opaque
// `payload`): the event without its identity (the core gives origin, seq and
// HLC), and whether peers keep it in their logs.
import type { ClusterEvent, Json } from '../core/frames.js';
import type { EventDraft } from '../../log/append.js';
import type { Replicated } from '../../store/events.js';
import type { Attrs, EventRecord } from '../../types.js';

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
  return toJson({ reach, draft } satisfies EventPayload);
}

/**
 * A value as the JSON it travels as (what the core stores and seals): what
 * JSON.parse(JSON.stringify(value)) gives, copied in one walk instead (the
 * round trip was a tenth of an origin's CPU per event in a burst).
 */
export function toJson(value: object): Json {
  return jsonOf(value) ?? null;
}

/** JSON.stringify's rules: toJSON first, a non-finite number is null (-0 is 0), undefined and functions are left out of objects and null in arrays. */
function jsonOf(value: unknown): Json | undefined {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  // -0 + 0 is 0, as JSON writes it.
  if (typeof value === 'number') return Number.isFinite(value) ? value + 0 : null;
  if (typeof value !== 'object') return undefined;
  const toJSON: unknown = Reflect.get(value, 'toJSON');
  if (typeof toJSON === 'function') {
    const replaced: unknown = Reflect.apply(toJSON, value, []);
    return jsonOf(replaced);
  }
  if (Array.isArray(value)) return value.map((item: unknown) => jsonOf(item) ?? null);
  const out: { [key: string]: Json } = {};
  for (const [key, item] of Object.entries(value)) {
    const json = jsonOf(item);
    if (json !== undefined) out[key] = json;
  }
  return out;
}

/** The record for this node's log, or undefined when this node does not keep it (or the payload does not have an event's shape). */
export function toRecord(event: ClusterEvent, self: string): EventRecord | undefined {
  const payload = event.payload;
  if (!isObject(payload) || (payload['reach'] !== 'cluster' && payload['reach'] !== 'local')) return undefined;
  const draft = payload['draft'];
  if (!isDraft(draft)) return undefined;
  if (payload['reach'] !== 'cluster' && event.origin !== self) return undefined;
  // Object.assign, not a spread: V8 spreads an object JSON.parse made ten times slower (a fifth of a receiver's CPU per event).
  return Object.assign({}, draft, { id: `${event.origin}:${event.seq}`, origin: event.origin, seq: event.seq, hlc: event.hlc });
}

/** The fields of a log row that are the event's identity, not its draft. */
const identityFields = ['id', 'origin', 'seq', 'hlc', 'position'] as const;

/**
 * How the core replicates `event` when its log row (the record toRecord made)
 * can be its copy: the core rebuilds exactly the payload from the row
 * (loggedEvent). Undefined for a payload the row would not give back whole
 * (fields beside reach and draft, or a draft with identity fields, from a newer
 * or odd peer): the core keeps such an event in its own table.
 */
export function replicatedAs(event: ClusterEvent): Replicated | undefined {
  const payload = event.payload;
  if (!isObject(payload) || Object.keys(payload).length !== 2) return undefined;
  const reach = payload['reach'];
  const draft = payload['draft'];
  if ((reach !== 'cluster' && reach !== 'local') || !isObject(draft)) return undefined;
  for (const field of identityFields) if (field in draft) return undefined;
  return { order: event.order, reach };
}

/** The core's event from its log row: the record without its identity is the draft (replicatedAs said the row gives it back whole). */
export function loggedEvent(origin: string, seq: number, body: string, replicated: Replicated): ClusterEvent {
  const draft = JSON.parse(body) as JsonObject;
  const hlc = draft['hlc'];
  for (const field of identityFields) delete draft[field];
  return { origin, seq, hlc: typeof hlc === 'string' ? hlc : '', order: replicated.order, payload: { reach: replicated.reach, draft } };
}

// A peer's payload is checked, not cast: the fields every event has, with
// their types. Fields added by newer versions pass through unchecked.
type JsonObject = { [key: string]: Json };
const isObject = (value: Json | undefined): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);
const isText = (value: Json | undefined): value is string => typeof value === 'string' && value !== '';
const isAttrs = (value: Json | undefined): value is JsonObject & Attrs =>
  isObject(value) && Object.values(value).every((v) => typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean');
const draftText = ['type', 'subscription', 'subscriptionName', 'class', 'resource', 'node', 'expr', 'time'] as const;

function isDraft(value: Json | undefined): value is JsonObject & EventDraft {
  return isObject(value) && draftText.every((field) => isText(value[field])) && isAttrs(value['attrs'])
    && (value['prev'] === undefined || isAttrs(value['prev']));
}
