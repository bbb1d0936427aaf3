import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context.js';

/** Silences: POST/GET /v1/silences, DELETE /v1/silences/:id expires one (it stays listed with ?expired=true). createdBy defaults to the caller (token:<name>, uid:<n>, console). */
export function silenceRoutes(app: FastifyInstance, context: ApiContext): void {
  const { silences } = context;
  app.post('/v1/silences', { schema: { body: { type: 'object' } } }, async (request, reply) => reply.status(201).send(silences.create(request.body, request.caller?.who ?? 'api')));
  app.get<{ Querystring: { expired?: boolean } }>(
    '/v1/silences',
    { schema: { querystring: { type: 'object', additionalProperties: false, properties: { expired: { type: 'boolean' } } } } },
    async (request) => ({ silences: silences.list(Date.now(), request.query.expired === true) }),
  );
  app.delete<{ Params: { id: string } }>('/v1/silences/:id', async (request) => ({ expired: silences.expire(request.params.id) }));
}
