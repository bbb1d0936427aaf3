import type { FastifyInstance } from 'fastify';
import { loadSchema } from '../../schema.js';
import type { ApiContext } from '../context.js';
import type { SubscriptionList } from '../responses.js';

export function subscriptionRoutes(app: FastifyInstance, context: ApiContext): void {
  const { subscriptions, evaluator } = context;

  // The body is validated by the service against schemas/subscription.schema.json,
  // so the same rules hold for the API and for anything else that creates one.
  app.post('/v1/subscriptions', { schema: { body: { type: 'object' } } }, async (request, reply) => {
    const created = subscriptions.create(request.body, request.caller?.who);
    request.auditSubject = created.id;
    return reply.status(201).send(created);
  });

  app.get('/v1/subscriptions', async (): Promise<SubscriptionList> => ({ subscriptions: subscriptions.list() }));

  app.get<{ Params: { id: string } }>('/v1/subscriptions/:id', async (request) => {
    const { subscription } = subscriptions.find(request.params.id);
    const states = evaluator.thresholdStates(subscription.id).map(({ node, resource, state }) => ({
      node, resource, state: state.state, ...(state.lastEvent === undefined ? {} : { lastEvent: state.lastEvent }),
    }));
    return { ...subscription, states };
  });

  app.delete<{ Params: { id: string } }>('/v1/subscriptions/:id', async (request) => ({
    deleted: subscriptions.delete(request.params.id),
  }));
}

/** The subscription schema, exposed for clients and docs. */
export function subscriptionSchema(): Record<string, unknown> {
  return loadSchema('subscription.schema.json');
}
