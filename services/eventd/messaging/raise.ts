// Raising an event (Serf's `serf event`, typed): an application puts an event
// of a declared class into the log through the one append path, in FIFO or
// agreed order, locally or to the whole cluster. The raising node also takes
// it as a sample of the class, so subscriptions on the class fire (with $prev)
// like they do on a producer's samples. An idempotency key is written in the
// event's own transaction: a retried raise, even after a restart, finds it. A
// key lives as long as its event stays in this node's log: retention that
// prunes the event drops the key too (pruneKeys), so keys never pile up.
import { EventdError } from '../errors.js';
import type { EventFeed, FeedItem } from '../event-feed.js';
import type { EventDraft, EventOwner, EventRecorder } from '../log/append.js';
import type { EventLog } from '../log/event-log.js';
import type { Store } from '../store/index.js';
import type { EventRecord, Order, Sample } from '../types.js';
import type { EventClasses } from './event-classes.js';

/** The pseudo-subscription of raised events (like `membership` for Node events): no actions of its own. */
export const raiseSubscription = { id: 'raise', name: 'raise' } as const;

const keyPrefix = 'raise-key:';

/** Drops the idempotency keys whose events retention pruned (a retry of one records anew); returns how many. */
export function pruneRaiseKeys(store: Store): number {
  return store.meta.dropEventRefsPruned(keyPrefix);
}
const maxKeyLength = 256;
const maxResourceLength = 1024;

export interface RaiseRequest {
  class: string;
  resource: string;
  attrs: EventRecord['attrs'];
  type: 'event' | 'rearm';
  order: Order;
  scope: 'local' | 'cluster';
  key?: string;
}

export interface Raised {
  id: string;
  /** A retried raise: the id is the first raise's, nothing new was recorded. */
  duplicate: boolean;
}

export interface RaiseServiceOptions {
  node: string;
  clustered: boolean;
  classes: EventClasses;
  store: Store;
  log: EventLog;
  recorder: EventRecorder;
  feed: EventFeed;
  /** The raising node's evaluator: a raised event is a sample of its class here. */
  submit: (className: string, samples: Sample[]) => unknown;
}

export class RaiseService {
  constructor(private readonly options: RaiseServiceOptions) {}

  /** The body of POST /v1/events, checked field by field (a 400 names the field). */
  parse(body: unknown): RaiseRequest {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw bad('body', 'must be a JSON object { class, resource, attrs }');
    const input: Record<string, unknown> = { ...body };
    const known = new Set(['class', 'resource', 'attrs', 'type', 'order', 'scope', 'key']);
    const unknown = Object.keys(input).find((name) => !known.has(name));
    if (unknown !== undefined) throw bad(unknown, `unknown field (a raise takes ${[...known].join(', ')})`);
    const className = input['class'];
    if (typeof className !== 'string' || className === '') throw bad('class', 'required: the declared event class');
    const resource = input['resource'];
    if (typeof resource !== 'string' || resource === '' || resource.length > maxResourceLength) throw bad('resource', `required: a name of 1 to ${maxResourceLength} characters`);
    const attrs = this.options.classes.checkAttrs(className, input['attrs']);
    const type = input['type'] ?? 'event';
    if (type !== 'event' && type !== 'rearm') throw bad('type', 'must be "event" or "rearm"');
    const order = input['order'] ?? 'fifo';
    if (order !== 'fifo' && order !== 'agreed') throw bad('order', 'must be "fifo" or "agreed"');
    const scope = input['scope'] ?? (this.options.clustered ? 'cluster' : 'local');
    if (scope !== 'local' && scope !== 'cluster') {
      throw bad('scope', 'a raised event reaches this node ("local") or every node ("cluster"); node lists and { tags } select where subscriptions and queries run');
    }
    if (scope === 'cluster' && !this.options.clustered) {
      throw new EventdError('EVENTD_ERR_NO_CLUSTER', 'scope: "cluster" needs a cluster, and this daemon has no "cluster" config', { field: 'scope' });
    }
    const key = input['key'];
    if (key !== undefined && (typeof key !== 'string' || key === '' || key.length > maxKeyLength)) throw bad('key', `an idempotency key of 1 to ${maxKeyLength} characters`);
    return { class: className, resource, attrs, type, order, scope, ...(key === undefined ? {} : { key }) };
  }

  /** Records the event (once per key), then hands it to this node's evaluator as a sample. */
  raise(request: RaiseRequest): Raised {
    const { store, log, recorder, node } = this.options;
    const time = new Date();
    const raised = log.transaction('raising an event', (): Raised => {
      if (request.key !== undefined) {
        const earlier = store.meta.get(keyPrefix + request.key);
        if (earlier !== undefined) return { id: earlier, duplicate: true };
      }
      const draft: EventDraft = {
        type: request.type,
        subscription: raiseSubscription.id,
        subscriptionName: raiseSubscription.name,
        class: request.class,
        resource: request.resource,
        node,
        // No expression decided it; the field is never empty (peers check every event's shape).
        expr: 'raised',
        attrs: request.attrs,
        time: time.toISOString(),
      };
      const owner: EventOwner = { id: raiseSubscription.id, scope: request.scope, order: request.order };
      const id = recorder.record(draft, owner);
      if (request.key !== undefined) store.meta.set(keyPrefix + request.key, id);
      return { id, duplicate: false };
    });
    if (!raised.duplicate) {
      this.options.submit(request.class, [{ class: request.class, resource: request.resource, node, time: time.getTime(), attrs: request.attrs }]);
    }
    return raised;
  }

  /** The event as delivered in this node's log (agreed events: once their order is decided), or undefined at the deadline. */
  delivered(id: string, timeoutMs: number): Promise<EventRecord | undefined> {
    const { store, feed } = this.options;
    return new Promise((resolve) => {
      const onEvents = (items: FeedItem[]) => {
        const found = items.find((item) => item.event.id === id);
        if (found) finish(found.event);
      };
      const finish = (event: EventRecord | undefined) => {
        clearTimeout(timer);
        feed.off('events', onEvents);
        resolve(event);
      };
      const timer = setTimeout(() => finish(undefined), timeoutMs);
      // Listen before looking, so a delivery between the two is not missed.
      feed.on('events', onEvents);
      const already = store.events.get(id);
      if (already) finish(already);
    });
  }
}

/** The event's agreed position, once the cluster gives agreed events one (DESIGN.md, "One agreed order"). */
export function agreedPosition(event: EventRecord): number | undefined {
  return 'position' in event && typeof event.position === 'number' ? event.position : undefined;
}

function bad(field: string, message: string): EventdError {
  return new EventdError('EVENTD_ERR_BAD_REQUEST', `${field}: ${message}`, { field });
}
