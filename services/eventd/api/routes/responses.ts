import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context.js';

/** Named responses: POST/GET/DELETE /v1/responses[/:name]. The body is checked by the service (schemas/response.schema.json). */
export function responseRoutes(app: FastifyInstance, context: ApiContext): void {
  const { responses } = context;
  app.post('/v1/responses', { schema: { body: { type: 'object' } } }, async (request, reply) => reply.status(201).send(responses.create(request.body)));
  app.get('/v1/responses', async () => ({ responses: responses.list() }));
  app.get<{ Params: { name: string } }>('/v1/responses/:name', async (request) => responses.find(request.params.name));
  app.delete<{ Params: { name: string } }>('/v1/responses/:name', async (request) => ({ deleted: responses.delete(request.params.name) }));
}
