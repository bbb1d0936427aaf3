// GET /v1/monitor: the live monitor as Server-Sent Events (like /v1/events/stream,
// but not resumable: entries are what happens now, not the log). Each client
// has its own bounded queue (monitor-buffer.ts): a client that stops reading
// loses its oldest entries, is told how many, and never holds the daemon.
// Closing the connection ends its subscription.
import type { FastifyInstance, FastifyReply } from 'fastify';
import { EventdError } from '../../errors.js';
import { MonitorClientBuffer } from '../../messaging/monitor-buffer.js';
import { isMonitorKind, isMonitorLevel, monitorKinds, monitorLevels, type MonitorFeed, type MonitorFilter, type MonitorKind } from '../../messaging/monitor-feed.js';
import type { Metrics } from '../../metrics.js';

interface MonitorQuery {
  kind?: string;
  class?: string;
  level?: string;
}

const querySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    kind: { type: 'string', description: `Comma-separated kinds: ${monitorKinds.join(', ')} (default: all).` },
    class: { type: 'string', description: 'Comma-separated resource classes: entries of other classes are left out (log lines and queries have none and stay).' },
    level: { type: 'string', description: `The lowest level shown: ${monitorLevels.join(', ')} (default info).` },
  },
} as const;

const className = /^[A-Z][A-Za-z0-9]*$/;
/** How long a graceful stop waits for the clients' queues to go out (the last lines, "stopping"); a stalled client gets no more. */
const flushOnCloseMs = 500;

export interface MonitorRouteContext {
  monitor: MonitorFeed;
  metrics: Metrics;
  /** Left out unless named in ?class= (as /v1/events does). */
  internalClasses?: readonly string[];
}

export function monitorRoutes(app: FastifyInstance, context: MonitorRouteContext): void {
  const { monitor, metrics } = context;
  const streams = new Map<FastifyReply, MonitorClientBuffer>();
  // A watching client gets what was queued (bounded), then its stream ends: it must not hold a graceful stop.
  app.addHook('preClose', async () => {
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolve) => (timer = setTimeout(resolve, flushOnCloseMs)));
    await Promise.race([Promise.all([...streams.values()].map((buffer) => buffer.drained())), bound]);
    clearTimeout(timer);
    for (const reply of streams.keys()) reply.sse.close();
  });

  app.get<{ Querystring: MonitorQuery }>('/v1/monitor', { sse: { kind: 'only', heartbeat: true }, schema: { querystring: querySchema } }, async (request, reply) => {
    const filter = filterOf(request.query, context.internalClasses);
    const buffer = new MonitorClientBuffer(
      async (entry) => {
        if (reply.sse.isConnected) await reply.sse.send({ event: entry.kind, data: entry });
      },
      undefined,
      (count) => metrics.monitorEntriesDropped.inc(count),
    );
    const unsubscribe = monitor.subscribe(filter, (entry) => buffer.push(entry));
    metrics.monitorClients.set(monitor.subscribers);
    streams.set(reply, buffer);
    reply.sse.onClose(() => {
      unsubscribe();
      buffer.close();
      streams.delete(reply);
      metrics.monitorClients.set(monitor.subscribers);
    });
    reply.sse.keepAlive();
    reply.sse.sendHeaders();
    // Headers now, not with the first entry: a quiet node's watcher sees the stream open.
    reply.raw.flushHeaders();
  });
}

/** The query as a filter; a bad value is a 400 naming its parameter. */
export function filterOf(query: MonitorQuery, internalClasses: readonly string[] | undefined): MonitorFilter {
  const level = query.level ?? 'info';
  if (!isMonitorLevel(level)) {
    throw new EventdError('EVENTD_ERR_BAD_REQUEST', `level: "${level}" is not a level; use ${monitorLevels.join(', ')}`, { field: 'level' });
  }
  const filter: MonitorFilter = { level, ...(internalClasses === undefined ? {} : { hiddenClasses: internalClasses }) };
  if (query.kind !== undefined) {
    const kinds: MonitorKind[] = [];
    for (const kind of list(query.kind)) {
      if (!isMonitorKind(kind)) throw new EventdError('EVENTD_ERR_BAD_REQUEST', `kind: "${kind}" is not a monitor kind; use ${monitorKinds.join(', ')}`, { field: 'kind' });
      kinds.push(kind);
    }
    if (kinds.length === 0) throw new EventdError('EVENTD_ERR_BAD_REQUEST', `kind: name at least one of ${monitorKinds.join(', ')}`, { field: 'kind' });
    filter.kinds = kinds;
  }
  if (query.class !== undefined) {
    const classes = list(query.class);
    const bad = classes.find((name) => !className.test(name));
    if (bad !== undefined || classes.length === 0) {
      throw new EventdError('EVENTD_ERR_BAD_REQUEST', `class: "${bad ?? ''}" is not a class name (PascalCase, e.g. Deploy)`, { field: 'class' });
    }
    filter.classes = classes;
  }
  return filter;
}

function list(value: string): string[] {
  return value.split(',').map((item) => item.trim()).filter((item) => item !== '');
}
