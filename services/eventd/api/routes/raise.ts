import type { FastifyInstance } from 'fastify';
import { agreedPosition } from '../../messaging/raise.js';
import type { ApiContext } from '../context.js';

const defaultWaitMs = 10_000;
const maxWaitMs = 60_000;

interface RaiseQuery {
  wait?: 'delivered';
  waitMs?: number;
}

/** Raising events (POST /v1/events) and the declared classes they take (GET /v1/event-classes). */
export function raiseRoutes(app: FastifyInstance, context: ApiContext): void {
  const { raise, eventClasses } = context;
  if (!raise || !eventClasses) return;

  app.get('/v1/event-classes', async () => ({ classes: eventClasses.manifests().map(({ class: name, description, attributes }) => ({ class: name, ...(description === undefined ? {} : { description }), attributes })) }));

  // 201: recorded now; 200: a retried raise (same key), nothing new recorded. With ?wait=delivered the
  // answer waits until the event is in this node's log (agreed: its order decided), 202 when it is not yet.
  app.post<{ Querystring: RaiseQuery }>(
    '/v1/events',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            wait: { enum: ['delivered'], description: "Answer once the event is delivered in this node's log (agreed order: placed)." },
            waitMs: { type: 'integer', minimum: 1, maximum: maxWaitMs },
          },
        },
      },
    },
    async (request, reply) => {
      const parsed = raise.parse(request.body);
      const raised = raise.raise(parsed);
      request.auditSubject = raised.id;
      const waitMs = request.query.waitMs ?? defaultWaitMs;
      const event = request.query.wait === 'delivered' ? await raise.delivered(raised.id, waitMs) : context.store.events.get(raised.id);
      const position = event === undefined ? undefined : agreedPosition(event);
      const body = { id: raised.id, duplicate: raised.duplicate, delivered: event !== undefined, ...(position === undefined ? {} : { position }) };
      if (request.query.wait === 'delivered' && event === undefined) return reply.code(202).send(body);
      return reply.code(raised.duplicate ? 200 : 201).send(body);
    },
  );
}
