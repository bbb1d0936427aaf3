import type { FastifyInstance, FastifyReply } from 'fastify';
import { EventdError } from '../../errors.js';
import type { FeedItem } from '../../event-feed.js';
import type { EventRecord } from '../../types.js';
import type { ApiContext } from '../context.js';

interface EventFilter {
  since?: string;
  from?: string;
  tail?: number;
  class?: string;
  subscription?: string;
  limit?: number;
  internal?: boolean;
}

const filterSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    since: { type: 'string', minLength: 1, description: 'An event id: return the events delivered after it.' },
    from: { type: 'string', minLength: 1, description: 'A time (ISO 8601, or epoch milliseconds): the events sampled from then on.' },
    tail: { type: 'integer', minimum: 0, maximum: 10000, description: 'Only the last N events (matching the filters); 0 is "from now on".' },
    class: { type: 'string', minLength: 1 },
    subscription: { type: 'string', minLength: 1, description: 'A subscription id or name.' },
    limit: { type: 'integer', minimum: 1, maximum: 10000 },
    internal: { type: 'boolean', description: "Include the consumers' internal records (FailoverVote, FailoverNode); asking for their class by name includes them too." },
  },
} as const;

const defaultLimit = 100;
const streamPage = 500;

export function eventRoutes(app: FastifyInstance, context: ApiContext): void {
  const { store, feed } = context;
  /** The user's log stays the user's: internal records only when asked for. */
  const hidden = (query: EventFilter): { excludeClasses?: readonly string[] } =>
    query.internal === true || query.class !== undefined || !context.internalClasses ? {} : { excludeClasses: context.internalClasses };

  /** Where a listing starts: after `since` (an event id), else from a time, else before the last `tail` events, else the start. */
  const startOf = (since: string | undefined, query: EventFilter, filter: { class?: string; subscription?: string }): number => {
    if (since !== undefined && since !== '') return positionAfter(since);
    if (query.from !== undefined) return store.events.positionBeforeTime(timeOf(query.from));
    if (query.tail !== undefined) return store.events.positionBeforeLast(query.tail, filter);
    return 0;
  };

  // Open streams never finish on their own: end them when the API closes, or a
  // connected client (a console tab) holds a graceful stop forever.
  const streams = new Set<FastifyReply>();
  app.addHook('preClose', async () => {
    for (const reply of streams) reply.sse.close();
  });

  /** Turns `since` (an event id) into a position; an unknown id is a 404, not a silent replay of everything. */
  const positionAfter = (since: string | undefined): number => {
    if (since === undefined || since === '') return 0;
    const pos = store.events.positionOf(since);
    if (pos === undefined) throw new EventdError('EVENTD_ERR_EVENT_NOT_FOUND', `since: no event with id "${since}" (it may have been pruned)`, { field: 'since', id: since });
    return pos;
  };

  /** Subscription filter by id or name (events store the id). */
  const subscriptionId = (value: string | undefined): string | undefined => {
    if (value === undefined) return undefined;
    try {
      return context.subscriptions.find(value).subscription.id;
    } catch {
      return value; // a deleted subscription's events are still found by id
    }
  };

  app.get<{ Querystring: EventFilter }>('/v1/events', { schema: { querystring: filterSchema } }, async (request) => {
    const { since, limit = defaultLimit } = request.query;
    const filter = filters(request.query.class, subscriptionId(request.query.subscription));
    // One more than asked: whether the list was cut (`more`) costs no second query.
    const found = store.events.listAfter(startOf(since, request.query, filter), { limit: limit + 1, ...filter, ...hidden(request.query) }).map((item) => item.event);
    return { events: found.slice(0, limit), more: found.length > limit };
  });

  // Server-Sent Events, `id:` = event id. A client resumes with Last-Event-ID
  // (or ?since=) and gets exactly the events after it, then live ones.
  // `tail=N` (no since, no Last-Event-ID): start with the last N events instead of the whole log (the console's first view).
  app.get<{ Querystring: Omit<EventFilter, 'limit'> & { tail?: number } }>(
    '/v1/events/stream',
    {
      sse: { kind: 'only', heartbeat: true },
      schema: { querystring: { ...filterSchema, properties: { ...filterSchema.properties, tail: { type: 'integer', minimum: 0, maximum: 10000 } } } },
    },
    async (request, reply) => {
      const lastEventId = request.headers['last-event-id'];
      const since = (typeof lastEventId === 'string' && lastEventId !== '' ? lastEventId : undefined) ?? request.query.since;
      const filter = { ...filters(request.query.class, subscriptionId(request.query.subscription)), ...hidden(request.query) };
      let cursor = startOf(since, request.query, filter);
      const matches = (event: EventRecord) =>
        (filter.class === undefined || event.class === filter.class) &&
        !filter.excludeClasses?.includes(event.class) &&
        (filter.subscription === undefined || event.subscription === filter.subscription);

      // Listen before reading the backlog so nothing committed in between is
      // missed; positions make the overlap harmless.
      const buffered: FeedItem[] = [];
      let live = false;
      let sending: Promise<void> = Promise.resolve();
      const onEvents = (items: FeedItem[]) => {
        if (!live) { buffered.push(...items); return; }
        sending = sending.then(() => send(reply, items.filter((item) => item.pos > cursor && matches(item.event))));
      };
      const send = async (target: FastifyReply, items: FeedItem[]) => {
        for (const item of items) {
          if (item.pos <= cursor || !target.sse.isConnected) continue;
          cursor = item.pos;
          await target.sse.send({ id: item.event.id, data: item.event });
        }
      };
      feed.on('events', onEvents);
      streams.add(reply);
      reply.sse.onClose(() => {
        feed.off('events', onEvents);
        streams.delete(reply);
      });
      reply.sse.keepAlive();
      reply.sse.sendHeaders();
      // Node holds headers until the first body write: send them now, so a client resuming with nothing new sees the stream open.
      reply.raw.flushHeaders();
      for (;;) {
        const page = store.events.listAfter(cursor, { limit: streamPage, ...filter });
        await send(reply, page);
        if (page.length < streamPage) break;
      }
      await send(reply, buffered.filter((item) => matches(item.event)));
      live = true;
    },
  );
}

function timeOf(value: string): number {
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(ms)) throw new EventdError('EVENTD_ERR_BAD_REQUEST', `from: "${value}" is not a time; use ISO 8601 (2025-01-02T03:04:05Z) or epoch milliseconds`, { field: 'from' });
  return ms;
}

function filters(className: string | undefined, subscription: string | undefined): { class?: string; subscription?: string } {
  return {
    ...(className === undefined ? {} : { class: className }),
    ...(subscription === undefined ? {} : { subscription }),
  };
}
