import type { FastifyInstance } from 'fastify';
import { loadSchema } from '../../schema.js';
import type { SubscriptionStatus } from '../../types.js';
import type { ApiContext } from '../context.js';
import type { AcceptedSubscription, SubscriptionDetail, SubscriptionList } from '../responses.js';

type ResourceView = SubscriptionDetail['states'][number];

/** The status, its reason, and one row per resource: threshold state joined with evaluation errors. */
function subscriptionHealth(context: ApiContext, id: string, status: SubscriptionStatus): Pick<SubscriptionDetail, 'status' | 'error' | 'errors' | 'states'> {
  const { evaluator } = context;
  const rows = new Map<string, ResourceView>();
  for (const { node, resource, state } of evaluator.thresholdStates(id)) {
    rows.set(node + '\u0000' + resource, { node, resource, state: state.state, ...(state.lastEvent === undefined ? {} : { lastEvent: state.lastEvent }), errors: 0, failing: false });
  }
  for (const { key, errors, failing, lastError } of evaluator.health.resourceErrors(id)) {
    const at = key.node + '\u0000' + key.resource;
    const row = rows.get(at) ?? { node: key.node, resource: key.resource, state: 'armed' as const, errors: 0, failing: false };
    rows.set(at, { ...row, errors, failing, lastError: { ...lastError, at: new Date(lastError.at).toISOString() } });
  }
  const fault = evaluator.health.fault(id);
  const states = [...rows.values()].sort((a, b) => a.node.localeCompare(b.node) || a.resource.localeCompare(b.resource));
  return {
    status,
    ...(fault === undefined ? {} : {
      error: { field: fault.field, code: fault.code, message: fault.message, node: fault.node, resource: fault.resource, at: new Date(fault.at).toISOString(), ...(fault.event === undefined ? {} : { event: fault.event }) },
    }),
    errors: states.reduce((sum, row) => sum + row.errors, 0),
    states,
  };
}

export function subscriptionRoutes(app: FastifyInstance, context: ApiContext): void {
  const { subscriptions } = context;

  // The body is validated by the service against schemas/subscription.schema.json,
  // so the same rules hold for the API and for anything else that creates one.
  app.post('/v1/subscriptions', { schema: { body: { type: 'object' } } }, async (request, reply) => {
    const { subscription, warnings } = await subscriptions.createTried(request.body, request.caller?.who);
    request.auditSubject = subscription.id;
    const created: AcceptedSubscription = { ...subscription, status: subscriptions.status(subscription), ...(warnings.length === 0 ? {} : { warnings }) };
    return reply.status(201).send(created);
  });

  app.get('/v1/subscriptions', async (): Promise<SubscriptionList> => ({
    subscriptions: subscriptions.list().map((subscription) => ({ ...subscription, status: subscriptions.status(subscription) })),
  }));

  // Like RSCT's lscondition: the subscription, its status (and why), and per resource its state and errors.
  app.get<{ Params: { id: string } }>('/v1/subscriptions/:id', async (request): Promise<SubscriptionDetail> => {
    const { subscription } = subscriptions.find(request.params.id);
    return { ...subscription, ...subscriptionHealth(context, subscription.id, subscriptions.status(subscription)) };
  });

  app.patch<{ Params: { id: string } }>('/v1/subscriptions/:id', { schema: { body: { type: 'object' } } }, async (request): Promise<AcceptedSubscription> => {
    const { subscription, warnings } = await subscriptions.patch(request.params.id, request.body);
    return { ...subscription, status: subscriptions.status(subscription), ...(warnings.length === 0 ? {} : { warnings }) };
  });

  app.delete<{ Params: { id: string } }>('/v1/subscriptions/:id', async (request) => ({
    deleted: subscriptions.delete(request.params.id),
  }));
}

/** The subscription schema, exposed for clients and docs. */
export function subscriptionSchema(): Record<string, unknown> {
  return loadSchema('subscription.schema.json');
}
