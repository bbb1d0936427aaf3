import { PassThrough } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { parseQueryRequest } from '../../messaging/query-request.js';
import type { ApiContext } from '../context.js';

/**
 * POST /v1/queries: asks the matching nodes and streams back, one JSON object
 * per line (application/x-ndjson), the query line, each ack and answer as it
 * arrives, and the summary last. A bad body is a 400 naming the field before
 * anything is sent; the audit row (api/audit.ts) names the query.
 */
export function queryRoutes(app: FastifyInstance, context: ApiContext): void {
  const { queries } = context;
  if (!queries) return;
  app.post('/v1/queries', async (request, reply) => {
    const parsed = parseQueryRequest(request.body);
    const stream = new PassThrough();
    const asked = queries.ask(parsed, (line) => {
      stream.write(`${JSON.stringify(line)}\n`);
      if (line.type === 'summary') stream.end();
    });
    request.auditSubject = `query:${parsed.name}:${asked.id}`;
    // The asker went away: stop waiting for answers nobody reads.
    reply.raw.on('close', () => asked.cancel());
    return reply.type('application/x-ndjson').send(stream);
  });
}
