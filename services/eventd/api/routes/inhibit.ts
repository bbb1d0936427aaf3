import type { FastifyInstance } from 'fastify';
import { EventdError } from '../../errors.js';
import type { InhibitRuleList } from '../responses.js';
import type { ApiContext } from '../context.js';

/**
 * Inhibition rules (config inhibit, and made here): POST/GET /v1/inhibit,
 * DELETE /v1/inhibit/:id. Like silences: checked by the service
 * (schemas/inhibit-rule.schema.json), persisted, replicated in a cluster.
 */
export function inhibitRoutes(app: FastifyInstance, context: ApiContext): void {
  const rules = () => {
    if (context.inhibitRules === undefined) throw new EventdError('EVENTD_ERR_INHIBIT_RULE_NOT_FOUND', 'this daemon has no inhibition rules', {});
    return context.inhibitRules;
  };
  app.post('/v1/inhibit', { schema: { body: { type: 'object' } } }, async (request, reply) => {
    const created = rules().create(request.body, request.caller?.who ?? 'api');
    request.auditSubject = created.id;
    return reply.status(201).send(created);
  });
  // Each rule (config first, then the API's, oldest first) with the nodes where its source holds now.
  app.get('/v1/inhibit', async (): Promise<InhibitRuleList> => ({ rules: context.inhibitRules?.list() ?? [] }));
  app.delete<{ Params: { id: string } }>('/v1/inhibit/:id', async (request) => {
    request.auditSubject = request.params.id;
    return { deleted: rules().delete(request.params.id) };
  });
}
