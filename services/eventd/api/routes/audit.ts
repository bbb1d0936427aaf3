import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context.js';

interface AuditQuery {
  who?: string;
  after?: number;
  limit?: number;
}

/** GET /v1/audit: who changed what through the API, newest first. */
export function auditRoutes(app: FastifyInstance, context: ApiContext): void {
  app.get<{ Querystring: AuditQuery }>('/v1/audit', {
    schema: {
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          who: { type: 'string', minLength: 1, description: 'uid:<n> or token:<name>' },
          after: { type: 'integer', minimum: 0, description: 'Only entries with a larger id.' },
          limit: { type: 'integer', minimum: 1, maximum: 10000 },
        },
      },
    },
  }, async (request) => {
    const { who, after, limit = 100 } = request.query;
    const entries = context.store.audit.list({ limit, ...(who === undefined ? {} : { who }), ...(after === undefined ? {} : { after }) });
    return { entries: entries.map((entry) => ({ ...entry, time: new Date(entry.time).toISOString() })) };
  });
}
